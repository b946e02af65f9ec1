"""The project-scoped API (project-jobs seed) over HTTP, with the real worker."""

from __future__ import annotations

import requests as real_requests

from tests import documents
from tests.conftest import bearer, make_principal

SEED_FIELDS = {"id", "project_id", "operation", "status", "created_at", "object", "source_id", "correlation_id",
               "started_at", "completed_at", "result", "progress", "error", "history"}  # fmt: skip


def seed_headers(principal, account=None):
    return {"x-api-key": principal.api_key, "x-selected-account-id": account or principal.owner.id}


def upload(api, principal, data, name="report.pdf", kind="application/pdf", project="p1"):
    response = api.post(f"/v1/projects/{project}/files", files={"file": (name, data, kind)}, headers=seed_headers(principal))
    assert response.status_code == 201, response.text
    return response.json()


def create(api, principal, body, project="p1", **headers):
    return api.post(f"/v1/projects/{project}/jobs", json=body, headers={**seed_headers(principal), **headers})


def test_parse_job_end_to_end_in_the_seeds_shape(api, principal, worker):
    source = upload(api, principal, documents.report_pdf(2, 2))
    assert source["id"].startswith("src_") and source["size"] > 0 and len(source["sha256"]) == 64
    response = create(api, principal, {"operation": "parse", "source_id": source["id"], "tags": ["q3"]},
                      **{"X-Correlation-Id": "trace-77"})  # fmt: skip
    assert response.status_code == 202
    job = response.json()
    assert SEED_FIELDS <= set(job) and job["object"] == "job" and job["status"] == "pending"
    assert job["correlation_id"] == "trace-77" and job["operation"] == "parse" and job["progress"] is None
    assert response.headers["Location"] == f"/v1/projects/p1/jobs/{job['id']}" and response.headers["Retry-After"]
    worker.drain()
    done = api.get(response.headers["Location"], headers=seed_headers(principal)).json()
    assert done["status"] == "succeeded" and done["error"] is None
    assert done["started_at"] <= done["completed_at"]
    assert [h["step"] for h in done["history"]] == ["fetch", "load_parse", "detect", "extract_text", "chunk", "store_result"]
    assert done["history"][1]["details"]["found"] is False
    assert all(h["status"] == "succeeded" and h["duration_ms"] is not None for h in done["history"])
    result = done["result"]
    assert result["document"]["page_count"] == 4 and result["document"]["title"] == "Annual Report"
    assert result["chunks"] and all(c["heading_path"] for c in result["chunks"])
    # The same job in the chat-jobs API's words.
    chat_view = api.get(f"/v1/jobs/{job['id']}", headers=bearer(principal)).json()
    assert chat_view["job_type"] == "parse" and chat_view["status"] == "completed" and chat_view["session_id"] is None
    assert chat_view["metadata"]["filename"] == "report.pdf" and chat_view["metadata"]["content_type"] == "application/pdf"
    assert chat_view["tags"] == ["q3"]
    # The same source again: its kept parse is reused, with the same result.
    again = create(api, principal, {"operation": "parse", "source_id": source["id"]}).json()
    worker.drain()
    again = api.get(f"/v1/projects/p1/jobs/{again['id']}", headers=seed_headers(principal)).json()
    assert [h["step"] for h in again["history"]] == ["fetch", "load_parse", "chunk", "store_result"]
    assert again["history"][1]["details"]["found"] is True
    assert again["result"]["chunks"] == result["chunks"] and again["result"]["pages"] == result["pages"]


def test_the_same_bytes_are_the_same_source(api, principal):
    data = documents.report_pdf(1, 1)
    first, again = upload(api, principal, data), upload(api, principal, data, name="copy.pdf")
    assert first == again
    assert upload(api, principal, data, project="p2")["id"] == first["id"]  # same id, other project's own copy
    fetched = api.get(f"/v1/projects/p1/files/{first['id']}", headers=seed_headers(principal))
    assert fetched.json()["filename"] == "report.pdf"


