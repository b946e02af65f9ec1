"""The models of a job's status (GET /v1/jobs/{job_id}), apart from the other request and response
models: a cold poll (api/fastpath.py) builds only these, not the whole API's."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PendingChange(BaseModel):
    model_config = ConfigDict(extra="allow")
    change_id: str
    operation: str
    chunk_id: str
    old_html: str
    new_html: str
    ai_explanation: str


class DocumentChanges(BaseModel):
    model_config = ConfigDict(extra="allow")
    updated_html: str | None = None
    version_id: str | None = None
    changes_summary: str | None = None
    requires_approval: bool | None = None
    pending_changes: list[PendingChange] = Field(default_factory=list)
    changes: list[dict[str, Any]] = Field(default_factory=list)


class Usage(BaseModel):
    monthly_used: int
    monthly_limit: int | None
    monthly_remaining: int | None
    was_billable: bool
    subscription_tier: str


class JobResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    response: str | None = None
    session_id: str | None = None
    document_changes: DocumentChanges | None = None
    usage: Usage | None = None
    attachment_id: str | None = None


class JobMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")
    filename: str | None = None
    file_size: int | None = None
    content_type: str | None = None
    message: str | None = None
    document_html_provided: bool | None = None
    pending_changes: list[PendingChange] | None = None
    intermediate_responses: list[dict[str, Any]] = Field(default_factory=list)


class JobView(BaseModel):
    """Status and details of an async job (GET /v1/jobs/{job_id})."""

    job_id: str
    session_id: str | None
    job_type: str
    status: str
    created_at: str
    updated_at: str
    progress: int
    organization_id: str | None
    user_id: str | None
    result: JobResult | None = None
    error: str | None = None
    metadata: JobMetadata
    tags: list[str] = Field(default_factory=list)
