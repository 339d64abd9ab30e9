"""The line readers of the offline reader: directory blocks, one-line entries, numbered
lists, text tables, catalogue paragraphs and prose mentions, in one text column ("flow")
that ``handlers.reader`` cut from the page (tables it recognised by geometry are gone).

Records carry RAW values exactly as printed; normalization is a later stage. Every record's
evidence is a span of the flow's text covering the block / row / mention it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from handlers.boilerplate import LETTER_OPENING, SIGNOFF, boilerplate_key
from handlers.rules_fields import (
    LIST_NUMBER,
    NAME_LABEL,
    Field,
    Line,
    classify,
    parse_entry,
    parse_paragraph,
    parse_place_entry,
    split_lines,
    strip_list_number,
)
from handlers.rules_names import (
    choose_name,
    has_school_word,
    has_type_word,
    is_heading,
    join_wrapped,
    plausible_name,
    prose_mentions,
    strip_note,
)
from handlers.rules_table import (
    MAX_COLUMNS,
    Header,
    parse_cells,
    parse_header,
    parse_row,
    parse_two_line_header,
    parse_vertical_header,
)

# A second address line that completes the first: a post box, a suite, a unit
_ADDRESS_MORE = re.compile(
    r"^(?:p\.?\s?o\.?\s*box|post\s+office\s+box|box|suite|ste|unit|bldg)\b", re.I
)


@dataclass
class _Block:
    name_lines: list[Line]
    fields: list[tuple[Line, Field]] = field(default_factory=list)
    name: str | None = None  # set when the name shares its line with fields (an entry)
    listed: bool = False  # one of a run of "Name, City, ST" lines

    def add(self, line: Line, found: Field) -> None:
        self.fields.append((line, found))

    @property
    def valid(self) -> bool:
        if self.listed:
            return True
        if self.name is not None and not self.placed:
            # "Transportation Office (217) 555-0100" is not a school: a one-line entry with
            # only a phone needs an address below it or a school word in its name
            return has_school_word(self.name)
        return any(f.strong for _, f in self.fields)

    @property
    def placed(self) -> bool:
        return any(k in ("address", "postal_code") for _, f in self.fields for k in f.values)

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        previous: str | None = None
        for _, found in self.fields:
            for key, value in found.values.items():
                if key == "address" and previous == "address" and _ADDRESS_MORE.match(value):
                    out["address"] = f"{out['address']}, {value}"  # "Post Office Box 547"
                else:
                    out.setdefault(key, value)  # the first phone is the main one; later = fax
            previous = found.kind if found.kind != "address_csz" else None
        return out

    def continue_website(self, line: Line) -> bool:
        """A web address too long for its column goes on on the next line: join it."""
        if not self.fields or self.fields[-1][1].kind != "website":
            return False
        text = line.text
        if " " in text or "@" in text or not re.fullmatch(r"[\w\-./?=&%+~#:]+", text):
            return False
        last_line, last = self.fields[-1]
        url = last.values["website"] + text
        self.fields[-1] = (
            Line(f"{last_line.text}{text}", last_line.start, line.end),
            Field("website", {"website": url}),
        )
        return True


@dataclass(frozen=True)
class _Found:
    name: str
    start: int  # chunk-text offsets
    end: int
    values: dict[str, str]


def read_lines(text: str, boilerplate: frozenset[str] = frozenset()) -> list[_Found]:
    """All schools in one chunk's text: tables and blocks line by line, then prose."""
    lines = split_lines(text)
    found: list[_Found] = []
    masked: list[tuple[int, int]] = []  # spans prose must not look at again
    i = 0
    while i < len(lines):
        header = parse_header(lines[i].text)
        vertical = _vertical_header(lines, i)
        if header:
            masked.append((lines[i].start, lines[i].end))
            i = _table(lines, i + 1, header, boilerplate, found, masked)
        elif vertical:
            columns, size = vertical
            masked.append((lines[i].start, lines[i + size - 1].end))
            j = i + size
            if j < len(lines) and _one_line_row(lines[j].text, columns):
                i = _table(lines, j, Header(columns, False), boilerplate, found, masked)
            else:
                i = _cell_table(lines, j, columns, boilerplate, found, masked)
        else:
            i = _blocks(lines, i, boilerplate, found, masked)
    for line in lines:
        if boilerplate_key(line.text) in boilerplate:
            masked.append((line.start, line.end))
    found += _catalogue(lines, masked)
    found += _prose(text, found, masked)
    found = [
        f if f.name == strip_note(f.name) else replace(f, name=strip_note(f.name)) for f in found
    ]
    return sorted(found, key=lambda f: f.start)


