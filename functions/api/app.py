"""API function: API Gateway (REST) -> Mangum -> the FastAPI app. Built once per container.
A poll (`GET /v1/jobs/{id}`) is answered by api/fastpath.py without the ASGI stack."""

from __future__ import annotations

from docjobs.api.app import create_app
from docjobs.api.fastpath import serve_poll
from docjobs.bootstrap import get_container
from docjobs.observability import logger, metrics
from mangum import Mangum

app = create_app()
# lifespan="off": with "auto" Mangum would run startup/shutdown on every invocation.
_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    response = serve_poll(event, get_container())
    return response if response is not None else _asgi(event, context)
