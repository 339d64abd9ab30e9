from __future__ import annotations

import pytest

from domain.matching import Outcome, match, outcome
from domain.matching.dedupe import merge_duplicates
from domain.normalize import (
    canonical_name,
    infer_kind,
    match_key,
    normalize_grades,
    normalize_name,
    normalize_phone,
    normalize_postal_code,
    normalize_record,
    normalize_website,
)
from domain.records import Evidence, SchoolRecord

EV = Evidence(page=1, start=0, end=5, snippet="x")


def rec(name: str, **values: str | None) -> SchoolRecord:
    return SchoolRecord.of(name, EV, values)


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("ADAM ROAD PRIMARY SCHOOL", "Adam Road Primary School"),
        ("  Lincoln   H S ", "Lincoln High School"),
        ("LINCOLN H.S.", "Lincoln High School"),
        ("Kennedy MS", "Kennedy Middle School"),
        ("Roosevelt Elem", "Roosevelt Elementary School"),
        ("ROOSEVELT ELEM.", "Roosevelt Elementary School"),
        ("Roosevelt Elem. Sch", "Roosevelt Elementary School"),
        ("Curlew Elem & High School", "Curlew Elementary & High School"),
        ("Washington EL", "Washington Elementary School"),
        ("Elem", "Elementary"),
        ("El Camino Real High", "El Camino Real High"),
        ("Jefferson Jr High", "Jefferson Junior High"),
        ("JR/SR HIGH OF WAYNE", "Junior/Senior High of Wayne"),
        ("Atherton Jr Sr High School", "Atherton Junior/Senior High School"),
        ("Atherton Jr. Sr. High", "Atherton Junior/Senior High"),
        ("Martin Luther King Jr. Academy", "Martin Luther King Jr. Academy"),
        ("St. Mary's School", "Saint Mary's School"),
        ("ST JOSEPH'S CATHOLIC SCHOOL", "Saint Joseph's Catholic School"),
        ("Main St Academy", "Main St Academy"),
        ("KIPP ASCEND PRIMARY", "KIPP Ascend Primary"),
        ("YES Prep North Central", "YES Prep North Central"),
        ("CICS Irving Park", "CICS Irving Park"),
        ("THE ACADEMY FOR MATH AND SCIENCE", "The Academy for Math and Science"),
        ("Chavez Multicultural Acad Ctr", "Chavez Multicultural Academy Center"),
        ("Harvard Intl Sch", "Harvard International School"),
        ("O'NEILL MIDDLE SCHOOL", "O'Neill Middle School"),
        ("WINSTON-SALEM PREP", "Winston-Salem Prep"),
        ("- Lincoln Elementary School.", "Lincoln Elementary School"),
        ("LINCOLN HS SCHOOL", "Lincoln High School"),
        ("PS 41 GREENWICH VILLAGE", "PS 41 Greenwich Village"),
        ("Edison Elementary School II", "Edison Elementary School II"),
    ],
)
def test_canonical_names_for_matching(raw: str, name: str) -> None:
    assert canonical_name(raw) == name


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("  Lincoln   H S ", "Lincoln H S"),
        ("G H S KALIAKKAVILAI", "G H S KALIAKKAVILAI"),
        ("Bonham INT", "Bonham INT"),
        ("- Lincoln Elementary School.", "Lincoln Elementary School"),
        ("St.\u2019 Mary\u2019s", "St.' Mary's"),
        ("ＡＢＣ School", "ABC School"),
    ],
)
def test_stored_names_are_as_printed(raw: str, name: str) -> None:
    """Never invent: abbreviations and case stay as the document printed them."""
    assert normalize_name(raw) == name


