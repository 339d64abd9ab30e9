"""Page text that keeps where text sits: one line per baseline, columns at their x position.

pypdf's layout engine measures every text-show operation (start and end x from the font's
widths, baseline y); this module renders those runs itself instead of calling
``extract_text(extraction_mode="layout")`` for two reasons seen on real documents:

* text drawn inside Form XObjects (a report tool that wraps each page in one) is invisible
  to pypdf's layout mode, which reads only the page's own content stream;
* pypdf's renderer glues two runs when the first overflows into the next column ("... OMAR
  DONATO BASSANISAO BERNARDO DO CAMPO"); here two runs that overlap or stand apart by more
  than a character are always separated by at least two spaces, which is what the reader
  takes as a cell boundary.

Lines are fixed width: a run starts at the character column its x position maps to, so
columns of a table line up in the text and the reader can find them from character offsets.
A vertical gap of more than one and a half line heights becomes one blank line.

The layout engine is a private part of pypdf (``pypdf._text_extraction._layout_mode``);
when it is missing or fails on a page, the page's plain text is used instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pypdf import PageObject
from pypdf.generic import ContentStream, DictionaryObject, NameObject, StreamObject

_MAX_FORM_DEPTH = 3  # forms inside forms inside forms: deeper nesting is not text layout
_MAX_FORMS = 64
_BLANK_LINE_GAP = 1.5  # vertical gap, in line heights, that reads as a paragraph break
_COLUMN_EM = 0.45  # one character column, in font sizes (a little under a glyph's width)
_CELL_GAP = 0.9  # horizontal gap, in character columns (0.4 em: over a space and a half)
_TYPED_SPACES = re.compile(r"(?<! ) {2,3}(?! )")
_MAX_INDENT = 400  # characters; a stray run far to the right must not make huge lines


@dataclass(frozen=True)
class Run:
    """Text drawn on one baseline: ``x0``..``x1`` and ``y`` in points (y grows upwards)."""

    x0: float
    x1: float
    y: float
    height: float
    text: str


def page_runs(page: PageObject) -> list[Run]:
    """Every text-show operation on the page, from its content stream and the forms it draws.

    Runs are taken per operation, not per pypdf "BT group": a group joins the operations of
    one text object on one line and glues those that overlap (an overflowing cell).
    """
    from pypdf._text_extraction._layout_mode._fixed_width_page import recurse_to_target_op
    from pypdf._text_extraction._layout_mode._text_state_manager import TextStateManager

    runs: list[Run] = []
    fonts = page._layout_mode_fonts()
    for content, form_fonts in _contents(page):
        ops = iter(ContentStream(content, page.pdf, "bytes").operations)
        state = TextStateManager()
        every = {**fonts, **form_fonts}
        for operands, op in ops:
            if op in (b"BT", b"q"):
                end: Literal[b"ET", b"Q"] = b"ET" if op == b"BT" else b"Q"
                _, shows = recurse_to_target_op(ops, state, end, every, True)
                runs.extend(_runs(shows))
            elif op == b"Tf":
                from pypdf._text_extraction._layout_mode._fixed_width_page import (
                    set_font_operation,
                )

                set_font_operation(state, every, operands)
            else:
                state.set_state_param(op, operands)
    return runs


def _runs(shows: list[Any]) -> Iterator[Run]:
    for show in shows:
        # Two or three spaces inside one operation are typing, not layout ("MENDES  LIMA");
        # a tab or a longer run inside one operation does separate columns.
        text = _TYPED_SPACES.sub(" ", show.text).replace("\t", "  ")
        coords = (show.tx, show.displaced_tx, show.ty, show.font_height)
        if show.rotated or not show.font.interpretable or not text.strip():
            continue
        if not all(math.isfinite(c) for c in coords):
            continue
        yield Run(
            x0=show.tx,
            x1=max(show.displaced_tx, show.tx),
            y=-show.ty if show.flip_vertical else show.ty,
            height=max(show.font_height, 1.0),
            text=text,
        )


def _contents(page: PageObject) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The page's content stream, then each Form XObject's (with the form's own fonts)."""
    contents = page.get(NameObject("/Contents"))
    if contents is not None:
        yield contents.get_object(), {}
    seen: set[int] = set()
    yield from _forms(page.get(NameObject("/Resources")), 0, seen)


