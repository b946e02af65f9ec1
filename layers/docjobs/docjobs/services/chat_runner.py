"""Running a chat job: the worker's (and the sync endpoint's) half of chat jobs. It loads the
engine and the HTML parser, so the API function imports it only to serve POST /v1/chat."""

from __future__ import annotations

from typing import Any

from docjobs.adapters.accounts_table import SESSION_HISTORY_LIMIT
from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.documents import Change, Document, apply_changes, chunk_html, summarize_changes
from docjobs.domain.errors import JobConflictError, JobNotFoundError
from docjobs.domain.jobs import Job, Status
from docjobs.engines import Attachment, ChatTurn, EngineReply, get_engine
from docjobs.observability import logger, metrics
from docjobs.services.chat import HISTORY_FOR_ENGINE, SESSION_TTL_SECONDS, version_key
from docjobs.services.jobs import fail_job, finishing_fields


class JobStopped(Exception):
    """The job left in_progress while it ran (cancelled, or finished by another delivery)."""


def run_chat(c: Container, job: Job) -> Job | None:
    """Run the chat engine for a pending or in-progress job. Safe to repeat: the final write is
    conditional on the job still being in progress, so only one run's outcome is kept."""
    now = c.now()
    try:
        job = c.jobs.transition(
            job,
            Status.IN_PROGRESS,
            sources=frozenset({Status.PENDING, Status.IN_PROGRESS}),
            now=now,
            fields={"updated_at": clock.iso(now), "progress": 5, "started_at": job.started_at or clock.iso(now)},
            add={"attempts": 1},
        )
    except (JobConflictError, JobNotFoundError):
        return None  # cancelled, finished or expired meanwhile: nothing to do

    document, base_version = _load_document(c, job)
    session = c.accounts.get_session(job.owner, job.session_id or "", consistent=True)
    history_length = len(session.history) if session else 0
    history = (session.history if session else [])[-HISTORY_FOR_ENGINE:]

    def progress(percent: int, note: str) -> None:
        entry = {"type": "progress", "content": note, "progress": percent, "timestamp": clock.iso(c.now())}
        if not c.jobs.record_progress(job.job_id, percent, entry, entry["timestamp"]):
            raise JobStopped()

    attachments = [
        Attachment(a["attachment_id"], a.get("filename") or "attachment", c.blobs.get_text(a["text_key"]))
        for a in (session.attachments if session else [])
    ]
    engine = get_engine(c.settings.chat_engine)
    try:
        reply = engine.reply(
            ChatTurn(message=job.request["message"], document=document, history=history, change_id_prefix="chg",
                     attachments=attachments),  # fmt: skip
            progress,
        )
    except JobStopped:
        return None
    except Exception as error:  # an engine error is the job's failure, not the worker's
        logger.exception("chat engine failed", extra={"job_id": job.job_id})
        return fail_job(c, job, f"The chat engine failed: {error}")

    if job.request.get("require_approval") and reply.changes:
        waiting = _await_approval(c, job, reply, base_version)
        if waiting is not None and history_length + 2 > SESSION_HISTORY_LIMIT:
            c.accounts.trim_session_history(job.owner, job.session_id or "")
        return waiting
    return complete_job(c, job, reply.response, document, reply.changes, base_version, history_length=history_length)


def _load_document(c: Container, job: Job) -> tuple[Document | None, dict[str, str] | None]:
    """The document the job works on (the one sent with it, else the session's current one) and
    the version it is. Chunk ids derive from the content, so re-chunking a version is stable."""
    version = job.request.get("input_version")
    if version is None:
        session = c.accounts.get_session(job.owner, job.session_id or "", consistent=True)
        if session is None or not session.current_version_key:
            return None, None
        version = {"version_id": session.current_version_id or "", "key": session.current_version_key}
    return chunk_html(c.blobs.get_text(version["key"])), version


