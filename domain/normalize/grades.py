"""Grade ranges ("PK-5", "K-8", "9-12") and the kind of school from name, kind and grades."""

from __future__ import annotations

import re

KINDS = ("elementary", "middle", "high", "k-12", "primary", "secondary", "college", "other")

# "PP" is how Western Australian lists print pre-primary ("PP-6")
_PK_WORDS = frozenset(
    {"pk", "prek", "ppr", "pp", "prekindergarten", "preprimary", "preschool", "ps"}
)
_K_WORDS = frozenset({"k", "kg", "kn", "kin", "kindergarten", "kinder"})
_GRADE_PREFIX = re.compile(r"^\s*(grades?|gr\.?|years?)\s*:?\s*", re.IGNORECASE)


_ROMAN_GRADES = {r: n for n, r in enumerate(
    ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"], 1
)}  # fmt: skip
_BRACKETED = re.compile(r"\(([^()]*)\)")


def _grade_value(token: str) -> int | None:
    if token in _ROMAN_GRADES:
        return _ROMAN_GRADES[token]  # Indian lists: "Primary Only (I-V)"
    if token in _PK_WORDS:
        return -1
    if token in _K_WORDS:
        return 0
    match = re.fullmatch(r"(?:y|yr|year)?0*(\d{1,2})(?:st|nd|rd|th)?", token)
    if match and int(match.group(1)) <= 13:
        return int(match.group(1))
    return None


def parse_grades(grades: str | None) -> tuple[int, int] | None:
    """(low, high) with PK = -1 and K = 0, or None when ``grades`` is not a grade range."""
    if grades is None:
        return None
    inner = _BRACKETED.search(grades)
    if inner is not None and inner.group(1) != grades.strip("() "):
        # a level with its span in brackets: "Middle School (I-VIII)", "Elementary (K-5)"
        return parse_grades(inner.group(1))
    text = _GRADE_PREFIX.sub("", grades.casefold())
    text = re.sub(r"\bpre[\s-]+(?=k|primary|school)", "pre", text)
    text = re.sub(r"\b(?:year|yr)\s+(?=\d)", "y", text)
    text = re.sub(r"\b(?:through|thru|to|and)\b|[–—]", "-", text)
    tokens = [t for t in re.split(r"[-,/&\s]+", text) if t]
    values = [_grade_value(t) for t in tokens]
    if not values or any(v is None for v in values):
        return None
    known = [v for v in values if v is not None]
    return min(known), max(known)


def _grade_label(value: int) -> str:
    return {-1: "PK", 0: "K"}.get(value, str(value))


def normalize_grades(grades: str | None) -> str | None:
    if grades is None or not grades.strip():
        return None
    parsed = parse_grades(grades)
    if parsed is None:
        return " ".join(grades.split())
    low, high = parsed
    return _grade_label(low) if low == high else f"{_grade_label(low)}-{_grade_label(high)}"


# --- kind ------------------------------------------------------------------------------------

_NAME_KINDS = (
    (re.compile(r"\bk\s*-\s*12\b"), "k-12"),
    (re.compile(r"\belementary\b"), "elementary"),
    (re.compile(r"\bprimary\b"), "primary"),
    (re.compile(r"\b(middle|junior high|intermediate)\b"), "middle"),
    (re.compile(r"\b(high|senior high)\b"), "high"),
    (re.compile(r"\bsecondary\b"), "secondary"),
    (re.compile(r"\b(university|community college|college)\b(?!\s+prep)"), "college"),
)
_KIND_SYNONYMS = {
    "elementary": "elementary",
    "elementary school": "elementary",
    "middle": "middle",
    "middle school": "middle",
    "junior high": "middle",
    "high": "high",
    "high school": "high",
    "senior high": "high",
    "k-12": "k-12",
    "k12": "k-12",
    "primary": "primary",
    "primary school": "primary",
    "secondary": "secondary",
    "secondary school": "secondary",
    "college": "college",
    "university": "college",
    "other": "other",
}


def _kind_from_name(name: str) -> str | None:
    text = name.casefold()
    found = {kind for pattern, kind in _NAME_KINDS if pattern.search(text)}
    if "middle" in found and "high" in found and "junior high" in text:
        found.discard("high")
    return found.pop() if len(found) == 1 else None


def _kind_from_grades(grades: str | None, country: str | None) -> str | None:
    parsed = parse_grades(grades)
    if parsed is None:
        return None
    low, high = parsed
    if low <= 0 and high >= 12:
        return "k-12"
    if country == "AU":
        return "primary" if high <= 7 else "secondary" if low >= 7 else "other"
    if low <= 3 and high <= 8:
        return "elementary"
    if 4 <= low <= 7 and high <= 9:
        return "middle"
    if low >= 7 and high >= 9:
        return "high"
    return "other"


def infer_kind(name: str, kind: str | None, grades: str | None, country: str | None) -> str | None:
    given = _KIND_SYNONYMS.get(" ".join((kind or "").casefold().split()))
    inferred = _kind_from_name(name) or given or _kind_from_grades(grades, country)
    if inferred is None and kind and kind.strip():
        return "other"
    return inferred
