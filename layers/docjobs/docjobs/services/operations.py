"""Document operation jobs (parse, extract, chunk, ...): submit in the API, run in the worker.

The worker records each step it runs in the job's `history` as it goes; a result too large for
the job item is stored in S3 and the job then carries a summary and a short-lived `result_url`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from docjobs.bootstrap import Container
from docjobs.domain import clock
from docjobs.domain.errors import IndexConflictError, InvalidRequestError, JobConflictError, JobNotFoundError
from docjobs.domain.indexes import INDEX_OPERATIONS
from docjobs.domain.jobs import AVAILABLE_OPERATIONS, Job, JobType, Notify, Owner, Status, new_job_id
from docjobs.domain.options import describe, normalize_options
from docjobs.observability import logger, metrics
from docjobs.services.auth import Principal
from docjobs.services.idempotency import create_once, fingerprint
from docjobs.services.jobs import enqueue_job, fail_job, finishing_fields, get_owned_job, parent_items
from docjobs.services.sources import get_source
from docjobs.services.webhooks import require_safe_target

INLINE_RESULT_BYTES = 256 * 1024  # larger results go to S3 (an item holds at most 400 KB)


def submit_operation(
    c: Container,
    principal: Principal,
    project_id: str,
    *,
    operation: str,
    source_id: str | None,
    options: dict[str, Any],
    source_ids: list[str] | None = None,
    tags: list[str],
    correlation_id: str | None,
    idempotency_key: str | None = None,
    notify: Notify = Notify(),
) -> tuple[Job, bool]:
    require_safe_target(c, notify)
    if operation not in AVAILABLE_OPERATIONS:
        raise InvalidRequestError(
            f"The {operation} operation is not available yet; available: {', '.join(sorted(AVAILABLE_OPERATIONS))}.",
            field="operation",
        )
    try:
        normalized = normalize_options(operation, options)
    except ValidationError as error:
        raise InvalidRequestError(f"Invalid options for {operation}: {describe(error)}", field="options") from None
    indexing = operation in INDEX_OPERATIONS
    if indexing:
        if source_id:
            raise InvalidRequestError(f"{operation} takes source_ids (a list), not source_id.", field="source_id")
        if source_ids and operation in ("vector_store", "research"):
            where = "options.items" if operation == "vector_store" else "options.source_ids (to search only those)"
            raise InvalidRequestError(f"{operation} takes no source_ids; see {where}.", field="source_ids")
        source = None
    else:
        if source_ids is not None:
            raise InvalidRequestError(f"{operation} takes one source_id; source_ids is for batch_parse and indexes.",
                                      field="source_ids")  # fmt: skip
        if not source_id:
            raise InvalidRequestError(f"{operation} needs a source_id (upload the file to /files first).", field="source_id")
        source = get_source(c, principal, project_id, source_id)

    def create() -> Job:
        now = c.now()
        at = clock.iso(now)
        request: dict[str, Any] = {"operation": operation, "options": normalized}
        also: list[dict[str, Any]] = []
        reserves = False
        if indexing:
            from docjobs.services.indexes import admit_index_job

            admission = admit_index_job(c, principal, project_id, operation, normalized, source_ids or [], job_id)
            request.update(admission.request)
            also, reserves = admission.also, admission.reserves
            metadata: dict[str, Any] = {"index": normalized["index"], "intermediate_responses": []}
        else:
            assert source is not None
            metadata = {"filename": source.filename, "file_size": source.size, "content_type": source.content_type,
                        "intermediate_responses": []}  # fmt: skip
        job = Job(
            job_id=job_id,
            job_type=operation,
            owner=principal.owner,
            status=Status.PENDING,
            created_at=at,
            updated_at=at,
            project_id=project_id,
            source_id=source.id if source else None,
            request=request,
            metadata=metadata,
            tags=tags,
            correlation_id=correlation_id,
            notify=notify,
        )
        try:
            c.jobs.create(job, *also)
        except ClientError as error:
            from docjobs.services.indexes import is_name_taken

            if not (reserves and is_name_taken(error)):
                raise
            if operation != "vector_store":
                raise IndexConflictError(f"Index {normalized['index']!r} was just created by another request.") from None
            c.jobs.create(job)  # another request made the vector store first: write into it
        return job

    job_id = new_job_id()
    body = {"project_id": project_id, "operation": operation, "source_id": source_id, "options": normalized, "tags": tags,
            **notify.as_dict(), **({"source_ids": source_ids} if source_ids is not None else {})}  # fmt: skip
    job, replayed = create_once(c, principal.owner, idempotency_key, fingerprint("project_jobs", body), job_id, create)
    if not replayed:
        enqueue_job(c, job)
        metrics.add_metric(name="JobsCreated", unit="Count", value=1)
    return job, replayed


def get_project_job(c: Container, principal: Principal, project_id: str, job_id: str) -> Job:
    job = get_owned_job(c, principal, job_id)
    if job.project_id != project_id:
        raise JobNotFoundError(f"Job {job_id} not found in project {project_id!r}.")
    return job


# -- run (the worker) -----------------------------------------------------------------------------


class _Stopped(Exception):
    """The job left in_progress (cancelled) while it ran."""


class _Timeline:
    """The job's history as the worker runs it. Steps are written at most once a second (a poll
    sees a long parse move on); the rest go in with the job's final write, so a quick job makes
    one write for its whole timeline."""

    FLUSH_SECONDS = 1.0

    def __init__(self, c: Container, job_id: str) -> None:
        self.c, self.job_id = c, job_id
        self.pending: list[dict[str, Any]] = []
        self.flushed_at = time.monotonic()

    def record(self, event: dict[str, Any]) -> None:
        self.pending.append(event)
        if time.monotonic() - self.flushed_at >= self.FLUSH_SECONDS:
            if not self.c.jobs.append_history(self.job_id, self.pending, clock.iso(self.c.now())):
                raise _Stopped()  # cancelled meanwhile: stop working on it
            self.pending, self.flushed_at = [], time.monotonic()

    def unwritten(self) -> list[dict[str, Any]]:
        events, self.pending = self.pending, []
        return events


def run_operation(c: Container, job: Job) -> Job | None:
    from docjobs.processors.base import Steps
    from docjobs.processors.model import DocumentError

    now = c.now()
    try:
        job = c.jobs.transition(
            job, Status.IN_PROGRESS, sources=frozenset({Status.PENDING, Status.IN_PROGRESS}), now=now,
            fields={"updated_at": clock.iso(now), "started_at": job.started_at or clock.iso(now)}, add={"attempts": 1},
        )  # fmt: skip
    except (JobConflictError, JobNotFoundError):
        return None

    timeline = _Timeline(c, job.job_id)
    steps = Steps(timeline.record, c.now)
    outcome, also = Status.COMPLETED, []
    try:
        if job.job_type in INDEX_OPERATIONS:
            from docjobs.services.indexing import run_index_operation

            result, outcome = run_index_operation(c, job, steps)
        else:
            result, also = _run_document_operation(c, job, steps)
        with steps.step("store_result") as details:
            result = _store_result(c, job, result)
            details["location"] = "s3" if "result_key" in result else "inline"
    except _Stopped:
        return None
    except DocumentError as error:
        logger.info("document rejected", extra={"job_id": job.job_id, "reason": error.code})
        return fail_job(c, job, str(error), history=timeline.unwritten())
    now = c.now()
    try:
        done = c.jobs.transition(job, outcome, sources=frozenset({Status.IN_PROGRESS}), now=now,
                                 fields=finishing_fields(job.job_type, outcome, now, result=result, progress=100),
                                 append={"history": timeline.unwritten()},
                                 also=also + parent_items(c, job, outcome, parse_result_id=job.job_id) or None)  # fmt: skip
    except (JobConflictError, JobNotFoundError):
        return None
    metrics.add_metric(name="JobsCompleted", unit="Count", value=1)
    return done


def _run_document_operation(c: Container, job: Job, steps: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One source through its processor: the result, and further items for the final write."""
    from docjobs.processors.base import OperationContext, SourceFile
    from docjobs.processors.model import DocumentError
    from docjobs.processors.registry import get_operation
    from docjobs.services.parsed import ParsedCache

    # Where the source lives: the job's project, or (attachments) its session's scope.
    owner, project_id = job.owner, job.request.get("source_scope") or job.project_id or ""
    with steps.step("fetch", source_id=job.source_id) as details:
        source = c.sources.get(owner, project_id, job.source_id or "")
        if source is None:
            raise DocumentError(f"Source {job.source_id} no longer exists.", code="source_not_found")
        data = c.blobs.get_bytes(source.key)
        details["bytes"] = len(data)
    ctx = OperationContext(
        source=SourceFile(source.id, source.filename, source.content_type, source.size, source.sha256, data),
        options=job.request.get("options", {}),
        steps=steps,
        store_source=lambda blob, name, kind: _store_part(c, owner, project_id, blob, name, kind),
        parse_store=ParsedCache(c, owner, project_id),
    )
    result = get_operation(job.request.get("operation", job.job_type)).run(ctx)
    also: list[dict[str, Any]] = []
    if job.job_type == JobType.ATTACHMENT_PROCESSING:
        from docjobs.services.attachments import attach_to_session

        with steps.step("attach_to_session", session_id=job.session_id):
            result, also = attach_to_session(c, job, result)
    return result, also


def _store_part(c: Container, owner: Owner, project_id: str, data: bytes, filename: str, content_type: str) -> dict[str, Any]:
    from docjobs.services.sources import add_source

    return add_source(c, owner, project_id, data, filename, content_type).to_public()


def _store_result(c: Container, job: Job, result: dict[str, Any]) -> dict[str, Any]:
    encoded = json.dumps(result, separators=(",", ":"), default=str)
    if len(encoded) <= INLINE_RESULT_BYTES:
        return result
    key = f"results/{job.job_id}.json"
    c.blobs.put_text(key, encoded, "application/json")
    summary = {k: result[k] for k in ("document", "stats", "warnings", "method", "label", "valid") if k in result}
    return {**summary, "result_key": key, "result_size": len(encoded), "truncated": True}
