"""Lines and cells of fixed-width layout text (see ``handlers.geometry``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL_BREAK = re.compile(r" {2,}")


@dataclass(frozen=True)
class Cell:
    """Text between runs of two or more spaces. ``start``/``end`` are character columns of
    the line; ``offset`` is where the text starts in the page text."""

    start: int
    end: int
    text: str
    offset: int

    @property
    def center(self) -> float:
        return (self.start + self.end) / 2


@dataclass(frozen=True)
class Line:
    index: int
    offset: int  # where the line starts in the page text
    text: str
    cells: tuple[Cell, ...]

    @property
    def blank(self) -> bool:
        return not self.cells

    @property
    def plain(self) -> str:
        """The line's cells joined by two spaces, without indentation."""
        return "  ".join(c.text for c in self.cells)

    @property
    def end(self) -> int:
        return self.offset + len(self.text)

    def part(self, lo: int, hi: int) -> Line:
        """The line between character columns ``lo`` and ``hi`` (cells by where they start),
        blanks elsewhere: one of two tables printed side by side."""
        cells = tuple(c for c in self.cells if lo <= c.start < hi)
        if not cells:
            return Line(self.index, self.offset, "", ())
        start, end = cells[0].start, cells[-1].end
        return Line(self.index, self.offset, " " * start + self.text[start:end], cells)


def split_cells(text: str, offset: int) -> tuple[Cell, ...]:
    cells: list[Cell] = []
    position = 0
    for gap in [*_CELL_BREAK.finditer(text), None]:
        stop = gap.start() if gap is not None else len(text)
        piece = text[position:stop]
        lead = len(piece) - len(piece.lstrip(" "))
        value = piece.strip(" ")
        if value:
            start = position + lead
            cells.append(Cell(start, start + len(value), value, offset + start))
        if gap is not None:
            position = gap.end()
    return tuple(cells)


def lines_of(text: str) -> list[Line]:
    lines: list[Line] = []
    offset = 0
    for index, raw in enumerate(text.split("\n")):
        lines.append(Line(index, offset, raw, split_cells(raw, offset)))
        offset += len(raw) + 1
    return lines
