"""Held-out layouts: score the rules extractor on directory layouts the samples do not use.

Usage: ``python -m bench.heldout [DATA_DIR]`` (default ``/work/shared/data``). Builds ~40
schools per layout from the real CSVs with a fixed seed, renders each layout to a PDF with
reportlab in a temp dir, extracts the text as the pipeline does (``handlers.text``), runs
``RulesExtractor`` + ``normalize_record`` + ``merge_duplicates``, and scores names and
fields against the CSV rows normalized by the same functions. Prints per-layout name and
field F1s, an overall line, and last ``heldout_name_f1=<number>``. Skips with a message when
the data dir is missing (CI does not run it).

The layouts are the ones real directories use and ``samples/`` does not: other label words
("Tel.", "Ph:", "Fax", "Principal:", "Enrollment:"), ALL-CAPS rows, address and city on one
line, reordered table columns with wrapped names, numbered lists, district headings, grade
spans written out, a phone on the name line in two columns, Australian variants.
"""

from __future__ import annotations

import asyncio
import csv
import random
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from bench.eval import FIELDS, Result, loose, match, report, score
from domain.matching.dedupe import merge_duplicates
from domain.normalize import normalize_record
from domain.records import Evidence, SchoolRecord
from handlers.reader.extractor import OfflineReader
from handlers.text import extract_pages

DEFAULT_DATA = Path("/work/shared/data")
SEED = 20250917
PER_LAYOUT = 40
PAGE_W: float = letter[0]
PAGE_H: float = letter[1]
TOP: float = PAGE_H - 72
BOTTOM = 60


@dataclass(frozen=True)
class School:
    """One CSV row with its values as the CSV prints them."""

    name: str
    address: str
    city: str
    region: str
    postal_code: str
    phone: str  # 10 digits (US) or "08 9796 3000" (AU)
    low: str  # "PK", "KG", "01".."12" / AU "KIN", "PPR", "Y01".."Y12"
    high: str
    district: str
    country: str


# --- reading the CSVs --------------------------------------------------------------------

_US_GRADES = {"PK", "KG", *(f"{n:02d}" for n in range(1, 13))}
_AU_GRADES = {"KIN", "PPR", *(f"Y{n:02d}" for n in range(1, 13))}


def _usable_name(name: str) -> bool:
    return 4 <= len(name) <= 46 and bool(re.search(r"[A-Za-z]{3}", name))


def read_us(path: Path) -> list[School]:
    out: list[School] = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            digits = re.sub(r"\D", "", row["Phone"])
            lo, hi = row["Low Grade*"].strip(), row["High Grade*"].strip()
            name = " ".join(row["School Name"].split())
            if row["Status"] != "Open" or len(digits) != 10 or not _usable_name(name):
                continue
            if lo not in _US_GRADES or hi not in _US_GRADES or lo == hi:
                continue
            if not re.fullmatch(r"\d{5}", row["ZIP"]) or not row["Street Address"].strip():
                continue
            out.append(
                School(
                    name,
                    " ".join(row["Street Address"].split()),
                    row["City"].strip(),
                    row["State"].strip(),
                    row["ZIP"],
                    digits,
                    lo,
                    hi,
                    row["District"].strip(),
                    "US",
                )
            )
    return out


def read_au(path: Path) -> list[School]:
    out: list[School] = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            digits = re.sub(r"\D", "", row["Phone"])
            lo, hi = row["Low Year"].strip(), row["High Year"].strip()
            name = row["School Name"].strip()
            if len(digits) != 10 or lo not in _AU_GRADES or hi not in _AU_GRADES:
                continue
            if not row["Street"].strip() or not _usable_name(name) or lo == hi:
                continue
            out.append(
                School(
                    name,
                    row["Street"].strip(),
                    row["Suburb"].strip(),
                    row["State"].strip(),
                    row["Postcode"].strip(),
                    f"{digits[:2]} {digits[2:6]} {digits[6:]}",
                    lo,
                    hi,
                    row["Education Region"].strip(),
                    "AU",
                )
            )
    return out


