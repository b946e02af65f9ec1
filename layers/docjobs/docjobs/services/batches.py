"""batch_parse: a parent job, one parse child per source, and a Step Functions execution that
hands each child to the worker and then asks the worker to roll the parent up.

Each child's outcome is counted on the parent in the same transaction that records the outcome,
so the parent's `progress` is right at every moment and costs one item read whatever the size.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.batches import CHILD_JOBS_HEAD, MAX_CHILDREN, Counters, roll_up
from docjobs.domain.errors import (
    InvalidRequestError,
    JobConflictError,
    JobNotFoundError,
    ServiceUnavailableError,
    SourceNotFoundError,
)
from docjobs.domain.jobs import Job, Notify, Operation, Status, new_job_id
from docjobs.domain.options import ChunkOptions, describe
from docjobs.observability import logger, metrics
from docjobs.services.auth import Principal
from docjobs.services.idempotency import create_once, fingerprint
from docjobs.services.jobs import fail_job, finishing_fields, parent_items
from docjobs.services.webhooks import require_safe_target

UNFINISHED = [Status.PENDING.value, Status.IN_PROGRESS.value]


class BatchOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_concurrency: int | None = Field(default=None, ge=1, le=40, description="Children parsed at once")
    chunking: ChunkOptions = Field(default_factory=ChunkOptions)


def submit_batch(
    c: Container,
    principal: Principal,
    project_id: str,
    *,
    source_ids: list[str] | None,
    options: dict[str, Any],
    tags: list[str],
    correlation_id: str | None,
    idempotency_key: str | None = None,
    retry_of: str | None = None,
    notify: Notify = Notify(),
) -> tuple[Job, bool]:
    require_safe_target(c, notify)
    if not source_ids:
        raise InvalidRequestError("batch_parse needs a non-empty source_ids list.", field="source_ids")
    if len(source_ids) > MAX_CHILDREN:
        raise InvalidRequestError(f"A batch holds at most {MAX_CHILDREN} sources; this one has {len(source_ids)}.",
                                  field="source_ids")  # fmt: skip
    duplicates = sorted(s for s, n in Counter(source_ids).items() if n > 1)
    if duplicates:
        raise InvalidRequestError(f"Duplicate source ids: {', '.join(duplicates[:10])}.", field="source_ids")
    try:
        parsed_options = BatchOptions.model_validate(options)
    except ValidationError as error:
        raise InvalidRequestError(f"Invalid options for batch_parse: {describe(error)}", field="options") from None
    sources = c.sources.get_many(principal.owner, project_id, [s for s in source_ids if s.startswith("src_")])
    missing = [s for s in source_ids if s not in sources]
    if missing:
        raise SourceNotFoundError(f"Unknown source ids in project {project_id!r}: {', '.join(missing[:10])}.")
    concurrency = parsed_options.max_concurrency or c.settings.batch_max_concurrency
    child_options = {"chunking": parsed_options.chunking.model_dump()}

    def create() -> Job:
        at = clock.iso(c.now())
        children = [
            Job(job_id=new_job_id(), job_type=Operation.PARSE, owner=principal.owner, status=Status.PENDING,
                created_at=at, updated_at=at, project_id=project_id, source_id=sid, parent_job_id=parent_id,
                child_index=i, request={"operation": "parse", "options": child_options},
                metadata={"filename": sources[sid].filename, "file_size": sources[sid].size,
                          "content_type": sources[sid].content_type, "intermediate_responses": []},
                correlation_id=correlation_id)  # fmt: skip
            for i, sid in enumerate(source_ids)
        ]
        head = [{"source_document_id": ch.source_id, "job_id": ch.job_id, "status": "pending",
                 "parse_result_id": None, "error": None} for ch in children[:CHILD_JOBS_HEAD]]  # fmt: skip
        # The parent keeps the number of sources, not their ids (each child has its own): every
        # child's outcome rewrites the parent, and DynamoDB bills a write by the whole item's size
        # (a thousand ids were 48 KB: 48 write units per child instead of a few).
        parent = Job(
            job_id=parent_id, job_type=Operation.BATCH_PARSE, owner=principal.owner, status=Status.PENDING,
            created_at=at, updated_at=at, project_id=project_id,
            request={"operation": "batch_parse", "options": {**child_options, "max_concurrency": concurrency},
                     "sources": len(source_ids), "retry_of": retry_of},
            metadata={"intermediate_responses": []},
            batch={"total": len(children), "succeeded": 0, "failed": 0, "cancelled": 0, "pending": len(children),
                   "child_jobs": head},
            tags=tags, correlation_id=correlation_id, notify=notify,
        )  # fmt: skip
        c.jobs.create(parent)
        c.jobs.create_many(children)
        return _start(c, parent, [ch.job_id for ch in children], concurrency)

    parent_id = new_job_id()
    body = {"project_id": project_id, "operation": "batch_parse", "source_ids": source_ids, "options": options,
            "tags": tags, "retry_of": retry_of, **notify.as_dict()}  # fmt: skip
    job, replayed = create_once(c, principal.owner, idempotency_key, fingerprint("project_jobs", body), parent_id, create)
    if not replayed:
        metrics.add_metric(name="BatchJobsCreated", unit="Count", value=1)
        metrics.add_metric(name="BatchChildren", unit="Count", value=len(source_ids))
    return job, replayed


def _start(c: Container, parent: Job, child_ids: list[str], concurrency: int) -> Job:
    started = c.now()
    try:
        execution = c.workflow.start(
            parent.job_id, {"parent_job_id": parent.job_id, "children": child_ids, "max_concurrency": concurrency}
        )
    except Exception as error:
        logger.exception("could not start the batch", extra={"job_id": parent.job_id})
        fail_job(c, parent, "The batch could not be started; please submit it again.")
        cancel_children(c, parent.job_id)
        raise ServiceUnavailableError("The batch could not be started; please retry shortly.") from error
    now = c.now()
    event = {"step": "fan_out", "timestamp": clock.iso(started), "duration_ms": round((now - started) * 1000, 2),
             "status": "succeeded", "details": {"children": len(child_ids), "max_concurrency": concurrency,
                                                "execution_arn": execution}}  # fmt: skip
    return c.jobs.transition(
        parent, Status.IN_PROGRESS, sources=frozenset({Status.PENDING}), now=now,
        fields={"updated_at": clock.iso(now), "started_at": clock.iso(now), "internal.execution_arn": execution},
        append={"history": [event]},
    )  # fmt: skip


def cancel_batch(c: Container, parent: Job) -> Job:
    """Cancel the parent and stop its execution; the worker then cancels every unfinished child
    (each with its counter update, so children that finished meanwhile keep their results)."""
    now = c.now()
    cancelled = c.jobs.transition(
        parent, Status.CANCELLED, sources=frozenset({Status.PENDING, Status.IN_PROGRESS}), now=now,
        fields=finishing_fields(parent.job_type, Status.CANCELLED, now),
        append={"history": [{"step": "cancel", "timestamp": clock.iso(now), "duration_ms": 0, "status": "succeeded",
                             "details": {"pending_children": (parent.batch or {}).get("pending")}}]},
    )  # fmt: skip
    if execution := parent.internal.get("execution_arn"):
        c.workflow.stop(execution, "cancelled by the client")
    c.queue.send({"action": "cancel_children", "job_id": parent.job_id, "job_type": parent.job_type})
    return cancelled


def cancel_children(c: Container, parent_job_id: str) -> int:
    """Cancel every child that has not finished; returns how many this call cancelled."""
    count = 0
    cursor: str | None = None
    while True:
        children, cursor = c.jobs.list_children(parent_job_id, limit=100, cursor=cursor, statuses=UNFINISHED)
        for child in children:
            now = c.now()
            try:
                c.jobs.transition(child, Status.CANCELLED, sources=frozenset({Status.PENDING, Status.IN_PROGRESS}),
                                  now=now, fields=finishing_fields(child.job_type, Status.CANCELLED, now),
                                  also=parent_items(c, child, Status.CANCELLED))  # fmt: skip
                count += 1
            except (JobConflictError, JobNotFoundError):
                continue  # it finished meanwhile: its own transaction counted it
        if not cursor:
            return count


def child_lost(c: Container, child_job_id: str, error: str) -> None:
    """The state machine gave up waiting for a child: fail it, alone."""
    child = c.jobs.get(child_job_id, consistent=True)
    if child is not None and not child.status.is_terminal:
        fail_job(c, child, f"The child job was lost ({error or 'timed out'}); it was failed so the batch can finish.")


def finish_batch(c: Container, parent_job_id: str) -> Job | None:
    """Roll the parent up from its counters, once every child has finished."""
    parent = c.jobs.get(parent_job_id, consistent=True)
    if parent is None or parent.status is not Status.IN_PROGRESS:
        return None  # cancelled (or already rolled up by an earlier delivery)
    counters = Counters.of(parent.batch or {})
    if counters.pending:
        logger.error("roll-up with unfinished children", extra={"job_id": parent_job_id, "pending": counters.pending})
    status = roll_up(counters)
    now = c.now()
    started = parent.started_at
    result = {"total": counters.total, "succeeded": counters.succeeded, "failed": counters.failed,
              "cancelled": counters.cancelled, "children_url": f"/v1/projects/{parent.project_id}/jobs/{parent_job_id}/children"}  # fmt: skip
    error = f"All {counters.total} children failed." if status is Status.FAILED else None
    event = {"step": "roll_up", "timestamp": clock.iso(now), "duration_ms": 0, "status": "succeeded",
             "details": {"outcome": status.value, "succeeded": counters.succeeded, "failed": counters.failed,
                         "cancelled": counters.cancelled, "started_at": started}}  # fmt: skip
    try:
        return c.jobs.transition(
            parent, status, sources=frozenset({Status.IN_PROGRESS}), now=now,
            fields=finishing_fields(parent.job_type, status, now, result=result, error=error, progress=100),
            append={"history": [event]},
        )  # fmt: skip
    except (JobConflictError, JobNotFoundError):
        return None


def list_children(c: Container, parent: Job, *, limit: int, cursor: str | None, statuses: list[str] | None) -> tuple[list[Job], str | None]:
    if parent.job_type != Operation.BATCH_PARSE:
        raise InvalidRequestError(f"Job {parent.job_id} is a {parent.job_type} job, not a batch_parse job.")
    return c.jobs.list_children(parent.job_id, limit=limit, cursor=cursor, statuses=statuses)


def retry_failed(c: Container, principal: Principal, parent: Job, *, correlation_id: str | None,
                 idempotency_key: str | None = None) -> tuple[Job, bool]:  # fmt: skip
    """A new batch_parse over exactly the children that failed, linked to the original."""
    if parent.job_type != Operation.BATCH_PARSE:
        raise InvalidRequestError(f"Job {parent.job_id} is not a batch_parse job.")
    if not parent.status.is_terminal:
        raise JobConflictError(f"Job {parent.job_id} is still {parent.status.value}; retry its failures once it finishes.",
                               status=parent.status.value)  # fmt: skip
    failed: list[str] = []
    cursor: str | None = None
    while True:
        children, cursor = c.jobs.list_children(parent.job_id, limit=100, cursor=cursor, statuses=[Status.FAILED.value])
        failed += [child.source_id or "" for child in children]
        if not cursor:
            break
    if not failed:
        raise JobConflictError(f"Batch {parent.job_id} has no failed children to retry.", status=parent.status.value)
    options = {k: v for k, v in parent.request.get("options", {}).items() if k in ("chunking", "max_concurrency")}
    return submit_batch(c, principal, parent.project_id or "", source_ids=failed, options=options, tags=parent.tags,
                        correlation_id=correlation_id, idempotency_key=idempotency_key, retry_of=parent.job_id,
                        notify=parent.notify)  # fmt: skip