def _table(
    lines: list[Line],
    i: int,
    header: Header,
    boilerplate: frozenset[str],
    found: list[_Found],
    masked: list[tuple[int, int]],
) -> int:
    """Rows below a header; stops after a few lines that are not rows, or at a new header.
    Returns where the rows end, so the lines that were not rows are read again as blocks."""
    misses, end = 0, i
    while i < len(lines) and misses < 3 and not parse_header(lines[i].text):
        line = lines[i]
        if SIGNOFF.match(line.text):
            return i
        row = None if boilerplate_key(line.text) in boilerplate else parse_row(line.text, header)
        if row:
            name = row.pop("name")
            if row.get("postal_code") and not row.get("country"):
                row["country"] = _country(row)
            found.append(_Found(name, line.start, line.end, row))
            masked.append((line.start, line.end))
            misses, end = 0, i + 1
        else:
            misses += 1
        i += 1
    return i if misses < 3 else end


def _one_line_row(text: str, columns: tuple[str, ...]) -> bool:
    """Header cells one per line, but rows on one line each (a row is one text object)."""
    row = parse_row(text, Header(columns, False))
    return row is not None and "phone" in row and bool({"postal_code", "address"} & row.keys())


def _vertical_header(lines: list[Line], i: int) -> tuple[tuple[str, ...], int] | None:
    """Header cells one per line: the columns and how many lines they take."""
    columns = parse_vertical_header([ln.text for ln in lines[i : i + MAX_COLUMNS]])
    if columns:
        return columns, len(columns)
    return parse_two_line_header([ln.text for ln in lines[i : i + 2 * MAX_COLUMNS]])


def _table_start(lines: list[Line], i: int) -> bool:
    return bool(parse_header(lines[i].text) or _vertical_header(lines, i))


def _cell_table(
    lines: list[Line],
    i: int,
    columns: tuple[str, ...],
    boilerplate: frozenset[str],
    found: list[_Found],
    masked: list[tuple[int, int]],
) -> int:
    """Rows printed one cell per line below a one-name-per-line header. A line that does
    not start a row and reads as part of a name ends the name of the row above (a wrapped
    cell); other stray lines end the table after a few."""
    k, misses, end = len(columns), 0, i
    while i < len(lines) and misses < 3 and not _table_start(lines, i):
        if SIGNOFF.match(lines[i].text):
            return i  # "Sincerely," and the signer's name below it end a letter's table
        window = [ln for ln in lines[i : i + k]]
        if any(boilerplate_key(ln.text) in boilerplate for ln in window[:1]):
            i += 1
            continue
        row = parse_cells([ln.text for ln in window], columns) if len(window) == k else None
        if row:
            name = row.pop("name")
            if row.get("postal_code") and not row.get("country"):
                row["country"] = _country(row)
            found.append(_Found(name, window[0].start, window[-1].end, row))
            masked.append((window[0].start, window[-1].end))
            i, misses = i + k, 0
            end = i
            continue
        last = found[-1] if found else None
        line = lines[i]
        if (
            last is not None
            and misses == 0
            and _name_rest(line)
            and last.end < line.start
            and _row_follows(lines, i + 1, columns)
        ):
            found[-1] = _Found(f"{last.name} {line.text}", last.start, line.end, last.values)
            masked.append((last.start, line.end))
            i += 1
            misses = 1  # one wrapped line per row
            end = i
            continue
        misses += 1
        i += 1
    return i if misses < 3 else end