def _usage(c: Container, job: Job, billable: bool) -> dict[str, Any]:
    billing = job.internal.get("billing", {})
    limit = billing.get("limit")
    used = c.accounts.get_usage(job.owner, job.billing_period or clock.month(c.now()))
    return {
        "monthly_used": used,
        "monthly_limit": limit,
        "monthly_remaining": None if limit is None else max(limit - used, 0),
        "was_billable": billable,
        "subscription_tier": billing.get("tier", "free"),
    }


def _session_turns(job: Job, response: str, now_iso: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": job.request["message"], "job_id": job.job_id, "timestamp": now_iso},
        {"role": "assistant", "content": response, "job_id": job.job_id, "timestamp": now_iso},
    ]


def complete_job(
    c: Container,
    job: Job,
    response: str,
    document: Document | None,
    applied: list[Change],
    base_version: dict[str, str] | None,
    *,
    decisions: list[dict[str, Any]] | None = None,
    sources: frozenset[Status] = frozenset({Status.IN_PROGRESS}),
    extra_fields: dict[str, Any] | None = None,
    history_length: int | None = None,
) -> Job | None:
    """Finish the job: save the new document version (if anything changed), write the result and
    move the session to that version, all in one transaction conditional on the job's status."""
    now = c.now()
    at = clock.iso(now)
    version = base_version
    updated = document
    if document is not None and applied:
        updated = apply_changes(document, applied)
        version_id = f"ver_{job.job_id[4:]}"
        version = {"version_id": version_id, "key": version_key(job.owner, job.session_id or "", version_id)}
        c.blobs.put_text(version["key"], updated.to_html())
    result = {
        "response": response,
        "session_id": job.session_id,
        "document_changes": {
            "updated_html": updated.to_html() if updated is not None else "",
            "version_id": version["version_id"] if version else None,
            "changes_summary": summarize_changes(applied),
            "requires_approval": bool(job.request.get("require_approval")),
            "pending_changes": [],
            "changes": decisions if decisions is not None else [{**ch.to_public(), "status": "applied"} for ch in applied],
        },
        "usage": _usage(c, job, billable=True),
    }
    turns = [] if decisions is not None else _session_turns(job, response, at)
    session_item = _session_item(c, job, now, turns, version)
    fields = finishing_fields(job.job_type, Status.COMPLETED, now, result=result, progress=100, **(extra_fields or {}))
    try:
        done = c.jobs.transition(
            job, Status.COMPLETED, sources=sources, now=now, fields=fields, also=[session_item]
        )
    except (JobConflictError, JobNotFoundError):
        return None  # cancelled or finished by another delivery: its outcome stands
    if history_length is not None and history_length + len(turns) > SESSION_HISTORY_LIMIT:
        c.accounts.trim_session_history(job.owner, job.session_id or "")
    metrics.add_metric(name="JobsCompleted", unit="Count", value=1)
    return done


def _session_item(
    c: Container, job: Job, now: float, turns: list[dict[str, Any]], version: dict[str, str] | None
) -> dict[str, Any]:
    """The transaction item that records the turns and moves the session to `version`."""
    return c.accounts.session_update_item(
        job.owner,
        job.session_id or "",
        now=now,
        now_iso=clock.iso(now),
        ttl_seconds=SESSION_TTL_SECONDS,
        turns=turns,
        version_id=version["version_id"] if version else None,
        version_key=version["key"] if version else None,
    )


def _await_approval(c: Container, job: Job, reply: EngineReply, base_version: dict[str, str] | None) -> Job | None:
    now = c.now()
    at = clock.iso(now)
    draft = {"response": reply.response, "base_version": base_version}
    session_item = _session_item(c, job, now, _session_turns(job, reply.response, at), base_version)
    fields = finishing_fields(
        job.job_type,
        Status.AWAITING_APPROVAL,
        now,
        progress=90,
        **{"metadata.pending_changes": [ch.to_public() for ch in reply.changes], "internal.draft": draft},
    )
    try:
        return c.jobs.transition(
            job,
            Status.AWAITING_APPROVAL,
            sources=frozenset({Status.IN_PROGRESS}),
            now=now,
            fields=fields,
            also=[session_item],
        )
    except (JobConflictError, JobNotFoundError):
        return None


