"""Two small ASGI middlewares: security headers on every response, and an upload size cap
that refuses a too-large body before it is parsed (and spooled to disk)."""

from __future__ import annotations

import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schoolx.web.uploads import too_large

# No inline script or style anywhere: the page's JS and CSS come from /static.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Swagger UI (/docs) comes from our own origin too (routes_docs); it draws its icons as
# data: URLs.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
DOCS_PATHS = ("/docs",)
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(MutableHeaders(scope=message), path)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_headers(headers: MutableHeaders, path: str) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Not "no-referrer": with it, browsers send "Origin: null" on our own form posts.
    headers.setdefault("Referrer-Policy", "same-origin")
    if not path.startswith(("/static/", "/docs-assets/")):
        headers.setdefault("Cache-Control", "no-store")
    if headers.get("content-type", "").startswith("application/pdf"):
        return  # the browser's PDF viewer must be allowed to render it
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", DOCS_CSP if path in DOCS_PATHS else PAGE_CSP)


SMALL_BODY_BYTES = 64 * 1024  # forms and JSON of the review page and API


class UploadLimit:
    """Cap request bodies before anything parses them: ``POST path`` (the upload) at the
    file limit (the exact file-size check is in the route), every other body at
    SMALL_BODY_BYTES, since form parsing happens before authentication and would otherwise
    spool any amount of data to disk for an anonymous client."""

    def __init__(self, app: ASGIApp, *, path: str, max_file_bytes: int) -> None:
        self.app = app
        self.path = path
        self.max_file_bytes = max_file_bytes
        self.max_body = max_file_bytes + MULTIPART_SLACK

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        upload = scope["path"] == self.path
        limit, shown = (
            (self.max_body, self.max_file_bytes) if upload else (SMALL_BODY_BYTES, SMALL_BODY_BYTES)
        )
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await self._refuse(send, shown)
            return
        await self.app(scope, self._counting(receive, limit, shown), send)

    def _counting(self, receive: Receive, limit: int, shown: int) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                # FastAPI re-raises HTTPExceptions raised while it reads the body.
                raise too_large(shown)
            return message

        return counted

    async def _refuse(self, send: Send, shown: int) -> None:
        body = json.dumps({"detail": too_large(shown).detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