# --- display helpers ---------------------------------------------------------------------


def title(text: str) -> str:
    """'SOUTH BUNBURY' -> 'South Bunbury' (for layouts that print AU/caps rows mixed case)."""
    return " ".join(w[:1].upper() + w[1:].lower() for w in text.split())


def us_phone(s: School, style: int = 0) -> str:
    d = s.phone
    return (
        f"({d[:3]}) {d[3:6]}-{d[6:]}",
        f"{d[:3]}-{d[3:6]}-{d[6:]}",
        f"{d[:3]}.{d[3:6]}.{d[6:]}",
        f"({d[:3]}){d[3:6]}-{d[6:]}",
    )[style % 4]


def fax_of(s: School) -> str:
    d = s.phone
    last = (int(d[6:]) + 1) % 10000
    return f"({d[:3]}) {d[3:6]}-{last:04d}"


def grade_short(code: str) -> str:
    """'KG' -> 'K', '05' -> '5', 'KIN' -> 'K', 'PPR' -> 'PP', 'Y06' -> '6'."""
    code = {"KG": "K", "KIN": "K", "PPR": "PP"}.get(code, code)
    return str(int(code.lstrip("Y"))) if code.lstrip("Y").isdigit() else code


def _ordinal(code: str) -> str:
    short = grade_short(code)
    if not short.isdigit():
        return short
    n = int(short)
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n if n < 20 else n % 10, "th")
    return f"{n}{suffix}"


def grades_text(s: School, style: int) -> str:
    lo, hi = grade_short(s.low), grade_short(s.high)
    level = "Elementary" if hi.isdigit() and int(hi) <= 6 else "Secondary"
    return (
        f"Grades {lo}-{hi}",
        f"{lo}–{hi}",
        f"{_ordinal(s.low)}–{_ordinal(s.high)}",
        f"{level} ({lo}-{hi})",
        f"Grades: {lo} through {hi}",
        f"Gr. {lo}-{hi}",
    )[style % 6]


_FIRST = ["Maria", "James", "Linda", "Robert", "Patricia", "David", "Susan", "Kevin", "Angela"]
_LAST = ["Nguyen", "Johnson", "Garcia", "Miller", "Okafor", "Brennan", "Walsh", "Patel", "Reyes"]


def person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


# --- drawing -------------------------------------------------------------------------------

Cell = tuple[float, str, bool]  # x offset within the column, text, bold
Row = list[Cell]


@dataclass
class Doc:
    """Items (lists of rows) laid out top to bottom in columns, with a page title/footer."""

    title: str
    items: list[list[Row]]
    columns: int = 1
    head: list[Row] | None = None  # repeated at the top of every page (table header)
    gap: float = 10  # space between items
    size: float = 9
    single_text_object: bool = False  # a row as one text object with cursor moves


def _draw_row(c: Any, x: float, y: float, row: Row, doc: Doc) -> None:
    if doc.single_text_object:
        text = c.beginText(x + row[0][0], y)
        prev = row[0][0]
        for dx, cell, bold in row:
            text.setFont("Helvetica-Bold" if bold else "Helvetica", doc.size)
            text.moveCursor(dx - prev, 0)
            text.textOut(cell)
            prev = dx
        c.drawText(text)
        return
    for dx, cell, bold in row:
        c.setFont("Helvetica-Bold" if bold else "Helvetica", doc.size)
        c.drawString(x + dx, y, cell)


def render(doc: Doc, path: Path) -> None:
    c = canvas.Canvas(str(path), pagesize=letter, invariant=1)
    col_w = (PAGE_W - 108) / doc.columns
    line_h = doc.size + 3
    page = 1

    def start_page() -> float:
        c.setFont("Helvetica-Bold", 12)
        c.drawString(54, PAGE_H - 44, doc.title)
        c.setFont("Helvetica", 8)
        c.drawCentredString(PAGE_W / 2, 34, f"Page {page}")
        y = TOP
        for row in doc.head or []:
            _draw_row(c, 54, y, row, doc)
            y -= line_h + 4
        return y

    top = start_page()
    y, col = top, 0
    for item in doc.items:
        height = len(item) * line_h
        if y - height < BOTTOM:
            col += 1
            y = top
            if col == doc.columns:
                c.showPage()
                page += 1
                top = start_page()
                y, col = top, 0
        x = 54 + col * col_w
        for row in item:
            _draw_row(c, x, y, row, doc)
            y -= line_h
        y -= doc.gap
    c.showPage()
    c.save()