def test_presigned_upload_for_large_files(api, principal, worker):
    ticket = api.post("/v1/projects/p1/files/upload-url", json={"content_type": "text/plain"}, headers=seed_headers(principal)).json()
    assert ticket["method"] == "PUT" and ticket["upload_url"].startswith("https://")
    body = ("Large file paragraph. " * 40 + "\n\n").encode() * 3000  # about 2.6 MB
    put = real_requests.put(ticket["upload_url"], data=body, headers=ticket["headers"])  # moto intercepts the S3 URL
    assert put.status_code == 200
    source = api.post(ticket["complete_url"], json={"filename": "big.txt"}, headers=seed_headers(principal))
    assert source.status_code == 201 and source.json()["size"] == len(body)
    job = create(api, principal, {"operation": "parse", "source_id": source.json()["id"]}).json()
    worker.drain()
    done = api.get(f"/v1/projects/p1/jobs/{job['id']}", headers=seed_headers(principal)).json()
    assert done["status"] == "succeeded"
    # Too big for the job item: a summary, and a short-lived link to the whole.
    assert done["result"]["truncated"] is True and "result_key" not in done["result"]
    whole = real_requests.get(done["result"]["result_url"]).json()
    assert whole["stats"]["pages"] == 1 and len(whole["chunks"]) > 100
    assert api.post(ticket["complete_url"], json={}, headers=seed_headers(principal)).status_code == 404  # used up


def test_every_operation_runs_as_a_job(api, principal, worker):
    invoice = upload(api, principal, documents.pdf([
        [("Invoice", 22), ("Invoice Number: INV-9", 11), ("Total Due: $10.00", 11)],
        [("Invoice", 22), ("Invoice Number: INV-10", 11), ("Total Due: $20.00", 11)]]))  # fmt: skip
    bodies = {
        "extract": {"schema": {"type": "object", "properties": {"invoice_number": {"type": "string"}, "total_due": {"type": "number"}}}},
        "chunk": {"strategy": "sentence", "sentences_per_chunk": 1},
        "summarization": {"sentences": 1},
        "classify": {"labels": ["invoice", "poem"]},
        "split": {},
    }
    ids = {op: create(api, principal, {"operation": op, "source_id": invoice["id"], "options": opts}).json()["id"]
           for op, opts in bodies.items()}  # fmt: skip
    worker.drain()
    results = {op: api.get(f"/v1/projects/p1/jobs/{i}", headers=seed_headers(principal)).json() for op, i in ids.items()}
    assert {op: r["status"] for op, r in results.items()} == dict.fromkeys(bodies, "succeeded")
    assert results["extract"]["result"]["data"] == {"invoice_number": "INV-9", "total_due": 10.0}
    assert results["classify"]["result"]["label"] == "invoice"
    parts = results["split"]["result"]["parts"]
    assert len(parts) == 2
    part = api.get(f"/v1/projects/p1/files/{parts[1]['source_id']}", headers=seed_headers(principal)).json()
    assert part["filename"].endswith("part2-p2-2.pdf")


def test_a_corrupt_or_encrypted_file_fails_the_job_not_the_worker(api, principal, worker):
    corrupt = upload(api, principal, documents.corrupt_pdf(), name="broken.pdf")
    locked = upload(api, principal, documents.pdf([[("x", 11)]], encrypt="pw"), name="locked.pdf")
    jobs = [create(api, principal, {"operation": "parse", "source_id": s["id"]}).json()["id"] for s in (corrupt, locked)]
    assert worker.drain() == 2
    failed = [api.get(f"/v1/projects/p1/jobs/{j}", headers=seed_headers(principal)).json() for j in jobs]
    assert [f["status"] for f in failed] == ["failed", "failed"]
    assert "corrupt" in failed[0]["error"] and "encrypted" in failed[1]["error"]
    assert failed[0]["history"][-1]["step"] == "extract_text" and failed[0]["history"][-1]["status"] == "failed"


