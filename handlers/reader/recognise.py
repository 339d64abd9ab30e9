"""What a value is, from its content alone: phone, postal code, grades, web, e-mail, number,
coordinate, identifier, or text. Every pattern is linear (no nested quantifiers over the
same characters), so a long hostile line costs time in proportion to its length.
"""

from __future__ import annotations

import re
from enum import StrEnum

import phonenumbers


class Kind(StrEnum):
    PHONE = "phone"
    POSTAL = "postal_code"
    GRADES = "grades"
    WEBSITE = "website"
    EMAIL = "email"
    NUMBER = "number"  # counts, distances, percentages, decimals
    COORDINATE = "coordinate"
    ID = "id"  # a code: long digit strings, or letters and digits without spaces
    DATE = "date"
    TEXT = "text"


_EMAIL = re.compile(r"^[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+$")
_WEB = re.compile(
    r"^(?:https?://\S+|www\.\S+|[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\."
    r"(?:org|edu|com|net|us|gov|au|in|br|es|fr|de|uk|ca|mx|ar|co|za|nz|info|k12\.[a-z]{2}\.us)"
    r"(?:/\S*)?)$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^[+\-]?(?:\d{1,3}(?:[,. ]\d{3})+|\d+)(?:[.,]\d+)?\s*%?$")
_COORDINATE = re.compile(r"^[+\-]?\d{1,3}[.,]\d{4,}$")
_DATE = re.compile(r"^\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}$")
_DIGITS = re.compile(r"\d")
_CODE = re.compile(r"^(?=[A-Z0-9\-/.]*\d)[A-Z0-9][A-Z0-9\-/.]{4,}$")

# Postal codes by shape. A bare 5 digits is ambiguous (US, DE, FR, ES, MX, ...): the country
# is inferred elsewhere; here it is only "a postal code".
_POSTAL = re.compile(
    r"^(?:\d{5}(?:-\d{4})?|\d{5}-\d{3}|\d{3}\s?\d{3}|[A-Z]\d[A-Z]\s?\d[A-Z]\d|"
    r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{4})$",
    re.IGNORECASE,
)

# Grades and school levels. Tokens: PK, K, KG, TK, EE, 1-12 with optional ordinal, Year 7,
# roman numerals (I..XII), and level words in the five languages.
_GRADE = (
    r"(?:pre-?k(?:indergarten)?|p-?k|pk|tk|kg|k|kin|ppr|pp|ee|pre|prek|y(?:ear)?\s?\d{1,2}|"
    r"\d{1,2}(?:st|nd|rd|th|º|°|o|a)?|xii|xi|x|ix|iv|v?i{1,3}|v)"
)
_GRADE_SPAN = re.compile(
    rf"^(?:grades?\s*|gr\.?\s*)?{_GRADE}\s*(?:-|–|—|to|through|thru|a|à|bis)\s*{_GRADE}$",
    re.IGNORECASE,
)
_LEVEL_WORDS = re.compile(
    r"\b(?:pre-?primary|primary|elementary|middle|junior high|high|secondary|"
    r"higher secondary|senior secondary|upper primary|lower primary|kindergarten|preschool|"
    r"k-12|infantil|fundamental|m[ée]dio|primaria|secundaria|bachillerato|preescolar|"
    r"primaire|secondaire|maternelle|coll[eè]ge|lyc[ée]e|grundschule|sekundarstufe|"
    r"gymnasium|realschule|hauptschule)\b",
    re.IGNORECASE,
)
_LEVEL_FILLER = frozenset(
    [
        "school",
        "schools",
        "only",
        "and",
        "&",
        "e",
        "y",
        "et",
        "und",
        "level",
        "levels",
        "grade",
        "grades",
        "education",
        "ensino",
        "educación",
        "educacion",
        "enseignement",
        "section",
        "sections",
        "classes",
        "stage",
        "stages",
        "to",
        "through",
    ]
)
_WORD = re.compile(r"[^\W\d_]+")
_BRACKET_SPAN = re.compile(rf"\(\s*{_GRADE}\s*(?:-|–|—|to)\s*{_GRADE}\s*\)", re.IGNORECASE)
_PHONE_SHAPE = re.compile(r"^[+(]?[\d][\d\s().\-/]{5,}\d(?:\s*(?:x|ext\.?)\s*\d{1,5})?$", re.I)


def is_grades(value: str) -> bool:
    text = value.strip()
    if len(text) > 60:
        return False
    if _GRADE_SPAN.match(text):
        return not _NUMBER.match(text)  # "1-2" alone reads as a span, "1,234" does not
    if _BRACKET_SPAN.search(text):
        return True
    # "Primary Only", "Ensino Fundamental e Médio", but not "Lincoln Middle School"
    rest = _LEVEL_WORDS.sub(" ", text)
    return rest != text and all(w.casefold() in _LEVEL_FILLER for w in _WORD.findall(rest))


def is_phone(value: str, region: str | None = None) -> bool:
    text = value.strip()
    if not _PHONE_SHAPE.match(text):
        return False
    digits = len(_DIGITS.findall(text))
    if not 7 <= digits <= 15:
        return False
    if _DATE.match(text) or (text.isdigit() and region is None and digits != 10):
        return False  # a bare digit string is an identifier unless it has a phone's length
    try:
        number = phonenumbers.parse(text, region or "US")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number)


def kind_of(value: str, region: str | None = None) -> Kind:
    text = value.strip()
    if not text:
        return Kind.TEXT
    if _EMAIL.match(text):
        return Kind.EMAIL
    if _WEB.match(text):
        return Kind.WEBSITE
    if _DATE.match(text):
        return Kind.DATE
    if _COORDINATE.match(text):
        return Kind.COORDINATE
    if is_phone(text, region) and not text.isdigit():
        return Kind.PHONE
    if _POSTAL.match(text) and not text.isdigit():
        return Kind.POSTAL
    if is_grades(text):
        return Kind.GRADES
    if text.isdigit() and len(text) >= 6:
        return Kind.ID
    if _NUMBER.match(text):
        return Kind.NUMBER
    if _CODE.match(text) and " " not in text:
        return Kind.ID
    return Kind.TEXT


def letters(value: str) -> int:
    return sum(ch.isalpha() for ch in value)