def text_rows(*lines: str, bold_first: bool = True) -> list[Row]:
    return [[(0.0, ln, bold_first and i == 0)] for i, ln in enumerate(lines)]


def wrap(text: str, width: int) -> list[str]:
    out: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*out, line] if line else out


# --- expected records ----------------------------------------------------------------------


def expected(s: School, shown: Sequence[str]) -> SchoolRecord:
    """The CSV row as a record with only the ``shown`` fields, normalized."""
    phone = s.phone if s.country == "AU" else f"({s.phone[:3]}) {s.phone[3:6]}-{s.phone[6:]}"
    values: dict[str, str | None] = {
        "address": s.address,
        "city": s.city,
        "region": s.region,
        "postal_code": s.postal_code,
        "phone": phone,
        "grades": f"{s.low}-{s.high}",
    }
    kept = {k: (v if k in shown else None) for k, v in values.items()}
    rec = SchoolRecord.of(s.name, Evidence(1, 0, 0, ""), {"country": s.country, **kept})
    return normalize_record(rec)


ALL = ("address", "city", "region", "postal_code", "phone", "grades")


@dataclass
class Layout:
    name: str
    doc: Doc
    want: list[SchoolRecord]


def _pick(pool: list[School], rng: random.Random, n: int = PER_LAYOUT) -> list[School]:
    """``n`` schools with distinct names (duplicates would be merged by design)."""
    seen: set[str] = set()
    out: list[School] = []
    for s in rng.sample(pool, min(len(pool), n * 3)):
        key = s.name.casefold()
        if key not in seen:
            seen.add(key)
            out.append(s)
        if len(out) == n:
            break
    return out


# --- layouts -------------------------------------------------------------------------------


def labels(us: list[School], rng: random.Random) -> Layout:
    """(a) Other label words and extra labelled lines inside blocks."""
    items, want = [], []
    for s in _pick(us, rng):
        lines = [s.name]
        if rng.random() < 0.4:
            lines.append(f"Principal: {person(rng)}")
        lines += [s.address, f"{s.city}, {s.region} {s.postal_code}"]
        p = us_phone(s, rng.randrange(3))
        lines += rng.choice(
            [
                [f"Tel. {p}"],
                [f"Ph: {p}", f"Fax: {fax_of(s)}"],
                [f"Telephone {p}"],
                [f"Phone: {p}   Fax: {fax_of(s)}"],
                [f"Tel: {p} | Fax: {fax_of(s)}"],
                [f"Main Office: {p}"],
            ]
        )
        if rng.random() < 0.5:
            lines.append(f"Email: office@{re.sub(r'[^a-z]', '', s.name.lower())[:12]}.org")
        if rng.random() < 0.4:
            lines.append(f"Enrollment: {rng.randrange(120, 2400)}")
        if rng.random() < 0.3:
            lines.append(f"{person(rng)}, Principal")
        shown = ["address", "city", "region", "postal_code", "phone"]
        if rng.random() < 0.5:
            lines.append(f"Grades: {grade_short(s.low)}-{grade_short(s.high)}")
            shown.append("grades")
        items.append(text_rows(*lines))
        want.append(expected(s, shown))
    return Layout("labels", Doc("Public School Directory", items), want)


def allcaps(fl_mi: list[School], rng: random.Random) -> Layout:
    """(b) ALL-CAPS rows as the FL/MI data prints them, raw phones and grade codes."""
    items, want = [], []
    for s in _pick(fl_mi, rng):
        lines = [s.name.upper(), s.address.upper(), f"{s.city.upper()}, {s.region} {s.postal_code}"]
        lines.append(f"PHONE: {us_phone(s, 3)}" if rng.random() < 0.5 else us_phone(s, 3))
        lines.append(f"GRADES: {s.low}-{s.high}")
        items.append(text_rows(*lines))
        want.append(expected(s, ALL))
    return Layout("allcaps", Doc("FLORIDA AND MICHIGAN SCHOOLS", items), want)


