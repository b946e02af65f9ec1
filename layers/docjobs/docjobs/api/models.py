"""Request and response models, in the seeds' words. They make /openapi.json and /docs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from docjobs.api.job_models import JobResult, JobView

SESSION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"


def _notify_email() -> Any:
    return Field(default=None, max_length=254, pattern=EMAIL_PATTERN, description="E-mail this address when the job finishes")


def _webhook_url() -> Any:
    return Field(default=None, min_length=1, max_length=2048,
                 description="POST every status change of this job here, signed with GET /v1/webhooks/job-secret")  # fmt: skip


class StrictBody(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ChatBody(StrictBody):
    message: StrictStr = Field(min_length=1, max_length=20_000, description="The instruction or question.")
    session_id: StrictStr | None = Field(
        default=None, pattern=SESSION_ID_PATTERN, description="Conversation to continue; a new one if omitted."
    )
    document_html: StrictStr | None = Field(
        default=None, description="The document to work on (at most 5 MB). Optional when the session holds one."
    )
    require_approval: StrictBool = Field(
        default=False, description="Stop in awaiting_approval with pending_changes instead of applying them."
    )
    tags: list[StrictStr] = Field(default_factory=list, max_length=20, description="Labels to filter jobs by.")
    notify_email: StrictStr | None = _notify_email()
    webhook_url: StrictStr | None = _webhook_url()


class AsyncChatAccepted(BaseModel):
    job_id: str
    session_id: str
    status: str
    message: str


class ApproveBody(StrictBody):
    approved_change_ids: list[StrictStr] = Field(
        description="The change_ids to apply; every other pending change is denied (an empty list denies all)."
    )


class JobList(BaseModel):
    jobs: list[JobView]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as cursor to get the next page; null on the last page.")


class SyncChatResult(JobResult):
    job_id: str
    status: str


class MonthlyUsage(BaseModel):
    period: str
    monthly_used: int
    monthly_limit: int | None
    monthly_remaining: int | None


class Me(BaseModel):
    organization_id: str | None
    user_id: str | None
    subscription_tier: str
    key_prefix: str
    usage: MonthlyUsage


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class JobStatusEntry(BaseModel):
    job_id: str
    job_type: str | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    progress: int | None = None
    batch: dict[str, Any] | None = None
    error: str | ErrorDetail | None = Field(default=None, description="A failed job's error, or why this id has no status")


class JobStatuses(BaseModel):
    jobs: list[JobStatusEntry]
    summary: dict[str, Any]


# -- the project-scoped API (project-jobs seed) -------------------------------------------------

PROJECT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,127}$"


class ProjectJobBody(StrictBody):
    operation: StrictStr = Field(description="parse, batch_parse, extract, chunk, summarization, classify, split, "
                                             "create_index, update_index, vector_store or research")
    source_id: StrictStr | None = Field(default=None, description="The file to work on (from POST .../files)")
    source_ids: list[StrictStr] | None = Field(default=None, max_length=1000,
                                               description="batch_parse: the files to parse (at most 1,000); "
                                                           "create_index, update_index: the files to index (at most 200)")
    options: dict[str, Any] = Field(default_factory=dict, description="Operation options (see the README)")
    tags: list[StrictStr] = Field(default_factory=list, max_length=20)
    notify_email: StrictStr | None = _notify_email()
    webhook_url: StrictStr | None = _webhook_url()


class HistoryEvent(BaseModel):
    step: str
    timestamp: str
    duration_ms: float | None = None
    status: str
    details: dict[str, Any] = Field(default_factory=dict)


class ChildJob(BaseModel):
    source_document_id: str | None = None
    job_id: str
    status: str
    parse_result_id: str | None = None
    error: str | None = None


class BatchProgress(BaseModel):
    total: int
    succeeded: int
    failed: int
    cancelled: int
    pending: int
    child_jobs: list[ChildJob] = Field(default_factory=list)


class ProjectJob(BaseModel):
    """Job response model representing an asynchronous operation."""

    id: str
    project_id: str
    operation: str
    status: str
    created_at: str
    object: Literal["job"] = "job"
    source_id: str | None = None
    correlation_id: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    result: dict[str, Any] | None = None
    progress: BatchProgress | None = None
    error: str | None = None
    history: list[HistoryEvent] | None = None
    tags: list[str] = Field(default_factory=list)


class ChildJobList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ChildJob]
    has_more: bool
    next_cursor: str | None


class ProjectJobList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ProjectJob]
    has_more: bool
    next_cursor: str | None


class IndexedSourceView(BaseModel):
    source_id: str
    filename: str
    sha256: str
    chunks: int
    pages: int
    indexed_at: str


class IndexView(BaseModel):
    """A project's search index: what it holds (create_index, update_index, vector_store build it)."""

    object: Literal["index"] = "index"
    name: str
    project_id: str
    status: str = Field(description="building (not searchable yet), ready, or failed (its first build failed)")
    version: int = Field(description="0 until first built; one more for every change")
    source_count: int
    item_count: int = Field(description="Texts written by vector_store")
    chunk_count: int
    size_bytes: int
    embedding_model: str | None
    dimensions: int | None
    chunking: dict[str, Any]
    created_at: str
    updated_at: str
    last_job_id: str
    error: str | None = None
    limits: dict[str, int]
    sources: list[IndexedSourceView] | None = Field(default=None, description="GET .../indexes/{name} only")


class IndexList(BaseModel):
    object: Literal["list"] = "list"
    data: list[IndexView]
    has_more: bool
    next_cursor: str | None


class SourceFile(BaseModel):
    id: str
    object: Literal["file"] = "file"
    project_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: str


class UploadUrlBody(StrictBody):
    filename: StrictStr | None = Field(default=None, max_length=255)
    content_type: StrictStr | None = Field(default=None, max_length=255)


class UploadUrl(BaseModel):
    upload_id: str
    upload_url: str
    method: str
    headers: dict[str, str]
    expires_in: int
    complete_url: str


class CompleteUploadBody(StrictBody):
    filename: StrictStr | None = Field(default=None, max_length=255)
    content_type: StrictStr | None = Field(default=None, max_length=255)


# -- webhooks -----------------------------------------------------------------------------------


class WebhookBody(StrictBody):
    url: StrictStr = Field(min_length=1, max_length=2048, description="Where to POST events (http or https)")
    event_types: list[StrictStr] | None = Field(
        default=None, max_length=20, description='Event types to receive (job.completed, ...; "*" for all); all status changes if omitted'
    )
    description: StrictStr | None = Field(default=None, max_length=500)


class WebhookEndpointView(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str | None = None
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None = None
    created_at: str


class WebhookCreated(WebhookEndpointView):
    secret: str = Field(description="Verifies webhook-signature; shown only now (and after a rotation)")


class WebhookList(BaseModel):
    data: list[WebhookEndpointView]


class JobWebhookSecret(BaseModel):
    secret: str = Field(description="Signs the webhooks of jobs created with their own webhook_url")


class DeliveryAttemptView(BaseModel):
    attempt: int
    at: str
    status_code: int | None = None
    duration_ms: float | None = None
    error: str | None = None
    response: str | None = None


class DeliveryView(BaseModel):
    id: str = Field(description="The webhook-id header: the same for every attempt")
    event_type: str
    job_id: str
    status: Literal["pending", "sending", "retrying", "succeeded", "failed", "dead_lettered", "skipped", "expired"]
    attempts: list[DeliveryAttemptView]
    next_attempt_at: str | None = None
    created_at: str


class DeliveryList(BaseModel):
    data: list[DeliveryView]
    next_cursor: str | None = None
    has_more: bool
