"""Idempotent job creation, as Stripe does it: the same Idempotency-Key with the same request
replays the original job; with a different request it is a 409. Keys are kept 24 hours."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from docjobs.bootstrap import Container
from docjobs.domain.errors import DocjobsError, IdempotencyConflictError, JobNotFoundError
from docjobs.domain.jobs import DAY, Job, Owner

IDEMPOTENCY_TTL_SECONDS = DAY


def fingerprint(route: str, body: dict[str, Any]) -> str:
    """What a key is bound to: the endpoint and the request's meaning."""
    return hashlib.sha256(json.dumps({"route": route, **body}, sort_keys=True, default=str).encode()).hexdigest()


def create_once(
    c: Container, owner: Owner, key: str | None, request_fingerprint: str, job_id: str, create: Callable[[], Job]
) -> tuple[Job, bool]:
    """(job, replayed): `create()` runs only for a new key (or none); a repeat replays its job."""
    if key:
        existing = c.accounts.claim_idempotency_key(owner, key, request_fingerprint, job_id, c.now(), IDEMPOTENCY_TTL_SECONDS)
        if existing is not None:
            if existing.request_hash != request_fingerprint:
                raise IdempotencyConflictError(
                    "This Idempotency-Key was already used with a different request body or endpoint."
                )
            replay = c.jobs.get(existing.job_id)
            if replay is None:
                raise JobNotFoundError(f"The job created with this Idempotency-Key ({existing.job_id}) has expired.")
            return replay, True
    try:
        return create(), False
    except DocjobsError:
        if key:  # nothing was created: the client may retry with the same key
            c.accounts.release_idempotency_key(owner, key)
        raise