def one_line_address(us: list[School], rng: random.Random) -> Layout:
    """(c) Street, city, state and ZIP on one line."""
    items, want = [], []
    for s in _pick(us, rng):
        comma = rng.choice([",", ""])
        addr = f"{s.address}, {s.city}{comma} {s.region} {s.postal_code}"
        lines = [s.name, addr, us_phone(s, rng.randrange(3))]
        shown = ["address", "city", "region", "postal_code", "phone"]
        if rng.random() < 0.5:
            lines.append(f"Grades: {grade_short(s.low)}-{grade_short(s.high)}")
            shown.append("grades")
        items.append(text_rows(*lines))
        want.append(expected(s, shown))
    return Layout("one_line_address", Doc("Schools in the Region", items), want)


def table_reordered(us: list[School], rng: random.Random) -> Layout:
    """(d) City | Name of School | Phone | Grades | Address, long names wrap in their cell."""
    xs = [0.0, 90.0, 250.0, 335.0, 380.0]
    head: list[Row] = [
        [
            (x, h, True)
            for x, h in zip(
                xs, ["City", "Name of School", "Phone", "Grades", "Address"], strict=True
            )
        ]
    ]
    items, want = [], []
    pool = [s for s in us if len(s.address) <= 30 and len(s.city) <= 16]
    for s in _pick(pool, rng):
        parts = wrap(s.name, 28)
        g = f"{grade_short(s.low)}-{grade_short(s.high)}"
        cells = [s.city, parts[0], us_phone(s, 1), g, s.address]
        rows: list[Row] = [[(x, c, False) for x, c in zip(xs, cells, strict=True)]]
        rows += [[(xs[1], part, False)] for part in parts[1:]]
        items.append(rows)
        want.append(expected(s, ["address", "city", "phone", "grades"]))
    doc = Doc("School Listing by City", items, head=head, gap=3, size=8)
    return Layout("table_reordered", doc, want)


def table_institution(us: list[School], rng: random.Random) -> Layout:
    """(d) 'Institution' header, state column, one text object per row."""
    xs = [0.0, 190.0, 330.0, 420.0, 450.0, 500.0]
    names = ["Institution", "Street Address", "City", "State", "ZIP", "Telephone"]
    head: list[Row] = [[(x, h, True) for x, h in zip(xs, names, strict=True)]]
    items, want = [], []
    pool = [s for s in us if len(s.name) <= 36 and len(s.address) <= 28 and len(s.city) <= 17]
    for s in _pick(pool, rng):
        cells = [s.name, s.address, s.city, s.region, s.postal_code, us_phone(s, 2)]
        items.append([[(x, c, False) for x, c in zip(xs, cells, strict=True)]])
        want.append(expected(s, ["address", "city", "region", "postal_code", "phone"]))
    doc = Doc("Institutions", items, head=head, gap=2, size=7, single_text_object=True)
    return Layout("table_institution", doc, want)


def numbered(us: list[School], rng: random.Random) -> Layout:
    """(e) '1. Name – street, city, ST ZIP – phone', or a numbered name over a block."""
    items, want = [], []
    for n, s in enumerate(_pick(us, rng), 1):
        p = us_phone(s, rng.randrange(3))
        if rng.random() < 0.6:
            dash = rng.choice([" – ", " - ", ", "])
            line = f"{n}. {s.name}{dash}{s.address}, {s.city}, {s.region} {s.postal_code}{dash}{p}"
            items.append(text_rows(*wrap(line, 105), bold_first=False))
        else:
            rows = [f"{n}. {s.name}", s.address, f"{s.city}, {s.region} {s.postal_code}", p]
            items.append(text_rows(*rows))
        want.append(expected(s, ["address", "city", "region", "postal_code", "phone"]))
    return Layout("numbered", Doc("List of Schools", items, gap=4), want)


