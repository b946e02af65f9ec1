"""Jobs as the chat-jobs seed renders them (status words: see DESIGN.md)."""

from __future__ import annotations

from typing import Any

from docjobs.api.models import ChildJob, JobView, ProjectJob
from docjobs.domain.batches import Counters
from docjobs.domain.jobs import Job, Status
from docjobs.domain.statuses import chat_api_status

PROJECT_API_STATUS = {
    Status.PENDING: "pending",
    Status.IN_PROGRESS: "running",
    Status.AWAITING_APPROVAL: "running",
    Status.COMPLETED: "succeeded",
    Status.PARTIALLY_COMPLETED: "partially_succeeded",
    Status.FAILED: "failed",
    Status.CANCELLED: "cancelled",
}


def _public_result(job: Job, result_url: str | None) -> dict[str, Any] | None:
    """The result as clients see it: a result kept in S3 is a link, not a storage key."""
    if job.result is None:
        return None
    result = {k: v for k, v in job.result.items() if k != "result_key"}
    if result_url:
        result["result_url"] = result_url
    return result


def child_view(job: Job) -> ChildJob:
    return ChildJob(
        source_document_id=job.source_id,
        job_id=job.job_id,
        status=PROJECT_API_STATUS[job.status],
        parse_result_id=job.job_id if job.status is Status.COMPLETED else None,
        error=job.error if job.status is Status.FAILED else None,
    )


def project_job_view(job: Job, result_url: str | None = None) -> ProjectJob:
    finished = job.status in (Status.COMPLETED, Status.PARTIALLY_COMPLETED)
    return ProjectJob(
        id=job.job_id,
        project_id=job.project_id or "",
        operation=job.job_type,
        status=PROJECT_API_STATUS[job.status],
        created_at=job.created_at,
        source_id=job.source_id,
        correlation_id=job.correlation_id,
        started_at=job.started_at,
        completed_at=job.completed_at,
        result=_public_result(job, result_url) if finished else None,
        progress=job.batch,  # type: ignore[arg-type]  # batch jobs only
        error=job.error if job.status is Status.FAILED else None,
        history=job.history,  # type: ignore[arg-type]
        tags=job.tags,
    )


def job_view(job: Job, result_url: str | None = None) -> JobView:
    metadata = dict(job.metadata)
    if job.status is not Status.AWAITING_APPROVAL:
        metadata.pop("pending_changes", None)
    metadata.setdefault("intermediate_responses", [])
    return JobView(
        job_id=job.job_id,
        session_id=job.session_id,
        job_type=job.job_type,
        status=chat_api_status(job.status),
        created_at=job.created_at,
        updated_at=job.updated_at,
        progress=Counters.of(job.batch).percent_done if job.batch else job.progress,
        organization_id=job.owner.organization_id,
        user_id=job.owner.user_id,
        result=_public_result(job, result_url) if job.status in (Status.COMPLETED, Status.PARTIALLY_COMPLETED) else None,  # type: ignore[arg-type]
        error=job.error if job.status is Status.FAILED else None,
        metadata=metadata,  # type: ignore[arg-type]
        tags=job.tags,
    )
