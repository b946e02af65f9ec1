"""The HTTP contract of the chat jobs API (seeds: chat-jobs-get-job, chat-jobs-async-guide)."""

from __future__ import annotations

import pytest

from tests.conftest import DOC, bearer, make_principal

SEED_JOB_FIELDS = {
    "job_id", "session_id", "job_type", "status", "created_at", "updated_at", "progress",
    "organization_id", "user_id", "result", "error", "metadata",
}  # fmt: skip


def post_async(api, principal, **body):
    body.setdefault("message", 'Replace "Acme Corp" with "Initech"')
    body.setdefault("session_id", "my-session")
    body.setdefault("document_html", DOC)
    return api.post("/v1/chat/async", json=body, headers=bearer(principal))


def test_async_chat_answers_202_with_exactly_the_seed_body(api, principal):
    response = post_async(api, principal)
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"job_id", "session_id", "status", "message"}
    assert body["status"] == "pending" and body["session_id"] == "my-session"
    assert body["message"] == "Chat request queued for processing"
    assert response.headers["Location"] == f"/v1/jobs/{body['job_id']}"
    assert response.headers["Retry-After"] == "2"


def test_get_job_has_every_seed_field_with_its_type(api, principal, worker):
    job_id = post_async(api, principal).json()["job_id"]
    pending = api.get(f"/v1/jobs/{job_id}", headers=bearer(principal)).json()
    assert SEED_JOB_FIELDS <= set(pending)
    assert pending["status"] == "pending" and pending["progress"] == 0 and pending["result"] is None
    assert pending["job_type"] == "chat" and pending["organization_id"] == "acme" and pending["user_id"] is None
    assert pending["metadata"]["document_html_provided"] is True
    worker.drain()
    job = api.get(f"/v1/jobs/{job_id}", headers=bearer(principal)).json()
    assert job["status"] == "completed" and job["progress"] == 100 and job["error"] is None
    result = job["result"]
    assert isinstance(result["response"], str) and result["session_id"] == "my-session"
    changes = result["document_changes"]
    assert {"updated_html", "version_id", "changes_summary", "requires_approval", "pending_changes", "changes"} <= set(changes)
    assert set(result["usage"]) == {"monthly_used", "monthly_limit", "monthly_remaining", "was_billable", "subscription_tier"}
    assert job["created_at"].endswith("Z") and job["updated_at"] >= job["created_at"]


def test_human_in_the_loop_over_http(api, principal, worker):
    job_id = post_async(api, principal, require_approval=True,
                        message='Replace "Acme Corp" with "Initech" and delete the paragraph containing "Confidential"').json()["job_id"]  # fmt: skip
    worker.drain()
    job = api.get(f"/v1/jobs/{job_id}", headers=bearer(principal)).json()
    assert job["status"] == "awaiting_approval" and job["result"] is None
    pending = job["metadata"]["pending_changes"]
    assert len(pending) == 2
    keep = pending[1]["change_id"]
    approved = api.post(f"/v1/jobs/{job_id}/approve", json={"approved_change_ids": [keep]}, headers=bearer(principal))
    assert approved.status_code == 200
    html = approved.json()["result"]["document_changes"]["updated_html"]
    assert "Acme Corp" in html and "Confidential" not in html
    again = api.post(f"/v1/jobs/{job_id}/approve", json={"approved_change_ids": []}, headers=bearer(principal))
    assert again.status_code == 409 and again.json()["error"]["code"] == "job_conflict"


def test_sync_chat_returns_the_result_with_its_job_id(api, principal):
    response = api.post("/v1/chat", json={"message": "Summarize this document", "session_id": "s", "document_html": DOC},
                        headers=bearer(principal))  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["job_id"].startswith("job_") and body["status"] == "completed"
    assert body["response"].startswith("Summary:") and body["usage"]["was_billable"] is True
    assert api.get(f"/v1/jobs/{body['job_id']}", headers=bearer(principal)).json()["status"] == "completed"


