"""Pure ASGI middleware (cheaper per request than Starlette's BaseHTTPMiddleware):
correlation ids, a request size limit, and one structured access-log line per request."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from docjobs.observability import logger

Scope = dict[str, Any]


class RequestContextMiddleware:
    def __init__(self, app: Any, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = (headers.get(b"x-request-id") or b"").decode("latin-1")[:128] or str(uuid.uuid4())
        logger.set_correlation_id(request_id)
        scope.setdefault("state", {})["request_id"] = request_id  # request.state.request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                extra = [(b"x-request-id", request_id.encode("latin-1"))]
                limited = scope["state"].get("rate_limit_headers") or {}
                extra += [(k.lower().encode(), v.encode()) for k, v in limited.items()]
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        length = headers.get(b"content-length")
        if length and length.isdigit() and int(length) > self.max_body_bytes:
            await _too_large(send_with_id, self.max_body_bytes)
        else:
            await self.app(scope, _limited(receive, self.max_body_bytes, send_with_id), send_with_id)
        logger.info(
            "request",
            extra={
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": status_holder["status"],
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )


class _BodyTooLarge(Exception):
    pass


def _limited(receive: Any, limit: int, send: Any) -> Any:
    """Stop reading a body (sent without Content-Length) once it passes the limit."""
    seen = 0

    async def wrapped() -> dict[str, Any]:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                await _too_large(send, limit)
                raise _BodyTooLarge()
        return message

    return wrapped


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps(
        {"error": {"code": "payload_too_large", "message": f"The request body is larger than {limit // (1024 * 1024)} MB."}}
    ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
