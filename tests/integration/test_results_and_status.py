"""GET /v1/jobs/{id}/result and GET /v1/jobs/status (the extraction-jobs seed's endpoints)."""

from __future__ import annotations

from tests import documents
from tests.conftest import DOC, bearer, make_principal


def chat(api, principal, message='Replace "Acme Corp" with "Initech"'):
    return api.post("/v1/chat/async", json={"message": message, "session_id": "s", "document_html": DOC},
                    headers=bearer(principal)).json()["job_id"]  # fmt: skip


def test_result_of_a_finished_job_and_409_before(api, principal, worker, clock):
    job_id = chat(api, principal)
    pending = api.get(f"/v1/jobs/{job_id}/result", headers=bearer(principal))
    assert pending.status_code == 409 and pending.json()["error"]["details"]["status"] == "pending"
    worker.drain()
    result = api.get(f"/v1/jobs/{job_id}/result", headers=bearer(principal))
    assert result.status_code == 200
    view = api.get(f"/v1/jobs/{job_id}", headers=bearer(principal)).json()["result"]
    assert result.json() == {k: v for k, v in view.items() if v is not None}
    clock.advance(3600)
    assert api.get(f"/v1/jobs/{job_id}/result", headers=bearer(principal)).status_code == 404


def test_a_large_result_is_streamed_whole_from_s3(api, principal, worker):
    headers = {"x-api-key": principal.api_key, "x-selected-account-id": "acme"}
    big = ("A long paragraph of text that repeats. " * 30 + "\n\n").encode() * 2000
    source = api.post("/v1/projects/p/files", files={"file": ("big.txt", big, "text/plain")}, headers=headers).json()
    job = api.post("/v1/projects/p/jobs", json={"operation": "parse", "source_id": source["id"]}, headers=headers).json()
    worker.drain()
    summary = api.get(f"/v1/jobs/{job['id']}", headers=bearer(principal)).json()["result"]
    assert summary["truncated"] is True
    whole = api.get(f"/v1/jobs/{job['id']}/result", headers=bearer(principal))
    assert whole.status_code == 200 and whole.headers["content-type"] == "application/json"
    assert whole.json()["stats"]["blocks"] == 2000 and len(whole.json()["blocks"]) == 2000


def test_a_failed_job_has_no_result_and_says_why(api, principal, worker):
    headers = {"x-api-key": principal.api_key, "x-selected-account-id": "acme"}
    source = api.post("/v1/projects/p/files", files={"file": ("x.pdf", documents.corrupt_pdf(), "application/pdf")}, headers=headers).json()
    job = api.post("/v1/projects/p/jobs", json={"operation": "parse", "source_id": source["id"]}, headers=headers).json()
    worker.drain()
    response = api.get(f"/v1/jobs/{job['id']}/result", headers=bearer(principal))
    assert response.status_code == 409 and "corrupt" in response.json()["error"]["message"]


def test_status_of_many_jobs_reports_each_id(api, principal, container, worker):
    done, waiting = chat(api, principal), None
    worker.drain()
    waiting = chat(api, principal)
    theirs = chat(api, make_principal(container, "org", "globex"))
    unknown = "job_" + "z" * 32
    response = api.get("/v1/jobs/status", params={"ids": f"{done},{waiting},{theirs},{unknown},nonsense", "include_progress": "true"},
                       headers=bearer(principal))  # fmt: skip
    assert response.status_code == 200
    entries = {e["job_id"]: e for e in response.json()["jobs"]}
    assert list(entries) == [done, waiting, theirs, unknown, "nonsense"]  # in the order asked
    assert entries[done]["status"] == "completed" and entries[done]["progress"] == 100
    assert entries[waiting]["status"] == "pending" and entries[waiting]["progress"] == 0
    assert entries[theirs]["error"]["code"] == "forbidden" and entries[theirs]["status"] is None
    assert entries[unknown]["error"]["code"] == "job_not_found" and entries["nonsense"]["error"]["code"] == "job_not_found"
    assert response.json()["summary"] == {"total": 5, "found": 2, "by_status": {"completed": 1, "pending": 1}}


def test_status_needs_between_one_and_a_hundred_ids(api, principal):
    assert api.get("/v1/jobs/status", params={"ids": ""}, headers=bearer(principal)).status_code == 422
    many = ",".join(f"job_{i:032d}" for i in range(101))
    assert api.get("/v1/jobs/status", params={"ids": many}, headers=bearer(principal)).status_code == 422
    assert api.get("/v1/jobs/status", params={"ids": "job_x"}).status_code == 401


def test_status_of_many_reads_in_batches(api, principal, container):
    ids = [chat(api, principal, "Summarize") for _ in range(3)]
    calls = []
    client = container.jobs.client
    original = client._make_api_call
    client._make_api_call = lambda op, params: calls.append(op) or original(op, params)
    try:
        api.get("/v1/jobs/status", params={"ids": ",".join(ids)}, headers=bearer(principal))
    finally:
        client._make_api_call = original
    assert calls == ["BatchGetItem"]
