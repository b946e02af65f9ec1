"""create_app(): the FastAPI application, the same locally (uvicorn) and on Lambda (Mangum)."""

from __future__ import annotations

from fastapi import FastAPI

from docjobs import __version__
from docjobs.api import errors
from docjobs.api.middleware import RequestContextMiddleware
from docjobs.api.routers import chat, events, jobs, meta, projects, webhooks

MAX_REQUEST_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit

DESCRIPTION = """Asynchronous jobs for document AI. Authenticate with `Authorization: Bearer sk_...`.
Submit a chat job with `POST /v1/chat/async`, poll `GET /v1/jobs/{job_id}` every 2 seconds or more,
approve changes with `POST /v1/jobs/{job_id}/approve`. Jobs are cleaned up 1 hour after they finish
(or enter awaiting_approval). Errors are `{"error": {"code", "message"}}`."""


def create_app() -> FastAPI:
    app = FastAPI(title="docjobs", version=__version__, description=DESCRIPTION)
    errors.install(app)
    app.include_router(meta.router)
    app.include_router(chat.router)
    app.include_router(jobs.router)
    app.include_router(events.router)
    app.include_router(projects.router)
    app.include_router(webhooks.router)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=MAX_REQUEST_BYTES)
    return app