def _row_follows(lines: list[Line], i: int, columns: tuple[str, ...]) -> bool:
    """After a wrapped name line, the next row (or the end of the table) must follow;
    otherwise the line starts a row that did not parse ("Kununurra" in a suburb column)."""
    window = [ln.text for ln in lines[i : i + len(columns)]]
    if len(window) < len(columns) or _table_start(lines, i):
        return True
    return parse_cells(window, columns) is not None or classify(window[0]).kind != "text"


def _name_rest(line: Line) -> bool:
    """Could this line be the wrapped end of a name cell?"""
    text = line.text
    return plausible_name(text) and classify(text).kind == "text" and not is_heading(text)


def _country(row: dict[str, str]) -> str:
    # 5-digit ZIPs are US, 4-digit postcodes Australian (the only 4-digit layout we know)
    return "US" if len(row["postal_code"].split("-")[0]) == 5 else "AU"


def _blocks(
    lines: list[Line],
    i: int,
    boilerplate: frozenset[str],
    found: list[_Found],
    masked: list[tuple[int, int]],
) -> int:
    """Directory blocks from line ``i`` until a table header or the end of the chunk."""
    pending: list[Line] = []
    block: _Block | None = None
    while i < len(lines) and not _table_start(lines, i):
        line = lines[i]
        i += 1
        if boilerplate_key(line.text) in boilerplate:
            continue
        label = NAME_LABEL.match(line.text)
        if label and plausible_name(line.text[label.end() :]):
            # "School: Lincoln Elementary": the label says this is a name; it opens a block
            if block is not None:
                _close(block, found, masked)
            masked.append((line.start, line.start + label.end()))
            block, pending = (
                None,
                [Line(line.text[label.end() :], line.start + label.end(), line.end)],
            )
            continue
        kind = classify(line.text)
        if kind.kind == "address" and block is not None and block.fields and _weak(line):
            kind = Field("text")  # "Niles Cedar Lane" after a full block is the next name
        if kind.kind == "text" or LIST_NUMBER.match(line.text):
            entry, line, i = _entry(lines, i, line, boilerplate)
            listed = False
            if entry is None:
                entry, listed = _place(lines, i - 1)
            if entry is not None:
                if block is not None:
                    _close(block, found, masked)
                block = _Block([line], name=entry.values["name"], listed=listed)
                block.add(line, entry)
                pending = []
                continue
        if kind.kind == "text" and block is not None and block.continue_website(line):
            continue
        if kind.kind == "text":
            if block is not None and block.fields:
                _close(block, found, masked, letterhead=bool(LETTER_OPENING.match(line.text)))
                block = None
            # name lines above a block are contiguous: a blank line ends a title above
            pending = [line] if line.after_gap else [*pending[-2:], line]
            continue
        if block is None:
            block = _open(pending, line, kind)
            pending = []
            if block is None:
                continue
        block.add(line, kind)
    if block is not None:
        _close(block, found, masked)
    return i


def _entry(
    lines: list[Line], i: int, line: Line, boilerplate: frozenset[str]
) -> tuple[Field | None, Line, int]:
    """A one-line listing at ``line`` (``lines[i]`` is the line after it). A numbered entry
    may wrap: the next line joins it when it is not numbered and completes more fields."""
    entry = parse_entry(line.text)
    if LIST_NUMBER.match(line.text) and i < len(lines):
        nxt = lines[i]
        if not LIST_NUMBER.match(nxt.text) and boilerplate_key(nxt.text) not in boilerplate:
            joined = parse_entry(f"{line.text} {nxt.text}")
            if joined and (entry is None or len(joined.values) > len(entry.values)):
                return joined, Line(f"{line.text} {nxt.text}", line.start, nxt.end), i + 1
    return entry, line, i


def _place(lines: list[Line], i: int) -> tuple[Field | None, bool]:
    """A "Name, City, ST" line at ``lines[i]``: a school when its name has a school word, or
    when a neighbouring line reads the same way (a list of them). Second: listed."""
    entry = parse_place_entry(lines[i].text)
    if entry is None:
        return None, False
    near = [lines[k].text for k in (i - 1, i + 1) if 0 <= k < len(lines)]
    listed = any(parse_place_entry(t) for t in near)
    if not listed and not has_school_word(entry.values["name"]):
        return None, False
    return entry, listed


