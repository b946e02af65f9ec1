"""API function: API Gateway (REST) -> Mangum -> the FastAPI app. Built once per container."""

from __future__ import annotations

from docjobs.api.app import create_app
from docjobs.observability import logger, metrics
from mangum import Mangum

app = create_app()
# lifespan="off": with "auto" Mangum would run startup/shutdown on every invocation.
_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return _asgi(event, context)
