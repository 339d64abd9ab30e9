"""Uploads: the caller is authenticated before a byte of the body is read, and a body that
trickles in is cut off.

FastAPI parses a multipart body (spooling it to disk) before it runs the dependencies that
authenticate, so an anonymous client could make the server read and store 100 MB per
request before its 401; and nothing bounded how long a body could take, so a client sending
a byte a minute held a connection and a spool file for ever. This middleware answers 401 on
the headers alone, and gives the body an idle timeout (no bytes for ``idle_s``) and a
total deadline (``total_s``), answering 408 when either runs out.
"""

from __future__ import annotations

import asyncio
import json

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schoolx.web.auth import request_token, unauthorized
from schoolx.web.errors import HttpError


def too_slow(idle_s: float, total_s: float) -> HttpError:
    return HttpError(
        408, f"the upload was too slow (no data for {idle_s:g} s, or over {total_s:g} s in all)"
    )


class UploadGuard:
    def __init__(self, app: ASGIApp, *, path: str, idle_s: float, total_s: float) -> None:
        self.app = app
        self.path = path
        self.idle_s = idle_s
        self.total_s = total_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        if not await self._authenticated(scope):
            await _refuse(send, unauthorized())
            return
        await self.app(scope, self._timed(receive), send)

    async def _authenticated(self, scope: Scope) -> bool:
        conn = HTTPConnection(scope)
        token = request_token(conn)
        # Which user, and whether a cookie caller is same-origin, the route decides again.
        return token is not None and await conn.app.state.web.users.authenticate(token) is not None

    def _timed(self, receive: Receive) -> Receive:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.total_s
        body_done = False

        async def timed() -> Message:
            nonlocal body_done
            if body_done:  # after the body: waiting for a disconnect is not our business
                return await receive()
            wait_s = min(self.idle_s, deadline - loop.time())
            try:
                if wait_s <= 0:
                    raise TimeoutError
                async with asyncio.timeout(wait_s):
                    message = await receive()
            except TimeoutError:
                # FastAPI re-raises HTTPExceptions raised while it reads the body.
                raise too_slow(self.idle_s, self.total_s) from None
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        return timed


async def _refuse(send: Send, error: HttpError) -> None:
    body = json.dumps({"detail": error.detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the unread body is not waited for
        *((k.lower().encode(), v.encode()) for k, v in (error.headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
