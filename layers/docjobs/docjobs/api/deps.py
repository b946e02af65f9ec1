"""Dependencies: the wired container and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from docjobs.bootstrap import Container, get_container
from docjobs.domain.errors import AuthenticationError
from docjobs.services.auth import Principal, key_resolver


def container() -> Container:
    return get_container()


ContainerDep = Annotated[Container, Depends(container)]


def principal(
    c: ContainerDep,
    authorization: Annotated[str | None, Header(description="Bearer sk_...")] = None,
) -> Principal:
    if authorization is None:
        return key_resolver.resolve(c, None)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Malformed Authorization header: use Authorization: Bearer sk_...")
    return key_resolver.resolve(c, token.strip())


PrincipalDep = Annotated[Principal, Depends(principal)]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255, description="Repeat a creation safely (kept 24 hours)."),
]
