"""Webhooks on the emulator, delivered over real HTTP to a loopback receiver: registration,
signatures checked by the independent standardwebhooks verifier, retries on the test's clock,
the dead-letter queue, 410, redirects, hanging receivers, redelivery and SSRF refusals."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DOC, START, bearer
from tests.receiver import Receiver, verify


def register(api, principal, url: str, **body) -> dict:
    response = api.post("/v1/webhooks", json={"url": url, **body}, headers=bearer(principal))
    assert response.status_code == 201, response.text
    return response.json()


def run_chat(api, principal, worker, stream, **extra) -> str:
    job_id = api.post("/v1/chat/async", json={"message": "Summarize", "session_id": "s", "document_html": DOC, **extra},
                      headers=bearer(principal)).json()["job_id"]  # fmt: skip
    worker.drain()
    assert stream.deliver() == {"batchItemFailures": []}
    return job_id


def run_parse(api, principal, worker, stream) -> str:
    """A document operation job: kept 7 days, so its webhooks may retry for their whole schedule."""
    headers = {"x-api-key": principal.api_key, "x-selected-account-id": "acme"}
    source = api.post("/v1/projects/p/files", files={"file": ("a.md", b"# Title\n\nSome text.", "text/markdown")},
                      headers=headers).json()  # fmt: skip
    job_id = api.post("/v1/projects/p/jobs", json={"operation": "parse", "source_id": source["id"]}, headers=headers).json()["id"]
    worker.drain()
    assert stream.deliver() == {"batchItemFailures": []}
    return job_id


def verified(secret: str, receiver: Receiver, at: float = START) -> list[dict]:
    """Every request the receiver got, verified by the standardwebhooks library, in the job's event
    order (deliveries run concurrently and may arrive in any order; data.seq orders them)."""
    return sorted((verify(secret, r, at) for r in receiver.requests), key=lambda m: (m["data"]["job_id"], m["data"]["seq"]))


def deliveries(api, principal, path: str) -> list[dict]:
    response = api.get(path, headers=bearer(principal))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_register_list_show_and_delete_an_endpoint(api, principal, webhooks, receiver):
    created = register(api, principal, receiver.url, event_types=["job.completed", "job.failed"], description="ops")
    assert created["id"].startswith("wh_") and created["secret"].startswith("whsec_")
    assert created["event_types"] == ["job.completed", "job.failed"] and created["status"] == "enabled"
    listed = api.get("/v1/webhooks", headers=bearer(principal)).json()["data"]
    assert [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]
    shown = api.get(f"/v1/webhooks/{created['id']}", headers=bearer(principal)).json()
    assert shown["url"] == receiver.url and "secret" not in shown
    assert api.delete(f"/v1/webhooks/{created['id']}", headers=bearer(principal)).status_code == 204
    assert api.get(f"/v1/webhooks/{created['id']}", headers=bearer(principal)).status_code == 404
    assert api.delete(f"/v1/webhooks/{created['id']}", headers=bearer(principal)).status_code == 404


def test_endpoints_belong_to_their_owner(api, principal, container, webhooks, receiver):
    from tests.conftest import make_principal

    created = register(api, principal, receiver.url)
    other = make_principal(container, "org", "globex")
    assert api.get("/v1/webhooks", headers=bearer(other)).json()["data"] == []
    assert api.get(f"/v1/webhooks/{created['id']}", headers=bearer(other)).status_code == 404
    assert api.delete(f"/v1/webhooks/{created['id']}", headers=bearer(other)).status_code == 404
    assert api.get(f"/v1/webhooks/{created['id']}/deliveries", headers=bearer(other)).status_code == 404


def test_bad_registrations_get_clear_errors(api, principal, webhooks, receiver):
    for body, code in [({"url": receiver.url, "event_types": ["job.done"]}, 422), ({"url": "ftp://x.example/"}, 422),
                       ({"url": receiver.url, "extra": 1}, 422), ({}, 422)]:  # fmt: skip
        response = api.post("/v1/webhooks", json=body, headers=bearer(principal))
        assert response.status_code == code, (body, response.text)
        assert "error" in response.json()
    assert api.get("/v1/webhooks/not-an-id", headers=bearer(principal)).status_code == 422
    assert api.post("/v1/webhooks", json={"url": receiver.url}).status_code == 401


def test_every_status_change_is_delivered_signed_and_logged(api, principal, worker, stream, webhooks, receiver):
    endpoint = register(api, principal, receiver.url)
    job_id = run_chat(api, principal, worker, stream)
    webhooks.drain()
    messages = verified(endpoint["secret"], receiver)
    assert [m["type"] for m in messages] == ["job.pending", "job.in_progress", "job.completed"]
    assert all(m["data"]["job_id"] == job_id for m in messages)
    assert messages[-1]["data"]["previous_status"] == "in_progress"
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(set(ids)) == 3 and receiver.requests[0].headers["content-type"] == "application/json"
    logged = deliveries(api, principal, f"/v1/webhooks/{endpoint['id']}/deliveries")
    assert sorted(d["id"] for d in logged) == sorted(ids)
    assert all(d["status"] == "succeeded" and d["attempts"][0]["status_code"] == 200 for d in logged)


def test_an_endpoint_gets_only_the_event_types_it_asked_for(api, principal, worker, stream, webhooks, receiver):
    endpoint = register(api, principal, receiver.url, event_types=["job.completed"])
    everything = Receiver().start()
    try:
        all_events = register(api, principal, everything.url, event_types=["*"])
        run_chat(api, principal, worker, stream)
        webhooks.drain()
        assert [m["type"] for m in verified(endpoint["secret"], receiver)] == ["job.completed"]
        kinds = [m["type"] for m in verified(all_events["secret"], everything)]
        assert {"job.pending", "job.completed", "job.intermediate_response"} <= set(kinds)
    finally:
        everything.stop()


def test_a_jobs_own_webhook_url_is_signed_with_the_job_secret(api, principal, worker, stream, webhooks, receiver):
    job_id = run_chat(api, principal, worker, stream, webhook_url=receiver.url)
    webhooks.drain()
    secret = api.get("/v1/webhooks/job-secret", headers=bearer(principal)).json()["secret"]
    assert api.get("/v1/webhooks/job-secret", headers=bearer(principal)).json()["secret"] == secret  # stable
    assert [m["type"] for m in verified(secret, receiver)] == ["job.pending", "job.in_progress", "job.completed"]
    logged = deliveries(api, principal, f"/v1/jobs/{job_id}/deliveries")
    assert len(logged) == 3 and {d["status"] for d in logged} == {"succeeded"}


def test_project_jobs_take_a_webhook_url(api, principal, worker, stream, webhooks, receiver):
    headers = {"x-api-key": principal.api_key, "x-selected-account-id": "acme"}
    source = api.post("/v1/projects/p/files", files={"file": ("a.md", b"# Title\n\nSome text.", "text/markdown")},
                      headers=headers).json()  # fmt: skip
    job = api.post("/v1/projects/p/jobs", json={"operation": "parse", "source_id": source["id"], "webhook_url": receiver.url},
                   headers=headers)  # fmt: skip
    assert job.status_code == 202, job.text
    worker.drain()
    stream.deliver()
    webhooks.drain()
    secret = api.get("/v1/webhooks/job-secret", headers=headers).json()["secret"]
    assert verified(secret, receiver)[-1]["type"] == "job.completed"


def test_a_job_past_its_retention_is_never_sent(api, principal, worker, stream, webhooks, receiver, clock):
    """A chat job is kept 1 hour: retries for a receiver down longer stop when the job expires."""
    endpoint = register(api, principal, receiver.url, event_types=["job.completed"])
    receiver.answers = [503]
    run_chat(api, principal, worker, stream)
    for _ in range(8):  # four hours in half-hour steps
        webhooks.drain()
        clock.advance(1800)
    webhooks.drain()
    [delivery] = deliveries(api, principal, f"/v1/webhooks/{endpoint['id']}/deliveries")
    assert delivery["status"] == "expired" and len(receiver.requests) == len(delivery["attempts"]) == 2  # at 0 and 30 min
    assert webhooks.pending() == [] and webhooks.dead_letters() == []


def test_redelivered_stream_records_and_messages_send_nothing_twice(api, principal, worker, stream, webhooks, receiver):
    register(api, principal, receiver.url)
    run_chat(api, principal, worker, stream)
    queued = webhooks.pending()
    # The stream delivers the whole job again before anything was sent: a message may be queued
    # twice (the first send cannot be told from a lost one), and the claims send it once.
    stream.deliver(redeliver_from=0)
    webhooks.drain()
    assert len(receiver.requests) == 3
    stream.deliver(redeliver_from=0)  # ... and again after: nothing is queued at all
    assert webhooks.pending() == []
    for message in queued:  # SQS delivers the same messages again (at least once)
        webhooks.container.webhook_queue.send(message)
    webhooks.drain()
    assert len(receiver.requests) == 3


def test_a_rotated_secret_keeps_signing_for_a_day(api, principal, worker, stream, webhooks, receiver, clock):
    endpoint = register(api, principal, receiver.url, event_types=["job.completed"])
    rotated = api.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret", headers=bearer(principal)).json()
    assert rotated["secret"] != endpoint["secret"]
    run_chat(api, principal, worker, stream)
    webhooks.drain()
    [request] = receiver.requests
    assert verify(endpoint["secret"], request, clock())
    assert verify(rotated["secret"], request, clock())
    clock.advance(25 * 3600)
    run_chat(api, principal, worker, stream)
    webhooks.drain()
    assert len(receiver.requests[-1].headers["webhook-signature"].split(" ")) == 1


def test_a_not_yet_due_message_goes_back_on_the_queue_with_its_delay(container, clock, webhooks):
    from docjobs.services.webhooks import deliver

    sent = []
    container.webhook_queue.send = lambda message, delay_seconds=0: sent.append((message, delay_seconds))  # type: ignore[method-assign]
    container.settings = __import__("dataclasses").replace(container.settings, webhook_max_delay_seconds=900)
    message = {"owner": "org#acme", "target": "wh_x", "sort_key": "k", "attempt": 4, "not_before": clock() + 7200, "body": "{}"}
    assert deliver(container, message) == "waiting"
    assert sent == [(message, 900)]


# -- where webhooks may not go ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/hook", "http://localhost/hook", "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook",
     "http://0x7f000001/", "http://2130706433/", "http://10.0.0.8/", "http://192.168.0.1/", "http://172.20.0.1/",
     "http://100.64.1.1/", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[fc00::1]/",
     "file:///etc/passwd", "http://user@example.com/"],
)  # fmt: skip
def test_unsafe_targets_are_refused_everywhere(api, principal, url):
    response = api.post("/v1/webhooks", json={"url": url}, headers=bearer(principal))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "webhook_url_refused"
    job = api.post("/v1/chat/async", json={"message": "Summarize", "document_html": DOC, "webhook_url": url},
                   headers=bearer(principal))  # fmt: skip
    assert job.status_code == 422 and job.json()["error"]["code"] == "webhook_url_refused"
    assert api.get("/v1/jobs", headers=bearer(principal)).json()["jobs"] == []


def test_a_host_name_that_resolves_to_the_metadata_service_is_refused(api, principal, container):
    from docjobs.adapters.webhook_http import WebhookSender

    container.webhook_sender = WebhookSender(resolver=lambda host, port: ["169.254.169.254"])
    response = api.post("/v1/webhooks", json={"url": "https://hooks.attacker.example/x"}, headers=bearer(principal))
    assert response.status_code == 422 and "metadata" in response.json()["error"]["message"]


def test_the_payload_carries_the_jobs_status_change(api, principal, worker, stream, webhooks, receiver):
    endpoint = register(api, principal, receiver.url, event_types=["job.completed"])
    run_chat(api, principal, worker, stream, tags=["t1"])
    webhooks.drain()
    [message] = verified(endpoint["secret"], receiver)
    assert message["data"]["status"] == "completed" and message["data"]["tags"] == ["t1"]
    assert message["data"]["job_type"] == "chat" and json.loads(receiver.requests[0].body)["timestamp"]


def test_an_attempt_whose_sender_died_is_taken_again_after_its_lease(api, principal, worker, stream, webhooks, receiver, clock):
    from docjobs.domain.jobs import Owner
    from docjobs.services.webhooks import deliver

    register(api, principal, receiver.url, event_types=["job.completed"])
    run_chat(api, principal, worker, stream)
    [message] = webhooks.pending()
    c = webhooks.container
    delivery = c.webhooks.get_delivery(Owner.from_key(message["owner"]), message["target"], message["sort_key"])
    assert c.webhooks.claim_attempt(delivery, 1, clock(), lease_seconds=30)  # a sender takes it, then dies
    assert deliver(c, message) == "held"  # another copy waits for the lease rather than sending twice
    assert receiver.requests == []
    clock.advance(31)
    assert deliver(c, message) == "succeeded"
    assert deliver(c, message) == "duplicate"
    assert len(receiver.requests) == 1
