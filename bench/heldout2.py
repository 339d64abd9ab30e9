"""Second held-out set: layouts that neither ``samples/`` nor ``bench/heldout.py`` use.

Usage: ``python -m bench.heldout2 [DATA_DIR] [LAYOUT ...] [-v]`` (default
``/work/shared/data``). Same structure and scoring as ``bench.heldout`` (whose helpers it
imports): ~40 real schools per layout from the CSVs with a fixed seed (a different one),
rendered with reportlab, extracted as the pipeline does, normalized, merged and scored by
name and field. Last line ``heldout2_name_f1=<number>``. Skips when the data dir is missing.

Layouts: "|"-separated rows under a "|" header; a table drawn with grid lines whose cells
hold two lines (street over "City, ST ZIP"); a state list grouped by county with dot
leaders to the phone; blocks with the phone first and a "Mailing address:" besides the
street; names with parenthetical notes ("(Charter)", "(formerly ...)"); a landscape
11-column NCES export (ID, county, enrollment, low and high grade columns); a catalogue of
bold names over prose paragraphs carrying address and phone; an accreditation list
("Name, City, ST — Accredited 2019"); mixed states with ZIP+4 and phone extensions; an
Australian table sorted by suburb with "Year 7 - Year 12" year levels.
"""

from __future__ import annotations

import asyncio
import csv
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import landscape, letter
from reportlab.pdfgen import canvas

from bench.eval import Result, score
from bench.heldout import (
    ALL,
    BOTTOM,
    Doc,
    Row,
    School,
    _as_dict,
    _extract,
    _pick,
    _show_misses,
    expected,
    fax_of,
    grade_short,
    person,
    read_au,
    read_us,
    render,
    run_bench,
    text_rows,
    title,
    us_phone,
    wrap,
)
from domain.matching.dedupe import merge_duplicates
from domain.normalize import normalize_record
from domain.records import SchoolRecord

SEED = 20251104


@dataclass(frozen=True)
class Extra:
    """CSV columns ``bench.heldout.School`` does not carry."""

    nces_id: str
    county: str
    zip4: str
    students: str


def read_extra(paths: Sequence[Path]) -> dict[tuple[str, str], Extra]:
    """(name, street) -> the extra columns of that row."""
    out: dict[tuple[str, str], Extra] = {}
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                key = (
                    " ".join(row["School Name"].split()),
                    " ".join(row["Street Address"].split()),
                )
                students = row["Students*"].split(".")[0]
                out[key] = Extra(
                    row["NCES School ID"],
                    row["County Name*"].strip(),
                    row["ZIP 4-digit"].strip(),
                    students if students.isdigit() else "",
                )
    return out


def want_with(s: School, shown: Sequence[str], *, postal_code: str, phone: str) -> SchoolRecord:
    """``expected`` with the raw ZIP and phone replaced (a ZIP+4, a phone extension)."""
    return normalize_record(replace(expected(s, shown), postal_code=postal_code, phone=phone))


@dataclass
class Layout2:
    name: str
    draw: Callable[[Path], None]
    want: list[SchoolRecord]


def from_doc(name: str, doc: Doc, want: list[SchoolRecord]) -> Layout2:
    return Layout2(name, lambda path: render(doc, path), want)


# --- free-form drawing (fonts, grid lines, landscape pages) --------------------------------


@dataclass
class Text:
    x: float
    y: float
    text: str
    font: str = "Helvetica"
    size: float = 8


class Pages:
    """A canvas that starts a page with a title and footer when ``need`` finds no room."""

    def __init__(self, path: Path, heading: str, size: tuple[float, float] = letter) -> None:
        self.c = canvas.Canvas(str(path), pagesize=size, invariant=1)
        self.w, self.h = size
        self.heading = heading
        self.page = 0
        self.y = 0.0
        self.new_page()

    @property
    def top(self) -> float:
        return self.h - 72

    def new_page(self) -> None:
        if self.page:
            self.c.showPage()
        self.page += 1
        self.c.setFont("Helvetica-Bold", 12)
        self.c.drawString(40, self.h - 44, self.heading)
        self.c.setFont("Helvetica", 8)
        self.c.drawCentredString(self.w / 2, 30, f"Page {self.page}")
        self.y = self.top

    def need(self, height: float) -> bool:
        """Start a new page if ``height`` does not fit; True when it did."""
        if self.y - height < BOTTOM:
            self.new_page()
            return True
        return False

    def put(self, t: Text) -> None:
        self.c.setFont(t.font, t.size)
        self.c.drawString(t.x, t.y, t.text)

    def save(self) -> None:
        self.c.showPage()
        self.c.save()


