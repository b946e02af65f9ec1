"""Domain errors. The API maps each to one HTTP status in api/errors.py."""

from __future__ import annotations


class DocjobsError(Exception):
    """Base class: `code` is the machine-readable error code clients see."""

    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class AuthenticationError(DocjobsError):
    code = "unauthorized"


class ForbiddenError(DocjobsError):
    code = "forbidden"


class JobNotFoundError(DocjobsError):
    code = "job_not_found"


class WebhookNotFoundError(DocjobsError):
    code = "webhook_not_found"


class SourceNotFoundError(DocjobsError):
    code = "source_not_found"


class IndexNotFoundError(DocjobsError):
    code = "index_not_found"


class IndexConflictError(DocjobsError):
    """The index exists already (create_index), or is not built yet (research)."""

    code = "index_conflict"


class IndexTooLargeError(DocjobsError):
    """The change would take the index past its documented size limit."""

    code = "index_too_large"


class JobNotFinishedError(DocjobsError):
    """The job has no result (yet): it is still running, or it failed or was cancelled."""

    code = "job_not_finished"


class JobConflictError(DocjobsError):
    """The job is not in a status that allows the request (cancel a completed job, approve twice)."""

    code = "job_conflict"


class InvalidRequestError(DocjobsError):
    code = "invalid_request"


class PayloadTooLargeError(DocjobsError):
    code = "payload_too_large"


class RateLimitedError(DocjobsError):
    """Too many requests in the key's rolling window (details["decision"] says when to retry)."""

    code = "rate_limited"


class UsageLimitExceededError(DocjobsError):
    code = "usage_limit_exceeded"


class IdempotencyConflictError(DocjobsError):
    code = "idempotency_conflict"


class ServiceUnavailableError(DocjobsError):
    code = "service_unavailable"
