"""Dependencies: the wired container and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from docjobs.api.callers import bearer, count_request
from docjobs.api.models import PROJECT_ID_PATTERN
from docjobs.bootstrap import Container, get_container
from docjobs.domain.errors import ForbiddenError, InvalidRequestError
from docjobs.services.auth import Principal, key_resolver


# Dependencies are `async def`: FastAPI runs a plain `def` one in a worker thread, which costs more
# than the whole rest of a poll. Their calls may block (a DynamoDB read on a key-cache miss), as a
# route's do; under Lambda each invocation serves one request.
async def container() -> Container:
    return get_container()


ContainerDep = Annotated[Container, Depends(container)]


def _rate_limited(c: Container, request: Request, caller: Principal) -> Principal:
    """Count the request; the middleware adds the RateLimit-* headers to whatever the response
    turns out to be."""
    headers: dict[str, str] = {}
    try:
        count_request(c, caller, headers)
    finally:
        if headers:
            request.state.rate_limit_headers = headers
    return caller


async def principal(
    c: ContainerDep,
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer sk_...")] = None,
) -> Principal:
    return _rate_limited(c, request, bearer(c, authorization))


PrincipalDep = Annotated[Principal, Depends(principal)]


async def project_principal(
    c: ContainerDep,
    request: Request,
    x_api_key: Annotated[str | None, Header(alias="x-api-key", description="API key")] = None,
    x_selected_account_id: Annotated[
        str | None, Header(alias="x-selected-account-id", description="The account (organization) to act for")
    ] = None,
    authorization: Annotated[str | None, Header(description="Bearer sk_... (instead of x-api-key)")] = None,
) -> Principal:
    """The project-jobs seed's auth: x-api-key plus x-selected-account-id; a Bearer key works too.
    The key must belong to the selected account."""
    if x_api_key:
        caller = key_resolver.resolve(c, x_api_key.strip())
        if not x_selected_account_id:
            raise InvalidRequestError("The x-selected-account-id header is required with x-api-key.")
    else:
        caller = bearer(c, authorization)
    if x_selected_account_id and x_selected_account_id != caller.owner.id:
        raise ForbiddenError(f"This API key cannot act for account {x_selected_account_id!r}.")
    return _rate_limited(c, request, caller)


ProjectPrincipalDep = Annotated[Principal, Depends(project_principal)]
ProjectId = Annotated[str, Path(pattern=PROJECT_ID_PATTERN, description="The project")]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255, description="Repeat a creation safely (kept 24 hours)."),
]
