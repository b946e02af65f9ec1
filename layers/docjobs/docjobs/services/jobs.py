"""Reading, listing, cancelling and failing jobs: the use cases every job type shares."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from docjobs.adapters.jobs_table import JobQuery
from docjobs.adapters.queue import SqsQueue
from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.errors import (
    ForbiddenError,
    InvalidRequestError,
    JobConflictError,
    JobNotFoundError,
    ServiceUnavailableError,
)
from docjobs.domain.indexes import INDEX_OPERATIONS
from docjobs.domain.jobs import CANCELLABLE, Job, Status, expiry_after, is_job_id, require_transition
from docjobs.observability import logger
from docjobs.services.auth import Principal


def get_owned_job(c: Container, principal: Principal, job_id: str) -> Job:
    """The caller's job: 404 when unknown or expired, 403 when it belongs to someone else."""
    if not is_job_id(job_id):
        raise JobNotFoundError(f"Job {job_id!r} not found: docjobs job ids look like job_ followed by 32 characters.")
    job = c.jobs.get(job_id)
    if job is None or job.is_expired(c.now()):
        raise JobNotFoundError(f"Job {job_id} not found. It may have expired and been cleaned up.")
    if not job.is_owned_by(principal.owner):
        raise ForbiddenError(f"Job {job_id} belongs to a different account.")
    return job


@dataclass(frozen=True)
class JobPage:
    jobs: list[Job]
    next_cursor: str | None


MAX_OFFSET = 10_000


def list_jobs(c: Container, principal: Principal, query: JobQuery | None = None, *, limit: int = 20,
              cursor: str | None = None, offset: int = 0) -> JobPage:  # fmt: skip
    """The caller's jobs, newest first. `offset` skips that many matching jobs, reading them to do
    so (as the extraction-jobs seed has it); the cursor is the efficient way through a listing."""
    query = query or JobQuery(limit=limit, cursor=cursor)
    if offset > MAX_OFFSET:
        raise InvalidRequestError(f"offset is at most {MAX_OFFSET}; use the cursor to go further.", field="offset")
    skipped = 0
    while True:
        wanted = min(query.limit, offset - skipped) if skipped < offset else query.limit
        jobs, next_cursor = c.jobs.search(principal.owner, replace(query, limit=max(wanted, 1)), c.now())
        if skipped >= offset:
            return JobPage(jobs, next_cursor)
        skipped += len(jobs)
        if not next_cursor:
            return JobPage([], None)
        query = replace(query, cursor=next_cursor)


def work_message(c: Container, job: Job) -> tuple[SqsQueue, dict[str, Any]]:
    """The queue that runs `job`, and the message that asks it to."""
    queue = c.index_queue if job.job_type in INDEX_OPERATIONS else c.queue
    return queue, {"job_id": job.job_id, "job_type": job.job_type, "correlation_id": job.correlation_id}


def enqueue_job(c: Container, job: Job) -> None:
    queue, message = work_message(c, job)
    try:
        queue.send(message)
    except ClientError as error:
        # The job could never start: fail it (giving the usage back) rather than leave it pending.
        fail_job(c, job, "The job could not be queued; please submit it again.")
        logger.exception("enqueue failed", extra={"job_id": job.job_id})
        raise ServiceUnavailableError("The job queue is unavailable; please retry shortly.") from error


def finishing_fields(job_type: str, status: Status, now: float, **more: Any) -> dict[str, Any]:
    """What every move to a terminal (or approval) status writes: timestamps and expiry."""
    at = clock.iso(now)
    fields: dict[str, Any] = {"updated_at": at, "expires_at": expiry_after(job_type, status, now), **more}
    if status.is_terminal:
        fields["completed_at"] = at
    return fields


def refund_items(c: Container, job: Job) -> list[dict[str, Any]]:
    """A job that reserved a billable request and will not finish gives it back, atomically."""
    if job.billing_period:
        return [c.accounts.refund_usage_item(job.owner, job.billing_period)]
    return []


def cancel_job(c: Container, principal: Principal, job_id: str) -> Job:
    job = get_owned_job(c, principal, job_id)
    require_transition(job.status, Status.CANCELLED, "cancel")
    if job.job_type == "batch_parse":
        from docjobs.services.batches import cancel_batch

        return cancel_batch(c, job)
    now = c.now()
    try:
        return c.jobs.transition(
            job,
            Status.CANCELLED,
            sources=CANCELLABLE,
            now=now,
            fields=finishing_fields(job.job_type, Status.CANCELLED, now),
            also=refund_items(c, job) + parent_items(c, job, Status.CANCELLED),
        )
    except JobConflictError as conflict:  # it moved on between our read and our write
        current = Status(conflict.details["status"])
        require_transition(current, Status.CANCELLED, "cancel")
        raise


def parent_items(c: Container, job: Job, outcome: Status, **summary: object) -> list[dict]:
    """A batch child's outcome counted on its parent, in the same transaction as the child's change."""
    if not job.parent_job_id:
        return []
    from docjobs.domain.batches import OUTCOME_COUNTER

    counter = OUTCOME_COUNTER[outcome]
    return [c.jobs.child_outcome_item(job.parent_job_id, counter, job.child_index, {"status": counter, **summary})]


def fail_job(c: Container, job: Job, error: str, history: list[dict] | None = None) -> Job | None:
    """Fail a pending or running job with `error` (and the steps it ran that are not yet in its
    history); None if it had already left those statuses."""
    now = c.now()
    try:
        return c.jobs.transition(
            job,
            Status.FAILED,
            sources=frozenset({Status.PENDING, Status.IN_PROGRESS}),
            now=now,
            fields=finishing_fields(job.job_type, Status.FAILED, now, error=error),
            append={"history": history} if history else None,
            also=refund_items(c, job) + parent_items(c, job, Status.FAILED, error=error),
        )
    except (JobConflictError, JobNotFoundError):
        return None
