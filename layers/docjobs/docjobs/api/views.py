"""Jobs as the chat-jobs seed renders them (status words: see DESIGN.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from docjobs.domain.batches import Counters
from docjobs.domain.jobs import Job, Status
from docjobs.domain.statuses import chat_api_status

if TYPE_CHECKING:
    from docjobs.api.job_models import JobView
    from docjobs.api.models import ChildJob, ProjectJob

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
    from docjobs.api.models import ChildJob  # not at import: a cold poll needs only JobView

    return ChildJob(
        source_document_id=job.source_id,
        job_id=job.job_id,
        status=PROJECT_API_STATUS[job.status],
        parse_result_id=job.job_id if job.status is Status.COMPLETED else None,
        error=job.error if job.status is Status.FAILED else None,
    )


def project_job_view(job: Job, result_url: str | None = None) -> ProjectJob:
    from docjobs.api.models import ProjectJob  # not at import: a cold poll needs only JobView

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


def _job_fields(job: Job, result_url: str | None) -> dict[str, Any]:
    metadata = dict(job.metadata)
    if job.status is not Status.AWAITING_APPROVAL:
        metadata.pop("pending_changes", None)
    metadata.setdefault("intermediate_responses", [])
    return {
        "job_id": job.job_id,
        "session_id": job.session_id,
        "job_type": job.job_type,
        "status": chat_api_status(job.status),
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "progress": Counters.of(job.batch).percent_done if job.batch else job.progress,
        "organization_id": job.owner.organization_id,
        "user_id": job.owner.user_id,
        "result": _public_result(job, result_url) if job.status in (Status.COMPLETED, Status.PARTIALLY_COMPLETED) else None,
        "error": job.error if job.status is Status.FAILED else None,
        "metadata": metadata,
        "tags": job.tags,
    }


def job_view(job: Job, result_url: str | None = None) -> JobView:
    from docjobs.api.job_models import JobView  # not at import: a cold poll uses job_view_json

    return JobView(**_job_fields(job, result_url))


# -- the same view without pydantic, for the poll's fast path ------------------------------------
# Importing pydantic and building the view's models costs a cold poll about 100 ms, so the fast
# path writes the JSON itself: the fields of api/job_models.py in their order, each default, extra
# fields kept where a model keeps them (dropped where it does not). Tests hold the two equal.


def _shaped(value: dict[str, Any], fields: dict[str, Any], nested: dict[str, Callable[[Any], Any]] | None = None,
            extras: bool = True) -> dict[str, Any]:  # fmt: skip
    out = {}
    for name, default in fields.items():
        item = value[name] if name in value else (default() if callable(default) else default)
        if nested and name in nested and item is not None:
            item = nested[name](item)
        out[name] = item
    if extras:
        out.update((k, v) for k, v in value.items() if k not in fields)
    return out


def _required(name: str) -> Callable[[], Any]:
    def missing() -> Any:
        raise KeyError(f"{name} is required")

    return missing


_PENDING_CHANGE = {name: _required(name) for name in ("change_id", "operation", "chunk_id", "old_html", "new_html", "ai_explanation")}
_USAGE = {name: _required(name) for name in ("monthly_used", "monthly_limit", "monthly_remaining", "was_billable", "subscription_tier")}


def _pending_changes(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_shaped(change, _PENDING_CHANGE) for change in changes]


def _document_changes(value: dict[str, Any]) -> dict[str, Any]:
    return _shaped(value, {"updated_html": None, "version_id": None, "changes_summary": None, "requires_approval": None,
                           "pending_changes": list, "changes": list}, {"pending_changes": _pending_changes})  # fmt: skip


def _job_result(value: dict[str, Any]) -> dict[str, Any]:
    return _shaped(value, {"response": None, "session_id": None, "document_changes": None, "usage": None, "attachment_id": None},
                   {"document_changes": _document_changes, "usage": lambda u: _shaped(u, _USAGE, extras=False)})  # fmt: skip


def _job_metadata(value: dict[str, Any]) -> dict[str, Any]:
    return _shaped(value, {"filename": None, "file_size": None, "content_type": None, "message": None,
                           "document_html_provided": None, "pending_changes": None, "intermediate_responses": list},
                   {"pending_changes": _pending_changes})  # fmt: skip


def _json_value(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def job_view_json(job: Job, result_url: str | None = None) -> str:
    """job_view(job, result_url).model_dump_json(), without pydantic."""
    fields = _job_fields(job, result_url)
    fields["result"] = _job_result(fields["result"]) if fields["result"] is not None else None
    fields["metadata"] = _job_metadata(fields["metadata"])
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False, default=_json_value)
