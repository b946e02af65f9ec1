"""Which HTTP status each domain error gets, and what of its details a client may see. Free of
FastAPI, so that the poll fast path shares it without importing the web framework."""

from __future__ import annotations

from typing import Any

from docjobs.domain import errors as e

UNEXPECTED = "Something went wrong on our side; nothing you sent was lost. Please retry."

STATUS_FOR: dict[type[e.DocjobsError], int] = {
    e.AuthenticationError: 401,
    e.ForbiddenError: 403,
    e.JobNotFoundError: 404,
    e.SourceNotFoundError: 404,
    e.WebhookNotFoundError: 404,
    e.IndexNotFoundError: 404,
    e.IndexConflictError: 409,
    e.IndexTooLargeError: 413,
    e.JobConflictError: 409,
    e.JobNotFinishedError: 409,
    e.IdempotencyConflictError: 409,
    e.PayloadTooLargeError: 413,
    e.InvalidRequestError: 422,
    e.UsageLimitExceededError: 429,
    e.RateLimitedError: 429,
    e.ServiceUnavailableError: 503,
}

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
              422: "validation_error", 429: "rate_limited", 500: "internal_error", 503: "service_unavailable"}  # fmt: skip


def public_details(details: dict[str, Any]) -> dict[str, Any]:
    # (A rate limit's headers are added by the middleware, which sees every response.)
    return {k: v for k, v in details.items() if isinstance(v, (str, int, float, bool, list, type(None)))}


def status_for(error: e.DocjobsError) -> int:
    return next((status for cls, status in STATUS_FOR.items() if isinstance(error, cls)), 400)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """{"error": {"code", "message", "details" (when there are any)}}: every error's JSON."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}
