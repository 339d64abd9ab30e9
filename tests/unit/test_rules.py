"""RulesExtractor on synthetic page texts (each layout) and on the committed sample PDFs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from handlers.records import PageText, SchoolRecord
from handlers.rules import RulesExtractor, find_boilerplate

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


async def run(*texts: str) -> list[SchoolRecord]:
    pages = [PageText(i, t) for i, t in enumerate(texts, 1)]
    ex = RulesExtractor()
    out: list[SchoolRecord] = []
    for chunk in ex.chunks(pages):
        out += (await ex.extract(chunk)).records
    for r in out:  # evidence always points at the page text and covers the name
        page = texts[r.evidence.page - 1]
        assert page[r.evidence.start : r.evidence.end] == r.evidence.snippet
        assert r.name in " ".join(r.evidence.snippet.split())
    return out


BLOCKS = """Springfield District Directory 2025-26
Lincoln Elementary School
123 Main St.
Springfield, IL 62701
Phone: (217) 555-0100
Grades: K-5
Website: www.lincoln.org
Martin Luther King Jr.
Elementary School
45 Oak Ave
Springfield, IL 62702
Phone: (217) 555-0101
Grades: PK-5
Rainier Prep
10211 12th Ave S
Seattle, WA 98168
Phone: (206) 494-5979
Page 1 of 3
"""


async def test_directory_blocks_fields_and_wrapped_name() -> None:
    recs = await run(BLOCKS)
    assert [r.name for r in recs] == [
        "Lincoln Elementary School",
        "Martin Luther King Jr. Elementary School",
        "Rainier Prep",
    ]
    first = recs[0]
    assert (first.address, first.city, first.region, first.postal_code) == (
        "123 Main St.",
        "Springfield",
        "IL",
        "62701",
    )
    assert (first.phone, first.grades, first.website, first.country) == (
        "(217) 555-0100",
        "K-5",
        "www.lincoln.org",
        "US",
    )
    assert recs[2].grades is None


async def test_boilerplate_lines_skipped_across_pages() -> None:
    pages = [
        BLOCKS.replace("Page 1 of 3", f"Page {n} of 3").replace("Lincoln", name)
        for n, name in enumerate(("Lincoln", "Adams", "Grant"), 1)
    ]
    boiler = find_boilerplate(pages)
    assert "Page # of #" in boiler
    assert not any(b.startswith("Phone") for b in boiler)
    recs = await run(*pages)
    assert len(recs) == 9
    assert not any("Directory" in r.name or "Page" in r.name for r in recs)


async def test_heading_not_joined_to_name() -> None:
    text = "ELEMENTARY SCHOOLS\nAdams Elementary\n1 First St\nTown, WA 98001\n"
    recs = await run(text)
    assert [r.name for r in recs] == ["Adams Elementary"]


async def test_australian_block_without_street_number() -> None:
    text = (
        "BURRINGURRAH REMOTE COMMUNITY SCHOOL\nBURRINGURRAH COMMUNITY\n"
        "MOUNT JAMES WA 6642\nPh: 08 9943 1650\nYears: KIN-Y12\n"
        "ADAM ROAD PRIMARY SCHOOL\nHOTCHIN STREET\nSOUTH BUNBURY WA 6230\nPh: 08 9796 3000\n"
    )
    recs = await run(text)
    assert [r.name for r in recs] == [
        "BURRINGURRAH REMOTE COMMUNITY SCHOOL",
        "ADAM ROAD PRIMARY SCHOOL",
    ]
    assert recs[0].address == "BURRINGURRAH COMMUNITY"
    assert (recs[0].country, recs[0].grades, recs[0].phone) == ("AU", "KIN-Y12", "08 9943 1650")
    assert recs[1].address == "HOTCHIN STREET"


async def test_table_single_spaced() -> None:
    text = (
        "School Name Address City ZIP Phone Grades\n"
        "Hillside Learning Center 212 GROVE ST ALLEGAN 49010 (269) 512-7900 PK-12\n"
        "New Haven High School PO Box 482000 New Haven 48048 (586) 749-5104 9-12\n"
    )
    recs = await run(text)
    assert [r.name for r in recs] == ["Hillside Learning Center", "New Haven High School"]
    assert (recs[0].address, recs[0].city, recs[0].postal_code) == (
        "212 GROVE ST",
        "ALLEGAN",
        "49010",
    )
    assert (recs[1].address, recs[1].city, recs[1].grades) == ("PO Box 482000", "New Haven", "9-12")


@pytest.mark.parametrize(
    ("row", "address", "city"),
    [
        ("Mohawk Elementary School 48101 ROMEO PLANK MACOMB", "48101 ROMEO PLANK", "MACOMB"),
        ("Oak School 7 OLD MILL RD NEW HAVEN", "7 OLD MILL RD", "NEW HAVEN"),
        ("Oak School 500 KINLOCH NEW HAVEN", "500 KINLOCH", "NEW HAVEN"),
        ("Oak School 500 KINLOCH SHELBY TOWNSHIP", "500 KINLOCH", "SHELBY TOWNSHIP"),
        ("Oak School 500 KINLOCH ALLEGAN", "500 KINLOCH", "ALLEGAN"),
        ("Veritas 18255 KINLOCH Redford", "18255 KINLOCH", "Redford"),
    ],
)
async def test_table_street_without_suffix(row: str, address: str, city: str) -> None:
    text = f"School Name Address City ZIP Phone Grades\n{row} 48044 (586) 723-6200 PK-5\n"
    recs = await run(text)
    assert len(recs) == 1
    assert (recs[0].address, recs[0].city) == (address, city)


async def test_table_with_wide_gaps() -> None:
    text = (
        "School Name    Address        City      Phone\n"
        "A Place to Grow    PO Box 878    Ojai    (805) 640-4300\n"
    )
    recs = await run(text)
    assert len(recs) == 1
    assert (recs[0].name, recs[0].address, recs[0].city) == (
        "A Place to Grow",
        "PO Box 878",
        "Ojai",
    )


async def test_prose_mentions() -> None:
    text = (
        "Annual Report\nStudents from Lincoln Elementary School and Roosevelt Middle\n"
        "School joined the fair. The High School band played, and the Springfield School\n"
        "District paid for buses. Teachers at St. Mary Academy helped.\n"
    )
    recs = await run(text)
    assert [r.name for r in recs] == [
        "Lincoln Elementary School",
        "Roosevelt Middle School",
        "St. Mary Academy",
    ]


def _sample_pages(pdf: Path) -> list[PageText]:
    reader = PdfReader(pdf, strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        return []
    return [PageText(i, p.extract_text() or "") for i, p in enumerate(reader.pages, 1)]


@pytest.mark.parametrize(
    "sample", ["directory_blocks", "table", "prose", "two_columns", "australia", "same_schools_b"]
)
async def test_sample_name_recall(sample: str) -> None:
    pdf = SAMPLES / f"{sample}.pdf"
    expected = json.loads(pdf.with_suffix(".expected.json").read_text(encoding="utf-8"))
    ex = RulesExtractor()
    names: set[str] = set()
    for chunk in ex.chunks(_sample_pages(pdf)):
        names |= {" ".join(r.name.split()).casefold() for r in (await ex.extract(chunk)).records}
    hits = sum(1 for e in expected if e["name"].casefold() in names)
    assert hits / len(expected) >= 0.95


async def test_scanned_and_encrypted_samples_give_nothing() -> None:
    ex = RulesExtractor()
    for sample in ("scanned", "encrypted"):
        assert ex.chunks(_sample_pages(SAMPLES / f"{sample}.pdf")) == []
