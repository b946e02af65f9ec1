"""API function: API Gateway (REST) -> Mangum -> the FastAPI app.

A poll (`GET /v1/jobs/{id}`) is answered by api/fastpath.py without the ASGI stack, and the
FastAPI app is built on the first request that needs it: a container whose first request is a poll
never pays for importing FastAPI. Under SnapStart the app is built during init instead, so the
snapshot holds it."""

from __future__ import annotations

import os
from typing import Any

from docjobs.api.fastpath import serve_poll
from docjobs.bootstrap import get_container
from docjobs.observability import logger, metrics

_asgi: Any = None


def mangum() -> Any:
    """The FastAPI app behind Mangum, made on first use (`.app` is the app: make run serves it)."""
    global _asgi
    if _asgi is None:
        from docjobs.api.app import create_app
        from mangum import Mangum

        # lifespan="off": with "auto" Mangum would run startup/shutdown on every invocation.
        _asgi = Mangum(create_app(), lifespan="off")
    return _asgi


if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
    mangum()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    response = serve_poll(event, get_container())
    return response if response is not None else mangum()(event, context)
