"""Status filters: any status word of any of our APIs, case-insensitive (DESIGN.md's table)."""

from __future__ import annotations

from docjobs.domain.errors import InvalidRequestError
from docjobs.domain.jobs import Status

FILTER_WORDS: dict[str, list[Status]] = {
    "pending": [Status.PENDING],
    "queued": [Status.PENDING],
    "in_progress": [Status.IN_PROGRESS, Status.AWAITING_APPROVAL],
    "running": [Status.IN_PROGRESS, Status.AWAITING_APPROVAL],
    "processing": [Status.IN_PROGRESS, Status.AWAITING_APPROVAL],
    "awaiting_approval": [Status.AWAITING_APPROVAL],
    "completed": [Status.COMPLETED, Status.PARTIALLY_COMPLETED],
    "succeeded": [Status.COMPLETED],
    "partially_succeeded": [Status.PARTIALLY_COMPLETED],
    "failed": [Status.FAILED],
    "cancelled": [Status.CANCELLED],
    "canceled": [Status.CANCELLED],
}


def chat_api_status(status: Status) -> str:
    """A status in the chat-jobs API's words (it has no partial success)."""
    return "completed" if status is Status.PARTIALLY_COMPLETED else status.value


def parse_status_filter(raw: str | None) -> list[str] | None:
    """Comma-separated status words -> the internal statuses they mean (None: no filter)."""
    if not raw:
        return None
    wanted: list[str] = []
    for word in (w.strip().lower() for w in raw.split(",") if w.strip()):
        if word not in FILTER_WORDS:
            raise InvalidRequestError(f"Unknown status {word!r}; use one of: {', '.join(FILTER_WORDS)}.", field="status")
        wanted += [s.value for s in FILTER_WORDS[word] if s.value not in wanted]
    return wanted or None
