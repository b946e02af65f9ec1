"""The poll, served without the ASGI stack.

`GET /v1/jobs/{job_id}` is most of the traffic (clients poll every few seconds), and through Mangum
and FastAPI it costs several times its own work. The Lambda handler answers it here with the very
same pieces as the FastAPI route: authentication, the rate limit, the ownership check, the job
view, the error shape and the response headers (tests/integration/test_fastpath.py holds the two
equal). Every other request, and any poll this cannot serve, goes to Mangum.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from docjobs.api.callers import bearer, count_request
from docjobs.api.error_codes import UNEXPECTED, error_body, public_details, status_for
from docjobs.api.views import job_view_json
from docjobs.bootstrap import Container
from docjobs.domain.errors import DocjobsError
from docjobs.observability import logger
from docjobs.services.jobs import get_owned_job
from docjobs.services.results import result_url

POLL = re.compile(r"/v1/jobs/(?P<job_id>job_[a-z0-9]{32})")


def serve_poll(event: dict[str, Any], c: Container) -> dict[str, Any] | None:
    """The API Gateway response to a poll, or None when the event is not one."""
    path = event.get("path") or ""
    match = POLL.fullmatch(path)
    if event.get("httpMethod") != "GET" or match is None or event.get("queryStringParameters"):
        return None
    started = time.perf_counter()
    headers_in = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    request_id = (headers_in.get("x-request-id") or "")[:128] or str(uuid.uuid4())
    logger.set_correlation_id(request_id)
    headers = {"content-type": "application/json", "x-request-id": request_id}
    try:
        caller = bearer(c, headers_in.get("authorization"))
        count_request(c, caller, headers)
        job = get_owned_job(c, caller, match["job_id"])
        status, body = 200, job_view_json(job, result_url(c, job))
    except DocjobsError as error:
        status = status_for(error)
        body = json.dumps(error_body(error.code, error.message, public_details(error.details)), separators=(",", ":"),
                          ensure_ascii=False)  # fmt: skip
        if status == 401:
            headers["www-authenticate"] = "Bearer"
    except Exception:  # as the app's own handler for the unexpected: a JSON 500, never a stack trace
        logger.exception("unhandled error", extra={"path": path})
        status = 500
        body = json.dumps(error_body("internal_error", UNEXPECTED), separators=(",", ":"))
    logger.info("request", extra={"method": "GET", "path": path, "status": status, "fast_path": True,
                                  "duration_ms": round((time.perf_counter() - started) * 1000, 2)})  # fmt: skip
    return {"statusCode": status, "headers": {**headers, "content-length": str(len(body.encode()))}, "multiValueHeaders": {},
            "body": body, "isBase64Encoded": False}  # fmt: skip
