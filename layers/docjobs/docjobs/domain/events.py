"""A job's event log: what one change of a job (a stream record's old and new image) means.

Every write to a job adds one to its `event_seq`, so the change numbered N is event N: the log
has no gaps, keeps the order of the writes, and a redelivered stream record rewrites the same
event. No I/O here.
"""

from __future__ import annotations

from typing import Any

TERMINAL_WORDS = ("completed", "partially_completed", "failed", "cancelled")


def event_from_change(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any] | None:
    """The event a change of a job item makes; None for a deletion (TTL) or an item without a
    sequence number."""
    if not new or new.get("event_seq") is None or new.get("sk") != "JOB":
        return None
    event: dict[str, Any] = {
        "seq": int(new["event_seq"]),
        "job_id": new["job_id"],
        "job_type": new.get("job_type"),
        "status": new.get("status"),
        "progress": new.get("progress"),
        "at": new.get("updated_at") or new.get("created_at"),
    }
    before = old or {}
    if before.get("status") != new.get("status"):
        event.update(type="status", previous_status=before.get("status"))
        if new.get("status") == "failed":
            event["error"] = new.get("error")
        return event
    responses = _tail(before, new, ("metadata", "intermediate_responses"))
    if responses:
        event.update(type="intermediate_response", intermediate_responses=responses)
        return event
    steps = _tail(before, new, ("history",))
    batch = new.get("batch")
    event.update(type="progress")
    if steps:
        event["steps"] = steps
    if batch and batch != before.get("batch"):
        event["batch"] = {k: batch.get(k) for k in ("total", "succeeded", "failed", "cancelled", "pending")}
    return event


def _tail(before: dict[str, Any], after: dict[str, Any], path: tuple[str, ...]) -> list[Any]:
    old: Any = before
    new: Any = after
    for key in path:
        old = (old.get(key) or {}) if isinstance(old, dict) else {}
        new = (new.get(key) or {}) if isinstance(new, dict) else {}
    old_list = old if isinstance(old, list) else []
    new_list = new if isinstance(new, list) else []
    return new_list[len(old_list) :]


def is_final(event: dict[str, Any]) -> bool:
    return event.get("type") == "status" and event.get("status") in TERMINAL_WORDS


def status_changed_detail(event: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge detail of a "Job Status Changed" event."""
    kind, _, ident = str(item.get("owner", "")).partition("#")
    return {
        "job_id": event["job_id"],
        "job_type": event["job_type"],
        "organization_id": ident if kind == "org" else None,
        "user_id": ident if kind == "user" else None,
        "project_id": item.get("project_id"),
        "old_status": event.get("previous_status"),
        "new_status": event["status"],
        "seq": event["seq"],
        "at": event["at"],
    }