# --- layouts -------------------------------------------------------------------------------


def pipe_rows(us: list[School], rng: random.Random) -> Layout2:
    """(a) A text export: '|' between cells, header 'School Name | Address | City | ...'."""
    head = "School Name | Street Address | City | State | ZIP | Phone"
    items: list[list[Row]] = []
    want = []
    for s in _pick(us, rng):
        p = us_phone(s, rng.randrange(3))
        items.append(
            text_rows(
                f"{s.name} | {s.address} | {s.city} | {s.region} | {s.postal_code} | {p}",
                bold_first=False,
            )
        )
        want.append(expected(s, ["address", "city", "region", "postal_code", "phone"]))
    doc = Doc("Public Schools (export)", items, head=text_rows(head), gap=1, size=7)
    return from_doc("pipe_rows", doc, want)


def grid_table(us: list[School], rng: random.Random) -> Layout2:
    """(a) A ruled table drawn cell by cell; the address cell holds street over city line,
    long names wrap inside their cell."""
    xs = [40.0, 200.0, 370.0, 460.0, 520.0]  # column left edges; last is the right edge
    heads = ["School", "Address", "Phone", "Grades"]
    picked = _pick([s for s in us if len(s.address) <= 30], rng)
    want = [expected(s, ALL) for s in picked]

    def draw(path: Path) -> None:
        pg = Pages(path, "School Directory — Table of Schools")
        line_h = 10.0

        def hline(y: float) -> None:
            pg.c.line(xs[0], y, xs[-1], y)

        def vlines(y0: float, y1: float) -> None:
            for x in xs:
                pg.c.line(x, y0, x, y1)

        def header() -> None:
            hline(pg.y + 10)
            for x, h in zip(xs, heads, strict=False):
                pg.put(Text(x + 3, pg.y, h, "Helvetica-Bold"))
            vlines(pg.y - 4, pg.y + 10)
            pg.y -= 4
            hline(pg.y)
            pg.y -= 10

        header()
        for s in picked:
            cells = [
                wrap(s.name, 30),
                [s.address, f"{s.city}, {s.region} {s.postal_code}"],
                [us_phone(s, 0)],
                [f"{grade_short(s.low)}-{grade_short(s.high)}"],
            ]
            height = max(len(c) for c in cells) * line_h + 4
            if pg.need(height + 6):
                header()
            for x, cell in zip(xs, cells, strict=False):
                for k, text in enumerate(cell):
                    pg.put(Text(x + 3, pg.y - k * line_h, text))
            bottom = pg.y - height + 6
            vlines(bottom, pg.y + 10)
            hline(bottom)
            pg.y = bottom - 10
        pg.save()

    return Layout2("grid_table", draw, want)


def county_dots(
    us: list[School], extra: dict[tuple[str, str], Extra], rng: random.Random
) -> Layout2:
    """(b) A state ministry list: county headers, 'School name ........ phone' rows."""
    by_county: dict[str, list[School]] = {}
    for s in us:
        county = extra[(s.name, s.address)].county if (s.name, s.address) in extra else ""
        if county and len(s.name) <= 40:
            by_county.setdefault(county, []).append(s)
    counties = sorted(c for c, ss in by_county.items() if len(ss) >= 5)
    items: list[list[Row]] = []
    want: list[SchoolRecord] = []
    seen: set[str] = set()
    for county in sorted(rng.sample(counties, 10)):
        heading = county.upper() if rng.random() < 0.5 else county
        head = [heading]
        if rng.random() < 0.4:
            head.append(f"County Superintendent: {person(rng)}")
        items.append(text_rows(*head))
        group = [s for s in rng.sample(by_county[county], 5) if s.name.casefold() not in seen]
        for s in sorted(group[:4], key=lambda s: s.name):
            seen.add(s.name.casefold())
            p = us_phone(s, rng.randrange(3))
            dots = "." * max(4, 70 - len(s.name) - len(p))
            items.append(text_rows(f"{s.name} {dots} {p}", bold_first=False))
            want.append(expected(s, ["phone"]))
    doc = Doc("State Department of Education — Schools by County", items, gap=2)
    return from_doc("county_dots", doc, want)


