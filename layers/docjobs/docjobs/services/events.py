"""Side effects of job changes, driven by the jobs table's stream (never by the request that
made the change): the job's event log, and "Job Status Changed" on EventBridge."""

from __future__ import annotations

from typing import Any

from docjobs.adapters.events_table import EVENT_RETENTION_SECONDS
from docjobs.bootstrap import Container
from docjobs.domain.events import event_from_change, status_changed_detail


def record_change(c: Container, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any] | None:
    """Log the event a change makes (idempotently: a redelivered record rewrites the same event)
    and announce status changes. Returns the event, if the change made one."""
    event = event_from_change(old, new)
    if event is None or new is None:
        return None
    expires_at = int(new.get("expires_at") or c.now() + EVENT_RETENTION_SECONDS)
    c.events.put(event, max(expires_at, int(c.now()) + 3600))
    if event["type"] == "status":
        c.bus.publish("Job Status Changed", status_changed_detail(event, new))
    return event
