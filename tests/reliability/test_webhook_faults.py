"""The reliability suite, webhooks: a receiver down for a simulated day, the retry budget, 410,
redirects, a hanging receiver, and SSRF against a loopback canary. Deliveries go over real HTTP
to loopback receivers (allowed in these tests, as on the local stack, except where the canary
listens); each signature is checked by the independent standardwebhooks library. Each scenario
prints its figure."""

from __future__ import annotations

import dataclasses

import pytest
from docjobs.adapters.webhook_http import WebhookSender
from standardwebhooks.webhooks import WebhookVerificationError

from tests.conftest import DOC, bearer
from tests.integration.test_webhooks import deliveries, register, run_chat, run_parse
from tests.receiver import Receiver, verify


def test_a_receiver_down_for_a_day_gets_every_event_once_it_returns(api, principal, worker, stream, webhooks, receiver, clock):
    """Fault: the receiver answers 503 for most of a simulated day. Holds: every event is delivered
    once it is back, each attempt signed and verifiable by standardwebhooks (with its own
    timestamp, the same webhook-id across a message's attempts), while a tampered body, a wrong
    secret and a stale timestamp are each refused by the verifier."""
    endpoint = register(api, principal, receiver.url)
    receiver.answers = [503] * 15 + [200]  # three events, each failing five times
    run_parse(api, principal, worker, stream)
    for _ in range(24 * 6):  # a day in ten-minute steps
        webhooks.drain()
        clock.advance(600)
    webhooks.drain()
    logged = deliveries(api, principal, f"/v1/webhooks/{endpoint['id']}/deliveries")
    assert len(receiver.requests) == 18 and {d["status"] for d in logged} == {"succeeded"}
    assert sorted(len(d["attempts"]) for d in logged) == [6, 6, 6]
    first = [r for r in receiver.requests if r.headers["webhook-id"] == logged[0]["id"]]
    assert len({r.headers["webhook-timestamp"] for r in first}) == len(first)
    wrong_secret = register(api, principal, receiver.url + "?other")["secret"]
    refused = {"tampered body": 0, "wrong secret": 0, "stale timestamp": 0}
    for request in receiver.requests:
        sent_at = int(request.headers["webhook-timestamp"])
        verify(endpoint["secret"], request, at=sent_at)
        tampered = dataclasses.replace(request, body=request.body.replace('"job_id"', '"job_iD"'))
        for name, secret, received, at in (("tampered body", endpoint["secret"], tampered, sent_at),
                                           ("wrong secret", wrong_secret, request, sent_at),
                                           ("stale timestamp", endpoint["secret"], request, sent_at + 3600)):  # fmt: skip
            with pytest.raises(WebhookVerificationError):
                verify(secret, received, at=at)
            refused[name] += 1
    print(f"\nreceiver down for a day: 3 events delivered after {len(receiver.requests) - 3} failed attempts; "
          f"{len(receiver.requests)} signatures valid; refused by the verifier: {refused}")  # fmt: skip


def test_past_the_retry_budget_a_delivery_is_dead_lettered_and_visible(api, principal, worker, stream, webhooks, receiver, clock):
    """Fault: the receiver never answers 2xx. Holds: 8 attempts over the 27.6-hour schedule, then
    the dead-letter queue, and the delivery log says so; nothing is left queued."""
    endpoint = register(api, principal, receiver.url, event_types=["job.completed"])
    receiver.answers = [500]
    run_parse(api, principal, worker, stream)
    for _ in range(40):  # 40 hours in hourly steps: past the 27.6-hour schedule
        webhooks.drain()
        clock.advance(3600)
    webhooks.drain()
    [delivery] = deliveries(api, principal, f"/v1/webhooks/{endpoint['id']}/deliveries")
    [dead] = webhooks.dead_letters()
    print(f"\npast the retry budget: {len(receiver.requests)} attempts, then dead-lettered ({delivery['status']})")
    assert len(receiver.requests) == 8
    assert delivery["status"] == "dead_lettered" and len(delivery["attempts"]) == 8
    assert all(a["status_code"] == 500 for a in delivery["attempts"])
    assert dead["message_id"] == delivery["id"] and dead["last_status_code"] == 500
    assert webhooks.pending() == []


def test_410_gone_disables_the_endpoint(api, principal, worker, stream, webhooks, receiver):
    """Fault: the receiver answers 410 Gone. Holds: the endpoint is disabled, later events are not
    sent to it, and enabling it again works."""
    endpoint = register(api, principal, receiver.url)
    receiver.answers = [410]
    run_chat(api, principal, worker, stream)
    webhooks.drain()
    shown = api.get(f"/v1/webhooks/{endpoint['id']}", headers=bearer(principal)).json()
    assert shown["status"] == "disabled" and "410" in shown["disabled_reason"]
    hits = len(receiver.requests)
    assert 1 <= hits <= 3  # the events already queued stop at the disabled endpoint
    run_chat(api, principal, worker, stream)
    webhooks.drain()
    print(f"\n410 Gone: endpoint disabled after {hits} request(s); {len(receiver.requests) - hits} sent to it afterwards")
    assert len(receiver.requests) == hits
    enabled = api.post(f"/v1/webhooks/{endpoint['id']}/enable", headers=bearer(principal)).json()
    assert enabled["status"] == "enabled"


