"""Jobs and their lifecycle.

One internal lifecycle; each API renders it in its own seed's words (see views.py):

    pending ──> in_progress ──> completed | partially_completed | failed
       │             ├────────> awaiting_approval ──> completed
       └─────────────┴────────> cancelled            (also failed, by the sweeper)

Every status change in storage is a conditional write that names the statuses it may leave
(`Transition.sources`), so two writers can never both win.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from docjobs.domain.errors import JobConflictError


class Status(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    PARTIALLY_COMPLETED = "partially_completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.COMPLETED, Status.PARTIALLY_COMPLETED, Status.FAILED, Status.CANCELLED})

# Which statuses each status may be entered from.
ENTERED_FROM: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset(),
    Status.IN_PROGRESS: frozenset({Status.PENDING, Status.IN_PROGRESS}),  # in_progress again: a redelivery
    Status.AWAITING_APPROVAL: frozenset({Status.IN_PROGRESS}),
    Status.COMPLETED: frozenset({Status.IN_PROGRESS, Status.AWAITING_APPROVAL}),
    Status.PARTIALLY_COMPLETED: frozenset({Status.IN_PROGRESS}),
    Status.FAILED: frozenset({Status.PENDING, Status.IN_PROGRESS}),
    Status.CANCELLED: frozenset({Status.PENDING, Status.IN_PROGRESS}),
}

CANCELLABLE = ENTERED_FROM[Status.CANCELLED]


def can_transition(source: Status, target: Status) -> bool:
    return source in ENTERED_FROM[target]


def require_transition(source: Status, target: Status, action: str) -> None:
    """Raise a clear JobConflictError when `action` cannot move a job from `source` to `target`."""
    if not can_transition(source, target):
        allowed = ", ".join(sorted(ENTERED_FROM[target])) or "no status"
        raise JobConflictError(
            f"Cannot {action} a job that is {source.value}; only jobs that are {allowed} can be.",
            status=source.value,
        )


class JobType(StrEnum):
    CHAT = "chat"
    ATTACHMENT_PROCESSING = "attachment_processing"


class Operation(StrEnum):
    """Document operations of the project-scoped API (the project-jobs seed's list, plus split
    and classify); each is also a job type."""

    PARSE = "parse"
    BATCH_PARSE = "batch_parse"
    EXTRACT = "extract"
    RESEARCH = "research"
    VECTOR_STORE = "vector_store"
    CHUNK = "chunk"
    SUMMARIZATION = "summarization"
    CREATE_INDEX = "create_index"
    UPDATE_INDEX = "update_index"
    CLASSIFY = "classify"
    SPLIT = "split"


# Every operation of the seed's list runs (the name stays for the day one is added before it does).
AVAILABLE_OPERATIONS = frozenset(Operation)


HOUR = 3600
DAY = 24 * HOUR
# How long a job stays readable once it reaches completed, failed or cancelled, or enters
# awaiting_approval: chat and attachment jobs 1 hour (the chat-jobs seed), document operation
# jobs 7 days (the extraction-jobs seed).
RETENTION_SECONDS: dict[str, int] = {JobType.CHAT: HOUR, JobType.ATTACHMENT_PROCESSING: HOUR}
DEFAULT_RETENTION_SECONDS = 7 * DAY


def expiry_after(job_type: str, status: Status, at: float) -> int | None:
    """The `expires_at` (epoch seconds) a job gets when it enters `status` at time `at`."""
    if status.is_terminal or status is Status.AWAITING_APPROVAL:
        return int(at) + RETENTION_SECONDS.get(job_type, DEFAULT_RETENTION_SECONDS)
    return None


JOB_ID_PATTERN = re.compile(r"^job_[a-z2-7]{32}$")
_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def new_job_id() -> str:
    """An opaque, unguessable id: 160 random bits in lowercase base32."""
    n = secrets.randbits(160)
    return "job_" + "".join(_B32[(n >> (5 * i)) & 31] for i in range(32))


def is_job_id(value: str) -> bool:
    return bool(JOB_ID_PATTERN.match(value))


@dataclass(frozen=True)
class Owner:
    """Who a job (or key, session, usage counter) belongs to: an organization or a user."""

    kind: str  # "org" | "user"
    id: str

    def __post_init__(self) -> None:
        if self.kind not in ("org", "user"):
            raise ValueError(f"owner kind must be org or user, not {self.kind!r}")

    @property
    def key(self) -> str:
        return f"{self.kind}#{self.id}"

    @classmethod
    def from_key(cls, key: str) -> Owner:
        kind, _, ident = key.partition("#")
        return cls(kind, ident)

    @property
    def organization_id(self) -> str | None:
        return self.id if self.kind == "org" else None

    @property
    def user_id(self) -> str | None:
        return self.id if self.kind == "user" else None


@dataclass(frozen=True)
class Notify:
    """Who hears about a job besides its poller: one e-mail when it finishes, and the job's own
    webhook on every status change (signed with the owner's job webhook secret)."""

    email: str | None = None
    webhook_url: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"notify_email": self.email, "webhook_url": self.webhook_url}


@dataclass
class Job:
    """A job as the domain sees it. Storage shape lives in adapters; API shapes in views."""

    job_id: str
    job_type: str
    owner: Owner
    status: Status
    created_at: str
    updated_at: str
    progress: int = 0
    session_id: str | None = None
    # What the client asked for (chat: message, require_approval, document_html_provided...).
    request: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    expires_at: int | None = None
    attempts: int = 0
    billing_period: str | None = None
    tags: list[str] = field(default_factory=list)
    # Project-scoped jobs (document operations): the project, the source and the step timeline.
    project_id: str | None = None
    source_id: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    # batch_parse: the parent's counters and first page of children; a child's parent and place.
    batch: dict[str, Any] | None = None
    parent_job_id: str | None = None
    child_index: int | None = None
    # One e-mail when the job finishes, a webhook on every status change (the events function).
    notify: Notify = field(default_factory=Notify)
    # The number of the job's latest event (one per write; the events function logs them).
    event_seq: int = 0
    # Traces a job through the API, the queue and the worker's logs (X-Request-Id / X-Correlation-Id).
    correlation_id: str | None = None
    # Internal working state (e.g. the engine's draft while awaiting approval); never rendered.
    internal: dict[str, Any] = field(default_factory=dict)

    def is_expired(self, at: float) -> bool:
        """DynamoDB deletes expired items lazily, so every read must treat them as absent."""
        return self.expires_at is not None and self.expires_at <= at

    def is_owned_by(self, owner: Owner) -> bool:
        return self.owner == owner
