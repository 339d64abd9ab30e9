"""The offline reader on small real-shaped pages: geometry, recognisers, each segmenter,
headers in five languages, context carried over pages, and what is never a school."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import landscape, letter
from reportlab.pdfgen import canvas

from domain.records import Chunk, PageText
from handlers.geometry import Run, layout_text, render
from handlers.reader.extractor import OfflineReader, read_chunk
from handlers.reader.headers import Role, header_role
from handlers.reader.page import Found, read_page
from handlers.reader.recognise import Kind, is_grades, kind_of


def names(found: list[Found]) -> list[str]:
    return [f.name for f in found]


# --- geometry ---------------------------------------------------------------------------------


def test_runs_that_overlap_or_stand_apart_are_separate_cells() -> None:
    runs = [
        Run(50.0, 287.0, 500.0, 9.0, "CLASSES VINCULADAS A EE OMAR DONATO BASSANI"),
        Run(286.9, 411.0, 500.0, 9.0, "SAO BERNARDO DO CAMPO"),  # drawn over the name's end
        Run(450.0, 470.0, 500.0, 9.0, "17.4"),
    ]
    line = render(runs)
    assert re.search(r"BASSANI {2,}SAO BERNARDO DO CAMPO", line)
    assert line.rstrip().endswith("17.4")


def test_glyph_runs_join_into_words_and_columns_keep_their_place() -> None:
    glyphs = [Run(100.0 + 6 * k, 106.0 + 6 * k, 700.0, 12.0, ch) for k, ch in enumerate("GPS")]
    row_one = render([*glyphs, Run(300.0, 340.0, 700.0, 12.0, "Government")])
    row_two = render(
        [Run(100.0, 150.0, 700.0, 12.0, "GHSS-X"), Run(300.0, 340.0, 700.0, 12.0, "Aided")]
    )
    assert row_one.split() == ["GPS", "Government"]
    assert row_one.index("Government") == row_two.index("Aided")


def _pdf(draw: object) -> PdfReader:
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=landscape(letter))
    draw(c)  # type: ignore[operator]
    c.showPage()
    c.save()
    return PdfReader(io.BytesIO(buffer.getvalue()))


def test_text_inside_form_xobjects_is_read() -> None:
    """A report tool that draws each page as a form: pypdf's layout mode sees nothing."""

    def draw(c: canvas.Canvas) -> None:
        c.beginForm("page")
        c.setFont("Helvetica", 10)
        c.drawString(60, 500, "School: Ballard")
        c.drawString(60, 480, "Total")
        c.drawString(300, 480, "1,650")
        c.endForm()
        c.doForm("page")

    text = layout_text(_pdf(draw).pages[0])
    assert "School: Ballard" in text
    assert "Total" in text and "1,650" in text


# --- recognisers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("478-238-5757", Kind.PHONE),
        ("(217) 555-0100", Kind.PHONE),
        ("+55 11 3333-4444", Kind.PHONE),
        ("33300100101", Kind.ID),
        ("30572-2903", Kind.POSTAL),
        ("01310-100", Kind.POSTAL),
        ("SW1A 1AA", Kind.POSTAL),
        ("www.acemacon.org", Kind.WEBSITE),
        ("office@school.org", Kind.EMAIL),
        ("29.4", Kind.NUMBER),
        ("-23.550520", Kind.COORDINATE),
        ("08/08/2025", Kind.DATE),
        ("Primary Only (I-V)", Kind.GRADES),
        ("K-8", Kind.GRADES),
        ("EE-05", Kind.GRADES),
        ("Year 7-12", Kind.GRADES),
        ("Ensino Fundamental e Médio", Kind.GRADES),
        ("ALDEIA NIMUENDAJU", Kind.TEXT),
        ("Government", Kind.TEXT),
    ],
)
def test_values_are_typed_by_content(value: str, kind: Kind) -> None:
    assert kind_of(value) == kind


