"""RulesExtractor on synthetic page texts (each layout) and on the committed sample PDFs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from handlers.records import PageText, SchoolRecord
from handlers.rules import RulesExtractor, find_boilerplate

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


async def run(*texts: str, contiguous: bool = True) -> list[SchoolRecord]:
    """Records of the page texts. Evidence always points at the page text and covers the
    name; ``contiguous=False`` when a name may be split by other cells (a wrapped table cell
    printed one cell per line)."""
    pages = [PageText(i, t) for i, t in enumerate(texts, 1)]
    ex = RulesExtractor()
    out: list[SchoolRecord] = []
    for chunk in ex.chunks(pages):
        out += (await ex.extract(chunk)).records
    for r in out:
        page = texts[r.evidence.page - 1]
        assert page[r.evidence.start : r.evidence.end] == r.evidence.snippet
        if contiguous:
            assert r.name in " ".join(r.evidence.snippet.split())
        else:
            assert set(r.name.split()) <= set(r.evidence.snippet.split())
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


# --- layouts beyond the samples (bench/heldout.py) ------------------------------------------


async def test_people_and_contact_lines_stay_inside_the_block() -> None:
    text = (
        "Lincoln Elementary School\nPrincipal: Jane Doe\n123 Main St\nSpringfield, IL 62701\n"
        "Tel. (217) 555-0100\nFax: (217) 555-0199\nEmail: office@lincoln.org\n"
        "Enrollment 512\nRobert Miller, Principal\nGrades: K-5\n"
        "Adams Middle School\n9 Oak Ave\nSpringfield, IL 62702\nMain Office: (217) 555-0200\n"
        "Fax (217) 555-0299\noffice@adams.org\n"
    )
    recs = await run(text)
    assert [r.name for r in recs] == ["Lincoln Elementary School", "Adams Middle School"]
    assert (recs[0].phone, recs[0].grades) == ("(217) 555-0100", "K-5")
    assert recs[1].phone == "(217) 555-0200"


async def test_role_rule_leaves_school_names_alone() -> None:
    text = "Dean Elementary School\n1 First St\nTown, WA 98001\n"
    assert [r.name for r in await run(text)] == ["Dean Elementary School"]


@pytest.mark.parametrize(
    ("line", "grades"),
    [
        ("K–8", "K–8"),
        ("9th–12th", "9th–12th"),
        ("Elementary (K-5)", "K-5"),
        ("Gr. PK-5", "PK-5"),
        ("KIN-Y06", "KIN-Y06"),
        ("Grades PK-5", "PK-5"),
    ],
)
async def test_grade_spans_without_the_usual_label(line: str, grades: str) -> None:
    text = f"Adams Elementary\n1 First St\nTown, WA 98001\n(360) 555-0100\n{line}\n"
    recs = await run(text)
    assert [(r.name, r.grades) for r in recs] == [("Adams Elementary", grades)]


async def test_district_heading_is_not_part_of_the_name() -> None:
    text = (
        "Federal Way School District\nWoodmont K-8 School\n26454 16th Ave S\n"
        "Des Moines, WA 98198\nPhone: (253) 945-5000\n"
    )
    assert [r.name for r in await run(text)] == ["Woodmont K-8 School"]


async def test_street_without_number_ending_in_a_direction() -> None:
    text = (
        "Toodyay District High School\nDrummond Street East, Toodyay WA 6566\nPh (08) 9574 9000\n"
    )
    recs = await run(text)
    assert [r.name for r in recs] == ["Toodyay District High School"]
    assert (recs[0].address, recs[0].city, recs[0].postal_code) == (
        "Drummond Street East",
        "Toodyay",
        "6566",
    )


async def test_numbered_list_entries() -> None:
    text = (
        "1. Lincoln Elementary School – 123 Main St, Springfield, IL 62701 – (217) 555-0100\n"
        "2. Bridgeprep Academy Interamerican Campus - 1234 SW 123rd Ave, Miami, FL\n"
        "33186 - (305) 555-1234\n"
        "3. Yacolt Primary\n406 W Yacolt Rd\nYacolt, WA 98675\n(360) 686-3151\n"
    )
    recs = await run(text)
    assert [r.name for r in recs] == [
        "Lincoln Elementary School",
        "Bridgeprep Academy Interamerican Campus",
        "Yacolt Primary",
    ]
    assert (recs[0].address, recs[0].city, recs[0].phone) == (
        "123 Main St",
        "Springfield",
        "(217) 555-0100",
    )
    assert (recs[1].postal_code, recs[1].phone) == ("33186", "(305) 555-1234")
    assert recs[2].address == "406 W Yacolt Rd"


async def test_phone_on_the_name_line() -> None:
    text = (
        "Brookside Elementary (206) 393-4140\n17447 37th Avenue N.E.\n"
        "Lake Forest Park, WA 98155\nVeritas (313) 242-3250\n18255 Kinloch\nRedford, MI 48240\n"
    )
    recs = await run(text)
    assert [(r.name, r.phone, r.city) for r in recs] == [
        ("Brookside Elementary", "(206) 393-4140", "Lake Forest Park"),
        ("Veritas", "(313) 242-3250", "Redford"),
    ]


async def test_contact_lines_with_a_phone_are_not_schools() -> None:
    text = (
        "Transportation Office (217) 555-0300\nFax (217) 555-0399\n"
        "Call (217) 555-0100 for details\n"
    )
    assert await run(text) == []


async def test_table_printed_one_cell_per_line() -> None:
    text = (
        "School Listing\nCity\nName of School\nPhone\nGrades\nAddress\n"
        "CHARLOTTE\nGalewood Early Elementary\n517-541-5150\nPK-K\n378 STATE ST\nSchool\n"
        "CROSWELL\nFrostick School\n810-679-1100\nPK-4\n57 SOUTH HOWARD AVE\n"
        "Page 1\n"
    )
    recs = await run(text, contiguous=False)
    assert [(r.name, r.city, r.phone, r.address) for r in recs] == [
        ("Galewood Early Elementary School", "CHARLOTTE", "517-541-5150", "378 STATE ST"),
        ("Frostick School", "CROSWELL", "810-679-1100", "57 SOUTH HOWARD AVE"),
    ]
