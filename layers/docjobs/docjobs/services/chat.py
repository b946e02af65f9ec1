"""Chat jobs: submit (async or sync) and approve (human in the loop); running them is in
chat_runner.py, which alone loads the engine and the HTML parser.

A chat job edits the session's document with the chat engine. Its document versions live in S3
under the session; the session item points at the current one. Usage: a billable request is
reserved when the job is created (atomically, refusing past the monthly limit) and given back
if the job fails or is cancelled, so each finished chat counts exactly once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.errors import (
    InvalidRequestError,
    JobConflictError,
    JobNotFoundError,
    PayloadTooLargeError,
    UsageLimitExceededError,
)
from docjobs.domain.jobs import DAY, Job, JobType, Notify, Owner, Status, new_job_id
from docjobs.observability import metrics
from docjobs.services.auth import Principal
from docjobs.services.idempotency import create_once, fingerprint
from docjobs.services.jobs import enqueue_job, get_owned_job
from docjobs.services.webhooks import require_safe_target

SESSION_TTL_SECONDS = 30 * DAY  # a session (and its documents) lives 30 days after its last use
HISTORY_FOR_ENGINE = 10  # earlier turns the engine sees


@dataclass(frozen=True)
class ChatRequest:
    message: str
    session_id: str | None = None
    document_html: str | None = None
    require_approval: bool = False
    tags: list[str] = field(default_factory=list)
    notify: Notify = field(default_factory=Notify)

    def fingerprint(self, route: str) -> str:
        """What an Idempotency-Key is bound to: the route and the body's meaning."""
        return fingerprint(route, {"message": self.message, "session_id": self.session_id,
                                   "document_html": self.document_html, "require_approval": self.require_approval,
                                   "tags": self.tags, **self.notify.as_dict()})  # fmt: skip


@dataclass(frozen=True)
class Submitted:
    job: Job
    replayed: bool = False


def new_session_id() -> str:
    return "sess_" + secrets.token_hex(12)


def version_key(owner: Owner, session_id: str, version_id: str) -> str:
    return f"sessions/{owner.kind}/{owner.id}/{session_id}/{version_id}.html"


# -- submit ------------------------------------------------------------------------------------


def submit_chat(
    c: Container,
    principal: Principal,
    request: ChatRequest,
    *,
    route: str,
    idempotency_key: str | None = None,
    enqueue: bool = True,
    correlation_id: str | None = None,
) -> Submitted:
    """Create a pending chat job (and queue it). Replays the original job for a repeated
    Idempotency-Key with the same body; 409 for the same key with a different body."""
    if request.document_html is not None and len(request.document_html.encode()) > c.settings.max_document_bytes:
        raise PayloadTooLargeError(
            f"document_html is larger than the {c.settings.max_document_bytes // (1024 * 1024)} MB limit."
        )
    require_safe_target(c, request.notify)
    now = c.now()
    session_id = request.session_id or new_session_id()
    if request.document_html is None:
        session = c.accounts.get_session(principal.owner, session_id) if request.session_id else None
        if session is None or not (session.current_version_key or session.attachments):
            raise InvalidRequestError(
                "document_html is required: this session holds no document (or attachment) yet.", field="document_html"
            )

    job_id = new_job_id()
    job, replayed = create_once(
        c,
        principal.owner,
        idempotency_key,
        request.fingerprint(route),
        job_id,
        lambda: _create_chat_job(c, principal, request, job_id, session_id, now, correlation_id),
    )
    if replayed:
        return Submitted(job, replayed=True)
    if enqueue:
        enqueue_job(c, job)
    metrics.add_metric(name="JobsCreated", unit="Count", value=1)
    return Submitted(job)


