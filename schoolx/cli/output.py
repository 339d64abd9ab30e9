"""Printing: rich tables on a terminal, JSON with ``--json``, one-line errors.

Everything shown may come from a PDF or a file name, so it is printed as ``Text`` (rich
never reads markup out of it) with its control characters escaped (a terminal never obeys
an escape sequence out of it either).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline.names import printable

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=_default, ensure_ascii=False) + "\n")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, show_header: bool = True
) -> None:
    out = Table(title=title, show_header=show_header)
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*(shown("" if v is None else str(v)) for v in row))
    console.print(out)


def shown(text: str) -> Text:
    return Text(printable(text, keep="\n"))


def line(message: str) -> None:
    console.print(shown(message))


def fail(message: str) -> None:
    errors.print(shown(f"error: {message}"), soft_wrap=True)  # one line, however long