def test_a_name_with_a_level_word_is_no_grade() -> None:
    assert not is_grades("GOVT ADW MIDDLE SCHOOL UDAIYADI")
    assert not is_grades("Lincoln Middle School")
    assert is_grades("Middle School (I-VIII)")


@pytest.mark.parametrize(
    ("cell", "role"),
    [
        ("School_Name", Role.NAME),
        ("Nombre del centro", Role.NAME),
        ("Nome da Escola", Role.NAME),
        ("Nom de l'établissement", Role.NAME),
        ("Schulname", Role.NAME),
        ("Escola", Role.NAME),
        ("Dirección", Role.ADDRESS),
        ("Endereço", Role.ADDRESS),
        ("Anschrift", Role.ADDRESS),
        ("Ciudad", Role.CITY),
        ("Cidade", Role.CITY),
        ("Ville", Role.CITY),
        ("Ort", Role.CITY),
        ("Teléfono", Role.PHONE),
        ("Código Postal", Role.POSTAL),
        ("UDISE code", Role.ID),
        ("Si.No.", Role.SERIAL),
        ("Committee Member", Role.PERSON),
        ("Distância (km)", Role.OTHER),
    ],
)
def test_header_words_in_five_languages(cell: str, role: Role) -> None:
    assert header_role(cell) == role


# --- tables -----------------------------------------------------------------------------------

UDISE = """\
Si.No.    District          Block         UDISE         School_Name                     School_Type     Category

 1    KANNIYAKUMARI    Thovalai      33300100101   GPS-VISVASAPURAM                Government      Primary Only (I-V)

 2    KANNIYAKUMARI    Thovalai      33300100102   GPS-THOVALAI                    Government      Primary Only (I-V)

                                                   GOVT ADW PRIMARY SCHOOL
 3    KANNIYAKUMARI    Thovalai      33300101006                                   Government      Primary Only (I-V)
                                                   VAZHAYATHUVAYAL

 4    KANNIYAKUMARI    Thovalai      33300100401   GMS-PARVATHIPUTHOOR             Government      Middle School (I-VIII)
"""


def test_table_with_ids_and_a_cell_wrapped_around_its_row() -> None:
    found = read_page(UDISE)
    assert names(found) == [
        "GPS-VISVASAPURAM",
        "GPS-THOVALAI",
        "GOVT ADW PRIMARY SCHOOL VAZHAYATHUVAYAL",
        "GMS-PARVATHIPUTHOOR",
    ]
    third = found[2]
    assert third.identifiers == {"udise": "33300101006"}
    # "District" holding no school district's name is the administrative region
    assert third.values["region"] == "KANNIYAKUMARI"
    assert third.values["grades"] == "Primary Only (I-V)"
    assert third.values["kind"] == "Government"
    assert "district" not in third.values


def test_a_table_goes_on_over_pages_without_its_header() -> None:
    page_two = """\
 5    KANNIYAKUMARI    Thovalai      33300100601   GPS-NAVALKADU                   Government      Primary Only (I-V)

 6    KANNIYAKUMARI    Thovalai      33300100602   GMS-ESANTHIMANGALAM             Government      Middle School (I-VIII)
"""
    reader = OfflineReader()
    chunks = reader.chunks([PageText(1, UDISE), PageText(2, page_two)])
    assert "School_Name" in chunks[1].context
    second = read_chunk(chunks[1]).records
    assert [r.name for r in second] == ["GPS-NAVALKADU", "GMS-ESANTHIMANGALAM"]
    assert second[0].identifiers == {"udise": "33300100601"}


BRAZIL = """\
  ESCOLAS INDÍGENAS

                                                                         Distância
              Escola                        Cidade            Diretoria     (km)      Zona      Status

        ALDEIA NIMUENDAJU                    AVAI               Bauru        29.4      Rural     Média

     TXONDARO TEKOA MBAE              BARAO DE ANTONINA         Itarare      60.6      Rural     Média

CLASSES VINCULADAS A EE OMAR BASSANI  SAO BERNARDO DO CAMPO   Sao Bernardo   17.4      Rural     Baixa
"""


