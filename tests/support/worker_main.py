"""Run one worker process on a database with the test handlers: ``python -m ... URL``."""

from __future__ import annotations

import asyncio
import signal
import sys

from schoolx.app import open_app
from tests.support.handlers import register


async def main(url: str, drain: bool) -> None:
    app = await open_app(url)
    register(app.handlers)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        await app.new_worker().run(stop, drain=drain)
    finally:
        await app.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], "--drain" in sys.argv))
