"""Health and identity."""

from __future__ import annotations

from fastapi import APIRouter

from docjobs.api.deps import ContainerDep, PrincipalDep
from docjobs.api.models import Me, MonthlyUsage
from docjobs.domain import clock

router = APIRouter()


@router.get("/health", tags=["meta"], summary="Liveness: 200 once the API can serve requests")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/v1/me", response_model=Me, tags=["meta"], summary="Who this API key is")
async def me(c: ContainerDep, principal: PrincipalDep) -> Me:
    period = clock.month(c.now())
    used = c.accounts.get_usage(principal.owner, period)
    limit = c.settings.tier_limits.get(principal.tier)
    return Me(
        organization_id=principal.owner.organization_id,
        user_id=principal.owner.user_id,
        subscription_tier=principal.tier,
        key_prefix=principal.key_prefix,
        usage=MonthlyUsage(
            period=period,
            monthly_used=used,
            monthly_limit=limit,
            monthly_remaining=None if limit is None else max(limit - used, 0),
        ),
    )
