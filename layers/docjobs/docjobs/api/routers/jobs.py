"""GET /v1/jobs, GET /v1/jobs/{job_id}, and the cancel and approve actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse

from docjobs.adapters.jobs_table import JobQuery
from docjobs.api.deps import ContainerDep, PrincipalDep
from docjobs.api.job_models import JobView
from docjobs.api.models import ApproveBody, ChildJobList, ErrorBody, JobList, JobStatuses
from docjobs.api.routers.projects import child_page
from docjobs.api.views import job_view
from docjobs.domain.clock import parse_instant
from docjobs.domain.statuses import parse_status_filter
from docjobs.services.chat import approve_changes
from docjobs.services.jobs import cancel_job, get_owned_job, list_jobs
from docjobs.services.results import get_result, result_url, status_of_many, summarize

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

ERRORS = {status: {"model": ErrorBody} for status in (401, 403, 404)}


@router.get("", response_model=JobList, responses={**ERRORS, 422: {"model": ErrorBody}},
            summary="The caller's jobs, newest first, filtered")  # fmt: skip
async def list_(
    c: ContainerDep,
    principal: PrincipalDep,
    status: Annotated[str | None, Query(description="Comma-separated statuses in any of our APIs' words, any case")] = None,
    operation: Annotated[str | None, Query(description="Comma-separated job types / operations")] = None,
    job_type: Annotated[str | None, Query(description="The same as operation")] = None,
    created_after: Annotated[str | None, Query(description="ISO 8601: only jobs created after this time")] = None,
    created_before: Annotated[str | None, Query(description="ISO 8601: only jobs created before this time")] = None,
    tags: Annotated[str | None, Query(description="Comma-separated tags; a job must have all of them")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, description="Jobs to skip (reads them); prefer the cursor")] = 0,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> JobList:
    query = JobQuery(
        statuses=parse_status_filter(status) or [],
        job_types=_words(operation) + _words(job_type),
        created_after=parse_instant(created_after, "created_after"),
        created_before=parse_instant(created_before, "created_before"),
        tags=_words(tags),
        limit=limit,
        cursor=cursor,
    )
    page = list_jobs(c, principal, query, offset=offset)
    return JobList(jobs=[job_view(j) for j in page.jobs], has_more=page.next_cursor is not None, next_cursor=page.next_cursor)


def _words(raw: str | None) -> list[str]:
    return list(dict.fromkeys(w.strip() for w in (raw or "").split(",") if w.strip()))


@router.get("/status", response_model=JobStatuses, responses={**ERRORS, 422: {"model": ErrorBody}},
            summary="The status of many jobs in one call (up to 100 ids)")  # fmt: skip
async def statuses(
    c: ContainerDep,
    principal: PrincipalDep,
    ids: Annotated[str, Query(description="Comma-separated job ids (at most 100)", max_length=4000)],
    include_progress: Annotated[bool, Query(description="Include progress (and batch counters)")] = False,
) -> JobStatuses:
    entries = status_of_many(c, principal, ids.split(","), include_progress=include_progress)
    return JobStatuses(jobs=entries, summary=summarize(entries))  # type: ignore[arg-type]


@router.get("/{job_id}/result", responses={**ERRORS, 409: {"model": ErrorBody}},
            summary="The whole result of a finished job (streamed from S3 when large)")  # fmt: skip
async def result(job_id: str, c: ContainerDep, principal: PrincipalDep) -> Response:
    found = get_result(c, principal, job_id)
    if found.s3_key:
        return StreamingResponse(c.blobs.stream(found.s3_key), media_type="application/json")
    return JSONResponse(found.inline)


@router.get("/{job_id}", response_model=JobView, responses=ERRORS, summary="Status and details of an async job")
async def get(job_id: str, c: ContainerDep, principal: PrincipalDep) -> JobView:
    job = get_owned_job(c, principal, job_id)
    return job_view(job, result_url(c, job))


@router.get("/{job_id}/children", response_model=ChildJobList, responses=ERRORS,
            summary="Page through a batch_parse job's children")  # fmt: skip
async def children(
    job_id: str,
    c: ContainerDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    status: Annotated[str | None, Query()] = None,
) -> ChildJobList:
    return child_page(c, get_owned_job(c, principal, job_id), limit=limit, cursor=cursor, status=status)


@router.post(
    "/{job_id}/cancel",
    response_model=JobView,
    responses={**ERRORS, 409: {"model": ErrorBody}},
    summary="Cancel a pending or in_progress job",
)
async def cancel(job_id: str, c: ContainerDep, principal: PrincipalDep) -> JobView:
    return job_view(cancel_job(c, principal, job_id))


@router.post(
    "/{job_id}/approve",
    response_model=JobView,
    responses={**ERRORS, 409: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    summary="Apply the approved pending changes, deny the rest, and complete the job",
)
async def approve(job_id: str, body: ApproveBody, c: ContainerDep, principal: PrincipalDep) -> JobView:
    return job_view(approve_changes(c, principal, job_id, body.approved_change_ids))
