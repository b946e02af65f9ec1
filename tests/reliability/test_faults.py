"""The reliability suite: each scenario injects a fault, states what must hold, and prints a figure
(`pytest -s` shows them; `make test-reliability` runs only these)."""

from __future__ import annotations

import io
import json
import logging
import random

from docjobs.domain.jobs import Status

from tests.conftest import bearer, make_principal
from tests.integration.test_chat_lifecycle import submit, usage


def receive(sqs, queue_url: str) -> list[dict]:
    return sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])


def test_a_poison_message_in_a_batch_of_ten_fails_alone_and_lands_in_the_dead_letter_queue(
    stack, container, principal, worker, monkeypatch
):
    """Fault: one job of ten crashes its worker on every delivery. Holds: the nine complete once;
    the one is reported alone each time, is failed with its error on its last delivery, and its
    message reaches the dead-letter queue after maxReceiveCount (5) receives; usage counts nine."""
    from docjobs.local.runtime import LambdaContext, sqs_event
    from docjobs.services import chat_runner

    jobs = [submit(container, principal, session_id=f"s{i}") for i in range(10)]
    poison = jobs[3].job_id
    real_run = chat_runner.run_chat
    monkeypatch.setattr(chat_runner, "run_chat", lambda c, job: (_ for _ in ()).throw(RuntimeError("engine crashed"))
                        if job.job_id == poison else real_run(c, job))  # fmt: skip
    sqs, queue_url = container.queue.client, container.queue.queue_url
    dead_letter_url = sqs.get_queue_url(QueueName=stack.resolver.resolve({"Fn::GetAtt": ["WorkDeadLetterQueue", "QueueName"]}))["QueueUrl"]
    handler, deliveries, reported = worker.poller.handler, 0, []
    for _ in range(10):
        messages = receive(sqs, queue_url)
        if not messages:
            break
        deliveries += len(messages)
        failures = handler(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:test-WorkQueue"), LambdaContext("WorkerFunction", 120))
        failed = {f["itemIdentifier"] for f in failures["batchItemFailures"]}
        reported.append(len(failed))
        for m in messages:
            if m["MessageId"] in failed:  # back on the queue at once (rather than after the visibility timeout)
                sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
                assert json.loads(m["Body"])["job_id"] == poison
            else:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    dead = [json.loads(m["Body"])["job_id"] for m in receive(sqs, dead_letter_url)]
    statuses = {j.job_id: container.jobs.get(j.job_id).status for j in jobs}
    print(f"\npoison in a batch of 10: {deliveries} deliveries, failures reported per batch {reported}, dead-lettered {dead}")
    assert dead == [poison] and reported == [1, 1, 1, 1, 1]
    assert statuses.pop(poison) is Status.FAILED and "engine crashed" in container.jobs.get(poison).error
    assert set(statuses.values()) == {Status.COMPLETED}
    assert usage(container, principal) == 9


def test_no_plaintext_api_key_is_stored_or_logged(stack, container, api, worker):
    """Fault: none; an audit. Holds: after keys are issued, used, mistyped and revoked, no table item
    and no log line holds a key (only its prefix and hash)."""
    from docjobs.observability import logger

    principal = make_principal(container, "org", "audit")
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    logger.setLevel(logging.DEBUG)
    try:
        created = api.post("/v1/chat/async", headers=bearer(principal), json={"message": "summarize the document",
                           "session_id": "s1", "document_html": "<p>Hello there. This is a document.</p>"})  # fmt: skip
        assert created.status_code == 202
        worker.drain()
        wrong = principal.api_key[:-4] + "0000"
        assert api.get("/v1/jobs", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
        assert api.get("/v1/jobs", headers=bearer(principal)).status_code == 200
    finally:
        logger.setLevel(logging.WARNING)
        logger.registered_handler.setStream(previous)
    dynamodb = container.jobs.client
    items = []
    for table in dynamodb.list_tables()["TableNames"]:
        items += dynamodb.scan(TableName=table)["Items"]
    dump = json.dumps(items) + stream.getvalue()
    print(f"\nkey audit: {len(items)} items in every table and {len(stream.getvalue().splitlines())} log lines searched")
    for secret in (principal.api_key, wrong, principal.api_key[len(principal.key_prefix) :]):
        assert secret not in dump


def test_two_tenants_doing_random_operations_never_see_each_other(container, api, worker):
    """Fault: two organizations interleave random creates, reads, lists, cancels and uploads, and
    each tries the other's ids. Holds: zero cross-tenant reads, writes or list entries."""
    rng = random.Random(7)
    tenants = [make_principal(container, "org", name) for name in ("north", "south")]
    owned: dict[int, set[str]] = {0: set(), 1: set()}
    sources: dict[int, set[str]] = {0: set(), 1: set()}
    leaks, operations = [], 0
    for _ in range(120):
        me = rng.randrange(2)
        other = 1 - me
        headers = bearer(tenants[me])
        action = rng.choice(["create", "create", "read_own", "read_other", "list", "cancel_other", "upload", "file_other"])
        operations += 1
        if action == "create":
            r = api.post("/v1/chat/async", headers=headers, json={"message": "summarize the document",
                         "session_id": f"t{me}", "document_html": f"<p>Tenant {me} text number {rng.random()}.</p>"})  # fmt: skip
            owned[me].add(r.json()["job_id"])
        elif action == "read_own" and owned[me]:
            assert api.get(f"/v1/jobs/{rng.choice(sorted(owned[me]))}", headers=headers).status_code == 200
        elif action == "read_other" and owned[other]:
            r = api.get(f"/v1/jobs/{rng.choice(sorted(owned[other]))}", headers=headers)
            if r.status_code not in (403, 404):
                leaks.append(("read", r.status_code))
        elif action == "list":
            listed = {j["job_id"] for j in api.get("/v1/jobs?limit=100", headers=headers).json()["jobs"]}
            if listed & owned[other]:
                leaks.append(("list", len(listed & owned[other])))
        elif action == "cancel_other" and owned[other]:
            r = api.post(f"/v1/jobs/{rng.choice(sorted(owned[other]))}/cancel", headers=headers)
            if r.status_code not in (403, 404):
                leaks.append(("cancel", r.status_code))
        elif action == "upload":
            r = api.post("/v1/projects/shared/files", headers=headers, files={"file": (f"t{me}.txt", f"tenant {me} {rng.random()}".encode(), "text/plain")})
            sources[me].add(r.json()["id"])
        elif action == "file_other" and sources[other]:
            r = api.get(f"/v1/projects/shared/files/{rng.choice(sorted(sources[other]))}", headers=headers)
            if r.status_code != 404:
                leaks.append(("file", r.status_code))
        if rng.random() < 0.2:
            worker.drain()
    print(f"\ntenant isolation: {operations} random operations, {len(owned[0]) + len(owned[1])} jobs, {len(leaks)} leaks")
    assert leaks == []


def test_an_expired_job_is_served_by_no_path_although_its_row_still_exists(container, api, worker, clock):
    """Fault: DynamoDB's TTL deletes lazily (often days late). Holds: with the clock past a job's
    expires_at, every read, list, approve, result, event and webhook path treats it as gone."""
    principal = make_principal(container, "org", "expiry")
    headers = bearer(principal)
    seed = {"x-api-key": principal.api_key, "x-selected-account-id": "expiry"}
    done = api.post("/v1/chat/async", headers=headers, json={"message": 'Replace "Acme" with "Initech"', "session_id": "e1",
                    "document_html": "<p>Acme sells things.</p>"}).json()["job_id"]  # fmt: skip
    waiting = api.post("/v1/chat/async", headers=headers, json={"message": 'Replace "Acme" with "Initech"', "session_id": "e2",
                       "document_html": "<p>Acme sells things.</p>", "require_approval": True}).json()["job_id"]  # fmt: skip
    source = api.post("/v1/projects/p/files", headers=seed, files={"file": ("a.txt", b"Some text to parse.", "text/plain")}).json()
    parsed = api.post("/v1/projects/p/jobs", headers=seed, json={"operation": "parse", "source_id": source["id"]}).json()["id"]
    worker.drain()
    assert api.get(f"/v1/jobs/{waiting}", headers=headers).json()["status"] == "awaiting_approval"
    change_ids = [c["change_id"] for c in container.jobs.get(waiting).metadata["pending_changes"]]
    clock.advance(8 * 24 * 3600)  # past every retention (1 hour, 7 days)
    assert all(container.jobs.get(j) is not None for j in (done, waiting, parsed))  # the rows are still there
    paths = {
        "read": api.get(f"/v1/jobs/{done}", headers=headers),
        "result": api.get(f"/v1/jobs/{done}/result", headers=headers),
        "events": api.get(f"/v1/jobs/{done}/events", headers=headers),
        "deliveries": api.get(f"/v1/jobs/{done}/deliveries", headers=headers),
        "approve": api.post(f"/v1/jobs/{waiting}/approve", headers=headers, json={"approved_change_ids": change_ids}),
        "cancel": api.post(f"/v1/jobs/{waiting}/cancel", headers=headers),
        "project read": api.get(f"/v1/projects/p/jobs/{parsed}", headers=seed),
    }
    served = {name: r.status_code for name, r in paths.items() if r.status_code != 404}
    listed = {j["job_id"] for j in api.get("/v1/jobs?limit=100", headers=headers).json()["jobs"]}
    listed |= {j["id"] for j in api.get("/v1/projects/p/jobs", headers=seed).json()["data"]}
    statuses = api.get(f"/v1/jobs/status?ids={done},{waiting},{parsed}", headers=headers).json()["jobs"]
    print(f"\nexpiry: {len(paths)} paths and 3 lists, {len(served)} served an expired job, {len(listed)} listed")
    assert served == {} and listed == set()
    assert [(e["error"]["code"], e.get("status")) for e in statuses] == [("job_not_found", None)] * 3


def test_every_message_delivered_twice_out_of_order_and_at_once_makes_each_result_once(container, principal, worker, api):
    """Fault: SQS delivers every work message twice, the copies at the same moment on two workers,
    the jobs in reverse order. Holds: each job completes once with one result, every delivery
    succeeds (the late copy finds the job taken or finished and does nothing), and usage counts each
    job once."""
    import threading

    from docjobs.local.runtime import LambdaContext, sqs_event

    chats = [submit(container, principal, session_id=f"twice-{i}") for i in range(8)]
    seed = {"x-api-key": principal.api_key, "x-selected-account-id": principal.owner.id}
    source = api.post("/v1/projects/p/files", headers=seed, files={"file": ("a.txt", b"Twice delivered text.", "text/plain")}).json()
    parse = api.post("/v1/projects/p/jobs", headers=seed, json={"operation": "parse", "source_id": source["id"]}).json()["id"]
    messages = []
    sqs, queue_url = container.queue.client, container.queue.queue_url
    while batch := receive(sqs, queue_url):
        messages += batch
        for m in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    assert len(messages) == 9
    handler, outcomes = worker.poller.handler, []
    for message in reversed(messages):
        copies = [{**message, "MessageId": f"{message['MessageId']}-{n}"} for n in (1, 2)]
        barrier = threading.Barrier(2)

        def deliver(copy):
            barrier.wait()
            outcomes.append(handler(sqs_event([copy], "arn:aws:sqs:us-east-1:123456789012:test-WorkQueue"), LambdaContext("WorkerFunction", 120)))

        threads = [threading.Thread(target=deliver, args=(copy,)) for copy in copies]
        [t.start() for t in threads]
        [t.join() for t in threads]
    jobs = [container.jobs.get(j.job_id) for j in chats] + [container.jobs.get(parse)]
    runs = [len([h for h in (j.history or []) if h.get("step") == "store_result"]) for j in jobs if j.job_type == "parse"]
    print(f"\nredelivery: {len(messages)} messages delivered twice at once in reverse order, {len(outcomes)} deliveries, "
          f"{sum(1 for j in jobs if j.status is Status.COMPLETED)} jobs completed once")  # fmt: skip
    assert all(j.status is Status.COMPLETED and j.result for j in jobs)
    assert all(o == {"batchItemFailures": []} for o in outcomes)
    assert runs == [1]  # the parse stored its result once
    assert usage(container, principal) == len(chats)  # (chat jobs are billed; document operations are not)


def test_races_settle_on_exactly_one_outcome_every_time(container, principal, worker):
    """Fault: two callers at the same instant, many trials: two approvals of one job (with different
    change sets), and a cancel against the worker finishing. Holds: exactly one wins each time, the
    job's final state is the winner's, and usage counts only jobs that completed."""
    import threading
    import time

    from docjobs.domain.errors import JobConflictError
    from docjobs.services.chat import approve_changes
    from docjobs.services.chat_runner import run_chat
    from docjobs.services.jobs import cancel_job

    def race(*actions):
        barrier, results = threading.Barrier(len(actions)), [None] * len(actions)

        def go(i, action):
            barrier.wait()
            try:
                results[i] = action()
            except JobConflictError:
                results[i] = "conflict"

        threads = [threading.Thread(target=go, args=(i, a)) for i, a in enumerate(actions)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        return results

    trials, approvals_won, cancels_won = 15, 0, 0
    rng = random.Random(11)
    for i in range(trials):
        job = submit(container, principal, session_id=f"race-a{i}", require_approval=True)
        worker.drain()
        change = container.jobs.get(job.job_id).metadata["pending_changes"][0]["change_id"]
        results = race(lambda: approve_changes(container, principal, job.job_id, [change]),
                       lambda: approve_changes(container, principal, job.job_id, []))  # fmt: skip
        assert results.count("conflict") == 1, results
        winner = next(r for r in results if r != "conflict")
        final = container.jobs.get(job.job_id)
        assert final.status is Status.COMPLETED and final.result == winner.result
        approvals_won += 1
        other = submit(container, principal, session_id=f"race-c{i}")
        delay = rng.uniform(0, 0.4)  # the cancel lands anywhere from before the run starts to after it ends

        def late_cancel(job_id=other.job_id, delay=delay):
            time.sleep(delay)
            return cancel_job(container, principal, job_id)

        cancelled, ran = race(late_cancel, lambda: run_chat(container, other))
        final = container.jobs.get(other.job_id)
        if final.status is Status.CANCELLED:
            cancels_won += 1
            assert cancelled != "conflict" and final.result is None
        else:
            assert final.status is Status.COMPLETED and cancelled == "conflict" and final.result
    completed = trials + (trials - cancels_won)
    print(f"\nraces: {trials} double approvals (one winner each), {trials} cancel-vs-finish ({cancels_won} cancels won, "
          f"{trials - cancels_won} completions won)")  # fmt: skip
    assert usage(container, principal) == completed  # every cancelled job refunded, exactly
