"""Webhooks: registering endpoints, fanning each job event out to its targets (from the events
function), and delivering one message (from the webhook function).

A message travels through the webhook queue. Each attempt is claimed on its delivery record
before it is sent, so a redelivered SQS message or stream record never sends an attempt twice;
a failed attempt puts the next one on the queue with its delay (hopping through the queue when
the wait is longer than SQS's 15 minutes). After the last attempt the message goes to the
webhooks' dead-letter queue, and the delivery says so.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from docjobs.adapters.webhooks_table import DELIVERY_RETENTION_SECONDS, Delivery, Endpoint
from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.errors import InvalidRequestError, WebhookNotFoundError
from docjobs.domain.jobs import Notify, Owner
from docjobs.domain.webhooks import (
    ROTATED_SECRET_SECONDS,
    event_type,
    message_body,
    message_id,
    new_secret,
    normalize_event_types,
    retry_delay,
    signature_header,
)
from docjobs.observability import logger
from docjobs.services.auth import Principal

MAX_ENDPOINTS = 20
FINISHED = ("succeeded", "failed", "dead_lettered", "skipped", "expired")
USER_AGENT = "docjobs-webhooks/1.0"


# -- endpoints -------------------------------------------------------------------------------


def register_endpoint(c: Container, principal: Principal, url: str, event_types: list[str] | None,
                      description: str | None) -> Endpoint:  # fmt: skip
    types = normalize_event_types(event_types)
    c.webhook_sender.safe_addresses(url)
    if len(c.webhooks.list_endpoints(principal.owner)) >= MAX_ENDPOINTS:
        raise InvalidRequestError(f"An account has at most {MAX_ENDPOINTS} webhook endpoints; delete one first.")
    endpoint = Endpoint(webhook_id="wh_" + secrets.token_hex(12), owner=principal.owner, url=url.strip(),
                        event_types=types, secret=new_secret(), created_at=clock.iso(c.now()),
                        description=description)  # fmt: skip
    c.webhooks.put_endpoint(endpoint)
    return endpoint


def get_endpoint(c: Container, principal: Principal, webhook_id: str) -> Endpoint:
    endpoint = c.webhooks.get_endpoint(principal.owner, webhook_id)
    if endpoint is None:
        raise WebhookNotFoundError(f"No webhook endpoint {webhook_id!r}.")
    return endpoint


def delete_endpoint(c: Container, principal: Principal, webhook_id: str) -> None:
    if not c.webhooks.delete_endpoint(principal.owner, webhook_id):
        raise WebhookNotFoundError(f"No webhook endpoint {webhook_id!r}.")


def rotate_secret(c: Container, principal: Principal, webhook_id: str) -> Endpoint:
    """A new secret; the old one keeps signing alongside it for a day, so receivers can switch."""
    endpoint = get_endpoint(c, principal, webhook_id)
    updated = c.webhooks.update_endpoint(principal.owner, webhook_id, secret=new_secret(), previous_secret=endpoint.secret,
                                         previous_secret_until=int(c.now()) + ROTATED_SECRET_SECONDS)  # fmt: skip
    if updated is None:
        raise WebhookNotFoundError(f"No webhook endpoint {webhook_id!r}.")
    return updated


def enable_endpoint(c: Container, principal: Principal, webhook_id: str) -> Endpoint:
    """Turn an endpoint that answered 410 Gone back on (after the receiver is fixed)."""
    get_endpoint(c, principal, webhook_id)
    updated = c.webhooks.update_endpoint(principal.owner, webhook_id, status="enabled", disabled_reason=None)
    if updated is None:
        raise WebhookNotFoundError(f"No webhook endpoint {webhook_id!r}.")
    return updated


def job_url_secret(c: Container, owner: Owner) -> str:
    return c.webhooks.job_url_secret(owner, new_secret)


def require_safe_target(c: Container, notify: Notify) -> Notify:
    """A job's own webhook_url must pass the same checks as a registered endpoint."""
    if notify.webhook_url:
        c.webhook_sender.safe_addresses(notify.webhook_url)
    return notify


def list_deliveries(c: Container, owner: Owner, target: str, limit: int, cursor: str | None) -> tuple[list[Delivery], str | None]:
    return c.webhooks.list_deliveries(owner, target, limit, cursor)


def job_target(job_id: str) -> str:
    return f"job_{job_id}"


# -- fan-out (events function) ------------------------------------------------------------------


class EndpointsOfBatch:
    """Owners' endpoints read once per batch of stream records (one Query per owner), not once
    per record: a job makes several records in a row, and a busy owner many more."""

    def __init__(self, c: Container) -> None:
        self.c = c
        self.read: dict[str, list[Endpoint]] = {}

    def __call__(self, owner: Owner) -> list[Endpoint]:
        if owner.key not in self.read:
            self.read[owner.key] = self.c.webhooks.list_endpoints(owner)
        return self.read[owner.key]