def phone_first(us: list[School], rng: random.Random) -> Layout2:
    """(c) Phone before the address, plus a 'Mailing address:' line (the street is wanted)."""
    items, want = [], []
    pool = [s for s in us if not re.match(r"(?i)p\.?\s?o\.?\s*box|box\b", s.address)]
    for s in _pick(pool, rng):
        p = us_phone(s, rng.randrange(3))
        box = f"PO Box {rng.randrange(10, 9999)}"
        csz = f"{s.city}, {s.region} {s.postal_code}"
        style = rng.randrange(3)
        lines = [s.name, rng.choice([f"Phone: {p}", f"Tel. {p}", p])]
        if rng.random() < 0.4:
            lines.append(f"Fax: {fax_of(s)}")
        if style == 0:
            lines += [s.address, csz, f"Mailing address: {box}, {csz}"]
        elif style == 1:
            lines += [f"Mailing Address: {box}, {csz}", f"Physical Address: {s.address}", csz]
        else:
            lines += [f"Street: {s.address}, {csz}", f"Mailing: {box}, {csz}"]
        items.append(text_rows(*lines))
        want.append(expected(s, ["address", "city", "region", "postal_code", "phone"]))
    return from_doc("phone_first", Doc("Schools — Contact Information", items), want)


_TYPE_SWAP = (
    ("Elementary School", "Primary School"),
    ("Elementary", "Primary"),
    ("High School", "Senior High"),
    ("Middle School", "Junior High"),
    ("Academy", "School"),
)


def _formerly(name: str, rng: random.Random) -> str:
    for a, b in _TYPE_SWAP:
        if a in name:
            return name.replace(a, b, 1)
    return f"{name.split()[0]} {rng.choice(['Community School', 'Learning Center'])}"


def parenthetical(us: list[School], rng: random.Random) -> Layout2:
    """(d) Notes in brackets after the name: '(Charter)', '(formerly Lincoln Primary)'."""
    items, want = [], []
    pool = [s for s in us if "(" not in s.name and len(s.name) <= 36]
    for s in _pick(pool, rng):
        note = rng.choice(
            ["(Charter)", "(Magnet)", f"(formerly {_formerly(s.name, rng)})", "(Title I)"]
        )
        shown = ["address", "city", "region", "postal_code", "phone"]
        p = us_phone(s, rng.randrange(3))
        if rng.random() < 0.3:
            line = f"{s.name} {note} – {s.address}, {s.city}, {s.region} {s.postal_code} – {p}"
            items.append(text_rows(*wrap(line, 110), bold_first=False))
        else:
            lines = [f"{s.name} {note}", s.address, f"{s.city}, {s.region} {s.postal_code}"]
            items.append(text_rows(*lines, f"Phone: {p}"))
        want.append(expected(s, shown))
    return from_doc("parenthetical", Doc("Schools and Programs", items, gap=6), want)


def landscape_wide(
    us: list[School], extra: dict[tuple[str, str], Extra], rng: random.Random
) -> Layout2:
    """(e) Landscape NCES export: 11 columns incl. ID, county, enrollment, Low and High."""
    heads = ["NCES ID", "School Name", "County", "Street Address", "City", "State", "ZIP",
             "Phone", "Enrollment", "Low", "High"]  # fmt: skip
    xs = [30.0, 100.0, 265.0, 345.0, 480.0, 560.0, 590.0, 625.0, 690.0, 735.0, 755.0]
    pool = [
        s
        for s in us
        if (s.name, s.address) in extra
        and len(s.name) <= 34
        and len(s.address) <= 28
        and len(s.city) <= 16
        and len(extra[(s.name, s.address)].county) <= 18
    ]
    picked = _pick(pool, rng)
    want = [expected(s, ALL) for s in picked]

    def draw(path: Path) -> None:
        pg = Pages(path, "Public School Universe — selected schools", landscape(letter))

        def header() -> None:
            for x, h in zip(xs, heads, strict=True):
                pg.put(Text(x, pg.y, h, "Helvetica-Bold", 6.5))
            pg.c.line(30, pg.y - 3, pg.w - 30, pg.y - 3)
            pg.y -= 12

        header()
        for s in picked:
            if pg.need(10):
                header()
            ex = extra[(s.name, s.address)]
            cells = [ex.nces_id, s.name, ex.county, s.address, s.city, s.region,
                     s.postal_code, us_phone(s, 3), ex.students or "†", s.low, s.high]  # fmt: skip
            text = pg.c.beginText(xs[0], pg.y)
            text.setFont("Helvetica", 6.5)
            prev = xs[0]
            for x, cell in zip(xs, cells, strict=True):
                text.moveCursor(x - prev, 0)
                text.textOut(cell)
                prev = x
            pg.c.drawText(text)
            pg.y -= 10
        pg.save()

    return Layout2("landscape_wide", draw, want)