def district_headings(us: list[School], rng: random.Random) -> Layout:
    """(f) District section headings between blocks (ALL-CAPS or mixed case)."""
    by_district: dict[str, list[School]] = {}
    for s in us:
        by_district.setdefault(s.district, []).append(s)
    districts = [d for d, ss in by_district.items() if len(ss) >= 4 and d]
    items: list[list[Row]] = []
    want: list[SchoolRecord] = []
    seen: set[str] = set()
    while len(want) < PER_LAYOUT:
        d = rng.choice(districts)
        heading = d if not d.isupper() else rng.choice([f"{d} COUNTY SCHOOLS", f"{d} DISTRICT"])
        if not heading.isupper() and rng.random() < 0.5:
            heading = heading.upper()
        group = [s for s in rng.sample(by_district[d], 4) if s.name.casefold() not in seen]
        head = [heading]
        if rng.random() < 0.4:
            head.append(f"Superintendent: {person(rng)}")
        items.append(text_rows(*head))
        for s in group[: PER_LAYOUT - len(want)]:
            seen.add(s.name.casefold())
            g = f"Grades: {grade_short(s.low)}-{grade_short(s.high)}"
            phone = f"Phone: {us_phone(s)}"
            rows = [s.name, s.address, f"{s.city}, {s.region} {s.postal_code}", phone, g]
            items.append(text_rows(*rows))
            want.append(expected(s, ALL))
    return Layout("district_headings", Doc("County School Directory", items), want)


def grade_spans(us: list[School], rng: random.Random) -> Layout:
    """(g) Grade spans in words and typographic dashes."""
    items, want = [], []
    for s in _pick(us, rng):
        lines = [s.name, s.address, f"{s.city}, {s.region} {s.postal_code}"]
        lines += [f"Phone: {us_phone(s)}", grades_text(s, rng.randrange(6))]
        items.append(text_rows(*lines))
        want.append(expected(s, ALL))
    return Layout("grade_spans", Doc("Schools and Grade Levels", items), want)


def two_col_phone(us: list[School], rng: random.Random) -> Layout:
    """(h) Two columns; the phone sits on the name line, right of the name."""
    items, want = [], []
    pool = [s for s in us if len(s.name) <= 30]
    for s in _pick(pool, rng):
        rows: list[Row] = [[(0.0, s.name, True), (170.0, us_phone(s), False)]]
        rows += text_rows(s.address, f"{s.city}, {s.region} {s.postal_code}", bold_first=False)
        items.append(rows)
        want.append(expected(s, ["address", "city", "region", "postal_code", "phone"]))
    doc = Doc("Area Schools", items, columns=2, size=8, single_text_object=True)
    return Layout("two_col_phone", doc, want)


def australia(au: list[School], rng: random.Random) -> Layout:
    """(i) WA rows: 'Suburb WA 6230', 'Ph (08) 9796 3000', mixed case, one-line addresses."""
    items, want = [], []
    for s in _pick(au, rng):
        mixed = rng.random() < 0.6
        name = title(s.name) if mixed else s.name
        street = title(s.address) if mixed else s.address
        suburb = title(s.city) if mixed else s.city
        d = re.sub(r"\D", "", s.phone)
        phone = rng.choice(
            [
                f"Ph ({d[:2]}) {d[2:6]} {d[6:]}",
                f"Tel: {s.phone}",
                f"Phone ({d[:2]}) {d[2:6]} {d[6:]}",
            ]
        )
        place = f"{suburb} {s.region} {s.postal_code}"
        lines = [name, *([f"{street}, {place}"] if rng.random() < 0.3 else [street, place]), phone]
        years = rng.choice(
            [
                f"Years: {grade_short(s.low)}–{grade_short(s.high)}",
                f"Year levels {grade_short(s.low)}-{grade_short(s.high)}",
                f"{s.low}-{s.high}",
            ]
        )
        lines.append(years)
        items.append(text_rows(*lines))
        want.append(expected(s, ALL))
    return Layout("australia", Doc("Schools of Western Australia", items), want)