def test_match_key_ignores_spelling_differences() -> None:
    assert match_key("The Lincoln H.S.") == match_key("LINCOLN HIGH SCHOOL") == "lincoln high"
    assert match_key("St. Joseph's School") == "saint josephs"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("St. Mary Acad", "Saint Mary Academy"),
        ("Lincoln H S", "Lincoln High School"),
        ("ROOSEVELT ELEM", "Roosevelt Elementary School"),
        ("Roosevelt Elementary", "Roosevelt Elementary School"),
        ("Logan Acad of Global Ecology", "Logan Academy of Global Ecology"),
        ("J.M. Weatherwax H.S.", "J M Weatherwax High School"),
        ("JM Weatherwax High", "J. M. Weatherwax High School"),
        ("P.S. 41", "PS 41"),
        ("Mater Academy at St Cloud", "Mater Academy at Saint Cloud"),
        ("Rainier Prep", "Rainier Preparatory"),
        ("Hope Learning Centre", "Hope Learning Center"),
        ("Escuela Peña", "Escuela Pena"),
        ("Hialeah Senior High School", "Hialeah High"),
        ("Atherton Jr Sr High", "Atherton Junior-Senior High School"),
        ("Martin Luther King Jr. Academy", "Martin Luther King Junior Academy"),
        ("Smith & Jones Academy", "Smith and Jones Academy"),
    ],
)
def test_match_key_same_school(a: str, b: str) -> None:
    assert match_key(a) == match_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Lincoln Elementary", "Lincoln High"),
        ("Lincoln Elementary School", "Lincoln Middle School"),
        ("Lincoln Junior High", "Lincoln High"),
        ("Lincoln Junior/Senior High", "Lincoln High"),
        ("Saint Helena Primary", "Saint Helena Secondary"),
    ],
)
def test_match_key_keeps_levels_apart(a: str, b: str) -> None:
    assert match_key(a) != match_key(b)


def test_match_key_never_empty() -> None:
    assert match_key("The School") == "the school"


@pytest.mark.parametrize(
    ("raw", "grades"),
    [
        ("K-5", "K-5"),
        ("KG-05", "K-5"),
        ("Kindergarten through 5th", "K-5"),
        ("PK-8", "PK-8"),
        ("PreK-8", "PK-8"),
        ("Pre-K - 8", "PK-8"),
        ("09-12", "9-12"),
        ("KIN-Y06", "K-6"),
        ("PPR-Y06", "PK-6"),
        ("PP–6", "PK-6"),  # Western Australian lists print pre-primary as "PP"
        ("Grades 6–8", "6-8"),
        ("Year 7 to Year 12", "7-12"),
        ("K", "K"),
        (" Adult  Ed ", "Adult Ed"),
    ],
)
def test_grades(raw: str, grades: str) -> None:
    assert normalize_grades(raw) == grades


@pytest.mark.parametrize(
    ("name", "kind", "grades", "country", "expected"),
    [
        ("Adams Elementary", None, "6-8", None, "elementary"),  # the name wins
        ("Adams", None, "K-5", None, "elementary"),
        ("Adams", None, "K-8", None, "elementary"),
        ("Adams", None, "6-8", None, "middle"),
        ("Adams", None, "9-12", None, "high"),
        ("Adams", None, "K-12", None, "k-12"),
        ("Adams", None, "K-6", "AU", "primary"),
        ("Adams", None, "7-12", "AU", "secondary"),
        ("Jones College Prep", None, "9-12", None, "high"),
        ("Harper College", None, None, None, "college"),
        ("Adams", "High School", None, None, "high"),
        ("Adams", "charter", None, None, "other"),
        ("Adams", None, None, None, None),
    ],
)
def test_kind(
    name: str, kind: str | None, grades: str | None, country: str | None, expected: str | None
) -> None:
    assert infer_kind(name, kind, grades, country) == expected


@pytest.mark.parametrize(
    ("raw", "country", "phone"),
    [
        ("(360) 965-0400", "US", "+13609650400"),
        ("360.965.0400 x12", "US", "+13609650400 ext. 12"),
        ("(08) 9384 1234", "AU", "+61893841234"),
        ("(217) 555-0123", None, "+12175550123"),
        ("0484 234 5678", None, "0484 234 5678"),  # no country known: not read as a US number
        ("+91 484 234 5678", None, "+914842345678"),
        ("  call office ", "US", "call office"),
    ],
)
def test_phone(raw: str, country: str | None, phone: str) -> None:
    assert normalize_phone(raw, country) == phone


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("WWW.Lincoln.ORG/", "https://www.lincoln.org"),
        ("http://Example.com/Path/", "http://example.com/Path/"),
        (" www.x .org ", "https://www.x.org"),
        ("info@school.org", None),
    ],
)
def test_website(raw: str, url: str | None) -> None:
    assert normalize_website(raw) == url


