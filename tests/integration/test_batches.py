"""batch_parse: Step Functions fan-out (executed by the emulator), counters, roll-up, cancel."""

from __future__ import annotations

import json

import pytest
from docjobs.domain.batches import Counters

from tests import documents
from tests.conftest import bearer


def headers(principal):
    return {"x-api-key": principal.api_key, "x-selected-account-id": principal.owner.id}


def sources(api, principal, good: int, bad: int = 0) -> list[str]:
    ids = []
    for i in range(good):
        data = documents.pdf([[(f"Report {i}", 18), (f"Body text of report {i}.", 11)]])
        ids.append(api.post("/v1/projects/p/files", files={"file": (f"r{i}.pdf", data, "application/pdf")}, headers=headers(principal)).json()["id"])
    for i in range(bad):
        data = documents.corrupt_pdf() + bytes([i])
        ids.append(api.post("/v1/projects/p/files", files={"file": (f"bad{i}.pdf", data, "application/pdf")}, headers=headers(principal)).json()["id"])
    return ids


def start(api, principal, ids, **options):
    response = api.post("/v1/projects/p/jobs", json={"operation": "batch_parse", "source_ids": ids, "options": options},
                        headers=headers(principal))  # fmt: skip
    assert response.status_code == 202, response.text
    return response.json()


def get(api, principal, job_id):
    return api.get(f"/v1/projects/p/jobs/{job_id}", headers=headers(principal)).json()


def finished(api, principal, job_id):
    return lambda: get(api, principal, job_id)["status"] not in ("pending", "running")


def counters(job) -> Counters:
    return Counters.of(job["progress"])


def test_good_and_corrupt_files_end_partially_succeeded_with_exact_counters(api, principal, worker):
    ids = sources(api, principal, good=4, bad=2)
    batch = start(api, principal, ids, max_concurrency=2)
    assert batch["status"] == "running" and batch["progress"]["total"] == 6 and batch["progress"]["pending"] == 6
    assert [c["source_document_id"] for c in batch["progress"]["child_jobs"]] == ids
    observed = []
    worker.drain_until(lambda: observed.append(get(api, principal, batch["id"])) or observed[-1]["status"] != "running")
    assert all(counters(j).consistent for j in observed)  # the counters add up at every moment
    done = observed[-1]
    assert done["status"] == "partially_succeeded"
    assert {k: done["progress"][k] for k in ("total", "succeeded", "failed", "cancelled", "pending")} == \
        {"total": 6, "succeeded": 4, "failed": 2, "cancelled": 0, "pending": 0}  # fmt: skip
    assert [h["step"] for h in done["history"]] == ["fan_out", "roll_up"]
    head = done["progress"]["child_jobs"]
    assert [c["status"] for c in head] == ["succeeded"] * 4 + ["failed"] * 2
    assert head[0]["parse_result_id"] == head[0]["job_id"] and "corrupt" in head[5]["error"]
    child = get(api, principal, head[0]["job_id"])  # children are real jobs
    assert child["operation"] == "parse" and child["status"] == "succeeded" and child["result"]["document"]["page_count"] == 1
    assert get(api, principal, head[5]["job_id"])["status"] == "failed"


def test_all_bad_ends_failed(api, principal, worker):
    batch = start(api, principal, sources(api, principal, good=0, bad=3))
    worker.drain_until(finished(api, principal, batch["id"]))
    done = get(api, principal, batch["id"])
    assert done["status"] == "failed" and done["error"] == "All 3 children failed."
    assert counters(done) == Counters(3, 0, 3, 0, 0)


def test_all_good_ends_succeeded_and_chat_api_shows_percent_progress(api, principal, worker):
    batch = start(api, principal, sources(api, principal, good=3))
    worker.drain_until(finished(api, principal, batch["id"]))
    assert get(api, principal, batch["id"])["status"] == "succeeded"
    chat_view = api.get(f"/v1/jobs/{batch['id']}", headers=bearer(principal)).json()
    assert chat_view["status"] == "completed" and chat_view["progress"] == 100 and chat_view["job_type"] == "batch_parse"


