"""Every error is JSON: {"error": {"code", "message"}} with the right status, never a stack trace."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from docjobs.api.error_codes import HTTP_CODES, UNEXPECTED, error_body, public_details, status_for
from docjobs.domain import errors as e
from docjobs.observability import logger


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:  # fmt: skip
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


async def on_docjobs_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.DocjobsError)
    status = status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, exc.code, exc.message, public_details(exc.details), headers)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return error_response(400, "invalid_json", "The request body is not valid JSON.")
        location = [str(p) for p in err.get("loc", ()) if p != "body"]
        problems.append({"field": ".".join(location) or "body", "message": err.get("msg", "invalid"),
                         "type": err.get("type", "")})  # fmt: skip
    if any(p["type"] == "model_attributes_type" for p in problems):
        return error_response(400, "invalid_json", "The request body must be a JSON object.")
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    return error_response(422, "validation_error", f"Invalid request: {summary}", {"errors": problems})


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else HTTP_CODES.get(exc.status_code, "error")
    if exc.status_code == 404 and message == "Not Found":
        message = f"No route for {request.method} {request.url.path}."
    return error_response(exc.status_code, HTTP_CODES.get(exc.status_code, "error"), message,
                          headers=getattr(exc, "headers", None))  # fmt: skip


async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"path": request.url.path})
    return error_response(500, "internal_error", UNEXPECTED)


def install(app: FastAPI) -> None:
    app.add_exception_handler(e.DocjobsError, on_docjobs_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected_error)
