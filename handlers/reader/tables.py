"""Tables: a header row of known column words, then rows aligned under it.

Columns come from the rows themselves (camelot's "stream" idea): every character column
that some row's cell covers is counted, and the gutters between columns are where almost no
row has text. Header cells are then matched to those columns by overlap, so a header that is
centred over left-aligned values, or printed over two lines ("Distância" / "(km)"), still
names its column. A column's role comes from its header word and is checked against what the
column holds (``recognise``); a column without a known header is typed by content alone.

A line below a row that fills only text columns and none of the columns every row fills is
the rest of a wrapped cell. A one-cell line such as "Block: Thovalai" sets context for the
rows below it. A header found on an earlier page (passed in as context) reads a page that
continues the table without repeating it.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field

from handlers.reader.layout import Cell, Line
from handlers.reader.lexicon import (
    CONTEXT_HEADING,
    DISTRICT_NAME,
    SCHOOL_WORD,
    TOTAL_WORD,
    Role,
    fold,
    header_role,
)
from handlers.reader.recognise import Kind, is_grades, is_phone, kind_of, letters
from handlers.rules import SIGNOFF
from handlers.rules_fields import parse_csz

_MIN_HEADER_CELLS = 2
_MAX_HEADER_WORDS = 6
_ANCHOR_SHARE = 0.7  # a column filled in this share of rows is filled by every real row
_WRAP_REACH = 2  # lines between a wrapped cell's piece and its row's line
_MAX_MISSES = 4  # lines in a row that are no row, continuation or context end the table
_TEXT_ROLES = {Role.NAME, Role.SCHOOL, Role.ADDRESS, Role.CITY, Role.KIND, Role.DISTRICT,
               Role.REGION, Role.GRADES, Role.OTHER, None}  # fmt: skip


@dataclass(frozen=True)
class Header:
    """A header row: its cells (merged over the lines it spans) and their roles."""

    lines: tuple[int, ...]  # line indexes (into the page, or into the context)
    cells: tuple[Cell, ...]
    roles: tuple[Role | None, ...]

    @property
    def names_school(self) -> bool:
        return Role.NAME in self.roles or Role.SCHOOL in self.roles


@dataclass
class Column:
    start: int
    end: int
    role: Role | None = None
    header: str = ""

    def holds(self, cell: Cell) -> bool:
        return self.start <= cell.center <= self.end


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


def find_header(lines: list[Line], i: int) -> Header | None:
    """A header at line ``i``: at least two cells naming known columns, most cells known,
    none of them a value (a number, a phone, ...), and one column naming the school."""
    line = lines[i]
    if len(line.cells) < _MIN_HEADER_CELLS or not _header_like(line.cells):
        return None
    roles = tuple(header_role(c.text) for c in line.cells)
    known = sum(r is not None for r in roles)
    if known < _MIN_HEADER_CELLS or known * 3 < len(roles) * 2:
        return None
    header = Header((i,), line.cells, roles)
    above = i - 1
    if above >= 0 and not lines[above].blank and _header_like(lines[above].cells):
        header = _merge_header(header, lines[above], above)
    return header if header.names_school else None


def find_other_header(lines: list[Line], i: int) -> bool:
    """A header of a table about something else: people ("Committee Member", "Officer")
    and no column naming a school. The rows under it are no schools, whatever they hold."""
    line = lines[i]
    if len(line.cells) < _MIN_HEADER_CELLS or not _header_like(line.cells):
        return False
    roles = [_cell_roles(c.text) for c in line.cells]
    if sum(bool(r) for r in roles) * 3 < len(roles) * 2:
        return False
    found = set().union(*roles)
    return Role.PERSON in found and not found & {Role.NAME, Role.SCHOOL}


def _cell_roles(text: str) -> set[Role]:
    """Roles a header cell names, also in "Member/Address" or "Secretary & e-mail"."""
    parts = [text, *re.split(r"[/&,]", text)]
    return {r for r in (header_role(p) for p in parts) if r is not None}


def side_by_side(header: Header) -> list[tuple[Header, int, int]]:
    """The header, or its copies when it names the same columns two or three times side by
    side (two tables on one page): each with the character columns [lo, hi) it covers."""
    roles, n = header.roles, len(header.roles)
    for period in range(2, n // 2 + 1):
        copies = n // period
        if n % period or copies > 3 or not Header((), (), roles[:period]).names_school:
            continue
        if any(roles[k] != roles[k + period] for k in range(n - period)):
            continue
        parts = []
        for c in range(copies):
            cells = header.cells[c * period : (c + 1) * period]
            lo = 0 if c == 0 else (header.cells[c * period - 1].end + cells[0].start) // 2
            hi = (
                1 << 30
                if c == copies - 1
                else (cells[-1].end + header.cells[(c + 1) * period].start) // 2
            )
            parts.append(
                (Header(header.lines, cells, roles[c * period : (c + 1) * period]), lo, hi)
            )
        return parts
    return [(header, 0, 1 << 30)]


def _header_like(cells: tuple[Cell, ...]) -> bool:
    for cell in cells:
        words = cell.text.split()
        if len(words) > _MAX_HEADER_WORDS or kind_of(cell.text) not in (Kind.TEXT, Kind.ID):
            return False
        if sum(ch.isdigit() for ch in cell.text) > 2:
            return False
    return True


def _merge_header(header: Header, line: Line, index: int) -> Header:
    """Words printed above header cells ("Distância" over "(km)") join the cell below."""
    cells = list(header.cells)
    for extra in line.cells:
        nearest = min(range(len(cells)), key=lambda k: abs(cells[k].center - extra.center))
        below = cells[nearest]
        if abs(below.center - extra.center) > max(len(below.text), len(extra.text)):
            return header  # not aligned with the header: a title, not part of it
        cells[nearest] = Cell(
            min(below.start, extra.start),
            max(below.end, extra.end),
            f"{extra.text} {below.text}",
            below.offset,
        )
    roles = tuple(header_role(c.text) or header.roles[k] for k, c in enumerate(cells))
    return Header((index, *header.lines), tuple(cells), roles)


def build_columns(header: Header, rows: list[Line]) -> list[Column]:
    """Columns from where the row cells lie, named by the header cells over them."""
    coverage: Counter[int] = Counter()
    for line in rows:
        for cell in line.cells:
            coverage.update(range(cell.start, cell.end))
    threshold = max(1, int(0.08 * len(rows)))
    columns: list[Column] = []
    for x in sorted(coverage):
        if coverage[x] <= threshold:
            continue
        if columns and x <= columns[-1].end + 1:
            columns[-1].end = x
        else:
            columns.append(Column(x, x))
    if not columns:
        columns = [Column(c.start, c.end) for c in header.cells]
    return _name_columns(columns, header)


def _name_columns(columns: list[Column], header: Header) -> list[Column]:
    """Give each column the role of the header cell over it; split a column that two header
    cells claim (values of two columns running together) between them."""
    claims: dict[int, list[int]] = {}
    for h, cell in enumerate(header.cells):
        best = max(
            range(len(columns)),
            key=lambda k: (_overlap(columns[k], cell), -abs(_center(columns[k]) - cell.center)),
        )
        claims.setdefault(best, []).append(h)
    named: list[Column] = []
    for k, column in enumerate(columns):
        owners = claims.get(k, [])
        if not owners:
            named.append(column)
            continue
        bounds = [column.start]
        for a, b in itertools.pairwise(owners):
            bounds.append((header.cells[a].end + header.cells[b].start) // 2)
        bounds.append(column.end)
        for n, h in enumerate(owners):
            named.append(Column(bounds[n], bounds[n + 1], header.roles[h], header.cells[h].text))
    return named


def _overlap(column: Column, cell: Cell) -> int:
    return max(0, min(column.end, cell.end) - max(column.start, cell.start))


def _center(column: Column) -> float:
    return (column.start + column.end) / 2


def place(line: Line, columns: list[Column]) -> dict[int, list[str]]:
    """The line's cells by column (a cell goes where its centre falls, else the nearest)."""
    placed: dict[int, list[str]] = {}
    for cell in line.cells:
        inside = [k for k, c in enumerate(columns) if c.holds(cell)]
        k = (
            inside[0]
            if inside
            else min(
                range(len(columns)),
                key=lambda n: min(
                    abs(columns[n].start - cell.center), abs(columns[n].end - cell.center)
                ),
            )
        )
        placed.setdefault(k, []).append(cell.text)
    return placed


def name_column(columns: list[Column], rows: list[dict[int, list[str]]]) -> int | None:
    """The column that names the school: the header says so, else the most name-like."""
    for role in (Role.NAME, Role.SCHOOL):
        found = [k for k, c in enumerate(columns) if c.role == role]
        if found:
            return max(found, key=lambda k: _name_score(k, rows))
    free = [k for k, c in enumerate(columns) if c.role in (None, Role.OTHER)]
    scored = [(k, _name_score(k, rows)) for k in free]
    scored = [(k, s) for k, s in scored if s > 0]
    return max(scored, key=lambda ks: ks[1])[0] if scored else None


def _name_score(k: int, rows: list[dict[int, list[str]]]) -> float:
    values = [" ".join(r[k]) for r in rows if k in r]
    if not values:
        return 0.0
    texty = [v for v in values if kind_of(v) == Kind.TEXT and letters(v) >= 3]
    distinct = len(set(values)) / len(values)
    schoolish = sum(bool(SCHOOL_WORD.search(v)) for v in values) / len(values)
    return (
        len(texty)
        / len(rows)
        * distinct
        * (1 + schoolish)
        * min(sum(len(v) for v in texty) / max(len(texty), 1) / 10, 3)
    )


def type_columns(columns: list[Column], rows: list[dict[int, list[str]]], name: int) -> None:
    """Check each column's role against its values; type unnamed columns by content."""
    has_region = any(c.role == Role.REGION for c in columns)
    for k, column in enumerate(columns):
        if k == name:
            column.role = Role.NAME
            continue
        values = [" ".join(r[k]) for r in rows if k in r]
        if not values:
            continue
        share = _shares(values)
        role = column.role
        if role in (None, Role.OTHER, Role.KIND, Role.GRADES, Role.SCHOOL):
            column.role = _by_content(role, share)
        elif role == Role.PHONE and share[Kind.PHONE] < 0.5:
            column.role = Role.OTHER
        elif role == Role.DISTRICT and not has_region and fold(column.header) in _BARE_DISTRICT:
            district_like = sum(bool(DISTRICT_NAME.search(v)) for v in values) / len(values)
            if district_like < 0.3:
                column.role = Role.REGION  # an administrative district ("KANNIYAKUMARI")


# "District" alone is an administrative district in many countries ("KANNIYAKUMARI"); a
# school district says so in its name ("Rice CISD"). "Diretoria", "LEA" are always offices.
_BARE_DISTRICT = frozenset(("district", "district name", "distrito", "districts"))


def _shares(values: list[str]) -> Counter[Kind]:
    kinds: Counter[Kind] = Counter()
    for value in values:
        kind = kind_of(value)
        if kind == Kind.TEXT and is_phone(value):
            kind = Kind.PHONE
        kinds[kind] += 1
    return Counter({k: n / len(values) for k, n in kinds.items()})


def _by_content(role: Role | None, share: Counter[Kind]) -> Role | None:
    if share[Kind.GRADES] >= 0.6:
        return Role.GRADES
    if share[Kind.PHONE] >= 0.6:
        return Role.PHONE
    if share[Kind.WEBSITE] >= 0.6:
        return Role.WEBSITE
    if share[Kind.EMAIL] >= 0.6:
        return Role.EMAIL
    if share[Kind.POSTAL] >= 0.6:
        return Role.POSTAL
    if role == Role.SCHOOL and share[Kind.ID] >= 0.6:
        return Role.ID
    if role == Role.GRADES:
        return Role.OTHER  # "Category: Government" is no grade
    return role


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
