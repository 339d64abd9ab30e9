"""The options and the last line of every list command: which page, and how many in all."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from models.paging import MAX_LIMIT, Page
from schoolx.cli.output import errors, line, shown

LimitOpt = Annotated[int, typer.Option("--limit", help=f"Rows per page, 1 to {MAX_LIMIT}.")]
OffsetOpt = Annotated[int, typer.Option("--offset", help="Rows to skip (the next page).")]


def footer(page: Page[Any], *, stderr: bool = False) -> None:
    """ "showing 1–50 of 499 (next: --offset 50)"; on stderr beside ``--json``, so the JSON
    on stdout stays one value."""
    after = page.next_offset
    text = page.showing() + (f" (next: --offset {after})" if after is not None else "")
    if stderr:
        errors.print(shown(text), soft_wrap=True)
    else:
        line(text)


__all__ = ["LimitOpt", "OffsetOpt", "footer"]
