"""A client written against the seeds, pointed at `make run` with only the base URL and key changed."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.conftest import DOC


def poll(stack, job_id, until=("completed", "failed", "awaiting_approval", "cancelled"), key=0, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = requests.get(f"{stack.base_url}/v1/jobs/{job_id}", headers=stack.headers(key), timeout=5).json()
        if job["status"] in until:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['status']}")


def test_the_seed_polling_example_works_unchanged(local_stack, capsys):
    # The chat-jobs async guide's example, with its base URL and key replaced (and a shorter sleep).
    API_KEY = local_stack.keys[0]
    HEADERS = {"Authorization": f"Bearer {API_KEY}"}
    base = local_stack.base_url

    response = requests.post(f"{base}/v1/chat/async",
        headers={**HEADERS, "Content-Type": "application/json"},
        json={"message": "Summarize this document", "session_id": "my-session", "document_html": DOC},
    )  # fmt: skip
    job_id = response.json()["job_id"]

    outcome = None
    for _ in range(300):
        job = requests.get(f"{base}/v1/jobs/{job_id}", headers=HEADERS).json()
        if job["status"] == "completed":
            print("AI response:", job["result"]["response"])
            outcome = "completed"
            break
        elif job["status"] == "failed":
            print("Error:", job["error"])
            outcome = "failed"
            break
        elif job["status"] == "awaiting_approval":
            print("Changes need approval:", job["metadata"]["pending_changes"])
            outcome = "awaiting_approval"
            break
        time.sleep(0.1)

    assert outcome == "completed"
    assert "AI response: Summary:" in capsys.readouterr().out
    assert job["result"]["usage"]["subscription_tier"] == "free"


def test_edit_then_continue_the_session_without_resending_the_document(local_stack):
    base, headers = local_stack.base_url, local_stack.headers()
    first = requests.post(f"{base}/v1/chat/async", headers=headers, json={
        "message": 'Replace "Acme Corp" with "Initech"', "session_id": "e2e-edit", "document_html": DOC}).json()  # fmt: skip
    assert poll(local_stack, first["job_id"])["status"] == "completed"
    second = requests.post(f"{base}/v1/chat/async", headers=headers, json={
        "message": "Restructure this entire document into 2 sections", "session_id": "e2e-edit"}).json()  # fmt: skip
    job = poll(local_stack, second["job_id"])
    html = job["result"]["document_changes"]["updated_html"]
    assert "Initech" in html and html.count("<h2") == 2
    assert job["metadata"]["document_html_provided"] is False


def test_approval_flow_over_the_local_stack(local_stack):
    base, headers = local_stack.base_url, local_stack.headers()
    job_id = requests.post(f"{base}/v1/chat/async", headers=headers, json={
        "message": 'Insert "Prices exclude VAT." after the paragraph containing "Payment"',
        "session_id": "e2e-hitl", "document_html": DOC, "require_approval": True}).json()["job_id"]  # fmt: skip
    job = poll(local_stack, job_id)
    assert job["status"] == "awaiting_approval"
    change = job["metadata"]["pending_changes"][0]
    approved = requests.post(f"{base}/v1/jobs/{job_id}/approve", headers=headers,
                             json={"approved_change_ids": [change["change_id"]]})  # fmt: skip
    assert approved.status_code == 200
    assert "Prices exclude VAT." in approved.json()["result"]["document_changes"]["updated_html"]


def test_sync_chat_over_the_local_stack(local_stack):
    response = requests.post(f"{local_stack.base_url}/v1/chat", headers=local_stack.headers(), json={
        "message": 'replace "Globex Inc" with "Hooli"', "session_id": "e2e-sync", "document_html": DOC})  # fmt: skip
    assert response.status_code == 200
    assert "Hooli" in response.json()["document_changes"]["updated_html"]


def test_each_configured_key_is_its_own_organization(local_stack):
    base = local_stack.base_url
    job_id = requests.post(f"{base}/v1/chat/async", headers=local_stack.headers(0), json={
        "message": "Summarize", "session_id": "iso", "document_html": DOC}).json()["job_id"]  # fmt: skip
    assert requests.get(f"{base}/v1/jobs/{job_id}", headers=local_stack.headers(1)).status_code == 403
    me = [requests.get(f"{base}/v1/me", headers=local_stack.headers(i)).json()["organization_id"] for i in (0, 1)]
    assert me[0] != me[1]
    listed = requests.get(f"{base}/v1/jobs", headers=local_stack.headers(1)).json()["jobs"]
    assert job_id not in [j["job_id"] for j in listed]


def test_errors_are_json_over_the_wire(local_stack):
    base = local_stack.base_url
    assert requests.get(f"{base}/v1/jobs").json()["error"]["code"] == "unauthorized"
    r = requests.get(f"{base}/v1/jobs/job_{'b' * 32}", headers=local_stack.headers())
    assert r.status_code == 404 and r.json()["error"]["code"] == "job_not_found"
    r = requests.post(f"{base}/v1/chat/async", headers={**local_stack.headers(), "Content-Type": "application/json"}, data="{oops")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


def test_project_jobs_over_the_local_stack(local_stack):
    from tests import documents

    base = f"{local_stack.base_url}/v1/projects/e2e"
    headers = {"x-api-key": local_stack.keys[0], "x-selected-account-id": "org-local-1"}
    data = documents.report_pdf(2, 1)
    source = requests.post(f"{base}/files", headers=headers, files={"file": ("report.pdf", data, "application/pdf")}).json()
    created = requests.post(f"{base}/jobs", headers=headers, json={"operation": "parse", "source_id": source["id"]})
    assert created.status_code == 202
    location = local_stack.base_url + created.headers["Location"]
    deadline = time.monotonic() + 30
    while (job := requests.get(location, headers=headers).json())["status"] in ("pending", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert job["status"] == "succeeded" and job["result"]["document"]["page_count"] == 2
    assert [h["step"] for h in job["history"]][:4] == ["fetch", "load_parse", "detect", "extract_text"]
    # A presigned upload goes straight to the emulator's S3 and back.
    ticket = requests.post(f"{base}/files/upload-url", headers=headers, json={"content_type": "text/plain"}).json()
    assert requests.put(ticket["upload_url"], data=b"Hello from a presigned upload.", headers=ticket["headers"]).status_code == 200
    done = requests.post(local_stack.base_url + ticket["complete_url"], headers=headers, json={"filename": "hello.txt"})
    assert done.status_code == 201 and done.json()["size"] == 30


def test_an_index_and_research_over_the_local_stack(local_stack):
    from tests.corpus import QUESTIONS, corpus

    base = f"{local_stack.base_url}/v1/projects/e2e-index"
    headers = {"x-api-key": local_stack.keys[0], "x-selected-account-id": "org-local-1"}

    def wait(response):
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + 60
        while (job := requests.get(local_stack.base_url + response.headers["Location"], headers=headers).json())["status"] in (
            "pending", "running"):  # fmt: skip
            assert time.monotonic() < deadline
            time.sleep(0.1)
        return job

    ids = [requests.post(f"{base}/files", headers=headers, files={"file": (name, data, "text/plain")}).json()["id"]
           for name, data in corpus().items()]  # fmt: skip
    job = wait(requests.post(f"{base}/jobs", headers=headers, json={"operation": "create_index", "source_ids": ids,
                                                                    "options": {"index": "docs"}}))  # fmt: skip
    assert job["status"] == "succeeded", job
    index = requests.get(f"{base}/indexes/docs", headers=headers).json()
    assert index["status"] == "ready" and index["source_count"] == len(ids)
    question = next(q for q in QUESTIONS if q.filename == "mpl-2.0.txt")
    job = wait(requests.post(f"{base}/jobs", headers=headers, json={"operation": "research",
                                                                    "options": {"index": "docs", "question": question.question}}))  # fmt: skip
    result = job["result"]
    assert job["status"] == "succeeded" and any(question.answered_by(p) for p in result["passages"][:3])
    assert result["answer"] and all(s["citations"] for s in result["sentences"])


def test_batch_parse_runs_the_state_machine_on_the_local_stack(local_stack):
    from tests import documents

    base = f"{local_stack.base_url}/v1/projects/e2e-batch"
    headers = {"x-api-key": local_stack.keys[0], "x-selected-account-id": "org-local-1"}
    files = [("a.pdf", documents.report_pdf(1, 1)), ("b.pdf", documents.report_pdf(2, 1)), ("bad.pdf", documents.corrupt_pdf())]
    ids = [requests.post(f"{base}/files", headers=headers, files={"file": (n, d, "application/pdf")}).json()["id"] for n, d in files]
    created = requests.post(f"{base}/jobs", headers=headers, json={"operation": "batch_parse", "source_ids": ids})
    assert created.status_code == 202
    location = local_stack.base_url + created.headers["Location"]
    deadline = time.monotonic() + 60
    while (job := requests.get(location, headers=headers).json())["status"] == "running":
        progress = job["progress"]
        assert progress["succeeded"] + progress["failed"] + progress["cancelled"] + progress["pending"] == 3
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job["status"] == "partially_succeeded"
    assert (job["progress"]["succeeded"], job["progress"]["failed"], job["progress"]["pending"]) == (2, 1, 0)
    assert [h["step"] for h in job["history"]] == ["fan_out", "roll_up"]


def test_the_event_log_and_sse_through_the_real_stream(local_stack):
    base, headers = local_stack.base_url, local_stack.headers()
    job_id = requests.post(f"{base}/v1/chat/async", headers=headers, json={
        "message": "Summarize this document", "session_id": "e2e-events", "document_html": DOC}).json()["job_id"]  # fmt: skip
    # The stream opens at once and ends by itself at the terminal status.
    with requests.get(f"{base}/v1/jobs/{job_id}/stream", headers=headers, stream=True, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.text
    frames = [f for f in text.split("\n\n") if f.startswith("id:")]
    assert [int(f.split("\n")[0][4:]) for f in frames] == list(range(1, len(frames) + 1))
    assert '"status":"completed"' in frames[-1]
    logged = requests.get(f"{base}/v1/jobs/{job_id}/events", headers=headers).json()
    assert [e["seq"] for e in logged["events"]] == list(range(1, len(frames) + 1))


def test_notify_email_lands_in_the_local_outbox(local_stack):
    import json

    from tests.conftest import ROOT

    base, headers = local_stack.base_url, local_stack.headers()
    job_id = requests.post(f"{base}/v1/chat/async", headers=headers, json={
        "message": "Summarize", "session_id": "e2e-mail", "document_html": DOC, "notify_email": "sam@example.org"}).json()["job_id"]  # fmt: skip
    outbox = ROOT / ".docjobs" / "outbox"
    deadline = time.monotonic() + 30
    while not (mails := [json.loads(p.read_text()) for p in sorted(outbox.glob("*.json"))]) or job_id not in mails[-1]["body"]:
        assert time.monotonic() < deadline, "no e-mail arrived"
        time.sleep(0.2)
    assert mails[-1]["to"] == ["sam@example.org"] and mails[-1]["subject"] == "docjobs: job completed (chat)"


def test_webhooks_reach_a_local_receiver_signed(local_stack):
    """make run allows loopback targets: a receiver on this machine gets every status change of
    a job, signed, from the stream through the webhook queue and function."""
    from tests.receiver import Receiver, verify

    base, headers = local_stack.base_url, local_stack.headers()
    receiver = Receiver().start()
    try:
        endpoint = requests.post(f"{base}/v1/webhooks", headers=headers, json={"url": receiver.url}).json()
        job_id = requests.post(f"{base}/v1/chat/async", headers=headers, json={
            "message": "Summarize", "session_id": "e2e-hook", "document_html": DOC}).json()["job_id"]  # fmt: skip
        deadline = time.monotonic() + 30
        while len([r for r in receiver.requests if job_id in r.body]) < 3:
            assert time.monotonic() < deadline, f"webhooks received: {[r.body for r in receiver.requests]}"
            time.sleep(0.2)
        messages = [verify(endpoint["secret"], r, time.time()) for r in receiver.requests if job_id in r.body]
        assert sorted(m["data"]["seq"] for m in messages) == sorted({m["data"]["seq"] for m in messages})
        assert {m["type"] for m in messages} == {"job.pending", "job.in_progress", "job.completed"}
        logged = requests.get(f"{base}/v1/webhooks/{endpoint['id']}/deliveries", headers=headers).json()["data"]
        assert {d["status"] for d in logged if d["job_id"] == job_id} == {"succeeded"}
        refused = requests.post(f"{base}/v1/webhooks", headers=headers, json={"url": "http://169.254.169.254/"})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "webhook_url_refused"
    finally:
        receiver.stop()


def test_the_api_answers_from_several_processes_like_lambda_instances(local_stack):
    """Each API process serves one request at a time (as a Lambda instance does), so the local
    stack runs several on its port: a burst of clients is answered side by side."""
    assert len(local_stack.api_serving_processes()) == 4  # DOCJOBS_LOCAL_API_PROCESSES' default
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: requests.get(f"{local_stack.base_url}/health", timeout=10).status_code, range(32)))
    assert answers == [200] * 32
