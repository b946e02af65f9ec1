"""Chat attachments: attachment_processing jobs, and the attachment's text in later messages."""

from __future__ import annotations

from tests import documents
from tests.conftest import DOC, bearer

REPORT = ("# Field report\n\nThe northern wells produced record volumes this spring. Pump failures fell by half after "
          "the maintenance program. The crew recommends replacing the old pipeline next year.\n").encode()  # fmt: skip


def attach(api, principal, data, name, session="s-att", kind="text/markdown"):
    return api.post("/v1/chat/attachments", files={"file": (name, data, kind)}, data={"session_id": session},
                    headers=bearer(principal))  # fmt: skip


def test_an_attachment_job_completes_with_an_attachment_id_and_file_metadata(api, principal, worker):
    response = attach(api, principal, REPORT, "report.md")
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"job_id", "session_id", "status", "message"} and body["session_id"] == "s-att"
    pending = api.get(f"/v1/jobs/{body['job_id']}", headers=bearer(principal)).json()
    assert pending["job_type"] == "attachment_processing"
    assert pending["metadata"]["filename"] == "report.md" and pending["metadata"]["file_size"] == len(REPORT)
    assert pending["metadata"]["content_type"] == "text/markdown"
    worker.drain()
    job = api.get(f"/v1/jobs/{body['job_id']}", headers=bearer(principal)).json()
    assert job["status"] == "completed" and job["result"]["attachment_id"].startswith("att_")
    assert job["result"]["session_id"] == "s-att"


def test_the_sessions_next_message_can_use_the_attachment(api, principal, worker):
    attach(api, principal, REPORT, "report.md")
    worker.drain()
    # No document in the session: the attachment is enough to talk about.
    job_id = api.post("/v1/chat/async", json={"message": "Summarize the attachment in 1 sentence", "session_id": "s-att"},
                      headers=bearer(principal)).json()["job_id"]  # fmt: skip
    worker.drain()
    job = api.get(f"/v1/jobs/{job_id}", headers=bearer(principal)).json()
    assert job["status"] == "completed"
    assert job["result"]["response"].startswith("Summary of report.md:")
    assert "wells" in job["result"]["response"] or "pipeline" in job["result"]["response"] or "Pump" in job["result"]["response"]


def test_with_a_document_and_an_attachment_edits_still_apply_to_the_document(api, principal, worker):
    attach(api, principal, documents.report_pdf(1, 1), "annual.pdf", session="s-both", kind="application/pdf")
    worker.drain()
    job_id = api.post("/v1/chat/async", json={"message": 'Replace "Acme Corp" with "Initech"', "session_id": "s-both",
                                              "document_html": DOC}, headers=bearer(principal)).json()["job_id"]  # fmt: skip
    worker.drain()
    html = api.get(f"/v1/jobs/{job_id}", headers=bearer(principal)).json()["result"]["document_changes"]["updated_html"]
    assert "Initech" in html


def test_a_corrupt_attachment_fails_its_job_and_attachment_jobs_expire_after_an_hour(api, principal, worker, clock):
    body = attach(api, principal, documents.corrupt_pdf(), "broken.pdf", kind="application/pdf").json()
    worker.drain()
    job = api.get(f"/v1/jobs/{body['job_id']}", headers=bearer(principal)).json()
    assert job["status"] == "failed" and "corrupt" in job["error"]
    clock.advance(3600)
    assert api.get(f"/v1/jobs/{body['job_id']}", headers=bearer(principal)).status_code == 404


def test_attachment_requests_are_validated(api, principal):
    assert attach(api, principal, b"", "empty.txt").status_code == 422
    assert attach(api, principal, REPORT, "r.md", session="../bad").status_code == 422
    assert api.post("/v1/chat/attachments", headers=bearer(principal)).status_code == 422  # no file
