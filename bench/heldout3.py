"""Third held-out set: layouts that ``samples/``, ``bench.heldout`` and ``bench.heldout2`` do
not use.

Usage: ``python -m bench.heldout3 [DATA_DIR] [LAYOUT ...] [-v]`` (default
``/work/shared/data``). Same structure and scoring as the other held-out sets (whose helpers
it imports): ~40 real schools per layout from the CSVs with a fixed seed (a new one),
rendered with reportlab, extracted as the pipeline does, normalized, merged and scored by
name and field. ``-v`` lists false positives, misses and wrong fields. Last line
``heldout3_name_f1=<number>``. Skips when the data dir is missing.

Layouts: person names inverted as a sorted directory prints them ("Lincoln, Abraham
Elementary", expected back as the CSV name); entries between horizontal rules with labels in
a left column ("School:", "Location:", "Contact:"); a table whose header spans two lines
("School" over "Name"); one tab-aligned line per school with no header; grade-band headings
("HIGH SCHOOLS") over name + phone lines; a three-column address book (CAPS name, street,
city line, phone, principal's name, blank line); bilingual Spanish / French labels
("Dirección", "Téléphone :"); a district letter (letterhead with the district office's own
address and phone, a cover paragraph, a short table, a signature).
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.eval import FIELDS, Result
from bench.heldout import (
    ALL,
    Doc,
    Row,
    School,
    _pick,
    expected,
    fax_of,
    grade_short,
    person,
    read_us,
    run_bench,
    text_rows,
    us_phone,
    wrap,
)
from bench.heldout2 import Layout2, Pages, Text, from_doc, run_layout
from domain.records import SchoolRecord

SEED = 20260212
PLACE = ("address", "city", "region", "postal_code", "phone")  # everything but grades


def _grades(s: School) -> str:
    return f"{grade_short(s.low)}-{grade_short(s.high)}"


def _csz(s: School) -> str:
    return f"{s.city}, {s.region} {s.postal_code}"


# --- (a) inverted person names -------------------------------------------------------------

_GIVEN = {
    "Abraham", "Albert", "Amelia", "Andrew", "Benjamin", "Booker", "Cesar", "Charles",
    "Clara", "Daniel", "David", "Dwight", "Edward", "Eleanor", "Frank", "Franklin",
    "Frederick", "George", "Harriet", "Helen", "Henry", "Horace", "Jackie", "James", "Jane",
    "John", "Joseph", "Louis", "Martin", "Mary", "Paul", "Ralph", "Richard", "Robert",
    "Rosa", "Samuel", "Susan", "Theodore", "Thomas", "Thurgood", "Walter", "William",
    "Woodrow",
}  # fmt: skip
_TYPE = {
    "Elementary", "Middle", "High", "School", "Academy", "Senior", "Junior", "Jr.",
    "Intermediate", "Primary", "Preparatory", "College", "Charter", "Magnet", "Early",
    "Continuation", "Alternative", "K-8",
}  # fmt: skip


def invert(name: str) -> str | None:
    """'Charles A Lindbergh Elementary School' -> 'Lindbergh, Charles A Elementary School';
    None unless the name is a given name, initials, a surname, then a school-type word."""
    words = name.split()
    if not words or words[0] not in _GIVEN:
        return None
    k = 1
    while k < len(words) - 1 and re.fullmatch(r"[A-Z]\.?", words[k]):
        k += 1
    if k >= len(words) - 1 or not re.fullmatch(r"[A-Z][a-z][A-Za-z'-]+", words[k]):
        return None
    rest = words[k + 1 :]
    if words[k] in _TYPE or rest[0] not in _TYPE:
        return None  # 'Franklin Middle School', 'Jane Lathrop Stanford Middle'
    return f"{words[k]}, {' '.join(words[:k])} {' '.join(rest)}"


def inverted_names(us: list[School], rng: random.Random) -> Layout2:
    """(a) A directory sorted by surname: 'Lincoln, Abraham Elementary' among plain names."""
    persons = _pick([s for s in us if invert(s.name) and len(s.name) <= 44], rng, 28)
    taken = {s.name.casefold() for s in persons}
    plain = [s for s in us if not invert(s.name) and s.name.casefold() not in taken]
    picked = persons + _pick(plain, rng, 12)
    entries = sorted(((invert(s.name) or s.name), s) for s in picked)
    items, want = [], []
    for shown, s in entries:
        p = us_phone(s, rng.randrange(3))
        phone = rng.choice([p, f"Phone: {p}", f"Tel. {p}"])
        items.append(text_rows(shown, s.address, _csz(s), phone))
        want.append(expected(s, PLACE))
    return from_doc("inverted_names", Doc("Schools A–Z (by surname)", items), want)


# --- (b) horizontal rules, labels in a left column -----------------------------------------


def ruled_labels(us: list[School], rng: random.Random) -> Layout2:
    """(b) Entries separated by rules; 'School:', 'Location:', 'Contact:' in a left column,
    the city line unlabelled under the street (or the whole address on 'Location:')."""
    picked = _pick([s for s in us if len(s.name) <= 60], rng)
    entries: list[list[tuple[str, str]]] = []
    want = []
    for s in picked:
        rows = [("School:", s.name)]
        if rng.random() < 0.3:
            rows.append(("Location:", f"{s.address}, {_csz(s)}"))
        else:
            rows += [("Location:", s.address), ("", _csz(s))]
        contact = us_phone(s, rng.randrange(3))
        if rng.random() < 0.4:
            contact += f"   Fax {fax_of(s)}"
        rows.append(("Contact:", contact))
        if rng.random() < 0.4:
            rows.append(("Principal:", person(rng)))
        shown = list(PLACE)
        if rng.random() < 0.6:
            rows.append(("Grades:", _grades(s)))
            shown.append("grades")
        entries.append(rows)
        want.append(expected(s, shown))

    def draw(path: Path) -> None:
        pg = Pages(path, "Directory of Schools")
        for rows in entries:
            pg.need(len(rows) * 11 + 14)
            pg.c.setLineWidth(0.5)
            pg.c.line(54, pg.y + 9, pg.w - 54, pg.y + 9)
            for label, value in rows:
                # a tab stop: label and value in one text object, as word processors write it
                text = pg.c.beginText(54, pg.y)
                text.setFont("Helvetica-Bold", 8.5)
                text.textOut(label)
                text.setFont("Helvetica", 8.5)
                text.moveCursor(76, 0)
                text.textOut(value)
                pg.c.drawText(text)
                pg.y -= 11
            pg.y -= 10
        pg.c.line(54, pg.y + 9, pg.w - 54, pg.y + 9)
        pg.save()

    return Layout2("ruled_labels", draw, want)


# --- (c) a table whose header spans two lines ----------------------------------------------


def two_line_header(us: list[School], rng: random.Random) -> Layout2:
    """(c) Header cells stacked on two lines: 'School' / 'Name', 'Street' / 'Address', ..."""
    xs = [0.0, 175.0, 305.0, 395.0, 440.0, 505.0]
    top = ["School", "Street", "", "ZIP", "Telephone", "Grade"]
    bottom = ["Name", "Address", "City", "Code", "Number", "Span"]
    head: list[Row] = [
        [(x, h, True) for x, h in zip(xs, top, strict=True) if h],
        [(x, h, True) for x, h in zip(xs, bottom, strict=True)],
    ]
    pool = [s for s in us if len(s.name) <= 34 and len(s.address) <= 26 and len(s.city) <= 16]
    items, want = [], []
    for s in _pick(pool, rng):
        cells = [s.name, s.address, s.city, s.postal_code, us_phone(s, 0), _grades(s)]
        items.append([[(x, c, False) for x, c in zip(xs, cells, strict=True)]])
        want.append(expected(s, ["address", "city", "postal_code", "phone", "grades"]))
    doc = Doc("Elementary and Secondary Schools", items, head=head, gap=3, size=7.5)
    return from_doc("two_line_header", doc, want)


# --- (d) one tab-aligned line per school, no header ----------------------------------------


def tab_lines(us: list[School], rng: random.Random) -> Layout2:
    """(d) 'Name<tab>street<tab>City, ST ZIP<tab>phone' with no header row."""
    xs = [0.0, 185.0, 320.0, 440.0]
    pool = [s for s in us if len(s.name) <= 36 and len(s.address) <= 27 and len(_csz(s)) <= 26]
    items, want = [], []
    for s in sorted(_pick(pool, rng), key=lambda s: s.name):
        cells = [s.name, s.address, _csz(s), us_phone(s, 1)]
        items.append([[(x, c, False) for x, c in zip(xs, cells, strict=True)]])
        want.append(expected(s, PLACE))
    doc = Doc("School Telephone Directory", items, gap=3, size=7, single_text_object=True)
    return from_doc("tab_lines", doc, want)


# --- (e) grade-band headings, name and phone only ------------------------------------------


def _band(s: School) -> str | None:
    lo, hi = s.low, s.high
    if hi == "12" and lo in {"09", "10"}:
        return "HIGH SCHOOLS"
    if hi in {"08", "09"} and lo in {"05", "06", "07"}:
        return "MIDDLE SCHOOLS"
    if lo in {"PK", "KG", "01"} and hi in {"04", "05", "06"}:
        return "ELEMENTARY SCHOOLS"
    return None


def grade_bands(us: list[School], rng: random.Random) -> Layout2:
    """(e) 'HIGH SCHOOLS' / 'MIDDLE SCHOOLS' / 'ELEMENTARY SCHOOLS' headings over one line
    per school: the name, then the phone at a tab stop (no leader dots, no address)."""
    items: list[list[Row]] = []
    want: list[SchoolRecord] = []
    for band, n in (("HIGH SCHOOLS", 13), ("MIDDLE SCHOOLS", 13), ("ELEMENTARY SCHOOLS", 14)):
        pool = [s for s in us if _band(s) == band and len(s.name) <= 46]
        items.append([[(0.0, band, True)]])
        for s in sorted(_pick(pool, rng, n), key=lambda s: s.name):
            items.append([[(0.0, s.name, False), (300.0, us_phone(s, 1), False)]])
            want.append(expected(s, ["phone"]))
    doc = Doc("School Phone List", items, gap=2, single_text_object=True)  # tab stops
    return from_doc("grade_bands", doc, want)


# --- (f) three-column address book ---------------------------------------------------------


def address_book(us: list[School], rng: random.Random) -> Layout2:
    """(f) NAME (caps, wrapped) / street / City, ST zip / (phone) / principal's name, a blank
    line between entries, three columns to a page."""
    items, want = [], []
    for s in _pick(us, rng):
        lines = [*wrap(s.name.upper(), 30), s.address, _csz(s), us_phone(s, 0)]
        boss = person(rng)
        lines.append(rng.choice([boss, boss, f"Dr. {boss}", f"{boss}, Principal"]))
        items.append(text_rows(*lines, bold_first=False))
        want.append(expected(s, PLACE))
    doc = Doc("SCHOOL ADDRESS BOOK", items, columns=3, size=7, gap=10)
    return from_doc("address_book", doc, want)


# --- (g) bilingual labels --------------------------------------------------------------------


def bilingual(us: list[School], rng: random.Random) -> Layout2:
    """(g) Spanish or French labels, alone or beside the English: 'Dirección / Address:',
    'Teléfono:', 'Téléphone / Telephone :', 'Niveaux :', 'Grados:'."""
    items, want = [], []
    for s in _pick(us, rng):
        p = us_phone(s, rng.randrange(3))
        both = rng.random() < 0.5
        if rng.random() < 0.6:
            addr, tel, fax, grd = (
                ("Dirección / Address:", "Teléfono / Phone:", "Fax:", "Grados / Grades:")
                if both
                else ("Dirección:", "Teléfono:", "Fax:", "Grados:")
            )
        else:
            addr, tel, fax, grd = (
                ("Adresse / Address :", "Téléphone / Telephone :", "Télécopieur / Fax :",
                 "Niveaux / Grades :")
                if both
                else ("Adresse :", "Téléphone :", "Télécopieur :", "Niveaux :")
            )  # fmt: skip
        lines = [s.name]
        if rng.random() < 0.3:
            lines.append(f"{addr} {s.address}, {_csz(s)}")
        else:
            lines += [f"{addr} {s.address}", _csz(s)]
        lines.append(f"{tel} {p}")
        if rng.random() < 0.3:
            lines.append(f"{fax} {fax_of(s)}")
        lines.append(f"{grd} {_grades(s)}")
        items.append(text_rows(*lines))
        want.append(expected(s, ALL))
    doc = Doc("Directorio de Escuelas / Répertoire des écoles / School Directory", items)
    return from_doc("bilingual", doc, want)


# --- (h) a district letter: letterhead, cover paragraph, short table -----------------------

_LETTER = (
    "As we begin the 2025-26 school year, I am pleased to share the contact information for "
    "the schools of {district}. School offices are open from 7:30 a.m. to 4:00 p.m. on "
    "school days. Please call your school directly with questions about enrollment, bus "
    "routes or meals; the district office at {phone} can help with anything else. Updated "
    "information is posted on our website throughout the year."
)


def district_letter(us: list[School], rng: random.Random) -> Layout2:
    """(h) One letter per district: a letterhead with the district office's address and
    phone, a date, a salutation, a paragraph, an 8-row table, a signature."""
    by_district: dict[str, list[School]] = {}
    for s in us:
        if len(s.name) <= 34 and len(s.address) <= 28 and s.district:
            by_district.setdefault(s.district, []).append(s)
    districts = sorted(d for d, ss in by_district.items() if len(ss) >= 12)
    letters: list[tuple[str, School, str, str, str, list[School]]] = []
    want: list[SchoolRecord] = []
    for d in rng.sample(districts, 5):
        group = sorted(_pick(by_district[d], rng, 8), key=lambda s: s.name)
        office = rng.choice(by_district[d])
        digits = office.phone[:6] + f"{rng.randrange(10000):04d}"
        street = f"{rng.randrange(100, 9999)} {rng.choice(['Main', 'Center', 'Park'])} St"
        letters.append((d, office, street, digits, person(rng), group))
        want += [expected(s, ["address", "phone", "grades"]) for s in group]
    xs = [72.0, 250.0, 400.0, 480.0]

    def draw(path: Path) -> None:
        pg = Pages(path, "")
        for n, (d, office, street, digits, boss, group) in enumerate(letters):
            if n:
                pg.new_page()
            c, mid = pg.c, pg.w / 2
            c.setFont("Helvetica-Bold", 14)
            c.drawCentredString(mid, pg.h - 60, d)
            c.setFont("Helvetica", 9)
            c.drawCentredString(mid, pg.h - 74, "Office of the Superintendent")
            place = f"{street} · {office.city}, {office.region} {office.postal_code}"
            c.drawCentredString(mid, pg.h - 86, place)
            phone = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
            slug = re.sub(r"[^a-z]", "", d.lower())[:14]
            c.drawCentredString(mid, pg.h - 98, f"Phone {phone} · www.{slug}.org")
            c.line(72, pg.h - 106, pg.w - 72, pg.h - 106)
            pg.y = pg.h - 130
            lines = ["September 2, 2025", "", "Dear Families and Community Members,", ""]
            lines += wrap(_LETTER.format(district=d, phone=phone), 100)
            for ln in lines:
                pg.put(Text(72, pg.y, ln, "Helvetica", 9.5))
                pg.y -= 13
            pg.y -= 10
            for x, h in zip(xs, ["School", "Address", "Phone", "Grades"], strict=True):
                pg.put(Text(x, pg.y, h, "Helvetica-Bold", 8.5))
            c.line(72, pg.y - 3, pg.w - 72, pg.y - 3)
            pg.y -= 14
            for s in group:
                cells = [s.name, s.address, us_phone(s, 0), _grades(s)]
                for x, cell in zip(xs, cells, strict=True):
                    pg.put(Text(x, pg.y, cell, "Helvetica", 8.5))
                pg.y -= 12
            pg.y -= 20
            for ln in ["Sincerely,", "", boss, "Superintendent"]:
                pg.put(Text(72, pg.y, ln, "Helvetica", 9.5))
                pg.y -= 13
        pg.save()

    return Layout2("district_letter", draw, want)


def build(data: Path) -> list[Layout2]:
    wa, mi, fl, ca = (
        read_us(data / f"us_{k}_schools.csv")
        for k in ("washington", "michigan", "florida", "california_public")
    )

    def rng(name: str) -> random.Random:
        return random.Random(f"{SEED}-{name}")

    return [
        inverted_names(ca + wa + mi, rng("inverted_names")),
        ruled_labels(wa + fl, rng("ruled_labels")),
        two_line_header(mi + ca, rng("two_line_header")),
        tab_lines(fl + mi, rng("tab_lines")),
        grade_bands(wa + ca + mi, rng("grade_bands")),
        address_book(ca + wa, rng("address_book")),
        bilingual(ca + fl, rng("bilingual")),
        district_letter(wa + mi + ca, rng("district_letter")),
    ]


def report_pr(res: Result) -> None:
    """Field precision / recall under ``report``'s F1 line (``P/R`` per field)."""
    cells = []
    for k in FIELDS:
        p, r, _ = res.fields[k].prf()
        cells.append(f"{k}={p:.2f}/{r:.2f}")
    print(" " * 21 + "P/R " + "  ".join(cells))


def main(argv: Sequence[str]) -> None:
    needed = [
        f"us_{k}_schools.csv" for k in ("washington", "michigan", "florida", "california_public")
    ]
    run_bench(argv, tag="heldout3", needed=needed, build=build, run=run_layout, extra=report_pr)


if __name__ == "__main__":
    main(sys.argv[1:])