def test_portuguese_table_whose_names_hold_no_school_word() -> None:
    found = read_page(BRAZIL)
    assert names(found) == [
        "ALDEIA NIMUENDAJU",
        "TXONDARO TEKOA MBAE",
        "CLASSES VINCULADAS A EE OMAR BASSANI",
    ]
    assert [f.values["city"] for f in found] == [
        "AVAI",
        "BARAO DE ANTONINA",
        "SAO BERNARDO DO CAMPO",
    ]
    assert found[0].values["district"] == "Bauru"  # an education office, not a school


@pytest.mark.parametrize(
    "header",
    [
        "Nombre del centro          Dirección                 Localidad       Teléfono",
        "Nom de l'établissement     Adresse                   Ville           Téléphone",
        "Schulname                  Anschrift                 Ort             Telefon",
    ],
)
def test_tables_in_other_languages(header: str) -> None:
    page = (
        f"{header}\n"
        "Colegio San José           Calle Mayor 5             Toledo          925 22 33 44\n"
        "Instituto Sur              Av. de Europa 12          Madrid          912 345 678\n"
    )
    found = read_page(page)
    assert names(found) == ["Colegio San José", "Instituto Sur"]
    assert [f.values["city"] for f in found] == ["Toledo", "Madrid"]
    assert found[1].values["address"] == "Av. de Europa 12"


def test_context_headings_fill_the_rows_below_and_are_no_schools() -> None:
    page = (
        "School Name                 City            Phone\n"
        "BLOCK: THOVALAI\n"
        "Lincoln Elementary          Springfield     (217) 555-0100\n"
        "BLOCK: AGASTHEESWARAM\n"
        "Roosevelt Middle            Springfield     (217) 555-0101\n"
    )
    found = read_page(page)
    assert names(found) == ["Lincoln Elementary", "Roosevelt Middle"]
    assert [f.values["district"] for f in found] == ["THOVALAI", "AGASTHEESWARAM"]


def test_totals_are_no_schools() -> None:
    page = (
        "School                Enrollment      Phone\n"
        "Lincoln Elementary        312         (217) 555-0100\n"
        "Total                    1650\n"
    )
    assert names(read_page(page)) == ["Lincoln Elementary"]


def test_a_table_of_people_is_no_list_of_schools() -> None:
    page = (
        "        Region      Committee Member/Address               Phone\n"
        "\n"
        "        1-AAAAAA    DANNY REDSHAW                          229-245-2271\n"
        "                    1606 NORMAN DRIVE\n"
        "                    VALDOSTA, GA 31601\n"
    )
    assert read_page(page) == []


# --- text columns, blocks, labels -------------------------------------------------------------

TWO_COLUMNS = """\
ACE CHARTER (2-A Division I)                           Justin Skinner 4,16FP
5665 New Forsyth Road                                  Tamblyn Smith 12
Macon, GA 31210                                        Kimberly Turner 15B,15C,15F
                                                       Lea Anne Walters 14*
Phone:  478-238-5757                                   Lonnie Wheeler 13
Fax:  470-201-1285
www.acemacon.org                                       ADAIRSVILLE (7-AAA)
gryphon@acemacon.org                                   519 Old Highway 41, NW
Colors:  Royal Blue & Emerald Green                    Post Office Box 547
Mascot:  Gryphon                                       Adairsville, GA 30103

Sharon Ferrel DIR                                      Phone:  770-606-5841
Brittany Mulvaney DIR                                  https://www.bartow.k12.ga.us/o/adairsville-
Lara Relyea HOS                                        high
"""