def test_sync_chat_past_its_time_limit_hands_the_job_to_the_queue(api, principal, container, worker, monkeypatch):
    import time

    from docjobs.engines.offline import OfflineChatEngine

    real = OfflineChatEngine.reply
    monkeypatch.setattr(OfflineChatEngine, "reply", lambda self, t, p: (time.sleep(0.6), real(self, t, p))[1])
    monkeypatch.setattr(container, "settings", container.settings.__class__(**{**container.settings.__dict__, "sync_timeout_seconds": 0.1}))
    response = api.post("/v1/chat", json={"message": "Summarize", "session_id": "s", "document_html": DOC}, headers=bearer(principal))
    assert response.status_code == 202
    assert "POST /v1/chat/async" in response.json()["message"]
    time.sleep(1)
    worker.drain()
    job = api.get(response.headers["Location"], headers=bearer(principal)).json()
    assert job["status"] == "completed"


def test_idempotent_replay_over_http(api, principal):
    headers = {**bearer(principal), "Idempotency-Key": "abc"}
    body = {"message": "Summarize", "session_id": "s", "document_html": DOC}
    first = api.post("/v1/chat/async", json=body, headers=headers)
    second = api.post("/v1/chat/async", json=body, headers=headers)
    assert second.status_code == 202 and second.json()["job_id"] == first.json()["job_id"]
    assert second.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    changed = api.post("/v1/chat/async", json={**body, "message": "Other"}, headers=headers)
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "idempotency_conflict"


def test_list_jobs_paginates_newest_first(api, principal, clock):
    ids = []
    for _ in range(5):
        ids.append(post_async(api, principal).json()["job_id"])
        clock.advance(1)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/jobs", params=params, headers=bearer(principal)).json()
        seen += [j["job_id"] for j in page["jobs"]]
        cursor = page["next_cursor"]
        assert page["has_more"] == (cursor is not None)
        if not cursor:
            break
    assert seen == list(reversed(ids))


def test_me_tells_a_key_who_it_is(api, principal, worker):
    post_async(api, principal)
    me = api.get("/v1/me", headers=bearer(principal)).json()
    assert me["organization_id"] == "acme" and me["user_id"] is None and me["subscription_tier"] == "free"
    assert me["usage"]["monthly_used"] == 1 and me["usage"]["monthly_limit"] == 500


# -- errors: JSON, the right status, never a 500 --------------------------------------------------


def error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body


def test_missing_or_bad_keys_are_401(api, principal):
    error(api.get("/v1/jobs"), 401, "unauthorized")
    error(api.get("/v1/jobs", headers={"Authorization": "Bearer sk_nope_nope_nope_nope"}), 401, "unauthorized")
    error(api.get("/v1/jobs", headers={"Authorization": "Basic abc"}), 401, "unauthorized")
    assert api.get("/v1/jobs").headers["WWW-Authenticate"] == "Bearer"


def test_revoked_keys_stop_working_once_the_cache_time_passes(api, container, clock):
    from docjobs.adapters.accounts_table import hash_key

    who = make_principal(container, "org", "revoked")
    assert api.get("/v1/me", headers=bearer(who)).status_code == 200
    container.accounts.revoke_key(hash_key(who.api_key), "now")
    clock.advance(container.settings.key_cache_seconds + 1)
    error(api.get("/v1/me", headers=bearer(who)), 401, "unauthorized")


def test_another_owners_job_is_403_and_unknown_jobs_are_404(api, principal, container):
    job_id = post_async(api, principal).json()["job_id"]
    other = make_principal(container, "user", "eve")
    error(api.get(f"/v1/jobs/{job_id}", headers=bearer(other)), 403, "forbidden")
    error(api.post(f"/v1/jobs/{job_id}/cancel", headers=bearer(other)), 403, "forbidden")
    error(api.get("/v1/jobs/job_" + "a" * 32, headers=bearer(principal)), 404, "job_not_found")
    error(api.get("/v1/jobs/not-one-of-ours", headers=bearer(principal)), 404, "job_not_found")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "invalid_json"),
        ("[1, 2]", 400, "invalid_json"),
        ('{"session_id": "s", "document_html": "<p>x</p>"}', 422, "validation_error"),  # no message
        ('{"message": ""}', 422, "validation_error"),
        ('{"message": 42, "document_html": "<p>x</p>"}', 422, "validation_error"),
        ('{"message": "hi", "document_html": "<p>x</p>", "require_approval": "maybe"}', 422, "validation_error"),
        ('{"message": "hi", "document_html": "<p>x</p>", "unknown_field": 1}', 422, "validation_error"),
        ('{"message": "hi", "session_id": "../../etc", "document_html": "<p>x</p>"}', 422, "validation_error"),
        ('{"message": "hi", "session_id": "never-seen"}', 422, "invalid_request"),  # no document anywhere
    ],
)
def test_bad_chat_bodies_get_clear_json_errors(api, principal, body, status, code):
    response = api.post("/v1/chat/async", content=body, headers={**bearer(principal), "Content-Type": "application/json"})
    error(response, status, code)


