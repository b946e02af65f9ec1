"""The reliability suite, workers: a worker that dies mid-job, batch children delivered twice and
out of order, and a batch cancelled while its children finish. Each scenario prints its figure."""

from __future__ import annotations

import random
import threading
import time

from docjobs.domain.batches import Counters
from docjobs.domain.jobs import Status
from docjobs.local.runtime import LambdaContext, sqs_event

from tests.conftest import make_principal
from tests.integration.test_batches import counters, finished, get, headers, sources, start
from tests.integration.test_chat_lifecycle import submit, usage

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:test-WorkQueue"


def test_a_worker_that_dies_mid_job_hands_the_job_back_after_the_visibility_timeout(container, principal, worker, monkeypatch):
    """Fault: a worker takes a job's message and stops dead mid-run (it never finishes, never
    deletes the message), then wakes up long after. Holds: the message comes back by itself once
    its visibility timeout runs out, a second worker completes the job, the woken worker's late
    completion is refused, and the job completes exactly once: one result, usage counted once."""
    from docjobs.services import chat_runner

    job = submit(container, principal, session_id="dies-mid-job")
    sqs, queue_url = container.queue.client, container.queue.queue_url
    first = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=1, AttributeNames=["All"])["Messages"][0]

    frozen, release = threading.Event(), threading.Event()
    real_engine = chat_runner.get_engine

    class FreezesOnce:  # the first run stops dead inside the engine
        def __init__(self, name):
            self.engine = real_engine(name)

        def reply(self, turn, progress):
            if not frozen.is_set():
                frozen.set()
                release.wait(30)
            return self.engine.reply(turn, progress)

    monkeypatch.setattr(chat_runner, "get_engine", FreezesOnce)
    handler = worker.poller.handler
    dead = threading.Thread(target=lambda: handler(sqs_event([first], QUEUE_ARN), LambdaContext("WorkerFunction", 120)))
    dead.start()
    assert frozen.wait(10) and container.jobs.get(job.job_id).status is Status.IN_PROGRESS

    started, again = time.monotonic(), []
    while not again and time.monotonic() - started < 10:  # nobody hands it back: the timeout does
        again = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=60, AttributeNames=["All"]).get("Messages", [])
        time.sleep(0.1)
    returned_after = time.monotonic() - started
    assert again and again[0]["Body"] == first["Body"] and again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert handler(sqs_event(again, QUEUE_ARN), LambdaContext("WorkerFunction", 120)) == {"batchItemFailures": []}
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=again[0]["ReceiptHandle"])
    completed = container.jobs.get(job.job_id)
    assert completed.status is Status.COMPLETED and completed.result

    release.set()  # the "dead" worker wakes up and finishes its run
    dead.join(30)
    final = container.jobs.get(job.job_id)
    print(f"\nworker died mid-job: message back after {returned_after:.1f} s (visibility timeout 1 s, receive count 2); "
          f"completed once after {final.attempts} attempts, "
          f"the woken worker's completion refused")  # fmt: skip
    assert final.status is Status.COMPLETED and final.result == completed.result and final.updated_at == completed.updated_at
    assert final.attempts == 2
    assert usage(container, principal) == 1
    assert not sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0).get("Messages")


def _child_messages(worker, count: int) -> list[dict]:
    """The state machine's run messages for `count` children (it sends them as it goes)."""
    taken: list[dict] = []
    deadline = time.monotonic() + 20
    while len(taken) < count and time.monotonic() < deadline:
        taken += worker.receive_raw(max_wait=1)
    assert len(taken) == count, f"{len(taken)} of {count} child messages sent"
    return taken


