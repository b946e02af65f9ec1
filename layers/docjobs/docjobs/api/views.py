"""Jobs as the chat-jobs seed renders them (status words: see DESIGN.md)."""

from __future__ import annotations

from docjobs.api.models import JobView
from docjobs.domain.jobs import Job, Status

CHAT_API_STATUS = {Status.PARTIALLY_COMPLETED: "completed"}


def job_view(job: Job) -> JobView:
    metadata = dict(job.metadata)
    if job.status is not Status.AWAITING_APPROVAL:
        metadata.pop("pending_changes", None)
    metadata.setdefault("intermediate_responses", [])
    return JobView(
        job_id=job.job_id,
        session_id=job.session_id,
        job_type=job.job_type,
        status=CHAT_API_STATUS.get(job.status, job.status.value),
        created_at=job.created_at,
        updated_at=job.updated_at,
        progress=job.progress,
        organization_id=job.owner.organization_id,
        user_id=job.owner.user_id,
        result=job.result if job.status in (Status.COMPLETED, Status.PARTIALLY_COMPLETED) else None,  # type: ignore[arg-type]
        error=job.error if job.status is Status.FAILED else None,
        metadata=metadata,  # type: ignore[arg-type]
        tags=job.tags,
    )
