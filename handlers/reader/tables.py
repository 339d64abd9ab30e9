"""Tables: a header row of known column words (``columns``), then rows aligned under it.

A line below a row that fills only text columns and none of the columns every row fills is
the rest of a wrapped cell. A one-cell line such as "Block: Thovalai" sets context for the
rows below it. A header found on an earlier page (passed in as context) reads a page that
continues the table without repeating it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from handlers.boilerplate import SIGNOFF
from handlers.reader.columns import (
    Column,
    Header,
    build_columns,
    find_header,
    name_column,
    place,
    type_columns,
)
from handlers.reader.headers import Role, fold
from handlers.reader.layout import Line
from handlers.reader.lexicon import CONTEXT_HEADING, TOTAL_WORD
from handlers.reader.recognise import Kind, is_grades, is_phone, kind_of, letters
from handlers.rules_fields import parse_csz

_ANCHOR_SHARE = 0.7  # a column filled in this share of rows is filled by every real row
_WRAP_REACH = 2  # lines between a wrapped cell's piece and its row's line
_MAX_MISSES = 4  # lines in a row that are no row, continuation or context end the table
_TEXT_ROLES = {Role.NAME, Role.SCHOOL, Role.ADDRESS, Role.CITY, Role.KIND, Role.DISTRICT,
               Role.REGION, Role.GRADES, Role.OTHER, None}  # fmt: skip


@dataclass
class Row:
    lines: list[Line]
    values: dict[int, list[str]] = field(default_factory=dict)  # column index -> pieces
    context: dict[str, str] = field(default_factory=dict)
    by_line: dict[int, dict[int, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_line = {self.lines[0].index: dict(self.values)}

    def text(self, column: int) -> str:
        return " ".join(self.values.get(column, [])).strip()


@dataclass(frozen=True)
class TableRecord:
    name: str
    start: int  # page-text offsets of the row (wrapped lines included)
    end: int
    values: dict[str, str]
    identifiers: dict[str, str]


@dataclass
class _Reading:
    columns: list[Column]
    anchors: set[int]
    name: int


@dataclass
class TableResult:
    records: list[TableRecord]
    end: int  # the line index after the table
    used: set[int]  # lines read as rows, wrapped cells or headings
    context: dict[str, str]  # headings in force at the end


def read_table(
    lines: list[Line], start: int, header: Header, context: dict[str, str]
) -> TableResult:
    """Rows from line ``start`` on, up to the next header."""
    stop = _region_end(lines, start)
    candidates = [ln for ln in lines[start:stop] if len(ln.cells) >= 2]
    nothing = TableResult([], start, set(), context)
    if not candidates:
        return nothing
    columns = build_columns(header, candidates)
    placed = [place(ln, columns) for ln in candidates]
    name = name_column(columns, placed)
    if name is None:
        return nothing
    type_columns(columns, placed, name)
    # columns every full row fills; lines holding only pieces of wrapped cells do not count
    counts = sorted(len(p) for p in placed)
    full = [p for p in placed if len(p) >= counts[(3 * len(counts)) // 4]]
    anchors = {
        k for k in range(len(columns)) if sum(k in p for p in full) >= _ANCHOR_SHARE * len(full)
    }
    anchors.add(name)
    reading = _Reading(columns, anchors, name)
    return _rows(lines, start, stop, reading, dict(context))


def _region_end(lines: list[Line], start: int) -> int:
    for j in range(start, len(lines)):
        if find_header(lines, j) is not None:
            return j
    return len(lines)


def _rows(
    lines: list[Line], start: int, stop: int, reading: _Reading, context: dict[str, str]
) -> TableResult:
    """Classify every line, then give each wrapped-cell line to the nearest row line: cells
    that wrap may be printed below the row's other values or centred around them."""
    typed: list[tuple[int, str, dict[int, list[str]]]] = []
    misses, end = 0, start
    for i in range(start, stop):
        line = lines[i]
        if line.blank:
            continue
        placed = place(line, reading.columns)
        kind = _line_kind(line, placed, reading)
        if kind == "end":
            break
        if kind == "miss":
            misses += 1
            if misses >= _MAX_MISSES:
                break
            continue
        misses, end = 0, i + 1
        typed.append((i, kind, placed))
    rows: dict[int, Row] = {}
    for i, kind, placed in typed:
        if kind == "row":
            rows[i] = Row([lines[i]], placed, dict(context))
        elif kind == "context":
            label, value = heading(lines[i])
            context[label] = value
    starts = sorted(rows)
    for i, kind, placed in typed:
        if kind == "more":
            owner = _owner(starts, i)
            if owner is not None:
                _extend(rows[owner], lines[i], placed)
    used = {i for i, _, _ in typed}
    ordered = [rows[i] for i in starts]
    records = [r for r in (_record(row, reading) for row in ordered) if r is not None]
    return TableResult(records, end, used, context)


