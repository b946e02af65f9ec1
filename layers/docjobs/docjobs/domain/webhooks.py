"""Webhooks, by the Standard Webhooks scheme (standardwebhooks.com): what is sent, how it is
signed, when a failed delivery is tried again, and which addresses may never be a target.
No I/O here (resolving a host name is the caller's job).

A message is signed over "{webhook-id}.{webhook-timestamp}.{body}" with HMAC-SHA256 under each
of the endpoint's current secrets; `webhook-signature` lists them space-separated as "v1,<base64>",
so a receiver keeps verifying through a secret rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from docjobs.domain.errors import InvalidRequestError

SECRET_PREFIX = "whsec_"

STATUS_EVENT_TYPES = (
    "job.pending",
    "job.in_progress",
    "job.awaiting_approval",
    "job.completed",
    "job.partially_completed",
    "job.failed",
    "job.cancelled",
)
# Progress and intermediate responses are many per job: delivered only to endpoints that ask.
EVENT_TYPES = (*STATUS_EVENT_TYPES, "job.progress", "job.intermediate_response")

# Seconds to wait after failed attempt N before attempt N+1 (Standard Webhooks' suggested
# schedule): 8 attempts over about 27.6 hours, then the dead-letter queue.
RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A rotated-out secret keeps signing (alongside the new one) this long.
ROTATED_SECRET_SECONDS = 24 * 3600


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """One "v1,<base64 HMAC-SHA256>" signature of a message under one secret."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_in_use: list[str], message_id: str, timestamp: int, body: str) -> str:
    return " ".join(sign(s, message_id, timestamp, body) for s in secrets_in_use)


def event_type(event: dict[str, Any]) -> str:
    return f"job.{event['status']}" if event["type"] == "status" else f"job.{event['type']}"


def message_id(event: dict[str, Any]) -> str:
    """Event N of a job has one id for every attempt and every endpoint: receivers dedupe on it."""
    return f"msg_{event['job_id']}_{event['seq']}"


def message_body(event: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The JSON a receiver gets: {"type", "timestamp", "data"} (Standard Webhooks' payload shape)."""
    data = {
        "job_id": event["job_id"],
        "job_type": event.get("job_type"),
        "status": event.get("status"),
        "previous_status": event.get("previous_status"),
        "seq": event["seq"],
        "progress": event.get("progress"),
        "project_id": item.get("project_id"),
        "session_id": item.get("session_id"),
        "tags": item.get("tags") or [],
    }
    for key in ("error", "steps", "batch", "intermediate_responses"):
        if event.get(key) is not None:
            data[key] = event[key]
    return {"type": event_type(event), "timestamp": event["at"], "data": data}


def retry_delay(attempt: int) -> int | None:
    """Seconds to wait after failed attempt `attempt` (1-based); None when it was the last."""
    return RETRY_DELAYS[attempt - 1] if attempt <= len(RETRY_DELAYS) else None


def normalize_event_types(requested: list[str] | None) -> list[str]:
    """The event types an endpoint receives: every status change unless it names some ("*": all)."""
    if not requested:
        return list(STATUS_EVENT_TYPES)
    if "*" in requested:
        return list(EVENT_TYPES)
    unknown = sorted(set(requested) - set(EVENT_TYPES))
    if unknown:
        raise InvalidRequestError(f"Unknown event types: {', '.join(unknown)}; use any of: {', '.join(EVENT_TYPES)}"
                                  " (or \"*\").", field="event_types")  # fmt: skip
    return [t for t in EVENT_TYPES if t in requested]


# -- where a webhook may go ---------------------------------------------------------------------

METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# A dotted quad, exactly: inet_aton's other spellings (0x7f000001, 2130706433, 0177.0.0.1, 127.1)
# are refused outright rather than trusted to resolve to something harmless.
DOTTED_QUAD = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")
NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|\d+)(\.(0x[0-9a-f]+|\d+)){0,3}$", re.IGNORECASE)


class UnsafeWebhookUrl(InvalidRequestError):
    code = "webhook_url_refused"


def parse_target(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a webhook URL, or UnsafeWebhookUrl for anything but plain
    http(s)://host[:port]/path."""
    if len(url) > 2048:
        raise UnsafeWebhookUrl("The webhook URL is longer than 2,048 characters.", field="webhook_url")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeWebhookUrl(f"{url!r} is not a valid URL.", field="webhook_url") from None
    if parts.scheme not in ("https", "http"):
        raise UnsafeWebhookUrl("A webhook URL must be http:// or https://.", field="webhook_url")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeWebhookUrl("A webhook URL may not carry a user name or password.", field="webhook_url")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeWebhookUrl("A webhook URL needs a host.", field="webhook_url")
    if ":" not in host and NUMERIC_HOST.match(host) and not DOTTED_QUAD.match(host):
        raise UnsafeWebhookUrl(f"{host!r} is not a host name or a dotted IPv4 address.", field="webhook_url")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def refusal(address: str, allow_loopback: bool = False) -> str | None:
    """Why a webhook may not be sent to this IP address (None: it may). Loopback is allowed only
    where the caller says so (the local stack, for development)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    for embedded in _embedded_ipv4(ip):
        if (why := refusal(str(embedded), allow_loopback)) is not None:
            return why
    if ip in METADATA_ADDRESSES:
        return "it is the cloud metadata service"
    if ip.is_loopback:
        return None if allow_loopback else "it is a loopback address"
    if ip.is_link_local:
        return "it is a link-local address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "it is not a unicast internet address"
    if ip.is_private or not ip.is_global:
        return "it is a private address"
    return None


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address leads to (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo:
        found += list(ip.teredo)
    if ip in NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found