def build(data: Path) -> list[Layout]:
    wa = read_us(data / "us_washington_schools.csv")
    mi = read_us(data / "us_michigan_schools.csv")
    fl = read_us(data / "us_florida_schools.csv")
    au = read_au(data / "au_western_australia_schools.csv")
    makers: list[tuple[Callable[[list[School], random.Random], Layout], list[School]]] = [
        (labels, wa + mi),
        (allcaps, fl + mi),
        (one_line_address, wa + fl),
        (table_reordered, mi + wa),
        (table_institution, fl + wa),
        (numbered, wa + fl),
        (district_headings, fl + mi + wa),
        (grade_spans, wa + mi),
        (two_col_phone, wa + mi),
        (australia, au),
    ]
    return [make(pool, random.Random(f"{SEED}-{make.__name__}")) for make, pool in makers]


# --- running and scoring -------------------------------------------------------------------


async def _extract(pdf: bytes, name: str) -> list[SchoolRecord]:
    pages = extract_pages(pdf, name).pages
    ex = OfflineReader()
    results = await asyncio.gather(*(ex.extract(c) for c in ex.chunks(pages)))
    return [r for res in results for r in res.records]


def _as_dict(r: SchoolRecord) -> dict[str, Any]:
    return {"name": r.name, **{k: getattr(r, k) for k in FIELDS}}


def run_layout(layout: Layout, tmp: Path, *, show: bool = False) -> Result:
    path = tmp / f"{layout.name}.pdf"
    render(layout.doc, path)
    got = merge_duplicates(
        [normalize_record(r) for r in asyncio.run(_extract(path.read_bytes(), path.name))]
    )
    got = [replace(r, name=" ".join(r.name.split())) for r in got]
    want = [_as_dict(w) for w in layout.want]
    res = score(got, want)
    if show:
        _show_misses(got, want)
    return res


def _show_misses(got: list[SchoolRecord], want: list[dict[str, Any]]) -> None:
    pairs = match(got, want)
    gi, wj = {i for i, _ in pairs}, {j for _, j in pairs}
    for i, g in enumerate(got):
        if i not in gi:
            print(f"    FP  {g.name!r}")
    for j, w in enumerate(want):
        if j not in wj:
            print(f"    FN  {w['name']!r}")
    for i, j in pairs:
        for k in FIELDS:
            a, b = loose(getattr(got[i], k), k), loose(want[j].get(k), k)
            if a != b:
                shown = f"got {getattr(got[i], k)!r} want {want[j].get(k)!r}"
                print(f"    {k:<11} {got[i].name!r}: {shown}")


L = TypeVar("L", bound="Named")


class Named(Protocol):
    @property
    def name(self) -> str: ...


def run_bench(
    argv: Sequence[str],
    *,
    tag: str,
    needed: Sequence[str],
    build: Callable[[Path], list[L]],
    run: Callable[..., Result],
    extra: Callable[[Result], None] | None = None,
) -> None:
    """The command line shared by the held-out benches: ``[DATA_DIR] [LAYOUT ...] [-v]``."""
    args = [a for a in argv if not a.startswith("-")]
    show = "-v" in argv
    data = Path(args[0]) if args else DEFAULT_DATA
    if not all((data / n).exists() for n in needed):
        print(f"{tag}: data dir {data} not found (or incomplete); skipping")
        return
    total = Result()
    only = set(args[1:])
    with tempfile.TemporaryDirectory() as tmp:
        for layout in build(data):
            if only and layout.name not in only:
                continue
            res = run(layout, Path(tmp), show=show)
            report(layout.name, res)
            if extra is not None:
                extra(res)
            total.add(res)
    report("OVERALL", total)
    if extra is not None:
        extra(total)
    print(f"{tag}_name_f1={total.name.prf()[2]:.3f}")


def main(argv: Sequence[str]) -> None:
    run_bench(argv, tag="heldout", needed=["us_florida_schools.csv"], build=build, run=run_layout)


if __name__ == "__main__":
    main(sys.argv[1:])
