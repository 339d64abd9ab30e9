"""Text columns ("flows") of what no table used: a page printed in two or three columns is
read one column after the other, as a person reads it.

Gutters are character columns that no line's text crosses (a few stray lines allowed). A
gutter splits the page into flows when there are at most two of them (or when the columns
repeat the same kinds of content side by side: "name | phone | name | phone"), every flow is
wide enough to hold running text, and many lines have text on both sides; otherwise the
page is one flow (a table nobody recognised keeps its rows whole for the line readers).
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass

from handlers.reader.layout import Line
from handlers.reader.recognise import kind_of

_MAX_GUTTERS = 2
_MIN_FLOW_WIDTH = 20
_MIN_GUTTER = 3  # characters of white space
_STRAY_SHARE = 0.04  # lines allowed to cross a gutter (a wide title)
_BOTH_SIDES_SHARE = 0.25


@dataclass(frozen=True)
class Flow:
    """One column of the page as plain text, with a map back to page offsets."""

    text: str
    starts: tuple[int, ...]  # flow-text offset where each piece starts
    page_starts: tuple[int, ...]  # page-text offset of the same piece

    def page_offset(self, offset: int) -> int:
        k = max(bisect.bisect_right(self.starts, offset) - 1, 0)
        return self.page_starts[k] + (offset - self.starts[k])


def gutters(lines: list[Line]) -> list[tuple[int, int]]:
    """Gutter ranges [start, end) of character columns between flows."""
    text_lines = [ln for ln in lines if not ln.blank]
    if len(text_lines) < 6:
        return []
    coverage: Counter[int] = Counter()
    for line in text_lines:
        for cell in line.cells:
            coverage.update(range(cell.start, cell.end))
    if not coverage:
        return []
    left, right = min(coverage), max(coverage)
    stray = max(1, int(_STRAY_SHARE * len(text_lines)))
    found: list[tuple[int, int]] = []
    x = left
    while x <= right:
        if coverage[x] <= stray:
            start = x
            while x <= right and coverage[x] <= stray:
                x += 1
            if x - start >= _MIN_GUTTER and x <= right:
                found.append((start, x))
        x += 1
    if len(found) > _MAX_GUTTERS:
        found = _periodic(text_lines, found, left, right)
    if not found:
        return []
    edges = [left, *[g for pair in found for g in pair], right + 1]
    widths = [edges[k + 1] - edges[k] for k in range(0, len(edges), 2)]
    if min(widths) < _MIN_FLOW_WIDTH:
        return []
    both = sum(
        1
        for ln in text_lines
        if ln.cells[0].start < found[0][0] and ln.cells[-1].end > found[-1][1]
    )
    return found if both >= _BOTH_SIDES_SHARE * len(text_lines) else []


def _periodic(
    lines: list[Line], found: list[tuple[int, int]], left: int, right: int
) -> list[tuple[int, int]]:
    """Columns that repeat the same kinds side by side ("name | phone | name | phone"): the
    gutters between the repetitions, so each copy is read as one flow."""
    edges = [left, *[g for pair in found for g in pair], right + 1]
    columns = [(edges[k], edges[k + 1]) for k in range(0, len(edges), 2)]
    kinds = [_column_kind(lines, lo, hi) for lo, hi in columns]
    n = len(columns)
    for period in range(1, n // 2 + 1):
        copies = n // period
        if n % period or copies > _MAX_GUTTERS + 1:
            continue
        if all(kinds[i] == kinds[i + period] for i in range(n - period)):
            return [found[period * c - 1] for c in range(1, copies)]
    return []


def _column_kind(lines: list[Line], lo: int, hi: int) -> str:
    kinds = Counter(kind_of(c.text) for ln in lines for c in ln.cells if lo <= c.start < hi)
    return str(kinds.most_common(1)[0][0]) if kinds else ""


def split_flows(lines: list[Line], used: set[int]) -> list[Flow]:
    """The unused lines as one flow per text column, top to bottom, left to right."""
    free = [ln for ln in lines if ln.index not in used]
    cuts = gutters(free)
    bounds = [0, *[end for _, end in cuts], 1 << 30]
    flows = []
    for k in range(len(bounds) - 1):
        flows.append(_flow(free, bounds[k], bounds[k + 1]))
    return [f for f in flows if f.text.strip()]


def _flow(lines: list[Line], lo: int, hi: int) -> Flow:
    parts: list[str] = []
    starts: list[int] = []
    page_starts: list[int] = []
    size = 0
    for line in lines:
        cells = [c for c in line.cells if lo <= c.start < hi]
        for n, cell in enumerate(cells):
            if n:
                parts.append("  ")
                size += 2
            starts.append(size)
            page_starts.append(cell.offset)
            parts.append(cell.text)
            size += len(cell.text)
        parts.append("\n")
        size += 1
    return Flow("".join(parts), tuple(starts), tuple(page_starts))
