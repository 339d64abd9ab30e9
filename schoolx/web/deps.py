"""What routes get from the application: the runtime, the user store, the settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from handlers.settings import PdfSettings
from models.users import UserStore
from schoolx.cli.runtime import Runtime


@dataclass
class WebState:
    """Set on ``app.state.web`` by the lifespan; routes read it through ``get_state``."""

    runtime: Runtime
    users: UserStore
    pdf: PdfSettings
    keepalive_s: float
    # Set when the server begins to shut down: open event streams end so it need not wait.
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)


async def get_state(request: Request) -> WebState:
    # async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a thread
    # hop on every request for one attribute read.
    state: WebState = request.app.state.web
    return state


State = Annotated[WebState, Depends(get_state)]