def test_listing_filters_by_operation_and_status_in_any_apis_words(api, principal, worker, clock):
    source = upload(api, principal, documents.report_pdf(1, 1))
    for op in ("parse", "chunk", "parse"):
        create(api, principal, {"operation": op, "source_id": source["id"]})
        clock.advance(1)
    worker.drain()
    cancelled = create(api, principal, {"operation": "parse", "source_id": source["id"]}).json()["id"]
    api.post(f"/v1/projects/p1/jobs/{cancelled}/cancel", headers=seed_headers(principal))

    def listed(**params):
        page = api.get("/v1/projects/p1/jobs", params=params, headers=seed_headers(principal)).json()
        return [(j["operation"], j["status"]) for j in page["data"]]

    assert listed() == [("parse", "cancelled"), ("parse", "succeeded"), ("chunk", "succeeded"), ("parse", "succeeded")]
    assert listed(operation="chunk") == [("chunk", "succeeded")]
    assert listed(status="SUCCEEDED,cancelled", operation="parse") == [("parse", "cancelled"), ("parse", "succeeded"), ("parse", "succeeded")]
    assert listed(status="completed", operation="chunk") == [("chunk", "succeeded")]
    bad = api.get("/v1/projects/p1/jobs", params={"status": "bogus"}, headers=seed_headers(principal))
    assert bad.status_code == 422
    page1 = api.get("/v1/projects/p1/jobs", params={"limit": 2}, headers=seed_headers(principal)).json()
    page2 = api.get("/v1/projects/p1/jobs", params={"limit": 2, "cursor": page1["next_cursor"]}, headers=seed_headers(principal)).json()
    assert len(page1["data"]) == 2 and len(page2["data"]) == 2 and page1["data"][0]["id"] == cancelled
    assert api.get("/v1/projects/p2/jobs", params={"cursor": page1["next_cursor"]}, headers=seed_headers(principal)).status_code == 422


def test_project_auth_rules(api, principal, container):
    source = upload(api, principal, documents.report_pdf(1, 1))
    job_id = create(api, principal, {"operation": "parse", "source_id": source["id"]}).json()["id"]
    url = f"/v1/projects/p1/jobs/{job_id}"
    assert api.get(url, headers=seed_headers(principal, account="someone-else")).status_code == 403
    assert api.get(url, headers={"x-api-key": principal.api_key}).status_code == 422  # no account selected
    assert api.get(url, headers={"x-api-key": "sk_wrong_wrong_wrong_wrong", "x-selected-account-id": "acme"}).status_code == 401
    assert api.get(url, headers=bearer(principal)).status_code == 200  # Bearer keys work here too
    other = make_principal(container, "org", "globex")
    assert api.get(url, headers=seed_headers(other)).status_code == 403  # another account's job
    assert api.get(f"/v1/projects/p2/jobs/{job_id}", headers=seed_headers(principal)).status_code == 404  # other project
    assert api.get(f"/v1/projects/p1/files/{source['id']}", headers=seed_headers(other)).status_code == 404


def test_bad_job_requests_are_clear_4xx(api, principal):
    source = upload(api, principal, documents.report_pdf(1, 1))
    cases = [
        ({"operation": "parse"}, 422, "invalid_request"),  # no source
        ({"operation": "parse", "source_id": "src_" + "0" * 32}, 404, "source_not_found"),
        ({"operation": "teleport", "source_id": source["id"]}, 422, "invalid_request"),
        ({"operation": "research", "source_id": source["id"]}, 422, "invalid_request"),  # not available yet
        ({"operation": "extract", "source_id": source["id"], "options": {"schema": {"type": "string"}}}, 422, "invalid_request"),
        ({"operation": "parse", "source_id": source["id"], "options": {"chunking": {"max_tokens": 5}}}, 422, "invalid_request"),
        ({"operation": "parse", "source_id": source["id"], "extra": True}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        response = create(api, principal, body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    empty = api.post("/v1/projects/p1/files", files={"file": ("e.pdf", b"", "application/pdf")}, headers=seed_headers(principal))
    assert empty.status_code == 422
    assert api.post("/v1/projects/bad%20id!/jobs", json={}, headers=seed_headers(principal)).status_code == 422


def test_idempotent_operation_jobs(api, principal):
    source = upload(api, principal, documents.report_pdf(1, 1))
    body = {"operation": "parse", "source_id": source["id"]}
    first = create(api, principal, body, **{"Idempotency-Key": "op-1"})
    again = create(api, principal, body, **{"Idempotency-Key": "op-1"})
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert create(api, principal, {**body, "operation": "chunk"}, **{"Idempotency-Key": "op-1"}).status_code == 409


def test_operation_jobs_stay_seven_days(api, principal, worker, clock):
    source = upload(api, principal, documents.report_pdf(1, 1))
    job_id = create(api, principal, {"operation": "parse", "source_id": source["id"]}).json()["id"]
    worker.drain()
    clock.advance(7 * 24 * 3600 - 1)
    assert api.get(f"/v1/projects/p1/jobs/{job_id}", headers=seed_headers(principal)).status_code == 200
    clock.advance(1)
    assert api.get(f"/v1/projects/p1/jobs/{job_id}", headers=seed_headers(principal)).status_code == 404
