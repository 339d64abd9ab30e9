"""Read one page: tables first (they are the most certain), then the text columns.

``read_page`` returns ``Found`` records with page-text offsets. ``carry`` gives the lines of
a page that later pages still need: the last table header (a table that goes on without
repeating it) and the last context heading (the district the next rows belong to).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from handlers.reader.columns import Header, find_header, find_other_header, side_by_side
from handlers.reader.flows import split_flows
from handlers.reader.layout import Line, lines_of
from handlers.reader.lexicon import (
    CONTEXT_HEADING,
    NAME_LABEL,
    NOT_SCHOOL,
    SCHOOL_WORD,
    TOTAL_WORD,
)
from handlers.reader.names import split_name
from handlers.reader.tables import TableRecord, heading, read_table
from handlers.rules import read_lines

_MIN_CARRIED_ROWS = 2


@dataclass(frozen=True)
class Found:
    name: str
    start: int  # page-text offsets
    end: int
    values: dict[str, str]
    identifiers: dict[str, str] = field(default_factory=dict)
    method: str = "text"  # table, label, block (a person would trust them in this order)


def read_page(
    text: str, context: str = "", boilerplate: frozenset[str] = frozenset()
) -> list[Found]:
    lines = lines_of(text)
    carried_lines = lines_of(context) if context else []
    found: list[Found] = []
    used: set[int] = set()
    headings = _headings(carried_lines)
    carried = _last_header(carried_lines)
    other = _last_other(carried_lines)
    if other is not None and _continues(other, lines):
        used |= _until_next_header(lines, 0)
    elif carried is not None:
        records, taken, _, in_force = _read_tables(lines, 0, carried, headings)
        if len(records) >= _MIN_CARRIED_ROWS:
            found += records
            used |= taken
            headings = in_force
    i = 0
    while i < len(lines):
        header = find_header(lines, i) if i not in used else None
        if header is None and i not in used and find_other_header(lines, i):
            used |= _until_next_header(lines, i)
        if header is None:
            i += 1
            continue
        records, taken, end, headings = _read_tables(lines, i + 1, header, headings)
        used |= set(header.lines) | taken
        found += records
        i = max(end, i + 1)
    for flow in split_flows(lines, used):
        for item in read_lines(flow.text, boilerplate):
            start, end = flow.page_offset(item.start), flow.page_offset(max(item.end - 1, 0)) + 1
            method = "block" if item.values else "prose"  # a name in running text
            found.append(Found(item.name, start, end, dict(item.values), method=method))
    spans = [(f.start, f.end) for f in found]
    covered = {ln.index for ln in lines if any(a <= ln.offset + len(ln.text) and ln.offset < b
                                                for a, b in spans)}  # fmt: skip
    found += list(_labelled(lines, used | covered))
    kept = (_tidy_name(f) for f in found)
    return sorted((f for f in kept if _plausible(f)), key=lambda f: f.start)


def _plausible(found: Found) -> bool:
    """Not an organisation of another kind ("Heritage Officials Association", "Acme, Inc")."""
    if "  " in found.name:
        return False  # cells of a table's header run together ("Regular  Bilingual  Total")
    return not (NOT_SCHOOL.search(found.name) and not SCHOOL_WORD.search(found.name))


_READABLE_CHARS = 200  # a page with less text may well hold no school


def page_confidence(text: str, found: list[Found]) -> float:
    """How sure the reading is: a table row, a label or a block with fields is what a person
    would trust; names met only in running text are a guess; nothing on a page of text is
    a page not understood."""
    if any(f.method != "prose" for f in found):
        return 1.0
    if len("".join(text.split())) < _READABLE_CHARS:
        return 1.0
    return 0.4 if found else 0.0


def _tidy_name(found: Found) -> Found:
    name, grades = split_name(found.name)
    if name == found.name:
        return found
    values = dict(found.values)
    if grades and not values.get("grades"):
        values["grades"] = grades
    return replace(found, name=name, values=values)


def _read_tables(
    lines: list[Line], start: int, header: Header, headings: dict[str, str]
) -> tuple[list[Found], set[int], int, dict[str, str]]:
    """The table under ``header``, or each of the tables printed side by side under it."""
    found: list[Found] = []
    used: set[int] = set()
    end = start
    context = headings
    for part, lo, hi in side_by_side(header):
        view = lines if (lo, hi) == (0, 1 << 30) else [ln.part(lo, hi) for ln in lines]
        result = read_table(view, start, part, headings)
        found += [_from_table(r) for r in result.records]
        used |= result.used
        end = max(end, result.end)
        context = result.context
    return found, used, end, context


def _until_next_header(lines: list[Line], i: int) -> set[int]:
    """Lines from a header of another kind of table to the next school table's header."""
    end = next((j for j in range(i + 1, len(lines)) if find_header(lines, j)), len(lines))
    return set(range(i, end))


