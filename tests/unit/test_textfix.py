from __future__ import annotations

import pytest

from handlers.textfix import repair_text


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("(773) 582-1100Charter", "(773) 582-1100 Charter"),
        ("Chicago, IL 60614Phone: 555", "Chicago, IL 60614 Phone: 555"),
        ("Lincoln SchoolPhone: (773) 582-1100", "Lincoln School Phone: (773) 582-1100"),
        ("Adams ElementaryGrades: K-5", "Adams Elementary Grades: K-5"),
        ("Main campusWebsite www.x.org", "Main campus Website www.x.org"),
        ("60614USA", "60614 USA"),
    ],
)
def test_glued_tokens_are_split(raw: str, fixed: str) -> None:
    assert repair_text(raw) == fixed


@pytest.mark.parametrize(
    "kept",
    ["4th Grade", "3rd Street", "21ST CENTURY", "K12 Inc", "B2B", "Room 12B", "McDonald", "iPhone"],
)
def test_ordinals_codes_and_names_are_not_split(kept: str) -> None:
    assert repair_text(kept) == kept


def test_space_runs_keep_column_boundaries() -> None:
    assert repair_text("Adams      123 Main St   \nB  C D") == "Adams  123 Main St\nB  C D"


def test_unicode_spaces_and_invisible_characters() -> None:
    raw = "Lin\u00adcoln\u00a0Ele\u200bmentary\u2009School\ufeff\u202f(K\u20135)"
    assert repair_text(raw) == "Lincoln Elementary School (K\u20135)"


def test_ligatures_only_are_normalised() -> None:
    assert repair_text("Oﬃce of the ﬁrst ﬂoor ½ mile") == "Office of the first floor ½ mile"


def test_line_endings_and_tabs() -> None:
    assert repair_text("a\tb\r\nc\rd") == "a  b\nc\nd"


def test_idempotent() -> None:
    text = "Lincoln SchoolPhone:  (773) 582-1100Charter\u00a0\u00a0x"
    assert repair_text(repair_text(text)) == repair_text(text)


def test_title_cased_ordinals_are_not_split() -> None:
    assert repair_text("4747 E 37Th Ave") == "4747 E 37Th Ave"
    assert repair_text("100 W 21St Street") == "100 W 21St Street"
    assert repair_text("(773) 582-1100Charter") == "(773) 582-1100 Charter"