def test_two_text_columns_are_read_one_after_the_other() -> None:
    found = read_page(TWO_COLUMNS)
    assert names(found) == ["ACE CHARTER", "ADAIRSVILLE"]  # the classification is no name
    ace, adairsville = found
    assert (ace.values["city"], ace.values["postal_code"], ace.values["phone"]) == (
        "Macon",
        "31210",
        "478-238-5757",
    )
    assert adairsville.values["address"] == "519 Old Highway 41, NW, Post Office Box 547"
    # a web address too long for its column goes on on the next line
    assert adairsville.values["website"] == "https://www.bartow.k12.ga.us/o/adairsville-high"


def test_a_labelled_name_stands_alone() -> None:
    page = (
        "              Seattle Public Schools\n"
        "School: Ballard\n"
        "\n"
        "        Regular     Bilingual     Total\n"
        "Gr:  9     376          7          437\n"
    )
    assert names(read_page(page)) == ["Ballard"]
    assert read_page("School: District Total\nTotal   1650") == []


def test_organisations_that_are_not_schools_are_dropped() -> None:
    page = (
        "HERITAGE OFFICIALS ASSOCIATION\n190 Main Street\nTyrone, GA 30290\nPhone: 770-555-0100\n"
    )
    assert read_page(page) == []


# --- time and warnings ------------------------------------------------------------------------


def test_an_upper_case_page_of_800_lines_is_read() -> None:
    """The old prose expression backtracked super-linearly here (37 s); the bench times it."""
    page = "\n".join(
        f"THE QUICK BROWN FOX {n} JUMPS OVER THE LAZY DOG AND THEN SOME" for n in range(800)
    )
    result = read_chunk(Chunk(0, 1, page), timeout_s=10)
    assert result.warnings == ()


def test_pages_read_with_low_confidence_are_named_in_a_warning() -> None:
    from domain.records import ChunkResult, Evidence, SchoolRecord
    from handlers.pdf import extraction_warnings

    prose = "The board met at the hall and thanked Riverside Academy for the fair. " * 5
    mention = SchoolRecord("Riverside Academy", Evidence(4, 0, 17, "Riverside Academy"))
    pages = [PageText(3, prose), PageText(4, prose)]
    unsure = [ChunkResult((), confidence=0.0), ChunkResult((mention,), confidence=0.4)]
    [warning] = extraction_warnings(pages, unsure, "rules")
    assert warning == (
        "low confidence: schools were only found named in running text (page 4)"
        " (try --extractor llm)"
    )
    sure = [ChunkResult((mention,), confidence=1.0)]
    assert extraction_warnings(pages, sure, "rules") == []
    nothing = [ChunkResult((), confidence=0.0), ChunkResult((), confidence=0.0)]
    assert extraction_warnings(pages, nothing, "hybrid") == [
        "no schools recognised on any page, though 2 pages have text (pages 3-4)"
    ]


def test_two_tables_side_by_side_under_one_header_row() -> None:
    """An Iraqi list prints two tables per page: the header names its columns twice."""
    page = (
        "No.  School                   City            No.  School                   City\n"
        "1    Al-Noor Primary          Basra           21   Al-Rasheed Secondary     Mosul\n"
        "2    Al-Amal Girls School     Basra           22   Dijla Primary            Mosul\n"
        "3    Al-Fajr Intermediate     Najaf           23   Al-Zahraa School         Erbil\n"
    )
    found = read_page(page)
    assert sorted((f.name, f.values["city"]) for f in found) == [
        ("Al-Amal Girls School", "Basra"),
        ("Al-Fajr Intermediate", "Najaf"),
        ("Al-Noor Primary", "Basra"),
        ("Al-Rasheed Secondary", "Mosul"),
        ("Al-Zahraa School", "Erbil"),
        ("Dijla Primary", "Mosul"),
    ]
    right = next(f for f in found if f.name == "Dijla Primary")
    assert page[right.start : right.end].split() == ["22", "Dijla", "Primary", "Mosul"]