def test_oversized_documents_and_bodies_are_413(api, principal):
    big = "<p>" + "x" * (5 * 1024 * 1024) + "</p>"
    error(post_async(api, principal, document_html=big), 413, "payload_too_large")
    huge = "<p>" + "x" * (7 * 1024 * 1024) + "</p>"
    error(post_async(api, principal, document_html=huge), 413, "payload_too_large")


def test_cancel_rules_over_http(api, principal, worker):
    job_id = post_async(api, principal).json()["job_id"]
    cancelled = api.post(f"/v1/jobs/{job_id}/cancel", headers=bearer(principal))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    body = error(api.post(f"/v1/jobs/{job_id}/cancel", headers=bearer(principal)), 409, "job_conflict")
    assert "only jobs that are in_progress, pending" in body["error"]["message"]


def test_approve_with_a_bad_body_or_wrong_status(api, principal):
    job_id = post_async(api, principal).json()["job_id"]
    error(api.post(f"/v1/jobs/{job_id}/approve", json={}, headers=bearer(principal)), 422, "validation_error")
    error(api.post(f"/v1/jobs/{job_id}/approve", json={"approved_change_ids": "chg_1"}, headers=bearer(principal)), 422, "validation_error")
    error(api.post(f"/v1/jobs/{job_id}/approve", json={"approved_change_ids": []}, headers=bearer(principal)), 409, "job_conflict")


def test_usage_limit_is_429(api, container):
    tiny = make_principal(container, "org", "tiny", tier="tiny")
    for _ in range(2):
        assert post_async(api, tiny).status_code == 202
    body = error(post_async(api, tiny), 429, "usage_limit_exceeded")
    assert "Monthly limit of 2" in body["error"]["message"]


def test_unknown_routes_bad_queries_and_methods_are_json(api, principal):
    error(api.get("/v1/nothing", headers=bearer(principal)), 404, "not_found")
    error(api.get("/v1/jobs", params={"limit": 0}, headers=bearer(principal)), 422, "validation_error")
    error(api.get("/v1/jobs", params={"cursor": "%%%"}, headers=bearer(principal)), 422, "invalid_request")
    error(api.delete("/v1/jobs", headers=bearer(principal)), 405, "method_not_allowed")


def test_request_ids_are_echoed_for_correlation(api, principal):
    response = api.get("/v1/me", headers={**bearer(principal), "X-Request-Id": "trace-123"})
    assert response.headers["X-Request-Id"] == "trace-123"
    assert api.get("/health").headers["X-Request-Id"]


def test_openapi_documents_the_api(api):
    spec = api.get("/openapi.json").json()
    assert {"/v1/chat", "/v1/chat/async", "/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/cancel",
            "/v1/jobs/{job_id}/approve", "/v1/me"} <= set(spec["paths"])  # fmt: skip


def test_sync_chat_with_approval_returns_the_pending_changes_to_approve(api, principal):
    response = api.post("/v1/chat", headers=bearer(principal), json={
        "message": 'Replace "Acme Corp" with "Initech"', "session_id": "s", "document_html": DOC, "require_approval": True})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "awaiting_approval"
    changes = body["document_changes"]
    assert changes["requires_approval"] is True and len(changes["pending_changes"]) == 1
    approved = api.post(f"/v1/jobs/{body['job_id']}/approve", headers=bearer(principal),
                        json={"approved_change_ids": [changes["pending_changes"][0]["change_id"]]})  # fmt: skip
    assert "Initech" in approved.json()["result"]["document_changes"]["updated_html"]


def test_user_keys_own_user_jobs(api, container):
    alice = make_principal(container, "user", "alice")
    job_id = post_async(api, alice).json()["job_id"]
    job = api.get(f"/v1/jobs/{job_id}", headers=bearer(alice)).json()
    assert job["user_id"] == "alice" and job["organization_id"] is None