def test_every_batch_child_message_delivered_twice_out_of_order_counts_each_child_once(api, principal, worker):
    """Fault: each of a batch's child messages is delivered twice: both copies at once, the
    children in reverse order. Holds: every child has one result, the batch's counters are exact
    (never past the total at any moment), and the batch rolls up once."""
    size = 5
    batch = start(api, principal, sources(api, principal, good=size), max_concurrency=size)
    messages = _child_messages(worker, size)
    observed: list[Counters] = []
    watching = threading.Event()

    def watch():
        while not watching.is_set():
            observed.append(counters(get(api, principal, batch["id"])))

    watcher = threading.Thread(target=watch)
    watcher.start()
    deliveries = []
    for message in reversed(messages):
        for receive_count in (1, 2):
            deliveries.append(threading.Thread(target=worker.invoke, args=([message["Body"]],), kwargs={"receive_count": receive_count}))
    [t.start() for t in deliveries]
    [t.join() for t in deliveries]
    for message in messages:
        worker.poller.sqs.delete_message(QueueUrl=worker.poller.source.queue_url, ReceiptHandle=message["ReceiptHandle"])
    worker.drain_until(finished(api, principal, batch["id"]))
    watching.set()
    watcher.join()
    done = get(api, principal, batch["id"])
    children = [get(api, principal, c["job_id"]) for c in done["progress"]["child_jobs"]]
    print(f"\nbatch children delivered twice, out of order: {2 * size} deliveries of {size} messages; counters "
          f"{counters(done)}; {len(observed)} polls meanwhile, all consistent")  # fmt: skip
    assert counters(done) == Counters(size, size, 0, 0, 0) and done["status"] == "succeeded"
    assert all(c.consistent and c.succeeded <= size for c in observed)
    assert all(c["status"] == "succeeded" and c["result"]["document"]["page_count"] == 1 for c in children)
    assert [h["step"] for h in done["history"]] == ["fan_out", "roll_up"]


def test_cancelling_a_batch_while_its_children_finish_settles_every_child_once(api, container, worker):
    """Fault: the client cancels a batch at the very moment its children are finishing, many
    trials. Holds: the batch ends in exactly one terminal state (cancelled if the cancel won,
    succeeded if the last child won), every child in exactly one, and the counters add up to the
    children's own statuses: a finished child keeps its result, a cancelled one has none."""
    principal = make_principal(container, "org", "batch-cancel-race", tier="enterprise")
    trials, size, outcomes = 8, 3, {"cancelled": 0, "succeeded": 0}
    rng = random.Random(7)
    ids = sources(api, principal, good=size)
    for _ in range(trials):
        batch = start(api, principal, ids, max_concurrency=size)
        messages = _child_messages(worker, size)
        barrier = threading.Barrier(size + 1)
        answers = []

        def finish(body):
            barrier.wait()
            time.sleep(rng.uniform(0, 0.05))
            worker.invoke([body])

        def cancel(delay=rng.choice([0, 0.02, 0.1, 1.5])):  # from before the first child ends to after the roll-up
            barrier.wait()
            time.sleep(delay)
            if delay > 1:
                worker.drain()  # the state machine's roll-up, if every child finished first
            answers.append(api.post(f"/v1/projects/p/jobs/{batch['id']}/cancel", headers=headers(principal)).status_code)

        racers = [threading.Thread(target=finish, args=(m["Body"],)) for m in messages] + [threading.Thread(target=cancel)]
        [t.start() for t in racers]
        [t.join() for t in racers]
        for message in messages:
            worker.poller.sqs.delete_message(QueueUrl=worker.poller.source.queue_url, ReceiptHandle=message["ReceiptHandle"])
        worker.drain_until(lambda b=batch: finished(api, principal, b["id"])() and counters(get(api, principal, b["id"])).pending == 0)
        worker.drain()
        done = get(api, principal, batch["id"])
        c = counters(done)
        children = [get(api, principal, ch["job_id"]) for ch in done["progress"]["child_jobs"]]
        statuses = [ch["status"] for ch in children]
        assert answers in ([200], [409]), answers
        assert done["status"] == ("cancelled" if answers == [200] else "succeeded"), (answers, done["status"])
        outcomes[done["status"]] += 1
        assert c.consistent and c.total == size and c.failed == 0 and c.pending == 0
        assert statuses.count("succeeded") == c.succeeded and statuses.count("cancelled") == c.cancelled
        assert all(bool(ch.get("result")) == (ch["status"] == "succeeded") for ch in children)
    print(f"\nbatch cancel vs. children finishing: {trials} trials of {size} children; cancel won {outcomes['cancelled']}, "
          f"children won {outcomes['succeeded']}; counters matched the children every time")  # fmt: skip