def fan_out(c: Container, event: dict[str, Any], item: dict[str, Any], endpoints: Callable[[Owner], list[Endpoint]]) -> int:
    """Queue the event for every target that wants it; returns how many. A redelivered stream
    record finds its deliveries recorded and queues only those that never left."""
    kind = event_type(event)
    owner = Owner.from_key(item["owner"])
    targets: list[tuple[str, str | None]] = [
        (e.webhook_id, None) for e in endpoints(owner) if e.status == "enabled" and kind in e.event_types
    ]
    if item.get("webhook_url") and event["type"] == "status":
        targets.append((job_target(event["job_id"]), item["webhook_url"]))
    if not targets:
        return 0
    now = c.now()
    body = json.dumps(message_body(event, item), separators=(",", ":"))
    msg_id = message_id(event)
    sort_key = f"{event['at']}#{msg_id}"
    queued = 0
    for target, url in targets:
        delivery = Delivery(owner=owner, target=target, sort_key=sort_key, message_id=msg_id, event_type=kind,
                            job_id=event["job_id"], url=url, status="pending", created_at=clock.iso(now))  # fmt: skip
        if not c.webhooks.add_delivery(delivery, int(now) + DELIVERY_RETENTION_SECONDS):
            recorded = c.webhooks.get_delivery(owner, target, sort_key)
            if recorded is None or recorded.attempt_count > 0 or recorded.status != "pending":
                continue  # already on its way
        c.webhook_queue.send({"owner": owner.key, "target": target, "sort_key": sort_key, "attempt": 1,
                              "not_before": now, "body": body})  # fmt: skip
        queued += 1
    return queued


# -- delivery (webhook function) ----------------------------------------------------------------


def deliver(c: Container, message: dict[str, Any]) -> str:
    """Make the attempt a queued message stands for; returns what happened (for logs and tests)."""
    now = c.now()
    wait = float(message["not_before"]) - now
    if wait > 1:  # not due yet: SQS delays a message 15 minutes at most
        c.webhook_queue.send(message, delay_seconds=int(min(wait, c.settings.webhook_max_delay_seconds)))
        return "waiting"
    owner = Owner.from_key(message["owner"])
    attempt = int(message["attempt"])
    delivery = c.webhooks.get_delivery(owner, message["target"], message["sort_key"])
    if delivery is None or delivery.status in FINISHED or delivery.attempt_count > attempt:
        return "duplicate"
    job = c.jobs.get(delivery.job_id)
    if job is None or job.is_expired(now):
        # Past its retention a job is gone on every path: no read serves it, and no retry sends it.
        c.webhooks.set_delivery_status(delivery, "expired")
        return "expired"
    endpoint: Endpoint | None = None
    if delivery.url:
        url, signing = delivery.url, [job_url_secret(c, owner)]
    else:
        endpoint = c.webhooks.get_endpoint(owner, delivery.target)
        if endpoint is None or endpoint.status != "enabled":
            c.webhooks.set_delivery_status(delivery, "skipped")
            return "skipped"
        url, signing = endpoint.url, endpoint.secrets_at(now)
    lease = int(c.settings.webhook_timeout_seconds * 2) + 10
    if not c.webhooks.claim_attempt(delivery, attempt, now, lease):
        current = c.webhooks.get_delivery(owner, delivery.target, delivery.sort_key)
        if current and current.status == "sending" and current.attempt_count in (attempt - 1, attempt):
            # Another sender holds this attempt (or died holding it): look again after its lease.
            c.webhook_queue.send(message, delay_seconds=min(lease, c.settings.webhook_max_delay_seconds))
            return "held"
        return "duplicate"

    timestamp = int(now)
    body = message["body"]
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(signing, delivery.message_id, timestamp, body),
    }
    outcome = c.webhook_sender.post(url, body.encode(), headers)
    record = {"attempt": attempt, "at": clock.iso(now), "status_code": outcome.status_code, "duration_ms": outcome.duration_ms,
              "error": outcome.error, "response": (outcome.response_excerpt or "")[:500] or None}  # fmt: skip
    log = {"webhook_target": delivery.target, "webhook_id": delivery.message_id, "attempt": attempt,
           "status_code": outcome.status_code, "error": outcome.error}  # fmt: skip
    if outcome.ok:
        c.webhooks.record_attempt(delivery, record, "succeeded", None)
        logger.info("webhook delivered", extra=log)
        return "succeeded"
    if outcome.status_code == 410:
        if endpoint is not None:
            c.webhooks.update_endpoint(owner, endpoint.webhook_id, status="disabled",
                                       disabled_reason=f"The receiver answered 410 Gone at {clock.iso(now)}.")  # fmt: skip
        c.webhooks.record_attempt(delivery, record, "failed", None)
        logger.warning("webhook endpoint gone", extra=log)
        return "gone"
    delay = retry_delay(attempt)
    if delay is None:
        # Sent before it is recorded: a crash in between repeats the send, never loses it.
        c.webhook_dead_letters.send({**message, "message_id": delivery.message_id, "last_error": outcome.error,
                                     "last_status_code": outcome.status_code})  # fmt: skip
        c.webhooks.record_attempt(delivery, record, "dead_lettered", None)
        logger.warning("webhook dead-lettered", extra=log)
        return "dead_lettered"
    c.webhook_queue.send({**message, "attempt": attempt + 1, "not_before": now + delay},
                         delay_seconds=min(delay, c.settings.webhook_max_delay_seconds))  # fmt: skip
    c.webhooks.record_attempt(delivery, record, "retrying", clock.iso(now + delay))
    logger.info("webhook attempt failed; retrying", extra={**log, "retry_in_seconds": delay})
    return "retrying"
