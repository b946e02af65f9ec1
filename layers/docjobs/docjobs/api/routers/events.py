"""A job's event log: GET /v1/jobs/{job_id}/events and the SSE stream of the same events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from docjobs.api.deps import ContainerDep, PrincipalDep
from docjobs.api.models import ErrorBody
from docjobs.bootstrap import Container
from docjobs.domain.events import is_final
from docjobs.services.jobs import get_owned_job

router = APIRouter(prefix="/v1/jobs", tags=["events"])
ERRORS = {status: {"model": ErrorBody} for status in (401, 403, 404)}
POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
MAX_STREAM_SECONDS = 15 * 60  # then the client reconnects with Last-Event-ID and loses nothing


@router.get("/{job_id}/events", responses=ERRORS, summary="The job's events after sequence number `after`")
async def events(
    job_id: str,
    c: ContainerDep,
    principal: PrincipalDep,
    after: Annotated[int, Query(ge=0, description="Return events numbered above this")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> dict[str, Any]:
    job = get_owned_job(c, principal, job_id)
    found = c.events.after(job_id, after, limit)
    last = found[-1]["seq"] if found else after
    return {"job_id": job_id, "status": job.status.value, "events": found, "last_seq": last,
            "has_more": len(found) == limit}  # fmt: skip


@router.get("/{job_id}/stream", responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}},
            summary="Server-sent events: status, progress and intermediate_response, until the job ends")  # fmt: skip
async def stream(
    job_id: str,
    request: Request,
    c: ContainerDep,
    principal: PrincipalDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[int, Query(ge=0)] = 0,
) -> StreamingResponse:
    get_owned_job(c, principal, job_id)  # 404/403 before the stream starts
    start = int(last_event_id) if last_event_id and last_event_id.isdigit() else after
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(_frames(c, principal, job_id, start, request), media_type="text/event-stream", headers=headers)


async def _frames(c: Container, principal: Any, job_id: str, seq: int, request: Request) -> AsyncIterator[str]:
    started = last_sent = time.monotonic()
    yield "retry: 2000\n\n"
    while time.monotonic() - started < MAX_STREAM_SECONDS:
        if await request.is_disconnected():
            return
        batch = await run_in_threadpool(c.events.after, job_id, seq)
        for event in batch:
            seq = event["seq"]
            yield f"id: {seq}\nevent: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"
            last_sent = time.monotonic()
            if is_final(event):
                return
        if not batch:
            job = await run_in_threadpool(get_owned_job, c, principal, job_id)
            if job.status.is_terminal and job.event_seq <= seq:
                return  # it had ended, and the client has every event up to the end
            if time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(POLL_SECONDS)
