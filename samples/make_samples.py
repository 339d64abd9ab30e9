"""Build the sample PDFs in ``samples/`` (and their expected JSON) from real school rows.

Run once and commit the outputs: ``python samples/make_samples.py [DATA_DIR]``. The output is
deterministic (fixed seed, fixed PDF metadata) so re-running does not churn the committed files.
Expected JSON holds the NORMALIZED values (E.164 phones, "K-5" grades, 2-letter regions,
"https://host" websites) and null for anything the PDF does not show.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

DEFAULT_DATA = Path("/work/shared/data")
OUT = Path(__file__).resolve().parent
SEED = 20250601
PAGE_W, PAGE_H = letter
TOP = PAGE_H - 72
BOTTOM = 72


@dataclass(frozen=True)
class School:
    """One real row, with display values (as printed) and normalized values (expected)."""

    name: str
    address: str
    city: str
    region: str
    postal_code: str
    phone: str  # E.164
    phone_raw: str
    grades: str | None  # normalized "K-5"
    grades_raw: str | None
    website: str | None = None  # normalized "https://www.x.org"
    website_raw: str | None = None


def _expected(s: School, **override: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": s.name,
        "address": s.address,
        "city": s.city,
        "region": s.region,
        "postal_code": s.postal_code,
        "phone": s.phone,
        "grades": s.grades,
        "website": s.website,
    }
    data.update(override)
    return data


# --- reading the CSVs --------------------------------------------------------------------

_US_GRADE = {"PK": "PK", "KG": "K", "K": "K"}


def _us_grade(code: str) -> str | None:
    code = code.strip()
    if code in _US_GRADE:
        return _US_GRADE[code]
    if code.isdigit() and 1 <= int(code) <= 12:
        return str(int(code))
    return None  # "–", "UG", "AE", ... (not a grade span we can print)


def _au_grade(code: str) -> str | None:
    # WA "KIN" is kindergarten (age 4) and "PPR" pre-primary (age 5): print K / PP ranges as
    # the normalizer is expected to map them (KIN -> K, PPR -> K is lossy, so PPR -> "PP").
    code = code.strip().upper()
    if code == "KIN":
        return "K"
    if code == "PPR":
        return "PP"
    m = re.fullmatch(r"Y(\d\d)", code)
    return str(int(m.group(1))) if m else None


def _us_phone(raw: str) -> tuple[str, str] | None:
    digits = re.sub(r"\D", "", raw)
    if len(digits) != 10:
        return None
    return f"+1{digits}", f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())[:18]


def read_us(path: Path) -> list[School]:
    schools: list[School] = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            lo, hi = _us_grade(row["Low Grade*"]), _us_grade(row["High Grade*"])
            phone = _us_phone(row["Phone"])
            if not (lo and hi and phone and lo != hi and row["Status"] == "Open"):
                continue
            if not re.fullmatch(r"\d{5}", row["ZIP"]) or len(row["School Name"]) > 48:
                continue
            schools.append(
                School(
                    name=" ".join(row["School Name"].split()),
                    address=" ".join(row["Street Address"].split()),
                    city=row["City"].strip(),
                    region=row["State"].strip(),
                    postal_code=row["ZIP"],
                    phone=phone[0],
                    phone_raw=phone[1],
                    grades=f"{lo}-{hi}",
                    grades_raw=f"{lo}-{hi}",
                )
            )
    return schools


def read_au(path: Path) -> list[School]:
    schools: list[School] = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            digits = re.sub(r"\D", "", row["Phone"])
            lo, hi = _au_grade(row["Low Year"]), _au_grade(row["High Year"])
            if len(digits) != 10 or not (lo and hi) or not row["Street"].strip():
                continue
            schools.append(
                School(
                    name=row["School Name"].strip(),
                    address=row["Street"].strip(),
                    city=row["Suburb"].strip(),
                    region=row["State"].strip(),
                    postal_code=row["Postcode"].strip(),
                    phone=f"+61{digits[1:]}",
                    phone_raw=row["Phone"].strip(),
                    grades=f"{lo}-{hi}",
                    grades_raw=f"{row['Low Year'].strip()}-{row['High Year'].strip()}",
                )
            )
    return schools


def with_website(s: School) -> School:
    host = f"www.{_slug(s.name)}.org"
    return replace(s, website=f"https://{host}", website_raw=host)


# --- drawing helpers ---------------------------------------------------------------------


def new_canvas(buf: io.BytesIO) -> Any:
    # invariant=1 fixes the creation date and document id, so output is reproducible
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    c.setTitle("School directory sample")
    return c


def wrap_name(name: str, width: int) -> list[str]:
    """Split a long name over two lines at a word boundary, as a narrow column would."""
    if len(name) <= width:
        return [name]
    words = name.split()
    first: list[str] = []
    while words and len(" ".join([*first, words[0]])) <= width:
        first.append(words.pop(0))
    if not first or not words:
        return [name]
    return [" ".join(first), " ".join(words)]


def block_lines(s: School, *, wrap: int, rng: random.Random, au: bool = False) -> list[str]:
    lines = wrap_name(s.name, wrap)
    lines.append(s.address)
    if au:
        lines.append(f"{s.city} {s.region} {s.postal_code}")
        lines.append(f"Ph: {s.phone_raw}")
        if s.grades_raw:
            lines.append(f"Years: {s.grades_raw}")
        return lines
    lines.append(f"{s.city}, {s.region} {s.postal_code}")
    lines.append(f"Phone: {s.phone_raw}")
    if s.grades_raw:
        lines.append(f"Grades: {s.grades_raw}")
    if s.website_raw:
        lines.append(f"Website: {s.website_raw}")
    return lines


def header_footer(c: Any, title: str, page: int, total: int) -> None:
    c.setFont("Helvetica-Bold", 12)
    c.drawString(72, PAGE_H - 48, title)
    c.setFont("Helvetica", 9)
    c.drawCentredString(PAGE_W / 2, 40, f"Page {page} of {total}")


def draw_blocks(
    c: Any,
    pages: Sequence[Sequence[list[str]]],
    title: str,
    *,
    columns: int = 1,
) -> None:
    """Draw blocks of lines, ``pages`` of them, in one or two columns (left column first)."""
    col_w = (PAGE_W - 144) / columns
    for number, page in enumerate(pages, 1):
        header_footer(c, title, number, len(pages))
        per_col = -(-len(page) // columns)
        for col in range(columns):
            y = TOP - 12
            x = 72 + col * col_w
            for lines in page[col * per_col : (col + 1) * per_col]:
                for i, line in enumerate(lines):
                    c.setFont("Helvetica-Bold" if i == 0 else "Helvetica", 10)
                    c.drawString(x, y, line)
                    y -= 13
                y -= 12
        c.showPage()


def paginate(items: Sequence[Any], per_page: int) -> list[list[Any]]:
    return [list(items[i : i + per_page]) for i in range(0, len(items), per_page)]


# --- samples -----------------------------------------------------------------------------


@dataclass
class Sample:
    name: str
    pdf: bytes
    expected: list[dict[str, Any]]
    password: str | None = None  # set for encrypted samples


def directory_blocks(us: list[School], rng: random.Random, special: list[School]) -> Sample:
    picked = special + rng.sample(us, 34)
    picked = [with_website(s) if rng.random() < 0.3 else s for s in picked]
    rng.shuffle(picked)
    blocks = [block_lines(s, wrap=26, rng=rng) for s in picked]
    buf = io.BytesIO()
    c = new_canvas(buf)
    draw_blocks(c, paginate(blocks, 6), "Springfield District Directory 2025-26")
    c.save()
    return Sample("directory_blocks", buf.getvalue(), [_expected(s) for s in picked])


def _table_row(s: School) -> list[str]:
    return [s.name, s.address, s.city, s.postal_code, s.phone_raw, s.grades_raw or ""]


def _table_line(c: Any, xs: Sequence[float], cells: Sequence[str], y: float, font: str) -> None:
    # One text object per row, cells placed with relative moves, as spreadsheet exports do
    text = c.beginText(xs[0], y)
    text.setFont(font, 8)
    prev = xs[0]
    for x, cell in zip(xs, cells, strict=True):
        text.moveCursor(x - prev, 0)
        text.textOut(cell)
        prev = x
    c.drawText(text)


def table(us: list[School], rng: random.Random) -> Sample:
    picked = rng.sample([s for s in us if len(s.name) <= 34 and len(s.address) <= 26], 44)
    head = ["School Name", "Address", "City", "ZIP", "Phone", "Grades"]
    xs = [40, 215, 350, 440, 480, 560]
    buf = io.BytesIO()
    c = new_canvas(buf)
    pages = paginate(picked, 20)
    for number, rows in enumerate(pages, 1):
        header_footer(c, "Regional Schools Table", number, len(pages))
        _table_line(c, xs, head, TOP, "Helvetica-Bold")
        c.line(40, TOP - 4, PAGE_W - 20, TOP - 4)
        for i, s in enumerate(rows):
            _table_line(c, xs, _table_row(s), TOP - 18 - i * 14, "Helvetica")
        c.showPage()
    c.save()
    expected = [_expected(s, region=None, website=None) for s in picked]
    return Sample("table", buf.getvalue(), expected)


_TYPED = re.compile(r"(Elementary School|Middle School|High School|Academy|Elementary)$")

_PROSE = [
    "Students from {0} and {1} joined the district science fair this spring, where judges "
    "praised the range of projects on water quality.",
    "The robotics club at {0} mentored younger pupils at {1} every Thursday afternoon.",
    "In March, {0} hosted a regional debate tournament; teams from {1} and {2} reached the "
    "final round.",
    "Renovation work continues at {0}, while {1} opened its new library in October.",
    "Teachers from {0} shared their reading program with staff at {1}.",
]


def prose(us: list[School], rng: random.Random) -> Sample:
    typed = [s for s in us if _TYPED.search(s.name) and not s.name.isupper()]
    picked = rng.sample(typed, 22)
    paragraphs: list[str] = []
    used: list[School] = []
    while True:
        template = rng.choice(_PROSE)
        need = template.count("{")
        if len(used) + need > len(picked):
            break
        chunk = picked[len(used) : len(used) + need]
        paragraphs.append(template.format(*(s.name for s in chunk)))
        used += chunk
    buf = io.BytesIO()
    c = new_canvas(buf)
    c.setFont("Helvetica-Bold", 13)
    c.drawString(72, TOP, "Annual Report: Community Partnerships")
    y = TOP - 30
    for para in paragraphs:
        for line in _wrap_text(para, 88):
            c.setFont("Helvetica", 10)
            c.drawString(72, y, line)
            y -= 14
        y -= 10
        if y < BOTTOM:
            c.showPage()
            y = TOP
    c.save()
    none = {k: None for k in ("address", "city", "region", "postal_code", "phone", "grades")}
    return Sample("prose", buf.getvalue(), [_expected(s, **none) for s in used])


def _wrap_text(text: str, width: int) -> Iterator[str]:
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            yield line
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        yield line


def two_columns(us: list[School], rng: random.Random) -> Sample:
    picked = [with_website(s) if rng.random() < 0.2 else s for s in rng.sample(us, 40)]
    blocks = [block_lines(s, wrap=30, rng=rng) for s in picked]
    buf = io.BytesIO()
    c = new_canvas(buf)
    draw_blocks(c, paginate(blocks, 10), "County Schools Guide", columns=2)
    c.save()
    return Sample("two_columns", buf.getvalue(), [_expected(s) for s in picked])


def long_directory(us: list[School], rng: random.Random) -> Sample:
    picked = [with_website(s) if rng.random() < 0.15 else s for s in rng.sample(us, 300)]
    blocks = [block_lines(s, wrap=34, rng=rng) for s in picked]
    buf = io.BytesIO()
    c = new_canvas(buf)
    draw_blocks(c, paginate(blocks, 5), "Statewide School Directory")
    c.save()
    return Sample("long_directory", buf.getvalue(), [_expected(s) for s in picked])


def _draw_scanned_page(c: Any, rng: random.Random) -> None:
    """A page that looks like text (grey bars for words) but has no text operators."""
    c.setFillGray(0.2)
    y = TOP
    while y > BOTTOM:
        x = 72.0
        while x < PAGE_W - 100:
            w = rng.uniform(12, 60)
            c.rect(x, y, w, 7, stroke=0, fill=1)
            x += w + 6
        y -= rng.choice([13, 13, 25])
    c.showPage()


def scanned(rng: random.Random) -> Sample:
    buf = io.BytesIO()
    c = new_canvas(buf)
    for _ in range(3):
        _draw_scanned_page(c, rng)
    c.save()
    return Sample("scanned", buf.getvalue(), [])


def mixed_scanned(us: list[School], rng: random.Random) -> Sample:
    picked = rng.sample(us, 15)
    pages = paginate([block_lines(s, wrap=40, rng=rng) for s in picked], 5)
    buf = io.BytesIO()
    c = new_canvas(buf)
    for number, page in enumerate(pages, 1):
        if number == 2:
            _draw_scanned_page(c, rng)
        draw_blocks(c, [page], "Mixed Directory")
    c.save()
    return Sample("mixed_scanned", buf.getvalue(), [_expected(s) for s in picked])


def encrypt(pdf: bytes, user: str) -> bytes:
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(user_password=user, owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# Abbreviations real directories use: (full form, short form) applied to the "a" document.
_ABBREV = [
    ("Elementary School", "Elem"),
    ("High School", "H S"),
    ("Middle School", "Middle Sch"),
    ("Saint ", "St. "),
    ("Academy", "Acad"),
    ("Elementary", "Elem"),
    ("Junior/Senior", "Jr/Sr"),
    ("Senior", "Sr"),
]


def abbreviate(name: str) -> str:
    for full, short in _ABBREV:
        if full in name:
            return name.replace(full, short, 1)
    return name


def _alt_phone(e164: str) -> str:
    d = e164[2:]
    return f"{d[:3]}.{d[3:6]}.{d[6:]}"


def same_schools(us: list[School], rng: random.Random) -> tuple[Sample, Sample, list[Any]]:
    picked: list[School] = []
    for full, _ in _ABBREV:  # a few schools per abbreviation, so every kind is exercised
        pool = [s for s in us if full in s.name and not s.name.isupper() and s not in picked]
        picked += rng.sample(pool, min(3, len(pool)))
    picked = picked[:15]
    a_names = [abbreviate(s.name) for s in picked]
    a_names = [n.upper() if i % 3 == 0 else n for i, n in enumerate(a_names)]
    blocks = [
        [a, s.address, f"{s.city}, {s.region} {s.postal_code}", f"Tel {_alt_phone(s.phone)}"]
        for a, s in zip(a_names, picked, strict=True)
    ]
    buf = io.BytesIO()
    c = new_canvas(buf)
    draw_blocks(c, paginate(blocks, 8), "Member Schools (list A)")
    c.save()
    # names are stored as printed: the "a" list expects its abbreviations
    exp_a = [
        _expected(s, name=a, grades=None, website=None)
        for a, s in zip(a_names, picked, strict=True)
    ]
    sample_a = Sample("same_schools_a", buf.getvalue(), exp_a)

    order = list(range(len(picked)))
    rng.shuffle(order)
    b_pick = [picked[i] for i in order]
    buf = io.BytesIO()
    c = new_canvas(buf)
    draw_blocks(c, paginate([block_lines(s, wrap=60, rng=rng) for s in b_pick], 8), "List B")
    c.save()
    sample_b = Sample("same_schools_b", buf.getvalue(), [_expected(s) for s in b_pick])
    merges = [
        {"a": a, "b": s.name, "canonical": s.name} for a, s in zip(a_names, picked, strict=True)
    ]
    return sample_a, sample_b, merges


def australia(au: list[School], rng: random.Random) -> Sample:
    picked = rng.sample(au, 30)
    blocks = [block_lines(s, wrap=36, rng=rng, au=True) for s in picked]
    buf = io.BytesIO()
    c = new_canvas(buf)
    draw_blocks(c, paginate(blocks, 6), "Western Australia Schools List")
    c.save()
    return Sample("australia", buf.getvalue(), [_expected(s) for s in picked])


def build(data: Path) -> tuple[list[Sample], list[Any]]:
    rng = random.Random(SEED)
    ca = read_us(data / "us_california_public_schools.csv")
    wa = read_us(data / "us_washington_schools.csv")
    mi = read_us(data / "us_michigan_schools.csv")
    fl = read_us(data / "us_florida_schools.csv")
    au = read_au(data / "au_western_australia_schools.csv")
    special = [s for s in ca + wa if s.name in ("Rainier Prep",)]
    special += [
        School("A Place to Grow", "PO Box 878", "Ojai", "CA", "93024", "+18056404300",
               "(805) 640-4300", None, None)
    ]  # fmt: skip
    blocks = directory_blocks(wa + ca, rng, special)
    a, b, merges = same_schools(wa + ca, rng)
    samples = [
        blocks,
        table(mi, rng),
        prose(wa + ca, rng),
        two_columns(ca, rng),
        long_directory(mi + fl, rng),
        scanned(rng),
        mixed_scanned(wa, rng),
        Sample("encrypted", encrypt(blocks.pdf, "s3cret"), [], "s3cret"),
        Sample("encrypted_empty_pw", encrypt(blocks.pdf, ""), blocks.expected, ""),
        a,
        b,
        australia(au, rng),
    ]
    return samples, merges


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False) + "\n"


def _plain_text(pdf: bytes | Path, password: str) -> list[str] | None:
    """Decrypted page texts. Encryption salts are random, so an encrypted sample is only
    rewritten when its content changes; otherwise every run would churn the committed file."""
    if isinstance(pdf, Path):
        if not pdf.exists():
            return None
        pdf = pdf.read_bytes()
    reader = PdfReader(io.BytesIO(pdf))
    reader.decrypt(password)
    return [page.extract_text() for page in reader.pages]


def write(samples: Sequence[Sample], merges: list[Any], out: Path) -> None:
    for s in samples:
        target = out / f"{s.name}.pdf"
        if s.password is None or _plain_text(target, s.password) != _plain_text(s.pdf, s.password):
            target.write_bytes(s.pdf)
        (out / f"{s.name}.expected.json").write_text(dump(s.expected), encoding="utf-8")
    (out / "merges.json").write_text(dump(merges), encoding="utf-8")


def main(argv: Sequence[str]) -> None:
    data = Path(argv[0]) if argv else DEFAULT_DATA
    samples, merges = build(data)
    write(samples, merges, OUT)
    print(f"wrote {len(samples)} samples to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
