"""Errors as HTTP responses: one JSON shape for the API, a small page for the browser.

Nothing here ever puts a traceback or an exception's repr in a response.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.errors import (
    ConfigError,
    ConflictError,
    InvalidValue,
    NotFoundError,
    SchoolxError,
    StoreError,
    TaskLimitError,
)

log = logging.getLogger("schoolx.web")

# Most specific first: TaskLimitError and friends are all SchoolxErrors.
STATUS_BY_ERROR: tuple[tuple[type[SchoolxError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (TaskLimitError, 429),
    (InvalidValue, 422),
    (ConfigError, 400),
    (StoreError, 503),
)


class HttpError(HTTPException):
    """An HTTP error whose detail is a message meant for the user."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)


def status_for(exc: SchoolxError) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            return status
    return 400


def wants_html(request: Request) -> bool:
    """Browser pages get an HTML error; everything else (the API) gets JSON."""
    path = request.url.path
    return path == "/" or path.startswith(("/ui/", "/login", "/logout"))


def error_response(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    if wants_html(request):
        from schoolx.web.render import render_error  # the page layer depends on this module

        return HTMLResponse(render_error(status, message), status, headers=dict(headers or {}))
    return JSONResponse({"detail": message}, status, headers=dict(headers or {}))


async def on_schoolx_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SchoolxError)
    if isinstance(exc, InvalidValue) and not wants_html(request):
        return JSONResponse({"detail": str(exc), "field": exc.field}, 422)
    return error_response(request, status_for(exc), str(exc))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(request, exc.status_code, str(exc.detail), exc.headers)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Only locations and messages: the default handler echoes the (untrusted) input back.
    problems = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "invalid"))} for e in exc.errors()
    ]
    if wants_html(request):
        text = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems)
        return error_response(request, 422, text)
    return JSONResponse({"detail": problems}, 422)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "internal error; see the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SchoolxError, on_schoolx_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