def _open(pending: list[Line], line: Line, kind: Field) -> _Block | None:
    """Start a block at a field line, taking its name from the text lines above it."""
    texts = [p.text for p in pending]
    block: _Block | None = None
    # An address that is not recognizable alone ("BURRINGURRAH COMMUNITY") sits right above
    # the city/state/ZIP line, below a name that is complete or does not wrap onto it.
    if kind.kind == "csz" and len(texts) >= 2 and _unmarked_address(texts):
        n = choose_name(texts[:-1])
        if n:
            block = _Block(pending[-1 - n : -1])
            block.add(pending[-1], Field("address", {"address": texts[-1]}))
    if block is None:
        n = choose_name(texts)
        if not n:
            return None
        block = _Block(pending[-n:])
    return block


def _weak(line: Line) -> bool:
    """An address recognized only by its suffix word, without a number."""
    return not any(ch.isdigit() for ch in line.text)


def _unmarked_address(texts: list[str]) -> bool:
    return has_type_word(texts[-2]) or not join_wrapped(texts[-2], texts[-1])


def _close(
    block: _Block, found: list[_Found], masked: list[tuple[int, int]], *, letterhead: bool = False
) -> None:
    """Record a finished block. A ``letterhead`` block (a date or "Dear ..." follows it) is
    the sender's own address: a school only when its name ends in a school-type word."""
    if not block.valid:
        return
    name = block.name or strip_list_number(" ".join(ln.text for ln in block.name_lines))
    if letterhead and not has_type_word(name):
        return
    start = block.name_lines[0].start
    end = max(ln.end for ln, _ in block.fields)
    found.append(_Found(name, start, end, block.values()))
    masked.append((start, end))


_PARAGRAPH_LINES = 6


def _catalogue(lines: list[Line], masked: list[tuple[int, int]]) -> list[_Found]:
    """A name on its own line over a paragraph about the school that gives its phone and
    street in sentences ("Located at 123 Main St, Springfield, ... Call (217) 555-0100.").
    Only lines no block, row or header used."""

    def free(line: Line) -> bool:
        return not any(s <= line.start < e for s, e in masked)

    out: list[_Found] = []
    i = 0
    while i < len(lines) - 1:
        head, first = lines[i], lines[i + 1]
        if not (free(head) and free(first) and _catalogue_name(head.text)):
            i += 1
            continue
        if plausible_name(first.text):
            i += 1
            continue  # the next line is no sentence: not a paragraph
        para = [first]
        j = i + 2
        while j < len(lines) and len(para) < _PARAGRAPH_LINES and free(lines[j]):
            if para[-1].text.endswith((".", "!", "?")) and _catalogue_name(lines[j].text):
                break  # the next school's name
            para.append(lines[j])
            j += 1
        values = parse_paragraph(" ".join(ln.text for ln in para))
        if values is None:
            i += 1
            continue
        out.append(_Found(head.text, head.start, para[-1].end, values))
        masked.append((head.start, para[-1].end))
        i = j
    return out


def _catalogue_name(text: str) -> bool:
    return (
        plausible_name(text)
        and not is_heading(text)
        and classify(text).kind == "text"
        and bool(re.search(r"[A-Za-z]{3}", text))
    )


def _prose(text: str, found: list[_Found], masked: list[tuple[int, int]]) -> list[_Found]:
    """Mentions in running text, outside spans already used by blocks, rows and headers."""
    chars = list(text)
    for start, end in masked:
        for k in range(start, end):
            if chars[k] != "\n":
                chars[k] = "|"  # keeps offsets, and no name can run across it
    seen = {f.name.casefold() for f in found}
    out: list[_Found] = []
    for m in prose_mentions("".join(chars)):
        if m.name.casefold() not in seen:
            seen.add(m.name.casefold())
            out.append(_Found(m.name, m.start, m.end, {}))
    return out