def test_a_hanging_receiver_does_not_hold_up_the_others(api, principal, worker, stream, webhooks, receiver):
    """Fault: one receiver accepts the connection and never answers. Holds: its attempt times out
    and is retried later; the other endpoint's delivery succeeds meanwhile."""
    hanging = Receiver(answers=["hang"]).start()
    try:
        slow = register(api, principal, hanging.url, event_types=["job.completed"])
        fast = register(api, principal, receiver.url, event_types=["job.completed"])
        run_chat(api, principal, worker, stream)
        webhooks.drain()
        [slow_delivery] = deliveries(api, principal, f"/v1/webhooks/{slow['id']}/deliveries")
        [fast_delivery] = deliveries(api, principal, f"/v1/webhooks/{fast['id']}/deliveries")
        print(f"\na hanging receiver: its attempt {slow_delivery['attempts'][0]['error']!r} "
              f"({slow_delivery['attempts'][0]['duration_ms']:.0f} ms); the other delivered in "
              f"{fast_delivery['attempts'][0]['duration_ms']:.0f} ms")  # fmt: skip
        assert fast_delivery["status"] == "succeeded"
        assert slow_delivery["status"] == "retrying" and "timed out" in slow_delivery["attempts"][0]["error"]
    finally:
        hanging.stop()


def _aimed_at(port: int) -> list[str]:
    """Webhook URLs aimed at this machine's loopback (where the canary listens on `port`), at
    private and link-local ranges, at the metadata service, at files, and through userinfo."""
    return [
        f"http://127.0.0.1:{port}/hook", f"http://localhost:{port}/hook", f"http://[::1]:{port}/hook",
        f"http://[::ffff:127.0.0.1]:{port}/hook", f"http://0x7f000001:{port}/", f"http://2130706433:{port}/",
        f"http://127.1:{port}/", f"http://0177.0.0.1:{port}/", f"https://127.0.0.1:{port}/",
        "http://10.0.0.8/", "http://192.168.0.1/", "http://172.20.0.1/", "http://100.64.1.1/",
        "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[fc00::1]/", "http://[fd12::1]/",
        "file:///etc/passwd", f"http://user:pass@127.0.0.1:{port}/", f"http://hooks.example.com@127.0.0.1:{port}/",
        f"http://127.0.0.1:{port}#@hooks.example.com/", f"http://127.0.0.1:{port}\\@hooks.example.com/",
    ]  # fmt: skip


def test_ssrf_no_webhook_reaches_a_loopback_canary(api, principal, worker, stream, webhooks, container):
    """Fault: webhook URLs aimed at internal addresses in every spelling, a receiver that redirects
    to loopback, and a host name whose DNS answer changes between the check and the connect.
    Holds: registration and job submission refuse each URL with a clear 422, the sender refuses
    each one even if asked directly, and a loopback canary sees 0 requests."""
    canary = Receiver().start()
    port = canary.server.server_address[1]  # type: ignore[union-attr]
    deployed = WebhookSender()  # what a deployed stack sends with: loopback never allowed
    loopback_allowed, container.webhook_sender = container.webhook_sender, deployed
    refused = {"registration": 0, "job webhook_url": 0, "sender": 0}
    try:
        for url in _aimed_at(port):
            response = api.post("/v1/webhooks", json={"url": url}, headers=bearer(principal))
            assert response.status_code == 422 and response.json()["error"]["code"] == "webhook_url_refused", (url, response.text)
            refused["registration"] += 1
            job = api.post("/v1/chat/async", json={"message": "Summarize", "document_html": DOC, "webhook_url": url},
                           headers=bearer(principal))  # fmt: skip
            assert job.status_code == 422 and job.json()["error"]["code"] == "webhook_url_refused", (url, job.text)
            refused["job webhook_url"] += 1
            outcome = deployed.post(url, b"{}", {"content-type": "application/json"})
            assert outcome.status_code is None and outcome.error, (url, outcome)
            refused["sender"] += 1
        assert api.get("/v1/jobs", headers=bearer(principal)).json()["jobs"] == []

        # A receiver (loopback allowed here, as on the local stack) that redirects to the canary.
        container.webhook_sender = loopback_allowed
        redirecting = Receiver(answers=[f"redirect:{canary.url}"]).start()
        try:
            endpoint = register(api, principal, redirecting.url, event_types=["job.completed"])
            run_chat(api, principal, worker, stream)
            webhooks.drain()
            [delivery] = deliveries(api, principal, f"/v1/webhooks/{endpoint['id']}/deliveries")
            assert delivery["status"] == "retrying" and delivery["attempts"][0]["status_code"] == 302
            api.delete(f"/v1/webhooks/{endpoint['id']}", headers=bearer(principal))
        finally:
            redirecting.stop()

        # Registered while the name resolved to a public address; at delivery it resolves to the
        # canary. The sender resolves once, checks, and connects to what it checked.
        answers = iter([["93.184.216.34"]])
        container.webhook_sender = WebhookSender(resolver=lambda host, p: next(answers, ["127.0.0.1"]), connect_timeout=0.5,
                                                 timeout=1)  # fmt: skip
        register(api, principal, f"http://rebind.example:{port}/hook", event_types=["job.completed"])
        run_chat(api, principal, worker, stream)
        webhooks.drain()
    finally:
        canary.stop()
    print(f"\nSSRF: {len(_aimed_at(port))} URLs refused on every path {refused}, a redirect to loopback not followed, "
          f"a DNS answer changed after the check not followed; canary hits: {len(canary.requests)}")  # fmt: skip
    assert canary.requests == []