def _forms(resources: Any, depth: int, seen: set[int]) -> Iterator[tuple[Any, dict[str, Any]]]:
    from pypdf._text_extraction._layout_mode import Font

    if depth >= _MAX_FORM_DEPTH or resources is None:
        return
    resources = resources.get_object()
    if not isinstance(resources, DictionaryObject):
        return
    xobjects = resources.get(NameObject("/XObject"))
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, DictionaryObject):
        return
    for ref in xobjects.values():
        form = ref.get_object()
        if id(form) in seen or len(seen) >= _MAX_FORMS:
            continue
        seen.add(id(form))
        if not isinstance(form, StreamObject) or form.get("/Subtype") != "/Form":
            continue
        own = form.get(NameObject("/Resources"))
        fonts: dict[str, Any] = {}
        font_dict = own.get_object().get("/Font") if own is not None else None
        font_dict = font_dict.get_object() if font_dict is not None else None
        if isinstance(font_dict, DictionaryObject):
            for name, font in font_dict.items():
                if isinstance(font.get_object(), DictionaryObject):
                    fonts[name] = Font.from_font_resource(font.get_object())
        yield form, fonts
        yield from _forms(own, depth + 1, seen)


def _lines(runs: list[Run]) -> list[list[Run]]:
    """Runs grouped by baseline, top of the page first, each line left to right."""
    ordered = sorted(runs, key=lambda r: (-r.y, r.x0))
    lines: list[list[Run]] = []
    for run in ordered:
        line = lines[-1] if lines else None
        if line is not None and abs(line[0].y - run.y) < 0.5 * min(line[0].height, run.height):
            line.append(run)
        else:
            lines.append([run])
    return [sorted(line, key=lambda r: r.x0) for line in lines]


def _char_width(runs: list[Run]) -> float:
    """The width of one character column: a fixed share of the page's usual font size.

    Not the average glyph width of the page's text, which changes with what a page holds
    (digits, capitals): a table continued over many pages must keep its columns at the
    same character positions on every page, and its font size does not change.
    """
    sizes = sorted((r.height, len(r.text)) for r in runs)
    half = sum(n for _, n in sizes) / 2
    seen = 0
    for height, n in sizes:
        seen += n
        if seen >= half:
            return max(_COLUMN_EM * height, 1.0)
    return 5.0


def render(runs: list[Run]) -> str:
    """Fixed-width text of the runs (see the module docstring for the rules)."""
    if not runs:
        return ""
    width = _char_width(runs)
    out: list[str] = []
    previous_y: float | None = None
    for line in _lines(runs):
        y, height = line[0].y, line[0].height
        if previous_y is not None and out and previous_y - y > _BLANK_LINE_GAP * height:
            out.append("")
        previous_y = y
        out.append(_render_line(line, width))
    return "\n".join(out)


def _render_line(line: list[Run], width: float) -> str:
    # columns count from the page's edge, not its leftmost text, so they agree page to page
    text = ""
    end_x: float | None = None
    for run in line:
        column = min(int(run.x0 / width), _MAX_INDENT + len(text))
        if end_x is None:
            text = " " * column + run.text
        else:
            gap = run.x0 - end_x
            if gap > _CELL_GAP * width or gap < -width or _touching_phrases(text, run.text):
                # a new cell, or a run drawn over the end of the last one (an overflowing
                # cell): at least two spaces so the two never read as one value
                text = text.rstrip(" ") + " " * max(column - len(text.rstrip(" ")), 2)
            elif gap > 0.25 * width and not text.endswith(" ") and not run.text[:1].isspace():
                text += " "
            text += run.text
        end_x = run.x1 if end_x is None else max(end_x, run.x1)
    return text.rstrip()


def _touching_phrases(before: str, after: str) -> bool:
    """Two runs of several words each, drawn edge to edge: a cell that ran into the next.
    (A word split over two operations by kerning has a single word on at least one side.)"""
    last = before.rstrip(" ").rsplit("  ", 1)[-1]
    return " " in last.strip() and " " in after.strip() and not before.endswith(" ")


def layout_text(page: PageObject) -> str:
    """The page's text with geometry kept; plain extraction when the layout engine fails."""
    try:
        runs = page_runs(page)
    except Exception:  # a private API on malformed input: fall back, never fail the page
        runs = []
    if runs:
        return render(runs)
    return page.extract_text() or ""
