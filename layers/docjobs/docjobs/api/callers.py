"""Who is calling, and whether they may: shared by the FastAPI dependencies and the poll fast path
(no web framework here)."""

from __future__ import annotations

from docjobs.bootstrap import Container
from docjobs.domain.errors import AuthenticationError, RateLimitedError
from docjobs.services.auth import Principal, key_resolver
from docjobs.services.ratelimit import rate_limiter


def bearer(c: Container, authorization: str | None) -> Principal:
    if authorization is None:
        return key_resolver.resolve(c, None)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Malformed Authorization header: use Authorization: Bearer sk_...")
    return key_resolver.resolve(c, token.strip())


def count_request(c: Container, caller: Principal, headers_out: dict[str, str]) -> None:
    """Count the request against the key's rate limit, putting its RateLimit-* headers (also on a
    429) in `headers_out`."""
    try:
        decision = rate_limiter.check(c, caller)
    except RateLimitedError as refused:
        headers_out.update(refused.details["decision"].headers())
        raise
    if decision is not None:
        headers_out.update(decision.headers())
