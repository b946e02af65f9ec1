"""Side effects of job changes, driven by the jobs table's stream (never by the request that
made the change): the job's event log, "Job Status Changed" on EventBridge, webhooks, e-mail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from docjobs.adapters.events_table import EVENT_RETENTION_SECONDS
from docjobs.adapters.webhooks_table import Endpoint
from docjobs.bootstrap import Container
from docjobs.domain.events import event_from_change, is_final, status_changed_detail
from docjobs.domain.jobs import Owner
from docjobs.services.webhooks import fan_out


def record_change(c: Container, old: dict[str, Any] | None, new: dict[str, Any] | None,
                  endpoints: Callable[[Owner], list[Endpoint]]) -> dict[str, Any] | None:  # fmt: skip
    """Log the event a change makes (idempotently: a redelivered record rewrites the same event)
    and announce it. Returns the event, if the change made one. `endpoints` reads an owner's
    webhook endpoints (an EndpointsOfBatch: once per batch of records)."""
    event = event_from_change(old, new)
    if event is None or new is None:
        return None
    expires_at = int(new.get("expires_at") or c.now() + EVENT_RETENTION_SECONDS)
    c.events.put(event, max(expires_at, int(c.now()) + 3600))
    fan_out(c, event, new, endpoints)
    if event["type"] == "status":
        c.bus.publish("Job Status Changed", status_changed_detail(event, new))
        if is_final(event) and new.get("notify_email"):
            send_finished_email(c, event, new, expires_at)
    return event


def send_finished_email(c: Container, event: dict[str, Any], item: dict[str, Any], expires_at: int) -> None:
    """One e-mail when a job finishes. The claim makes a redelivered stream record send nothing;
    if sending fails, the claim is given back and the record's retry sends it."""
    job_id = event["job_id"]
    if not c.events.mark_once(job_id, "email", expires_at):
        return
    status = event["status"].replace("_", " ")
    lines = [f"Your {event['job_type']} job {job_id} is {status}.", ""]
    if event.get("error"):
        lines += [f"Error: {event['error']}", ""]
    where = f"/v1/projects/{item['project_id']}/jobs/{job_id}" if item.get("project_id") else f"/v1/jobs/{job_id}"
    lines += [f"Details: GET {where}", f"Finished at {event['at']}.", "", "docjobs"]
    try:
        c.mailer.send(item["notify_email"], f"docjobs: job {status} ({event['job_type']})", "\n".join(lines))
    except Exception:
        c.events.unmark(job_id, "email")
        raise