def test_postal_codes() -> None:
    assert normalize_postal_code("981011234", "US") == "98101-1234"
    assert normalize_postal_code("98101 - 1234", None) == "98101-1234"
    assert normalize_postal_code("2134", "US") == "02134"
    assert normalize_postal_code("6000", "AU") == "6000"


@pytest.mark.parametrize(
    ("region", "postal", "country", "expected"),
    [
        ("Washington", "98101", None, ("WA", "US")),
        ("Wash.", None, None, ("WA", None)),
        ("WA", "6000", None, ("WA", "AU")),
        ("Western Australia", "6000", None, ("WA", "AU")),
        ("Victoria", None, "Australia", ("VIC", "AU")),
        ("illinois", "60614", "USA", ("IL", "US")),
    ],
)
def test_region_and_country(
    region: str, postal: str | None, country: str | None, expected: tuple[str, str | None]
) -> None:
    r = normalize_record(rec("X", region=region, postal_code=postal, country=country))
    assert (r.region, r.country) == expected


def test_normalize_record_keeps_evidence() -> None:
    raw = rec(
        "LINCOLN ELEM",
        city="CHICAGO",
        region="Illinois",
        postal_code="606141234",
        phone="773-582-1100",
        website="Lincoln.org/",
        grades="KG-05",
    )
    r = normalize_record(raw)
    assert r.evidence is raw.evidence
    assert r.name == "LINCOLN ELEM"
    assert (r.city, r.region, r.postal_code, r.country) == ("Chicago", "IL", "60614-1234", "US")
    assert (r.phone, r.website, r.grades, r.kind) == (
        "+17735821100",
        "https://lincoln.org",
        "K-5",
        "elementary",
    )


def test_merge_duplicates() -> None:
    first = rec("Lincoln High School", city="Chicago", phone=None)
    same = rec("LINCOLN H.S.", city="chicago", phone="+17735821100", grades="9-12")
    typo = rec("Lincon High School", city="Chicago", website="https://l.org")
    elsewhere = rec("Lincoln High School", city="Springfield")
    no_block = rec("Lincon High School")
    merged = merge_duplicates([first, same, typo, elsewhere, no_block])
    # Within one document two names are two schools (the document listed them apart; a
    # typo is left for review on save), one name is one school unless the rest disagrees
    # (Springfield).
    assert [m.name for m in merged] == [
        "Lincoln High School",
        "Lincon High School",
        "Lincoln High School",
    ]
    assert merged[0].phone == "+17735821100"
    assert merged[0].grades == "9-12"
    assert merged[0].website is None
    assert merged[0].evidence is first.evidence
    assert merged[1].website == "https://l.org"
    assert merged[2].city == "Springfield"
    assert outcome(match(first, typo), same_document=True) is not Outcome.MERGE


def test_merge_duplicates_keeps_numbered_campuses_apart() -> None:
    names = ["Equitas Academy 4", "Equitas Academy 6", "Discovery Charter", "Discovery Charter II"]
    merged = merge_duplicates([rec(n, city="Los Angeles") for n in names])
    assert [m.name for m in merged] == names


def test_the_document_says_its_country_not_a_us_default() -> None:
    from domain.normalize import document_country, normalize_document

    brazil = [rec("ALDEIA A", postal_code="11680-000"), rec("ALDEIA B", postal_code="11680-001")]
    assert document_country(brazil) == "BR"
    india = [rec("GPS-X", phone="+91 484 234 5678"), rec("GPS-Y", postal_code="682001")]
    assert document_country(india) == "IN"
    assert document_country([rec("X"), rec("Y")]) is None  # nothing said: no country
    mixed = [rec("A", postal_code="11680-000"), rec("B", region="IL", postal_code="62701")]
    assert document_country(mixed) is None  # no clear majority
    us = [rec("A", region="IL", postal_code="62701"), rec("B", phone="(217) 555-0100")]
    assert [r.country for r in normalize_document(us)] == ["US", "US"]
    assert normalize_document(india)[0].phone == "+914842345678"
