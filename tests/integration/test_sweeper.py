"""The sweeper: jobs stuck in flight are re-queued a bounded number of times, then failed."""

from __future__ import annotations

import json

from docjobs.domain.jobs import Status
from docjobs.services.sweeper import sweep

from tests.conftest import DOC, bearer

MINUTE = 60


def submit(api, principal):
    return api.post("/v1/chat/async", json={"message": 'Replace "Acme Corp" with "Initech"', "session_id": "s",
                                            "document_html": DOC}, headers=bearer(principal)).json()["job_id"]  # fmt: skip


def lose_queued_messages(worker):
    """The queue loses its messages (or a worker takes them and dies before answering)."""
    for message in worker.receive_raw(max_wait=0.5):
        worker.poller.sqs.delete_message(QueueUrl=worker.poller.source.queue_url, ReceiptHandle=message["ReceiptHandle"])


def usage(container, principal):
    from docjobs.domain import clock

    return container.accounts.get_usage(principal.owner, clock.month(container.now()))


def test_a_job_whose_message_was_lost_is_requeued_and_completes(api, principal, container, worker, clock):
    job_id = submit(api, principal)
    lose_queued_messages(worker)
    clock.advance(14 * MINUTE)
    assert sweep(container).requeued == []  # within its budget: left alone
    clock.advance(2 * MINUTE)
    assert sweep(container).requeued == [job_id]
    assert sweep(container).requeued == []  # just touched: not stale any more
    worker.drain()
    assert container.jobs.get(job_id).status is Status.COMPLETED


def test_a_job_whose_worker_keeps_dying_is_failed_after_bounded_requeues(api, principal, container, worker, clock):
    job_id = submit(api, principal)
    job = container.jobs.get(job_id)
    container.jobs.transition(job, Status.IN_PROGRESS, sources={Status.PENDING}, now=container.now(),
                              fields={"updated_at": job.updated_at})  # fmt: skip  # a worker took it and died
    lose_queued_messages(worker)
    for round_ in range(2):
        clock.advance(31 * MINUTE)
        assert sweep(container).requeued == [job_id], round_
        lose_queued_messages(worker)  # ...and died again
    clock.advance(31 * MINUTE)
    report = sweep(container)
    assert report.failed == [job_id] and report.requeued == []
    failed = api.get(f"/v1/jobs/{job_id}", headers=bearer(principal))
    # The job now expires an hour after failing; read it before that.
    assert failed.json()["status"] == "failed" and "no progress for 30 minutes" in failed.json()["error"]
    assert usage(container, principal) == 0  # a failed job is not billed


def test_a_job_that_makes_progress_is_not_swept(api, principal, container, clock):
    job_id = submit(api, principal)
    job = container.jobs.get(job_id)
    container.jobs.transition(job, Status.IN_PROGRESS, sources={Status.PENDING}, now=container.now())
    for _ in range(4):
        clock.advance(20 * MINUTE)
        from docjobs.domain import clock as clocks

        assert container.jobs.record_progress(job_id, 50, None, clocks.iso(container.now()))
        assert sweep(container).requeued == []


def test_finished_and_awaiting_jobs_are_never_swept(api, principal, container, worker, clock):
    done = submit(api, principal)
    worker.drain()
    clock.advance(40 * MINUTE)  # still inside its hour of retention
    report = sweep(container)
    assert done not in report.requeued + report.failed
    assert container.jobs.get(done).status is Status.COMPLETED


def test_a_stuck_batch_child_is_failed_with_its_counter(api, principal, container, worker, clock):
    from tests import documents

    headers = {"x-api-key": principal.api_key, "x-selected-account-id": "acme"}
    source = api.post("/v1/projects/p/files", files={"file": ("a.pdf", documents.report_pdf(1, 1), "application/pdf")},
                      headers=headers).json()  # fmt: skip
    batch = api.post("/v1/projects/p/jobs", json={"operation": "batch_parse", "source_ids": [source["id"]]}, headers=headers).json()
    child_id = batch["progress"]["child_jobs"][0]["job_id"]
    messages = worker.receive_raw()
    assert json.loads(messages[0]["Body"])["job_id"] == child_id
    lose_queued_messages(worker)
    for _ in range(3):
        clock.advance(16 * MINUTE)
        sweep(container)
        lose_queued_messages(worker)
    parent = api.get(f"/v1/projects/p/jobs/{batch['id']}", headers=headers).json()
    assert api.get(f"/v1/projects/p/jobs/{child_id}", headers=headers).json()["status"] == "failed"
    assert (parent["progress"]["failed"], parent["progress"]["pending"]) == (1, 0)