def _grades_words(s: School) -> str:
    lo, hi = grade_short(s.low), grade_short(s.high)
    lo = {"K": "kindergarten", "PK": "pre-kindergarten"}.get(lo, lo)
    return f"{lo} through {hi}"


def catalogue(us: list[School], rng: random.Random) -> Layout2:
    """(f) Bold larger name, then a prose paragraph with the address and phone inline."""
    picked = _pick([s for s in us if len(s.name) <= 44], rng)
    want = []
    paras: list[tuple[str, str]] = []
    for s in picked:
        g = f"{grade_short(s.low)}-{grade_short(s.high)}"
        p = us_phone(s, rng.randrange(3))
        n = rng.randrange(180, 1400)
        templates = [
            f"Located at {s.address}, {s.city}, the school serves grades {g}. Call {p}.",
            f"The campus at {s.address} in {s.city} enrolls about {n} students in grades "
            f"{_grades_words(s)}. For information call {p}.",
            f"Founded in {rng.randrange(1890, 2015)}, the school serves grades {g} at "
            f"{s.address}, {s.city}, {s.region} {s.postal_code}. Telephone {p}.",
        ]
        k = rng.randrange(3)
        paras.append((s.name, templates[k]))
        shown = ["address", "city", "phone", "grades"] + (
            ["region", "postal_code"] if k == 2 else []
        )
        want.append(expected(s, shown))

    def draw(path: Path) -> None:
        pg = Pages(path, "A Guide to Our Schools")
        for name, para in paras:
            lines = wrap(para, 95)
            pg.need(16 + 11 * len(lines))
            pg.put(Text(54, pg.y, name, "Helvetica-Bold", 12))
            pg.y -= 15
            for ln in lines:
                pg.put(Text(54, pg.y, ln, "Helvetica", 9))
                pg.y -= 11
            pg.y -= 10
        pg.save()

    return Layout2("catalogue", draw, want)


def accreditation(us: list[School], rng: random.Random) -> Layout2:
    """(g) 'Name, City, ST — Accredited 2019', one per line, no street or phone."""
    items, want = [], []
    for s in _pick([s for s in us if "," not in s.name], rng):
        status = rng.choice(
            [
                f"Accredited {rng.randrange(2010, 2025)}",
                "Candidate",
                f"Reaccredited {rng.randrange(2018, 2025)}",
            ]
        )
        dash = rng.choice([" — ", " – ", " - "])
        items.append(text_rows(f"{s.name}, {s.city}, {s.region}{dash}{status}", bold_first=False))
        want.append(expected(s, ["city", "region"]))
    doc = Doc("Accredited Member Schools 2024-25", items, gap=1)
    return from_doc("accreditation", doc, want)


