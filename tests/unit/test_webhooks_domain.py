"""Webhook signing (checked by the independent standardwebhooks verifier), the retry schedule,
and which targets are refused."""

from __future__ import annotations

import json
import time

import pytest
from docjobs.adapters.webhook_http import WebhookSender
from docjobs.domain.webhooks import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    UnsafeWebhookUrl,
    new_secret,
    normalize_event_types,
    parse_target,
    refusal,
    retry_delay,
    signature_header,
)
from standardwebhooks import Webhook, WebhookVerificationError

BODY = json.dumps({"type": "job.completed", "timestamp": "2026-11-23T10:00:00Z", "data": {"job_id": "job_x"}})


def headers(secrets: list[str], timestamp: int | None = None, msg_id: str = "msg_job_x_3", body: str = BODY) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature_header(secrets, msg_id, ts, body)}


def test_a_signed_message_verifies_with_the_standard_verifier():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert Webhook(secret).verify(BODY, headers([secret]))["data"]["job_id"] == "job_x"


def test_tampered_body_wrong_secret_and_stale_timestamp_are_rejected():
    secret = new_secret()
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("job_x", "job_y"), headers([secret]))
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers([secret]))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, headers([secret], timestamp=int(time.time()) - 3600))
    with pytest.raises(WebhookVerificationError):  # the id is signed too
        Webhook(secret).verify(BODY, {**headers([secret]), "webhook-id": "msg_other"})


def test_during_a_rotation_both_secrets_verify():
    old, new = new_secret(), new_secret()
    signed = headers([new, old])
    assert len(signed["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(BODY, signed)
    assert Webhook(new).verify(BODY, signed)


def test_retries_span_more_than_a_day_then_stop():
    assert sum(RETRY_DELAYS) >= 24 * 3600
    assert [retry_delay(n) for n in range(1, MAX_ATTEMPTS)] == list(RETRY_DELAYS)
    assert retry_delay(MAX_ATTEMPTS) is None
    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS)


def test_event_types_default_to_status_changes_and_unknown_ones_are_refused():
    assert "job.completed" in normalize_event_types(None)
    assert "job.progress" not in normalize_event_types(None)
    assert "job.progress" in normalize_event_types(["*"])
    assert normalize_event_types(["job.failed", "job.completed"]) == ["job.completed", "job.failed"]
    with pytest.raises(Exception, match="job.done"):
        normalize_event_types(["job.done"])


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "100.64.0.1",
     "100.127.255.254", "169.254.169.254", "169.254.1.1", "fe80::1", "fc00::1", "fd12:3456::1", "0.0.0.0", "::",
     "224.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "::ffff:10.0.0.1", "fd00:ec2::254", "192.0.2.10", "240.0.0.1"],
)  # fmt: skip
def test_private_loopback_link_local_and_metadata_addresses_are_refused(address):
    assert refusal(address) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "1.1.1.1"])
def test_public_addresses_are_allowed(address):
    assert refusal(address) is None


def test_the_local_stack_may_allow_loopback_but_nothing_else_private():
    assert refusal("127.0.0.1", allow_loopback=True) is None
    assert refusal("::1", allow_loopback=True) is None
    assert refusal("10.0.0.1", allow_loopback=True) is not None
    assert refusal("169.254.169.254", allow_loopback=True) is not None


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/", "gopher://example.com", "http://user:pw@example.com/",
     "http://example.com@127.0.0.1/", "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/", "http://127.1/",
     "http:///nohost", "http://[::1", "javascript:alert(1)", "https://" + "a" * 2100 + ".com/"],
)  # fmt: skip
def test_urls_that_are_not_plain_http_targets_are_refused(url):
    with pytest.raises(UnsafeWebhookUrl):
        parse_target(url)


def test_plain_urls_parse():
    assert parse_target("https://hooks.example.com/docjobs?x=1") == ("https", "hooks.example.com", 443)
    assert parse_target("http://hooks.example.com:8080/") == ("http", "hooks.example.com", 8080)


def test_a_host_name_resolving_to_the_metadata_service_is_refused():
    sender = WebhookSender(resolver=lambda host, port: ["169.254.169.254"])
    with pytest.raises(UnsafeWebhookUrl, match="metadata"):
        sender.safe_addresses("https://metadata.attacker.example/hook")


def test_one_bad_address_among_several_refuses_the_host():
    sender = WebhookSender(resolver=lambda host, port: ["93.184.216.34", "10.1.2.3"])
    with pytest.raises(UnsafeWebhookUrl, match="private"):
        sender.safe_addresses("https://mixed.example/hook")


def test_a_refused_target_is_reported_as_a_failed_attempt_without_connecting():
    calls = []
    sender = WebhookSender(resolver=lambda host, port: calls.append(host) or ["127.0.0.1"])
    outcome = sender.post("http://rebinding.example/hook", b"{}", {})
    assert outcome.status_code is None and "loopback" in (outcome.error or "")
    assert calls == ["rebinding.example"]
