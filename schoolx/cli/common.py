"""Shared plumbing for commands: options, async entry, one-line errors."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import typer

from handlers.llm.config import LlmSettings
from handlers.settings import PdfSettings
from pipeline.errors import SchoolxError
from pipeline.names import printable
from pipeline.settings import QueueSettings
from schoolx.cli.output import fail

T = TypeVar("T")


class State:
    db_url: str | None = None


state = State()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; any error becomes one line on stderr and exit 1."""
    try:
        return asyncio.run(coro)
    except typer.Exit:
        raise
    except SchoolxError as exc:
        fail(str(exc))
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        fail("interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:
        if os.environ.get("SCHOOLX_DEBUG"):
            raise
        fail(f"unexpected {type(exc).__name__}: {exc} (set SCHOOLX_DEBUG=1 for a traceback)")
        raise typer.Exit(1) from None


def command(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        run_async(fn(*args, **kwargs))

    return wrapper


class PrintableMessages(logging.Filter):
    """Log messages carry file, folder and school names: show their control characters
    as escapes instead of letting a terminal obey them (tracebacks are left alone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = printable(record.getMessage(), keep="\n\t")
        record.args = None
        return True


def setup_logging(verbose: bool) -> None:
    level = logging.INFO if verbose else logging.WARNING
    if sys.stdout.isatty():
        # Through the same console as the progress bars, so log lines print above them
        # instead of tearing them.
        from rich.logging import RichHandler

        from schoolx.cli.output import console

        handler: logging.Handler = RichHandler(console=console, show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PrintableMessages())
    logging.basicConfig(level=level, handlers=[handler])


def environment_help() -> str:
    """Every variable schoolx reads, with its default: from the settings classes that
    read them, so that the list cannot fall behind (``tests/unit/test_cli_help.py``)."""
    rows = [
        ("SCHOOLX_DATABASE_URL", "sqlite under SCHOOLX_HOME"),
        ("SCHOOLX_HOME", "./schoolx-data"),
        ("SCHOOLX_DEBUG", "unset; 1: a traceback for unexpected errors"),
        ("OPENAI_API_KEY / OPENAI_BASE_URL", "unset: no LLM"),
        *LlmSettings.describe(),
        *QueueSettings.describe(),
        *PdfSettings.describe(),
    ]
    width = max(len(name) for name, _ in rows)
    # One variable a line: the rich help keeps single line breaks, and "\n\n" separates
    # the heading.
    return "Environment (default):\n\n" + "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
