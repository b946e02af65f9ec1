"""POST /v1/chat (sync) and POST /v1/chat/async: the chat-jobs seed's endpoints."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from docjobs.api.deps import ContainerDep, IdempotencyKey, PrincipalDep
from docjobs.api.models import EMAIL_PATTERN, SESSION_ID_PATTERN, AsyncChatAccepted, ChatBody, ErrorBody, SyncChatResult
from docjobs.bootstrap import Container
from docjobs.domain.errors import JobNotFoundError
from docjobs.domain.jobs import Job, Notify, Status
from docjobs.services.attachments import submit_attachment
from docjobs.services.chat import ChatRequest, Submitted, submit_chat, sync_timeout_message
from docjobs.services.jobs import enqueue_job

router = APIRouter(prefix="/v1/chat", tags=["chat"])

POLL_AFTER_SECONDS = "2"
QUEUED_MESSAGE = "Chat request queued for processing"
# Sync chats run here, off the event loop, so one slow chat never stalls other requests.
_sync_runner = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sync-chat")

ERRORS = {status: {"model": ErrorBody} for status in (400, 401, 409, 413, 422, 429)}


def _to_request(body: ChatBody) -> ChatRequest:
    return ChatRequest(
        message=body.message,
        session_id=body.session_id,
        document_html=body.document_html,
        require_approval=body.require_approval,
        tags=body.tags,
        notify=Notify(body.notify_email, body.webhook_url),
    )


def _job_location(request: Request, job_id: str) -> str:
    return f"{request.scope.get('root_path', '')}/v1/jobs/{job_id}"


def _accepted(request: Request, submitted: Submitted, message: str = QUEUED_MESSAGE) -> JSONResponse:
    job = submitted.job
    body = AsyncChatAccepted(job_id=job.job_id, session_id=job.session_id or "", status=job.status.value, message=message)
    headers = {"Location": _job_location(request, job.job_id), "Retry-After": POLL_AFTER_SECONDS}
    if submitted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body.model_dump(), status_code=202, headers=headers)


@router.post(
    "/async",
    status_code=202,
    response_model=AsyncChatAccepted,
    responses=ERRORS,
    summary="Start a chat job; poll GET /v1/jobs/{job_id} for its status",
)
async def chat_async(
    body: ChatBody, request: Request, c: ContainerDep, principal: PrincipalDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    submitted = submit_chat(
        c,
        principal,
        _to_request(body),
        route="chat_async",
        idempotency_key=idempotency_key,
        correlation_id=request.state.request_id,
    )
    if submitted.replayed:
        return _accepted(request, submitted, QUEUED_MESSAGE)
    return _accepted(request, submitted)


@router.post(
    "",
    response_model=SyncChatResult,
    responses={**ERRORS, 202: {"model": AsyncChatAccepted, "description": "Still running past the sync time limit"}},
    summary="Chat and wait for the result (up to the sync time limit)",
)
async def chat_sync(
    body: ChatBody, request: Request, c: ContainerDep, principal: PrincipalDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    submitted = submit_chat(
        c,
        principal,
        _to_request(body),
        route="chat_sync",
        idempotency_key=idempotency_key,
        enqueue=False,
        correlation_id=request.state.request_id,
    )
    job = submitted.job
    if not submitted.replayed:
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(_sync_runner, _run_inline, c, job)
        try:
            await asyncio.wait_for(asyncio.shield(work), timeout=c.settings.sync_timeout_seconds)
        except Exception:
            # Too slow (or an infrastructure error): hand the job to the queue so nothing is lost.
            # Whichever run finishes first wins; the other's conditional write fails harmlessly.
            enqueue_job(c, job)
            return _accepted(request, submitted, sync_timeout_message(c, job))
    finished = c.jobs.get(job.job_id, consistent=True)
    if finished is None or finished.is_expired(c.now()):
        raise JobNotFoundError(f"Job {job.job_id} not found.")
    return _sync_response(request, finished, replayed=submitted.replayed)


def _run_inline(c: Container, job: Job) -> None:
    from docjobs.services.chat_runner import run_chat  # the engine loads only when a sync chat needs it

    run_chat(c, job)


def _sync_response(request: Request, job: Job, *, replayed: bool) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if job.status is Status.FAILED:
        return JSONResponse(
            {"error": {"code": "job_failed", "message": job.error or "The job failed.", "details": {"job_id": job.job_id}}},
            status_code=500,
            headers=headers,
        )
    if job.status is Status.AWAITING_APPROVAL:
        pending = job.metadata.get("pending_changes") or []
        draft = job.internal.get("draft") or {}
        body = {
            "job_id": job.job_id,
            "status": job.status.value,
            "response": draft.get("response", ""),
            "session_id": job.session_id,
            "document_changes": {
                "updated_html": None,
                "version_id": (draft.get("base_version") or {}).get("version_id"),
                "changes_summary": f"{len(pending)} change(s) awaiting approval: POST /v1/jobs/{job.job_id}/approve",
                "requires_approval": True,
                "pending_changes": pending,
                "changes": [],
            },
        }
        return JSONResponse(body, headers=headers)
    if job.status is not Status.COMPLETED:  # a replay of a sync chat that is still running
        return _accepted(request, Submitted(job, replayed=replayed), "The job is still running; poll its Location.")
    return JSONResponse({**(job.result or {}), "job_id": job.job_id, "status": job.status.value}, headers=headers)


@router.post(
    "/attachments",
    status_code=202,
    response_model=AsyncChatAccepted,
    responses=ERRORS,
    summary="Attach a file to a session: parsed in the background, then available to its messages",
)
async def attach(
    request: Request,
    c: ContainerDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="PDF, DOCX, HTML, Markdown or text")],
    session_id: Annotated[str | None, Form(pattern=SESSION_ID_PATTERN)] = None,
    notify_email: Annotated[str | None, Form(max_length=254, pattern=EMAIL_PATTERN)] = None,
    webhook_url: Annotated[str | None, Form(min_length=1, max_length=2048)] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    job, replayed = submit_attachment(
        c, principal, session_id=session_id, data=await file.read(), filename=file.filename,
        content_type=file.content_type, correlation_id=request.state.request_id, idempotency_key=idempotency_key,
        notify=Notify(notify_email, webhook_url),
    )  # fmt: skip
    return _accepted(request, Submitted(job, replayed=replayed), "Attachment queued for processing")
