"""Tables: a header line naming columns ("School Name  Address  City  ZIP  Phone"), rows below.

pypdf joins a row's cells with one space unless the PDF leaves wide gaps, so a row is split
two ways: by runs of 2+ spaces/tabs when the header splits that way, otherwise by recognizing
the fields (phone, ZIP, grades, street number) inside a single-spaced row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.rules_fields import (
    AU_STATES,
    GRADES_RE,
    PHONE_RE,
    STREET_SUFFIXES,
    URL,
    US_STATES,
    parse_csz,
)
from handlers.rules_names import TYPE_WORDS

# header words -> the field the column holds
_COLUMNS: tuple[tuple[str, str], ...] = (
    (r"school(?: name)?|name(?: of school)?|institution|campus", "name"),
    (r"(?:street |physical |mailing )?address|street|location", "address"),
    (r"city|suburb|town|locality", "city"),
    (r"state|st|province|region", "region"),
    (r"zip(?: code)?|postcode|post code|postal code|zip\+4", "postal_code"),
    (r"phone|telephone|tel|(?:phone|telephone) (?:number|no\.?)|ph", "phone"),
    (r"grades?(?: levels?| span| served)?|years?(?: levels?)?|levels?", "grades"),
    (r"website|web site|web|url", "website"),
    (r"district|lea|school district", "district"),
    (r"county(?: name)?|parish|borough", "county"),
    # NCES exports print the span as two columns: "Low" "KG", "High" "05"
    (r"low(?: grade)?|lowest grade|grade low", "grade_low"),
    (r"high(?: grade)?|highest grade|grade high", "grade_high"),
    (
        r"type|principal|email|e-mail|fax|enrol(?:l)?ment|students|code|id|no\.?|#|"
        r"(?:nces|state|school|district)(?: school)? id|ncessch",
        "other",
    ),
)
_IGNORED = ("other", "county")  # columns read past but not kept
_CELL_SPLIT = re.compile(r"\t+|\s{2,}")
_HOUSE_NO = re.compile(r"^\d+[A-Za-z]?(?:-\d+)?$")
_PO_BOX = re.compile(r"^(?:p\.?\s?o\.?|box)$", re.I)
_SUFFIX_TOKEN = re.compile(
    r"^(?:st|street|ave|avenue|av|rd|road|dr|drive|blvd|boulevard|ln|lane|way|ct|court|pl|"
    r"place|pkwy|parkway|hwy|highway|cir|circle|ter|terrace|trl|trail|pde|parade|cres|"
    r"crescent|sq|square|loop|pike|plaza|broadway|fwy|freeway|route|rte)\.?,?$",
    re.I,
)
_NUMBERED_ROAD = re.compile(r"^(?:highway|hwy|route|rte)\.?$", re.I)
_DIRECTIONAL = re.compile(r"^(?:n|s|e|w|ne|nw|se|sw|north|south|east|west)\.?,?$", re.I)
_UNIT = re.compile(r"^(?:ste|suite|unit|#\d+|apt|bldg)\.?$", re.I)
_TYPE_TOKEN = re.compile(rf"^(?:{TYPE_WORDS})\.?,?$", re.I)
# words that make a two-word place name: "NEW HAVEN", "ST CLAIR", "BLOOMFIELD HILLS"
_CITY_PREFIX = re.compile(
    r"^(?:new|old|east|west|north|south|upper|lower|saint|st|ste|mount|mt|fort|ft|port|"
    r"grand|great|little|big|lake|san|santa|los|las|la|el|de|des|du|le|bad|grosse|royal|"
    r"glen|palm|cedar|twin|round|white|black|red|green)\.?$",
    re.I,
)
_CITY_SUFFIX = re.compile(
    r"^(?:township|twp|city|hills?|heights|hts|springs?|park|beach|falls|rapids|harbou?r|"
    r"shores?|lakes?|village|junction|jct|creek|valley|center|centre|grove|woods|point|"
    r"ridge|bay|bluffs?|island|landing|mills?|station|haven|vista|gardens)\.?$",
    re.I,
)
_COUNTY_WORD = re.compile(r"^(?:county|parish|borough)$", re.I)
_SCHOOL_TOKEN = re.compile(
    rf"^(?:{TYPE_WORDS}|Middle|High|Primary|Secondary|Center|Centre|Charter)\.?$", re.I
)
_ADDRESS_WORDS = re.compile(rf"\b(?:{STREET_SUFFIXES}|box)\b", re.I)
_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$|^\d{4}$")


def _column(cell: str) -> str | None:
    cell = cell.strip().lower().rstrip(":")
    for pattern, name in _COLUMNS:
        if re.fullmatch(pattern, cell):
            return name
    return None


@dataclass(frozen=True)
class Header:
    columns: tuple[str, ...]  # field per column, in order
    split: bool  # cells separated by 2+ spaces / tabs


def parse_header(text: str) -> Header | None:
    """A table header: a school-name column and at least two other known columns."""
    if any(ch.isdigit() for ch in text):
        return None
    cells = [c for c in _CELL_SPLIT.split(text) if c]
    split = len(cells) >= 3
    columns = [_column(c) for c in cells] if split else _scan_words(text)
    if split and None in columns:
        columns, split = _scan_words(text), False
    found = [c for c in columns if c]
    if "name" not in found or len(set(found) - {"name", *_IGNORED}) < 2:
        return None
    return Header(tuple(c for c in found), split)


def _scan_words(text: str) -> list[str | None]:
    """Single-spaced header: match the longest known column names, left to right."""
    words = text.split()
    out: list[str | None] = []
    i = 0
    while i < len(words):
        for size in (3, 2, 1):
            col = _column(" ".join(words[i : i + size]))
            if col:
                out.append(col)
                i += size
                break
        else:
            return [None]
    return out


def parse_row(text: str, header: Header) -> dict[str, str] | None:
    if header.split:
        cells = [c.strip() for c in _CELL_SPLIT.split(text) if c.strip()]
        if len(cells) == len(header.columns):
            row = _join_grades({col: cell for col, cell in zip(header.columns, cells, strict=True)})
            for col in _IGNORED:
                row.pop(col, None)
            return row if row.get("name") else None
    return _parse_tokens(text, header)


def _join_grades(row: dict[str, str]) -> dict[str, str]:
    """Low and high grade columns make one span ("KG", "05" -> "KG-05")."""
    low, high = row.pop("grade_low", None), row.pop("grade_high", None)
    if low and high and GRADES_RE.match(low) and GRADES_RE.match(high):
        row.setdefault("grades", f"{low}-{high}")
    return row


def _take(pattern: re.Pattern[str], text: str) -> tuple[str | None, str]:
    m = pattern.search(text)
    if not m:
        return None, text
    return m.group(0).strip(), (text[: m.start()] + " " + text[m.end() :]).strip()


def _parse_tokens(text: str, header: Header) -> dict[str, str] | None:
    cols = set(header.columns)
    row: dict[str, str] = {}
    phone, text = _take(PHONE_RE, text)
    if phone:
        row["phone"] = phone
    if "website" in cols:
        site, text = _take(re.compile(URL, re.I), text)
        if site:
            row["website"] = site
    tokens = text.split()
    _take_trailing(tokens, header.columns, row)
    _take_tail_fields(tokens, cols, row)
    if header.columns[0] != "name" and tokens and tokens[0].isdigit():
        tokens = tokens[1:]  # a leading code / id column
    _split_name_address(tokens, cols, row)
    strong = {"phone", "postal_code", "grades", "address"} & row.keys()
    return row if row.get("name") and strong else None


def _take_trailing(tokens: list[str], columns: tuple[str, ...], row: dict[str, str]) -> None:
    """The short cells at the end of a row, right to left in header order, up to the first
    column that is not one of them: grade columns, and codes or counts ("2110", "†") in
    columns we do not keep. Phones and websites were taken already."""
    found: dict[str, str] = {}
    for col in reversed(columns):
        if col in ("phone", "website"):
            continue
        if col in ("grade_low", "grade_high") and tokens and GRADES_RE.match(tokens[-1]):
            found[col] = tokens.pop()
        elif col == "other" and tokens and not re.search(r"[A-Za-z]{2}", tokens[-1]):
            tokens.pop()
        else:
            break
    row.update(_join_grades(found))


def _take_tail_fields(tokens: list[str], cols: set[str], row: dict[str, str]) -> None:
    """Grades, ZIP and state sit in short cells; take them from the right of the row."""
    if "grades" in cols and tokens and GRADES_RE.match(tokens[-1]):
        row["grades"] = tokens.pop()
    for i in range(len(tokens) - 1, 0, -1):
        if "postal_code" in cols and _ZIP.match(tokens[i]):
            row["postal_code"] = tokens.pop(i)
            if i - 1 > 0 and tokens[i - 1].upper() in US_STATES | AU_STATES:
                row["region"] = tokens.pop(i - 1)
            break
    if "region" in cols and "region" not in row:
        for i in range(len(tokens) - 1, 0, -1):
            if tokens[i] in US_STATES | AU_STATES:
                row["region"] = tokens.pop(i)
                break


def _address_start(tokens: list[str]) -> int:
    for i, tok in enumerate(tokens[1:], 1):
        if _HOUSE_NO.match(tok) or _PO_BOX.match(tok):
            return i
    # no street number: the name ends at its last type word ("ADAM ROAD PRIMARY SCHOOL")
    for i in range(len(tokens) - 1, 0, -1):
        if _TYPE_TOKEN.match(tokens[i - 1]) and not _TYPE_TOKEN.match(tokens[i]):
            return i
    return len(tokens)


def _address_end(tokens: list[str]) -> int:
    """Where the street ends and the city starts: after the first street suffix."""
    if _PO_BOX.match(tokens[0]):
        for i, tok in enumerate(tokens[:4]):
            if tok[:1].isdigit():
                return i + 1  # "PO Box 158" / "P.O. Box 12"
    for i, tok in enumerate(tokens[1:], 1):
        if _SUFFIX_TOKEN.match(tok):
            end = i + 1
            if _NUMBERED_ROAD.match(tok) and end < len(tokens) - 1 and tokens[end].isdigit():
                end += 1  # "STATE HIGHWAY 653", "Route 9"
            while end < len(tokens) and (
                _DIRECTIONAL.match(tokens[end]) or _UNIT.match(tokens[end])
            ):
                end += 1 + bool(_UNIT.match(tokens[end]))  # a unit carries its number
            return min(end, len(tokens))
    # no suffix: a change of case often marks the city ("18255 KINLOCH Redford")
    for i in range(2, len(tokens)):
        if tokens[i - 1].isupper() != tokens[i].isupper() and tokens[i][0].isalpha():
            return i
    return _city_start(tokens)


def _city_start(tokens: list[str]) -> int:
    """No suffix and no change of case ("48101 ROMEO PLANK MACOMB"): the city is the last
    word, or the last two when they read as one place name ("NEW HAVEN", "SHELBY TOWNSHIP");
    the street keeps its number and at least one word."""
    if len(tokens) <= 2:
        return len(tokens)
    size = 1
    if _CITY_PREFIX.match(tokens[-2]) or _CITY_SUFFIX.match(tokens[-1]):
        size = 2
    return max(2, len(tokens) - size)


def _drop_county(name: list[str]) -> list[str]:
    """A county column printed right after the name: "Venice High School Sarasota County".
    The county ends at "County"; it starts after the name's last school word when that is
    close, else it is one word, or two with a place prefix ("Los Angeles", "St. Lucie")."""
    if len(name) < 3 or not _COUNTY_WORD.match(name[-1]):
        return name
    for k in range(len(name) - 2, max(0, len(name) - 5), -1):
        if _SCHOOL_TOKEN.match(name[k - 1]):
            return name[:k]
    k = len(name) - 2
    if k > 1 and _CITY_PREFIX.match(name[k - 1]):
        k -= 1
    return name[:k]


def _split_name_address(tokens: list[str], cols: set[str], row: dict[str, str]) -> None:
    start = _address_start(tokens)
    name = tokens[:start]
    if "county" in cols:
        name = _drop_county(name)
    row["name"] = " ".join(name)
    rest = tokens[start:]
    if not rest:
        return
    if "address" not in cols:
        row["city"] = " ".join(rest)
        return
    if "city" not in cols:
        csz = parse_csz(" ".join(rest))
        row["address"] = " ".join(rest)
        if csz:
            row.update(csz)
        return
    end = _address_end(rest)
    row["address"] = " ".join(rest[:end])
    if rest[end:]:
        row["city"] = " ".join(rest[end:])


# --- one cell per line ---------------------------------------------------------------------
# When each cell is its own text object, pypdf prints a table one cell per line: the header
# as a run of column names, then every row as that many lines. A long name wraps inside its
# cell and the rest of it follows the row.

MAX_COLUMNS = 14
_CELL_CHECKS: dict[str, re.Pattern[str]] = {
    "phone": re.compile(rf"^(?:{PHONE_RE.pattern})$", re.I),
    "postal_code": re.compile(r"^\d{5}(?:-\d{4})?$|^\d{4}$"),
    "grades": GRADES_RE,
    "grade_low": GRADES_RE,
    "grade_high": GRADES_RE,
    "region": re.compile(r"^[A-Za-z]{2,3}$|^[A-Z][a-z]+(?: [A-Z][a-z]+)?$"),
}


def parse_vertical_header(texts: list[str]) -> tuple[str, ...] | None:
    """Columns of a header printed one name per line at the start of ``texts``."""
    columns: list[str] = []
    for text in texts[:MAX_COLUMNS]:
        col = _column(text) if not any(ch.isdigit() for ch in text) else None
        if col is None:
            break
        columns.append(col)
    typed = set(columns) & {"phone", "postal_code", "grades", "address"}
    if columns.count("name") != 1 or len(set(columns) - {"name", *_IGNORED}) < 2 or not typed:
        return None
    return tuple(columns)


def _header_valid(columns: list[str]) -> bool:
    typed = set(columns) & {"phone", "postal_code", "grades", "address"}
    return (
        columns.count("name") == 1 and len(set(columns) - {"name", *_IGNORED}) >= 2 and bool(typed)
    )


_HEADER_WORD = re.compile(r"^[A-Za-z][A-Za-z.#]*(?: [A-Za-z][A-Za-z.#]*){0,2}$")


def parse_two_line_header(texts: list[str]) -> tuple[tuple[str, ...], int] | None:
    """A header whose cells are stacked on two lines ("School" over "Name", "ZIP" over
    "Code"), printed one cell per line: the top words, then the bottom words. Each top word
    joins the bottom word it makes a known column with, in order; a bottom word may stand
    alone ("City"). Returns the columns and how many lines the header takes."""
    words: list[str] = []
    for text in texts[: 2 * MAX_COLUMNS]:
        if not _HEADER_WORD.match(text) or len(text) > 25:
            break
        words.append(text)
    for top_size in range(len(words) // 2, 1, -1):  # most pairs first
        top = words[:top_size]
        for bottom_size in range(len(words) - top_size, top_size - 1, -1):
            columns = _pair_columns(top, words[top_size : top_size + bottom_size])
            if columns and _header_valid(columns):
                return tuple(columns), top_size + bottom_size
    return None


def _pair_columns(top: list[str], bottom: list[str]) -> list[str] | None:
    columns: list[str] = []
    k = 0
    for word in bottom:
        both = _column(f"{top[k]} {word}") if k < len(top) else None
        col = both or _column(word)
        if col is None:
            return None
        k += both is not None
        columns.append(col)
    return columns if k == len(top) else None


def parse_cells(cells: list[str], columns: tuple[str, ...]) -> dict[str, str] | None:
    """One row from its cells; None unless every typed cell looks like its type. A street
    without a number or a street word ("Doon Doon Station") passes when two typed cells
    (phone, postcode, grades) vouch for the row."""
    row: dict[str, str] = {}
    typed = 0
    for col, cell in zip(columns, cells, strict=True):
        check = _CELL_CHECKS.get(col)
        if check is not None and not check.match(cell):
            return None
        typed += col in ("phone", "postal_code", "grades")
        if col in ("name", "city") and (cell[:1].isdigit() or PHONE_RE.search(cell)):
            return None
        if col not in _IGNORED:
            row[col] = cell
    address = row.get("address")
    if address is not None and not _street_cell(address, typed):
        return None
    return _join_grades(row)


def _street_cell(cell: str, typed: int) -> bool:
    if cell[:1].isdigit() or _ADDRESS_WORDS.search(cell):
        return True
    return typed >= 2 and not PHONE_RE.search(cell) and not _ZIP.match(cell)
