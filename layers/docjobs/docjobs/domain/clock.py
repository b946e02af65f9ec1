"""Time, in one place, so that tests can freeze it and every module agrees on the format."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    """Seconds since the epoch. Tests replace the clock through services' `clock` arguments."""
    return time.time()


def iso(ts: float) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2026-11-23T07:55:01.123Z (sorts as text)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def parse_instant(value: str | None, field: str) -> str | None:
    """A client's ISO 8601 time (any offset; a date alone is its midnight UTC) in our stored form."""
    from docjobs.domain.errors import InvalidRequestError

    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))  # a '+' in a query string arrives as ' '
    except ValueError:
        raise InvalidRequestError(f"{field} must be an ISO 8601 time, e.g. 2026-11-23T09:00:00Z.", field=field) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return iso(parsed.timestamp())


def month(ts: float) -> str:
    """The billing period that `ts` falls in: 2026-11."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")