def _owner(starts: list[int], i: int) -> int | None:
    """The row line nearest to line ``i`` (at most two lines away; the one above on a tie)."""
    k = bisect.bisect_left(starts, i)
    above = starts[k - 1] if k > 0 else None
    below = starts[k] if k < len(starts) else None
    best = None
    for candidate in (above, below):
        near = candidate is not None and abs(candidate - i) <= _WRAP_REACH
        if near and (best is None or abs(candidate - i) < abs(best - i)):  # type: ignore[operator]
            best = candidate
    return best


def _line_kind(line: Line, placed: dict[int, list[str]], reading: _Reading) -> str:
    if SIGNOFF.match(line.plain):
        return "end"  # "Sincerely,": a letter's table is over, its signer follows
    filled = set(placed)
    anchored = len(filled & reading.anchors)
    if anchored * 2 > len(reading.anchors) and len(line.cells) >= 2:
        return "row"
    if len(line.cells) == 1 and CONTEXT_HEADING.match(line.cells[0].text):
        return "context"
    text_only = all(reading.columns[k].role in _TEXT_ROLES for k in filled)
    if text_only and len(line.cells) <= 3:  # not a row: pieces of wrapped cells
        return "more"
    if len(reading.anchors) == 1 and reading.name in filled and len(line.cells) == 1:
        return "row"  # a one-column list under its header
    return "miss"


def _extend(row: Row, line: Line, placed: dict[int, list[str]]) -> None:
    row.lines.append(line)
    row.lines.sort(key=lambda ln: ln.index)
    merged: dict[int, list[str]] = {}
    for ln in row.lines:
        pieces = placed if ln is line else row.by_line[ln.index]
        for k, texts in pieces.items():
            merged.setdefault(k, []).extend(texts)
    row.by_line[line.index] = placed
    row.values = merged


_DISTRICT_HEADINGS = frozenset(
    (
        "school district", "district", "diretoria", "diretoria de ensino", "lea",
        "local authority", "education office", "distrito", "block", "cluster", "mandal",
        "taluk", "zone", "division", "circonscription",
    )
)  # fmt: skip


def heading(line: Line) -> tuple[str, str]:
    """A context heading's field (district or region) and value."""
    m = CONTEXT_HEADING.match(line.cells[0].text)
    assert m is not None
    label = fold(m.group("label") or m.group("caps"))
    value = m.group("value").strip(" :-–—") or line.cells[0].text
    role = "district" if label in _DISTRICT_HEADINGS else "region"
    return role, value


def _record(row: Row, reading: _Reading) -> TableRecord | None:
    name = " ".join(row.text(reading.name).split())
    if letters(name) < 2 or TOTAL_WORD.match(name) or kind_of(name) not in _NAME_KINDS:
        return None
    values: dict[str, str] = dict(row.context)
    identifiers: dict[str, str] = {}
    low = high = ""
    for k, column in enumerate(reading.columns):
        value = row.text(k)
        if not value or k == reading.name:
            continue
        role = column.role
        if role == Role.ID:
            identifiers[_scheme(column.header)] = value.replace(" ", "")
        elif role == Role.LOW_GRADE:
            low = value
        elif role == Role.HIGH_GRADE:
            high = value
        elif role == Role.PHONE:
            if is_phone(value):
                values["phone"] = value
        elif role == Role.GRADES:
            if is_grades(value) or column.header:
                values["grades"] = value
        elif role == Role.ADDRESS:
            values.update(_address(row.values[k]))
        elif role in _KEEP:
            values[_KEEP[role]] = value
    if low and high:
        values["grades"] = f"{low}-{high}"
    # from the row's first cell: a table printed beside another starts mid-line
    start = min(c.offset for ln in row.lines for c in ln.cells)
    return TableRecord(name, start, row.lines[-1].end, values, identifiers)


_NAME_KINDS = (Kind.TEXT, Kind.GRADES, Kind.ID)  # "Middle School No. 5", "PS-41"
_KEEP = {
    Role.ADDRESS: "address",
    Role.CITY: "city",
    Role.REGION: "region",
    Role.DISTRICT: "district",
    Role.POSTAL: "postal_code",
    Role.WEBSITE: "website",
    Role.KIND: "kind",
    Role.COUNTRY: "country",
}


_ID_WORDS = frozenset(["code", "codigo", "id", "number", "no", "num", "cod", "de", "do"])


def _address(pieces: list[str]) -> dict[str, str]:
    """An address cell; a wrapped piece that is a city, state and ZIP line fills those."""
    out: dict[str, str] = {}
    street: list[str] = []
    for piece in pieces:
        place = parse_csz(piece)
        if place is not None and street:
            for key, value in place.items():
                out.setdefault(key, value)
        else:
            street.append(piece)
    out["address"] = " ".join(street)
    return out


def _scheme(header: str) -> str:
    """ "UDISE code" -> "udise", "NCES ID" -> "nces", "Código INEP" -> "inep"."""
    words = [w for w in fold(header).split() if w not in _ID_WORDS]
    return "_".join(words) or "id"