def _create_chat_job(
    c: Container,
    principal: Principal,
    request: ChatRequest,
    job_id: str,
    session_id: str,
    now: float,
    correlation_id: str | None,
) -> Job:
    # A document sent with a message becomes the session's current version at once, so the
    # session's next message may omit it even before this job has run.
    input_version = None
    also: list[dict[str, Any]] = []
    if request.document_html is not None:
        version_id = f"ver_{job_id[4:]}_in"
        input_version = {"version_id": version_id, "key": version_key(principal.owner, session_id, version_id)}
        c.blobs.put_text(input_version["key"], request.document_html)
        also.append(
            c.accounts.session_update_item(
                principal.owner, session_id, now=now, now_iso=clock.iso(now), ttl_seconds=SESSION_TTL_SECONDS,
                turns=[], version_id=version_id, version_key=input_version["key"],
            )  # fmt: skip
        )
    at = clock.iso(now)
    period = clock.month(now)
    limit = c.settings.tier_limits.get(principal.tier)
    job = Job(
        job_id=job_id,
        job_type=JobType.CHAT,
        owner=principal.owner,
        status=Status.PENDING,
        created_at=at,
        updated_at=at,
        session_id=session_id,
        request={
            "message": request.message,
            "require_approval": request.require_approval,
            "input_version": input_version,
        },
        metadata={
            "message": request.message,
            "document_html_provided": request.document_html is not None,
            "intermediate_responses": [],
        },
        billing_period=period,
        tags=request.tags,
        notify=request.notify,
        correlation_id=correlation_id,
        internal={"billing": {"tier": principal.tier, "limit": limit}},
    )
    try:
        c.jobs.create(job, c.accounts.reserve_usage_item(principal.owner, period, limit), *also)
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or []
        if len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed":
            raise UsageLimitExceededError(
                f"Monthly limit of {limit} requests reached for the {principal.tier} tier; "
                "it resets on the first day of next month (UTC).",
                monthly_limit=limit,
            ) from None
        raise
    return job


# -- approve -------------------------------------------------------------------------------------


def approve_changes(c: Container, principal: Principal, job_id: str, approved_change_ids: list[str]) -> Job:
    """Apply exactly the approved changes, deny every other pending one, complete the job."""
    from docjobs.domain.documents import Change, chunk_html  # lazily: keeps the parser out of polls
    from docjobs.services.chat_runner import complete_job

    job = get_owned_job(c, principal, job_id)
    if job.status is not Status.AWAITING_APPROVAL:
        raise JobConflictError(
            f"Job {job_id} is {job.status.value}; only jobs awaiting approval can be approved.",
            status=job.status.value,
        )
    pending = [Change.from_public(p) for p in job.metadata.get("pending_changes") or []]
    known = {ch.change_id for ch in pending}
    unknown = [cid for cid in approved_change_ids if cid not in known]
    if unknown:
        raise InvalidRequestError(
            f"Unknown change ids: {', '.join(unknown)}. Pending changes: {', '.join(sorted(known)) or 'none'}.",
            field="approved_change_ids",
        )
    wanted = set(approved_change_ids)
    approved = [ch for ch in pending if ch.change_id in wanted]
    decisions = [{**ch.to_public(), "status": "approved" if ch.change_id in wanted else "denied"} for ch in pending]

    draft = job.internal.get("draft") or {}
    base_version = draft.get("base_version")
    document = chunk_html(c.blobs.get_text(base_version["key"])) if base_version else None
    response = draft.get("response", "")
    response += f" {len(approved)} of {len(pending)} proposed change{'s' if len(pending) != 1 else ''} approved."
    done = complete_job(
        c,
        job,
        response.strip(),
        document,
        approved,
        base_version,
        decisions=decisions,
        sources=frozenset({Status.AWAITING_APPROVAL}),
        extra_fields={
            "metadata.pending_changes": None,
            "metadata.approval": {
                "approved_change_ids": [ch.change_id for ch in approved],
                "denied_change_ids": [ch.change_id for ch in pending if ch.change_id not in wanted],
                "decided_at": clock.iso(c.now()),
            },
            "internal.draft": None,
        },
    )
    if done is None:  # another approval (or expiry) got there first
        current = c.jobs.get(job_id, consistent=True)
        if current is None or current.is_expired(c.now()):
            raise JobNotFoundError(f"Job {job_id} not found. It may have expired and been cleaned up.")
        raise JobConflictError(
            f"Job {job_id} is {current.status.value}; its changes were already decided.", status=current.status.value
        )
    return done


# -- sync ------------------------------------------------------------------------------------------


def sync_timeout_message(c: Container, job: Job) -> str:
    return (
        f"Still working after {c.settings.sync_timeout_seconds:g} seconds, so the job continues in the "
        f"background: poll GET /v1/jobs/{job.job_id}, and use POST /v1/chat/async for long operations."
    )