def zip9_ext(us: list[School], extra: dict[tuple[str, str], Extra], rng: random.Random) -> Layout2:
    """(h) Several states, 9-digit ZIPs '98101-1234' and phone extensions 'x204'."""
    items, want = [], []
    for s in _pick(us, rng):
        ex = extra.get((s.name, s.address))
        zip4 = (
            ex.zip4 if ex and re.fullmatch(r"\d{4}", ex.zip4) else f"{rng.randrange(1, 9999):04d}"
        )
        zip9 = f"{s.postal_code}-{zip4}"
        p = us_phone(s, rng.randrange(3))
        ext = str(rng.randrange(2, 999))
        phone = rng.choice([f"{p} x{ext}", f"{p} ext. {ext}", f"{p}, Ext. {ext}"])
        lines = [s.name, s.address, f"{s.city}, {s.region} {zip9}", f"Phone: {phone}"]
        items.append(text_rows(*lines))
        shown = ["address", "city", "region", "postal_code", "phone"]
        want.append(want_with(s, shown, postal_code=zip9, phone=f"{p} ext. {ext}"))
    return from_doc("zip9_ext", Doc("Multi-State School Contacts", items, columns=2, size=8), want)


def _year(code: str) -> str:
    words = {"KIN": "Kindergarten", "PPR": "Pre-primary"}
    return words[code] if code in words else f"Year {int(code[1:])}"


def au_suburb_table(au: list[School], rng: random.Random) -> Layout2:
    """(i) Australian table sorted by suburb: Suburb | School | Address | Postcode | Phone |
    Year Levels ('Year 7 - Year 12')."""
    xs = [0.0, 95.0, 255.0, 370.0, 415.0, 480.0]
    heads = ["Suburb", "School", "Address", "Postcode", "Phone", "Year Levels"]
    head: list[Row] = [[(x, h, True) for x, h in zip(xs, heads, strict=True)]]
    pool = [s for s in au if len(s.name) <= 32 and len(s.address) <= 24 and len(s.city) <= 18]
    picked = sorted(_pick(pool, rng), key=lambda s: s.city)
    items, want = [], []
    for s in picked:
        d = re.sub(r"\D", "", s.phone)
        cells = [title(s.city), title(s.name), title(s.address), s.postal_code,
                 f"({d[:2]}) {d[2:6]} {d[6:]}", f"{_year(s.low)} - {_year(s.high)}"]  # fmt: skip
        items.append([[(x, c, False) for x, c in zip(xs, cells, strict=True)]])
        want.append(expected(s, ["address", "city", "postal_code", "phone", "grades"]))
    doc = Doc("Government Schools by Suburb", items, head=head, gap=2, size=7)
    return from_doc("au_suburb_table", doc, want)


def build(data: Path) -> list[Layout2]:
    paths = {k: data / f"us_{k}_schools.csv" for k in ("washington", "michigan", "florida")}
    paths["california"] = data / "us_california_public_schools.csv"
    wa, mi, fl, ca = (
        read_us(paths[k]) for k in ("washington", "michigan", "florida", "california")
    )
    au = read_au(data / "au_western_australia_schools.csv")
    extra = read_extra(list(paths.values()))

    def rng(name: str) -> random.Random:
        return random.Random(f"{SEED}-{name}")

    return [
        pipe_rows(mi + ca, rng("pipe_rows")),
        grid_table(wa + ca, rng("grid_table")),
        county_dots(ca + fl, extra, rng("county_dots")),
        phone_first(ca + mi, rng("phone_first")),
        parenthetical(ca + wa, rng("parenthetical")),
        landscape_wide(ca + fl, extra, rng("landscape_wide")),
        catalogue(wa + ca, rng("catalogue")),
        accreditation(ca + mi, rng("accreditation")),
        zip9_ext(ca + wa + mi + fl, extra, rng("zip9_ext")),
        au_suburb_table(au, rng("au_suburb_table")),
    ]


# --- running and scoring -------------------------------------------------------------------


def run_layout(layout: Layout2, tmp: Path, *, show: bool = False) -> Result:
    path = tmp / f"{layout.name}.pdf"
    layout.draw(path)
    got = merge_duplicates(
        [normalize_record(r) for r in asyncio.run(_extract(path.read_bytes(), path.name))]
    )
    got = [replace(r, name=" ".join(r.name.split())) for r in got]
    want: list[dict[str, Any]] = [_as_dict(w) for w in layout.want]
    res = score(got, want)
    if show:
        _show_misses(got, want)
    return res


def main(argv: Sequence[str]) -> None:
    needed = ["us_florida_schools.csv", "us_california_public_schools.csv"]
    run_bench(argv, tag="heldout2", needed=needed, build=build, run=run_layout)


if __name__ == "__main__":
    main(sys.argv[1:])
