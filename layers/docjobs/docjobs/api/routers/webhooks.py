"""Webhook endpoints: register, list, show, delete, rotate the secret, and the delivery log; a
job's own webhook_url deliveries and the secret that signs them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from docjobs.adapters.webhooks_table import Delivery, Endpoint
from docjobs.api.deps import ContainerDep, ProjectPrincipalDep
from docjobs.api.models import (
    DeliveryList,
    DeliveryView,
    ErrorBody,
    JobWebhookSecret,
    WebhookBody,
    WebhookCreated,
    WebhookEndpointView,
    WebhookList,
)
from docjobs.services import webhooks
from docjobs.services.jobs import get_owned_job

router = APIRouter(tags=["webhooks"])
ERRORS = {status: {"model": ErrorBody} for status in (401, 403, 404, 422)}
WebhookId = Annotated[str, Path(pattern=r"^wh_[0-9a-f]{24}$", description="The endpoint")]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2048, description="next_cursor of the previous page")]


def endpoint_view(e: Endpoint) -> WebhookEndpointView:
    return WebhookEndpointView(id=e.webhook_id, url=e.url, event_types=e.event_types, description=e.description,
                               status=e.status, disabled_reason=e.disabled_reason, created_at=e.created_at)  # type: ignore[arg-type]  # fmt: skip


def created_view(e: Endpoint) -> WebhookCreated:
    return WebhookCreated(**endpoint_view(e).model_dump(), secret=e.secret)


def delivery_page(deliveries: list[Delivery], cursor: str | None) -> DeliveryList:
    data = [DeliveryView(id=d.message_id, event_type=d.event_type, job_id=d.job_id, status=d.status, attempts=d.attempts,  # type: ignore[arg-type]
                         next_attempt_at=d.next_attempt_at, created_at=d.created_at) for d in deliveries]  # fmt: skip
    return DeliveryList(data=data, next_cursor=cursor, has_more=cursor is not None)


@router.post("/v1/webhooks", status_code=201, response_model=WebhookCreated, responses=ERRORS,
             summary="Register an endpoint; the signing secret is shown once")  # fmt: skip
async def register(body: WebhookBody, c: ContainerDep, principal: ProjectPrincipalDep) -> WebhookCreated:
    return created_view(webhooks.register_endpoint(c, principal, body.url, body.event_types, body.description))


@router.get("/v1/webhooks", response_model=WebhookList, responses=ERRORS, summary="The caller's endpoints")
async def list_(c: ContainerDep, principal: ProjectPrincipalDep) -> WebhookList:
    return WebhookList(data=[endpoint_view(e) for e in c.webhooks.list_endpoints(principal.owner)])


@router.get("/v1/webhooks/job-secret", response_model=JobWebhookSecret, responses=ERRORS,
            summary="The secret that signs the webhooks of jobs' own webhook_url")  # fmt: skip
async def job_secret(c: ContainerDep, principal: ProjectPrincipalDep) -> JobWebhookSecret:
    return JobWebhookSecret(secret=webhooks.job_url_secret(c, principal.owner))


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookEndpointView, responses=ERRORS, summary="One endpoint")
async def show(webhook_id: WebhookId, c: ContainerDep, principal: ProjectPrincipalDep) -> WebhookEndpointView:
    return endpoint_view(webhooks.get_endpoint(c, principal, webhook_id))


@router.delete("/v1/webhooks/{webhook_id}", status_code=204, responses=ERRORS, summary="Stop sending to an endpoint")
async def delete(webhook_id: WebhookId, c: ContainerDep, principal: ProjectPrincipalDep) -> Response:
    webhooks.delete_endpoint(c, principal, webhook_id)
    return Response(status_code=204)


@router.post("/v1/webhooks/{webhook_id}/rotate-secret", response_model=WebhookCreated, responses=ERRORS,
             summary="A new secret; messages carry signatures by both for 24 hours")  # fmt: skip
async def rotate(webhook_id: WebhookId, c: ContainerDep, principal: ProjectPrincipalDep) -> WebhookCreated:
    return created_view(webhooks.rotate_secret(c, principal, webhook_id))


@router.post("/v1/webhooks/{webhook_id}/enable", response_model=WebhookEndpointView, responses=ERRORS,
             summary="Turn an endpoint disabled by a 410 Gone back on")  # fmt: skip
async def enable(webhook_id: WebhookId, c: ContainerDep, principal: ProjectPrincipalDep) -> WebhookEndpointView:
    return endpoint_view(webhooks.enable_endpoint(c, principal, webhook_id))


@router.get("/v1/webhooks/{webhook_id}/deliveries", response_model=DeliveryList, responses=ERRORS,
            summary="Messages sent to an endpoint and their attempts, newest first")  # fmt: skip
async def deliveries(webhook_id: WebhookId, c: ContainerDep, principal: ProjectPrincipalDep, limit: Limit = 20,
                     cursor: Cursor = None) -> DeliveryList:  # fmt: skip
    webhooks.get_endpoint(c, principal, webhook_id)
    return delivery_page(*webhooks.list_deliveries(c, principal.owner, webhook_id, limit, cursor))


@router.get("/v1/jobs/{job_id}/deliveries", response_model=DeliveryList, responses=ERRORS,
            summary="Messages sent to the job's own webhook_url and their attempts")  # fmt: skip
async def job_deliveries(job_id: str, c: ContainerDep, principal: ProjectPrincipalDep, limit: Limit = 20,
                         cursor: Cursor = None) -> DeliveryList:  # fmt: skip
    get_owned_job(c, principal, job_id)
    return delivery_page(*webhooks.list_deliveries(c, principal.owner, webhooks.job_target(job_id), limit, cursor))
