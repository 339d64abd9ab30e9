"""``GET /events``: the caller's task events as Server-Sent Events.

Each message's ``id:`` is the event id, so a reconnecting ``EventSource`` sends
``Last-Event-ID`` and resumes exactly where it stopped (events are durable rows). A comment
line every ``keepalive_s`` keeps proxies from closing an idle stream and lets the server
notice a client that went away.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from pipeline.store import EventInfo
from schoolx.web.auth import User, request_token, token_user
from schoolx.web.deps import State
from schoolx.web.views import event_json

router = APIRouter(tags=["events"])
log = logging.getLogger("schoolx.web")

RETRY_MS = 2000
BUFFER = 256
AUTH_RECHECK_S = 2.0  # how stale the "token still valid" answer may be when events flow


def sse_message(event: EventInfo) -> str:
    data = json.dumps(event_json(event), separators=(",", ":"))  # one line: no newlines
    return f"id: {event.id}\ndata: {data}\n\n"


async def _pump(source: AsyncIterator[EventInfo], buffer: asyncio.Queue[EventInfo]) -> None:
    async for event in source:
        await buffer.put(event)


async def event_stream(
    source: AsyncIterator[EventInfo],
    keepalive_s: float,
    closing: asyncio.Event | None = None,
    allowed: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[str]:
    """SSE text for every event of ``source``, with keep-alive comments while it is quiet.

    The subscription runs in its own task feeding a queue: waiting on the queue with a
    timeout is safe, while a timeout on the subscription itself would close it.
    ``allowed`` is asked again at every keep-alive and, at most every AUTH_RECHECK_S,
    before an event goes out: a stream whose token was revoked ends (and the browser's
    reconnect then gets 401).
    """
    yield f"retry: {RETRY_MS}\n\n"
    buffer: asyncio.Queue[EventInfo] = asyncio.Queue(BUFFER)
    pump = asyncio.create_task(_pump(source, buffer))
    stop = asyncio.create_task((closing or asyncio.Event()).wait())
    # One getter at a time, kept across keep-alives, and in ``tasks`` so that the finally
    # cancels and awaits it too: a getter left pending when the client leaves was logged
    # as "Task was destroyed but it is pending!" once collected.
    getter = asyncio.ensure_future(buffer.get())
    tasks = [pump, stop, getter]
    checked = time.monotonic()
    try:
        while True:
            done, _ = await asyncio.wait(
                {getter, pump, stop}, timeout=keepalive_s, return_when=asyncio.FIRST_COMPLETED
            )
            if stop in done:  # server shutting down: the client reconnects with Last-Event-ID
                return
            if getter not in done and pump in done:  # the subscription failed: end the stream
                log.warning("event stream ended: %r", pump.exception())
                return
            stale = getter not in done or time.monotonic() - checked >= AUTH_RECHECK_S
            if allowed is not None and stale:
                if not await allowed():
                    return
                checked = time.monotonic()
            if getter not in done:
                yield ": keep-alive\n\n"
                continue
            event = getter.result()
            getter = asyncio.ensure_future(buffer.get())
            tasks[2] = getter
            yield sse_message(event)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


def start_after(last_event_id: str | None, after: int | None) -> int:
    if last_event_id and last_event_id.strip().isdigit():
        return int(last_event_id)
    return after or 0


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    request: Request,
    state: State,
    user: User,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[int | None, Query(ge=0, description="Start after this event id")] = None,
) -> StreamingResponse:
    """Live task events of the caller; resumable with ``Last-Event-ID`` or ``?after=``.
    The stream ends once the caller's token is revoked."""
    source = state.runtime.app.queue.subscribe(
        after_id=start_after(last_event_id, after), user_id=user
    )
    token = request_token(request)

    async def allowed() -> bool:
        return await token_user(state, token) == user

    return StreamingResponse(
        event_stream(source, state.keepalive_s, state.closing, allowed),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )
