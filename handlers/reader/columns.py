"""Table headers and columns: a header row of known column words, and the columns its
rows make.

Columns come from the rows themselves (camelot's "stream" idea): every character column
that some row's cell covers is counted, and the gutters between columns are where almost no
row has text. Header cells are then matched to those columns by overlap, so a header that is
centred over left-aligned values, or printed over two lines ("Distância" / "(km)"), still
names its column. A column's role comes from its header word and is checked against what the
column holds (``recognise``); a column without a known header is typed by content alone.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass

from handlers.reader.headers import Role, fold, header_role
from handlers.reader.layout import Cell, Line
from handlers.reader.lexicon import DISTRICT_NAME, SCHOOL_WORD
from handlers.reader.recognise import Kind, is_phone, kind_of, letters

_MIN_HEADER_CELLS = 2
_MAX_HEADER_WORDS = 6


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