def _from_table(record: TableRecord) -> Found:
    return Found(record.name, record.start, record.end, record.values, record.identifiers, "table")


def _labelled(lines: list[Line], used: set[int]) -> Iterator[Found]:
    """ "School: Ballard" on a line of its own names a school even with nothing else about
    it (a report printing one school per page). The line is then no longer free."""
    for line in lines:
        if line.index in used or len(line.cells) != 1:
            continue
        cell = line.cells[0]
        label = NAME_LABEL.match(cell.text)
        if label is None:
            continue
        rest = cell.text[label.end() :]
        name = rest.strip()
        if not name or TOTAL_WORD.match(name) or not re.search(r"[^\W\d_]{2}", name):
            continue
        used.add(line.index)
        start = cell.offset + label.end() + len(rest) - len(rest.lstrip())
        yield Found(name, start, cell.offset + len(cell.text), {}, method="label")


def _last_other(lines: list[Line]) -> Line | None:
    """The carried header when it is one of another kind of table (it is the last)."""
    if (
        lines
        and not _last_header(lines)
        and any(find_other_header(lines, i) for i in range(len(lines)))
    ):
        return next(lines[i] for i in range(len(lines)) if find_other_header(lines, i))
    return None


def _continues(header: Line, lines: list[Line]) -> bool:
    """The page's first text line sits under the header's cells: the table goes on."""
    first = next((ln for ln in lines if len(ln.cells) >= 2), None)
    if first is None:
        return False
    aligned = sum(
        any(h.start - 4 <= c.start <= h.end + 1 for h in header.cells) for c in first.cells
    )
    return aligned >= 2 and aligned * 3 >= len(first.cells) * 2


def _last_header(lines: list[Line]) -> Header | None:
    last = None
    for i in range(len(lines)):
        header = find_header(lines, i)
        if header is not None:
            last = header
    return last


def _headings(lines: list[Line]) -> dict[str, str]:
    context: dict[str, str] = {}
    for line in lines:
        if len(line.cells) == 1 and CONTEXT_HEADING.match(line.cells[0].text):
            key, value = heading(line)
            context[key] = value
    return context


def carry(text: str, previous: str) -> str:
    """The context the next page needs: this page's last table header (of a school table or
    of another kind) and last heading, each else the previous page's."""
    lines = lines_of(text)
    old = lines_of(previous) if previous else []
    header_text = _last_header_text(lines)
    if not header_text:
        other = _last_other(old)
        # a table of people goes on only while the pages go on with it
        if other is None or _continues(other, lines):
            header_text = _last_header_text(old)
    heading_text = _last_heading_text(lines) or _last_heading_text(old)
    return "\n".join(t for t in (header_text, heading_text) if t)


def _last_header_text(lines: list[Line]) -> str:
    text = ""
    for i in range(len(lines)):
        header = find_header(lines, i)
        if header is not None:
            text = "\n".join(lines[k].text for k in header.lines)
        elif find_other_header(lines, i):
            text = lines[i].text
    return text


def _last_heading_text(lines: list[Line]) -> str:
    for line in reversed(lines):
        if len(line.cells) == 1 and CONTEXT_HEADING.match(line.cells[0].text):
            return line.text
    return ""
