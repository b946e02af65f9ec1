"""The project-scoped API: files (sources) and document operation jobs (project-jobs seed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from docjobs.api.deps import ContainerDep, IdempotencyKey, ProjectId, ProjectPrincipalDep
from docjobs.api.models import (
    ChildJobList,
    CompleteUploadBody,
    ErrorBody,
    IndexList,
    IndexView,
    ProjectJob,
    ProjectJobBody,
    ProjectJobList,
    SourceFile,
    UploadUrl,
    UploadUrlBody,
)
from docjobs.api.views import child_view, project_job_view
from docjobs.bootstrap import Container
from docjobs.domain.errors import InvalidRequestError
from docjobs.domain.jobs import Job, Notify
from docjobs.domain.statuses import parse_status_filter
from docjobs.services.batches import list_children, retry_failed, submit_batch
from docjobs.services.indexes import delete_index, get_index, list_indexes
from docjobs.services.jobs import cancel_job
from docjobs.services.operations import get_project_job, submit_operation
from docjobs.services.results import result_url
from docjobs.services.sources import add_source, complete_upload, get_source, start_upload

router = APIRouter(prefix="/v1/projects/{project_id}", tags=["projects"])
ERRORS = {status: {"model": ErrorBody} for status in (401, 403, 404, 422)}
POLL_AFTER_SECONDS = "2"


@router.post("/files", response_model=SourceFile, status_code=201, responses={**ERRORS, 413: {"model": ErrorBody}},
             summary="Upload a file (multipart field `file`); the same bytes again return the same source")  # fmt: skip
async def upload_file(project_id: ProjectId, c: ContainerDep, principal: ProjectPrincipalDep,
                      file: Annotated[UploadFile, File(description="The document")]) -> SourceFile:  # fmt: skip
    data = await file.read()
    source = add_source(c, principal.owner, project_id, data, file.filename, file.content_type)
    return SourceFile(**source.to_public())


@router.post("/files/upload-url", response_model=UploadUrl, responses=ERRORS,
             summary="A presigned PUT for files larger than the API's request limit (6 MB), up to 100 MB")  # fmt: skip
async def upload_url(project_id: ProjectId, body: UploadUrlBody, c: ContainerDep, principal: ProjectPrincipalDep) -> UploadUrl:
    return UploadUrl(**start_upload(c, principal, project_id, body.content_type).to_public(project_id))


@router.post("/files/uploads/{upload_id}/complete", response_model=SourceFile, status_code=201, responses=ERRORS,
             summary="Turn a finished presigned upload into a source")  # fmt: skip
async def finish_upload(project_id: ProjectId, upload_id: str, body: CompleteUploadBody, c: ContainerDep,
                        principal: ProjectPrincipalDep) -> SourceFile:  # fmt: skip
    source = complete_upload(c, principal, project_id, upload_id, body.filename, body.content_type)
    return SourceFile(**source.to_public())


@router.get("/files/{source_id}", response_model=SourceFile, responses=ERRORS, summary="A source's description")
async def get_file(project_id: ProjectId, source_id: str, c: ContainerDep, principal: ProjectPrincipalDep) -> SourceFile:
    return SourceFile(**get_source(c, principal, project_id, source_id).to_public())


@router.post("/jobs", status_code=202, response_model=ProjectJob, responses=ERRORS,
             summary="Start a document operation job; poll its Location")  # fmt: skip
async def create_job(
    project_id: ProjectId,
    body: ProjectJobBody,
    request: Request,
    c: ContainerDep,
    principal: ProjectPrincipalDep,
    idempotency_key: IdempotencyKey = None,
    x_correlation_id: Annotated[str | None, Header(alias="X-Correlation-Id", max_length=128)] = None,
) -> JSONResponse:
    correlation_id = x_correlation_id or request.state.request_id
    if body.operation == "batch_parse":
        if body.source_id:
            raise InvalidRequestError("batch_parse takes source_ids (a list), not source_id.", field="source_id")
        job, replayed = submit_batch(c, principal, project_id, source_ids=body.source_ids, options=body.options,
                                     tags=body.tags, correlation_id=correlation_id, idempotency_key=idempotency_key,
                                     notify=Notify(body.notify_email, body.webhook_url))  # fmt: skip
    else:
        job, replayed = submit_operation(
            c, principal, project_id, operation=body.operation, source_id=body.source_id, source_ids=body.source_ids,
            options=body.options, tags=body.tags, correlation_id=correlation_id, idempotency_key=idempotency_key,
            notify=Notify(body.notify_email, body.webhook_url),
        )  # fmt: skip
    return _accepted(request, project_id, job, replayed)


def _accepted(request: Request, project_id: str, job: Job, replayed: bool) -> JSONResponse:
    headers = {"Location": f"{request.scope.get('root_path', '')}/v1/projects/{project_id}/jobs/{job.job_id}",
               "Retry-After": POLL_AFTER_SECONDS}  # fmt: skip
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(project_job_view(job).model_dump(mode="json"), status_code=202, headers=headers)


@router.get("/jobs", response_model=ProjectJobList, responses=ERRORS, summary="The project's jobs, newest first")
async def list_jobs(
    project_id: ProjectId,
    c: ContainerDep,
    principal: ProjectPrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    operation: Annotated[str | None, Query(description="Comma-separated operations")] = None,
    status: Annotated[str | None, Query(description="Comma-separated statuses, in any API's words")] = None,
) -> ProjectJobList:
    operations = [o.strip() for o in operation.split(",") if o.strip()] if operation else None
    jobs, next_cursor = c.jobs.list_for_project(
        principal.owner, project_id, limit=limit, cursor=cursor, now=c.now(),
        operations=operations, statuses=parse_status_filter(status),
    )  # fmt: skip
    return ProjectJobList(data=[project_job_view(j, result_url(c, j)) for j in jobs], has_more=next_cursor is not None,
                          next_cursor=next_cursor)  # fmt: skip


@router.get("/jobs/{job_id}", response_model=ProjectJob, responses=ERRORS, summary="Get Job")
async def get_job(project_id: ProjectId, job_id: str, c: ContainerDep, principal: ProjectPrincipalDep) -> ProjectJob:
    job = get_project_job(c, principal, project_id, job_id)
    return project_job_view(job, result_url(c, job))


@router.get("/jobs/{job_id}/children", response_model=ChildJobList, responses=ERRORS,
            summary="Page through a batch_parse job's children, in submission order")  # fmt: skip
async def children(
    project_id: ProjectId,
    job_id: str,
    c: ContainerDep,
    principal: ProjectPrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    status: Annotated[str | None, Query(description="Comma-separated statuses, in any API's words")] = None,
) -> ChildJobList:
    parent = get_project_job(c, principal, project_id, job_id)
    return child_page(c, parent, limit=limit, cursor=cursor, status=status)


def child_page(c: Container, parent: Job, *, limit: int, cursor: str | None, status: str | None) -> ChildJobList:
    jobs, next_cursor = list_children(c, parent, limit=limit, cursor=cursor, statuses=parse_status_filter(status))
    return ChildJobList(data=[child_view(j) for j in jobs], has_more=next_cursor is not None, next_cursor=next_cursor)


@router.post("/jobs/{job_id}/retry-failed", status_code=202, response_model=ProjectJob,
             responses={**ERRORS, 409: {"model": ErrorBody}},
             summary="Start a new batch_parse over exactly the children of this finished batch that failed")  # fmt: skip
async def retry(project_id: ProjectId, job_id: str, request: Request, c: ContainerDep, principal: ProjectPrincipalDep,
                idempotency_key: IdempotencyKey = None) -> JSONResponse:  # fmt: skip
    parent = get_project_job(c, principal, project_id, job_id)
    job, replayed = retry_failed(c, principal, parent, correlation_id=request.state.request_id, idempotency_key=idempotency_key)
    return _accepted(request, project_id, job, replayed)


@router.post("/jobs/{job_id}/cancel", response_model=ProjectJob, responses={**ERRORS, 409: {"model": ErrorBody}},
             summary="Cancel a pending or running job")  # fmt: skip
async def cancel(project_id: ProjectId, job_id: str, c: ContainerDep, principal: ProjectPrincipalDep) -> ProjectJob:
    get_project_job(c, principal, project_id, job_id)
    return project_job_view(cancel_job(c, principal, job_id))


@router.get("/indexes", response_model=IndexList, responses=ERRORS, summary="The project's search indexes, by name")
async def indexes(
    project_id: ProjectId,
    c: ContainerDep,
    principal: ProjectPrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> IndexList:
    found, next_cursor = list_indexes(c, principal, project_id, limit=limit, cursor=cursor)
    return IndexList(data=[IndexView(**m.to_public(with_sources=False)) for m in found], has_more=next_cursor is not None,
                     next_cursor=next_cursor)  # fmt: skip


@router.get("/indexes/{name}", response_model=IndexView, responses=ERRORS,
            summary="What an index holds: its sources, chunks, embedding and status")  # fmt: skip
async def index(project_id: ProjectId, name: str, c: ContainerDep, principal: ProjectPrincipalDep) -> IndexView:
    return IndexView(**get_index(c, principal, project_id, name).to_public(with_sources=True))


@router.delete("/indexes/{name}", response_model=IndexView, responses=ERRORS, summary="Delete an index (its sources stay)")
async def remove_index(project_id: ProjectId, name: str, c: ContainerDep, principal: ProjectPrincipalDep) -> IndexView:
    return IndexView(**delete_index(c, principal, project_id, name).to_public(with_sources=False))