def test_cancel_mid_batch_cancels_unfinished_children_and_keeps_finished_results(api, principal, worker):
    batch = start(api, principal, sources(api, principal, good=6), max_concurrency=1)
    worker.drain_until(lambda: get(api, principal, batch["id"])["progress"]["succeeded"] >= 2)
    cancelled = api.post(f"/v1/projects/p/jobs/{batch['id']}/cancel", headers=headers(principal))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    worker.drain_until(lambda: get(api, principal, batch["id"])["progress"]["pending"] == 0)
    worker.drain()  # whatever the stopped execution had already sent
    done = get(api, principal, batch["id"])
    c = counters(done)
    assert done["status"] == "cancelled" and c.consistent and c.succeeded >= 2 and c.cancelled >= 1
    assert c.succeeded + c.cancelled == 6 and c.failed == 0
    statuses = [get(api, principal, ch["job_id"])["status"] for ch in done["progress"]["child_jobs"]]
    assert statuses.count("succeeded") == c.succeeded and statuses.count("cancelled") == c.cancelled
    again = api.post(f"/v1/projects/p/jobs/{batch['id']}/cancel", headers=headers(principal))
    assert again.status_code == 409


def test_a_redelivered_child_message_is_not_counted_twice(api, principal, worker):
    batch = start(api, principal, sources(api, principal, good=2), max_concurrency=1)
    first = worker.receive_raw()[0]  # the state machine's message for the first child
    body = json.loads(first["Body"])
    assert body["action"] == "run" and body["task_token"]
    for receive_count in (1, 2):  # delivered twice
        assert worker.invoke([first["Body"]], receive_count=receive_count) == {"batchItemFailures": []}
    worker.poller.sqs.delete_message(QueueUrl=worker.poller.source.queue_url, ReceiptHandle=first["ReceiptHandle"])
    worker.drain_until(finished(api, principal, batch["id"]))
    assert counters(get(api, principal, batch["id"])) == Counters(2, 2, 0, 0, 0)


def test_a_childs_end_is_answered_from_its_run_and_a_redelivery_from_a_read(api, principal, container, monkeypatch):
    """The child's task token is answered with the status its run ended in, without reading the
    job again; a redelivered message (the run does nothing) reads it to answer."""
    from docjobs.services.worker import handle_message

    source = sources(api, principal, good=1)[0]
    job = api.post("/v1/projects/p/jobs", json={"operation": "parse", "source_id": source}, headers=headers(principal)).json()
    answers, reads = [], []
    monkeypatch.setattr(container.workflow, "answer", lambda token, output: answers.append((token, output)))
    read = container.jobs.get
    monkeypatch.setattr(container.jobs, "get", lambda job_id, **kw: reads.append(job_id) or read(job_id, **kw))
    message = {"action": "run", "job_id": job["id"], "task_token": "token-1"}
    handle_message(container, message)
    assert answers == [("token-1", {"job_id": job["id"], "status": "completed"})]
    assert len(reads) == 1  # the run's own read: none to answer
    handle_message(container, message, receive_count=2)
    assert answers[1] == ("token-1", {"job_id": job["id"], "status": "completed"})
    assert len(reads) == 3  # the run finds it completed and drops it; the answer reads it


def test_a_lost_child_fails_alone(api, principal, worker, container):
    from docjobs.services.worker import handle_message

    batch = start(api, principal, sources(api, principal, good=2), max_concurrency=1)
    lost = batch["progress"]["child_jobs"][1]["job_id"]
    handle_message(container, {"action": "child_lost", "job_id": lost, "error": "States.Timeout"})
    handle_message(container, {"action": "child_lost", "job_id": lost, "error": "States.Timeout"})  # twice: no double count
    worker.drain_until(finished(api, principal, batch["id"]))
    done = get(api, principal, batch["id"])
    assert done["status"] == "partially_succeeded" and counters(done) == Counters(2, 1, 1, 0, 0)
    assert "lost" in get(api, principal, lost)["error"]


