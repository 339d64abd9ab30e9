"""RulesExtractor on synthetic page texts (each layout) and on the committed sample PDFs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from domain.records import PageText, SchoolRecord
from handlers.boilerplate import find_boilerplate
from handlers.reader.extractor import OfflineReader as RulesExtractor

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
        # the snippet is the span with the layout's padding cut to two spaces
        assert page[r.evidence.start : r.evidence.end].split() == r.evidence.snippet.split()
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


# --- rules for the layouts of bench/heldout2.py ----------------------------------------------


async def test_dot_leaders_between_name_and_phone() -> None:
    recs = await run(
        "MERCED COUNTY\n"
        "Aileen Colburn Elementary ........................ (209) 555-0140\n"
        "Le Grand High School . . . . . . . . . . 209.555.0141\n"
        "Transportation Office ............................ (209) 555-0199\n"
    )
    assert [(r.name, r.phone) for r in recs] == [
        ("Aileen Colburn Elementary", "(209) 555-0140"),
        ("Le Grand High School", "209.555.0141"),
    ]


async def test_phone_extension_kept() -> None:
    recs = await run(
        "Hillcrest High\n10365 Keller Ave.\nRiverside, CA 92505-1349\n"
        "Phone: 951-358-1755, Ext. 877\n\n"
        "Galaxy Elementary School\n301 Galaxy Way\nBoynton Beach, FL 33435\n561-739-5600 x679\n"
    )
    assert [(r.postal_code, r.phone) for r in recs] == [
        ("92505-1349", "951-358-1755, Ext. 877"),
        ("33435", "561-739-5600 x679"),
    ]


async def test_name_city_state_list_without_street() -> None:
    recs = await run(
        "Accredited Member Schools\n"
        "Marlton, Los Angeles, CA — Candidate\n"
        "Seneca Middle School, MACOMB, MI - Accredited 2016\n"
        "Da Vinci Communications, Hawthorne, CA – Reaccredited 2019\n"
    )
    assert [(r.name, r.city, r.region, r.address) for r in recs] == [
        ("Marlton", "Los Angeles", "CA", None),
        ("Seneca Middle School", "MACOMB", "MI", None),
        ("Da Vinci Communications", "Hawthorne", "CA", None),
    ]


async def test_name_city_state_alone_needs_a_school_word() -> None:
    assert await run("Report prepared by\nJane Doe, Springfield, IL\n") == []
    recs = await run("Awarded to\nLincoln Elementary, Springfield, IL\n")
    assert [r.name for r in recs] == ["Lincoln Elementary"]


async def test_bracketed_note_after_name_dropped() -> None:
    recs = await run(
        "Lowell Elementary (Charter)\n700 South Flower St.\nSanta Ana, CA 92703\n"
        "Phone: (714) 972-6300\n"
        "Adams Middle (formerly Adams Junior High) – 12 Oak St, Indio, CA 92201 – 760-863-3680\n"
        "Adelante High (Continuation)\n9 Elm St\nSanta Ana, CA 92703\nPhone: (714) 972-6301\n"
    )
    assert [r.name for r in recs] == [
        "Lowell Elementary",
        "Adams Middle",
        "Adelante High (Continuation)",  # a bracket that is part of the name stays
    ]


async def test_prose_title_ending_past_the_type_word_is_not_a_school() -> None:
    recs = await run("Multi-State School Contacts\nWe thank Lincoln High School for hosting.\n")
    assert [r.name for r in recs] == ["Lincoln High School"]


async def test_lines_after_a_table_are_read_as_blocks() -> None:
    recs = await run(
        "School\nAddress\nPhone\nGrades\n"
        "Freedom High\n1050 Neroly Rd.\nOakley, CA 94561\n(925) 625-5900\n9-12\n"
        "Mariposa Elementary\n1605 East D St.\nOntario, CA 91764\n(909) 983-4116\nK-6\n"
    )
    assert [(r.name, r.city, r.phone, r.grades) for r in recs] == [
        ("Freedom High", "Oakley", "(925) 625-5900", "9-12"),
        ("Mariposa Elementary", "Ontario", "(909) 983-4116", "K-6"),
    ]


async def test_vertical_header_over_one_line_rows_with_county_and_grade_columns() -> None:
    header = "NCES ID\nSchool Name\nCounty\nStreet Address\nCity\nState\nZIP\nPhone\n"
    header += "Enrollment\nLow\nHigh\n"
    recs = await run(
        header
        + "120051000812 J. M. TATE SENIOR HIGH SCHOOL Escambia County 1771 TATE RD CANTONMENT "
        "FL 32533 (850)937-2300 2110 09 12\n"
        "060182110891 Redondo Beach Virtual Learning Los Angeles County 1001 22nd Ave. Oakland "
        "CA 94606 (323)585-1153 † KG 06\n"
        "120159005714 CHAIN OF LAKES ELEMENTARY SCHOOL Polk County 7001 STATE HIGHWAY 653 "
        "WINTER HAVEN FL 33884 (863)326-5388 1130 PK 05\n"
    )
    assert [(r.name, r.address, r.city, r.postal_code, r.grades) for r in recs] == [
        ("J. M. TATE SENIOR HIGH SCHOOL", "1771 TATE RD", "CANTONMENT", "32533", "09-12"),
        ("Redondo Beach Virtual Learning", "1001 22nd Ave.", "Oakland", "94606", "KG-06"),
        (
            "CHAIN OF LAKES ELEMENTARY SCHOOL",
            "7001 STATE HIGHWAY 653",
            "WINTER HAVEN",
            "33884",
            "PK-05",
        ),
    ]


async def test_cell_table_street_without_number_and_place_column_first() -> None:
    recs = await run(
        "Suburb\nSchool\nAddress\nPostcode\nPhone\nYear Levels\n"
        "Koondoola\nKoondoola Primary School\n50 Burbridge Avenue\n6064\n(08) 9345 6200\n"
        "Kindergarten - Year 6\n"
        "Kununurra\nDawul Remote Community School\nDoon Doon Station\n6743\n(08) 9167 0000\n"
        "Pre-primary - Year 6\n"
        "Yanchep\nYanchep Secondary College\n1 Lindsay Beach Boulevard\n6035\n(08) 9561 9100\n"
        "Year 7 - Year 12\n"
    )
    assert [(r.name, r.city, r.address, r.grades) for r in recs] == [
        ("Koondoola Primary School", "Koondoola", "50 Burbridge Avenue", "Kindergarten - Year 6"),
        ("Dawul Remote Community School", "Kununurra", "Doon Doon Station", "Pre-primary - Year 6"),
        ("Yanchep Secondary College", "Yanchep", "1 Lindsay Beach Boulevard", "Year 7 - Year 12"),
    ]


async def test_place_line_above_a_name_that_repeats_it_is_not_part_of_the_name() -> None:
    recs = await run(
        "Yanchep\nYanchep Secondary College\n1 Lindsay Beach Boulevard\nYanchep WA 6035\n"
        "Ph: (08) 9561 9100\n"
    )
    assert [r.name for r in recs] == ["Yanchep Secondary College"]


async def test_catalogue_name_over_a_paragraph_with_address_and_phone() -> None:
    recs = await run(
        "A Guide to Our Schools\n"
        "Neil Cummins Elementary\n"
        "Located at 58 Mohawk Ave., Corte Madera, the school serves grades K-5. Call\n"
        "415-927-6965.\n"
        "Frank S. Greene Jr. Middle\n"
        "The campus at 750 North California Ave. in Palo Alto enrolls about 1127 students in\n"
        "grades 6 through 8. For information call 408-494-8120.\n"
        "Venado Middle\n"
        "Founded in 1929, the school serves grades 7-8 at 4 Deerfield Ave., Irvine, CA 92604.\n"
        "Telephone 949-936-6800.\n"
        "Our Mission\n"
        "We believe every child can learn, and we publish this guide every year.\n"
    )
    got = [(r.name, r.address, r.city, r.region, r.phone, r.grades) for r in recs]
    assert got == [
        ("Neil Cummins Elementary", "58 Mohawk Ave.", "Corte Madera", None, "415-927-6965", "K-5"),
        (
            "Frank S. Greene Jr. Middle",
            "750 North California Ave.",
            "Palo Alto",
            None,
            "408-494-8120",
            "6 through 8",
        ),
        ("Venado Middle", "4 Deerfield Ave.", "Irvine", "CA", "949-936-6800", "7-8"),
    ]


async def test_single_spaced_line_splits_name_street_city() -> None:
    recs = await run(
        "Telephone Directory\n"
        "Maple Grove Academy 9500 Alder Creek Way Dade City, FL 33525 352-588-9737\n"
        "Hill Top Charter High School 2830 Winkler Ave Ste 201 Fort Myers, FL 33916 239-561-6611\n"
        "Lakeview Senior High School P O Box 280 New Buffalo, MI 49117 269-469-6001\n"
    )
    got = [(r.name, r.address, r.city, r.region, r.postal_code, r.phone) for r in recs]
    assert got == [
        ("Maple Grove Academy", "9500 Alder Creek Way", "Dade City", "FL", "33525", "352-588-9737"),
        (
            "Hill Top Charter High School",
            "2830 Winkler Ave Ste 201",
            "Fort Myers",
            "FL",
            "33916",
            "239-561-6611",
        ),
        (
            "Lakeview Senior High School",
            "P O Box 280",
            "New Buffalo",
            "MI",
            "49117",
            "269-469-6001",
        ),
    ]


async def test_labelled_name_location_contact_and_principal() -> None:
    recs = await run(
        "Directory of Schools\n"
        "School: NORTH RIDGE MIDDLE SCHOOL\n"
        "Location: 1840 NW 157TH ST\n"
        " MIAMI GARDENS, FL 33054\n"
        "Contact: (305) 624-8415\n"
        "Principal: Kevin Garcia\n"
        "Grades: 6-8\n"
        "School Name: Moran Prairie Elementary\n"
        "Location: 4224 E 57Th Ave, Spokane, WA 99223\n"
        "Contact: 509-354-3700  Fax 509-354-3701\n"
    )
    got = [(r.name, r.address, r.city, r.postal_code, r.phone, r.grades) for r in recs]
    assert got == [
        (
            "NORTH RIDGE MIDDLE SCHOOL",
            "1840 NW 157TH ST",
            "MIAMI GARDENS",
            "33054",
            "(305) 624-8415",
            "6-8",
        ),
        ("Moran Prairie Elementary", "4224 E 57Th Ave", "Spokane", "99223", "509-354-3700", None),
    ]


async def test_bilingual_labels() -> None:
    recs = await run(
        "Directorio de Escuelas / School Directory\n"
        "Lakeside Elementary School\n"
        "Adresse : 840 Orange Ave\n"
        "Longwood, FL 32750\n"
        "Téléphone : (407) 746-5250\n"
        "Niveaux : PK-5\n"
        "Napa High\n"
        "Dirección / Address: 2475 Jefferson St., Napa, CA 94558\n"
        "Teléfono / Phone: (707) 253-3711\n"
        "Grados / Grades: 9-12\n"
    )
    got = [(r.name, r.address, r.city, r.phone, r.grades) for r in recs]
    assert got == [
        ("Lakeside Elementary School", "840 Orange Ave", "Longwood", "(407) 746-5250", "PK-5"),
        ("Napa High", "2475 Jefferson St.", "Napa", "(707) 253-3711", "9-12"),
    ]


async def test_district_letter_letterhead_and_signature() -> None:
    recs = await run(
        "Lakeside Unified\n"
        " Office of the Superintendent\n"
        "8407 Center St · Silverdale, WA 98383\n"
        "Phone (360) 662-4985\n"
        "September 2, 2025\n"
        "Dear Families and Community Members,\n"
        "Here is the contact information for our schools, posted on our website as well.\n"
        "School\nAddress\nPhone\nGrades\n"
        "Brownsville Elementary\n8795 Illahee Rd NE\n(360) 662-8000\nPK-5\n"
        "Silverdale Elementary\n9100 Dickey Road\n(360) 662-9400\nPK-5\n"
        "Sincerely,\n"
        "Linda Brennan\n"
        "Superintendent\n"
    )
    assert [r.name for r in recs] == ["Brownsville Elementary", "Silverdale Elementary"]


async def test_header_stacked_on_two_lines() -> None:
    recs = await run(
        "Elementary and Secondary Schools\n"
        "School\nStreet\nZIP\nTelephone\nGrade\n"
        "Name\nAddress\nCity\nCode\nNumber\nSpan\n"
        "Sierra Vista Elementary\n4342 Alpha St.\nLos Angeles\n90032\n(323) 222-2530\nK-6\n"
        "Central Academy\n2301 Platt Rd\nAnn Arbor\n48104\n(734) 822-1100\nPK-12\n"
    )
    got = [(r.name, r.address, r.city, r.postal_code, r.phone, r.grades) for r in recs]
    assert got == [
        (
            "Sierra Vista Elementary",
            "4342 Alpha St.",
            "Los Angeles",
            "90032",
            "(323) 222-2530",
            "K-6",
        ),
        ("Central Academy", "2301 Platt Rd", "Ann Arbor", "48104", "(734) 822-1100", "PK-12"),
    ]