def test_children_pages_and_filters(api, principal, worker):
    ids = sources(api, principal, good=5, bad=2)
    batch = start(api, principal, ids)
    worker.drain_until(finished(api, principal, batch["id"]))
    url = f"/v1/projects/p/jobs/{batch['id']}/children"
    seen, cursor = [], None
    while True:
        page = api.get(url, params={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=headers(principal)).json()
        seen += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [c["source_document_id"] for c in seen] == ids
    failed = api.get(url, params={"status": "FAILED"}, headers=headers(principal)).json()["data"]
    assert [c["source_document_id"] for c in failed] == ids[5:]
    via_jobs = api.get(f"/v1/jobs/{batch['id']}/children", params={"status": "succeeded"}, headers=bearer(principal)).json()
    assert len(via_jobs["data"]) == 5
    single = api.post("/v1/projects/p/jobs", json={"operation": "parse", "source_id": ids[0]}, headers=headers(principal)).json()
    assert api.get(f"/v1/projects/p/jobs/{single['id']}/children", headers=headers(principal)).status_code == 422


def test_retry_failed_starts_a_batch_of_exactly_the_failures(api, principal, worker):
    ids = sources(api, principal, good=2, bad=2)
    batch = start(api, principal, ids)
    early = api.post(f"/v1/projects/p/jobs/{batch['id']}/retry-failed", headers=headers(principal))
    assert early.status_code == 409  # still running
    worker.drain_until(finished(api, principal, batch["id"]))
    retry = api.post(f"/v1/projects/p/jobs/{batch['id']}/retry-failed", headers=headers(principal))
    assert retry.status_code == 202
    again = retry.json()
    assert again["operation"] == "batch_parse" and again["id"] != batch["id"]
    assert [c["source_document_id"] for c in again["progress"]["child_jobs"]] == ids[2:]
    worker.drain_until(finished(api, principal, again["id"]))
    ok = start(api, principal, ids[:1])
    worker.drain_until(finished(api, principal, ok["id"]))
    assert api.post(f"/v1/projects/p/jobs/{ok['id']}/retry-failed", headers=headers(principal)).status_code == 409


@pytest.mark.parametrize("case", ["empty", "duplicates", "unknown", "too_many", "source_id", "options"])
def test_bad_batches_are_clear_4xx(api, principal, case):
    ids = sources(api, principal, good=2)
    body = {"operation": "batch_parse", "source_ids": ids}
    expected = 422
    if case == "empty":
        body["source_ids"] = []
    elif case == "duplicates":
        body["source_ids"] = [ids[0], ids[1], ids[0]]
    elif case == "unknown":
        body["source_ids"] = [ids[0], "src_" + "f" * 32]
        expected = 404
    elif case == "too_many":
        body["source_ids"] = [f"src_{i:032x}" for i in range(1001)]
    elif case == "source_id":
        body = {"operation": "batch_parse", "source_id": ids[0]}
    else:
        body["options"] = {"max_concurrency": 0}
    response = api.post("/v1/projects/p/jobs", json=body, headers=headers(principal))
    assert response.status_code == expected, response.text
    assert response.json()["error"]["message"]


def test_a_progress_poll_is_one_item_read_whatever_the_batch_size(api, principal, container, worker):
    calls = []
    client = container.jobs.client
    original = client._make_api_call

    def counting(operation, params):
        calls.append(operation)
        return original(operation, params)

    reads = {}
    for size in (2, 30):
        batch = start(api, principal, sources(api, principal, good=size))
        client._make_api_call = counting
        try:
            calls.clear()
            assert get(api, principal, batch["id"])["progress"]["total"] == size
            reads[size] = list(calls)
        finally:
            client._make_api_call = original
        api.post(f"/v1/projects/p/jobs/{batch['id']}/cancel", headers=headers(principal))
    assert reads[2] == reads[30] == ["GetItem"]


def test_the_parent_item_does_not_grow_with_the_batch(api, principal, container):
    """Each child's outcome rewrites its parent, and DynamoDB bills a write by the whole item: the
    parent holds the first children and the counters, not every source id."""
    from docjobs.adapters.jobs_table import job_key

    size = {}
    for n in (25, 60):
        batch = start(api, principal, sources(api, principal, good=n))
        item = container.jobs.client.get_item(TableName=container.jobs.table, Key=job_key(batch["id"]))["Item"]
        size[n] = len(json.dumps(item))
        assert item["request"]["M"]["sources"] == {"N": str(n)}
        api.post(f"/v1/projects/p/jobs/{batch['id']}/cancel", headers=headers(principal))
    assert abs(size[60] - size[25]) < 100, size  # 35 more ids would be 1.6 KB more
