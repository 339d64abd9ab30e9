"""What a school name looks like: type words, headings, wrapped-name joining, prose mentions."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that end a school name ("Lincoln Elementary School", "St. Mary Academy").
TYPE_WORDS = (
    "School|Academy|College|Elementary|Institute|Preparatory|Prep|Montessori|Kindergarten|"
    "Preschool|Lyceum|Conservatory|Seminary|Gymnasium|Schoolhouse"
)
_TYPE_RE = re.compile(rf"\b(?:{TYPE_WORDS})\b\.?$", re.I)
_TYPE_START = re.compile(
    rf"^(?:(?:Elementary|Middle|High|Junior|Senior|Primary|Secondary|Intermediate|Charter|"
    rf"Community|Christian|Catholic|Public|Day|Grammar|Magnet)\b|(?:{TYPE_WORDS})\b)",
    re.I,
)
# Words that continue a name on the next line: "School of the" / "Arts"
_CONNECTOR_END = re.compile(r"(?:\b(?:of|the|and|for|at|de|la|del|in|on)|[&\-–,/])$", re.I)
_CONNECTOR_START = re.compile(r"^(?:of|the|and|for|at|de|la|del|in|on|&|-|–|\()\b", re.I)
_HEADING = re.compile(
    r"(?:\b(?:directory|contents|listing|continued|district office|table of)\b|"
    r"\bpage\s+\d|\b(?:schools|academies|colleges|district|districts)$|:$)",
    re.I,
)
_SENTENCE = re.compile(r"[a-z]{3,}[.!?]$")


_SCHOOL_WORD = re.compile(
    rf"\b(?:{TYPE_WORDS}|Middle|High|Primary|Secondary|Center|Centre|Campus|Charter)\b", re.I
)


def has_school_word(text: str) -> bool:
    """Any word that only school names use ("Dean Elementary"; not "Jane Dean")."""
    return bool(_SCHOOL_WORD.search(text))


def has_type_word(name: str) -> bool:
    return bool(_TYPE_RE.search(name.strip()))


def is_heading(text: str) -> bool:
    """Section headings and titles ("Elementary Schools", "Directory of ...")."""
    return bool(_HEADING.search(text))


def plausible_name(text: str) -> bool:
    """Could this line be (part of) a school name? Rejects prose and numbers."""
    words = text.split()
    if not words or len(words) > 12 or len(text) > 90:
        return False
    letters = sum(ch.isalpha() for ch in text)
    if letters < 2 or letters < len(text) * 0.5:
        return False
    lower = sum(1 for w in words if w[0].islower() and w.lower() not in _SMALL)
    return lower <= 1 and not _SENTENCE.search(text)


_SMALL = {"of", "the", "and", "for", "at", "de", "la", "del", "in", "on", "y", "a", "an", "to"}


def _case_style(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(ch.isupper() for ch in letters)


def join_wrapped(prev: str, last: str) -> bool:
    """Is ``last`` the second line of a name that starts on ``prev``?"""
    if not plausible_name(prev) or is_heading(prev) or is_heading(last):
        return False
    if last.casefold().startswith(f"{prev.casefold()} "):
        return False  # "Yanchep" over "Yanchep Secondary College": a place, then the name
    if _case_style(prev) != _case_style(last) and len(last) > 3:
        return False  # "ELEMENTARY" heading above "Adams Elementary" is not one name
    if last[:1].islower() or _CONNECTOR_START.match(last) or _CONNECTOR_END.search(prev):
        return True
    if _TYPE_START.match(last):
        return True  # "Dwight D Eisenhower" / "Elementary"
    if has_type_word(prev) and has_type_word(last):
        return False  # two complete names
    return len(last.split()) <= 3 and len(prev.split()) <= 6


# A note in brackets after a name is not part of it: "Lincoln Elementary (Charter)",
# "Adams Middle (formerly Adams Junior High)". Only these notes: many real names carry
# brackets of their own ("Adelante High (Continuation)", "Adam (William Laird) Elementary").
_NOTE = re.compile(
    r"\s*[(\[](?:(?:charter|magnet|title i|new)[)\]]|"
    r"(?:formerly|previously|was|now|also known as|aka|a\.k\.a\.|opened|opening|closed|"
    r"est\.|established|founded)\b[^()\[\]]*[)\]])\s*$",
    re.I,
)


def strip_note(name: str) -> str:
    """The name without a trailing note in brackets (see ``_NOTE``)."""
    stripped = _NOTE.sub("", name)
    return stripped if stripped.strip() else name


def choose_name(pending: list[str]) -> int:
    """How many of the trailing ``pending`` lines form the name (0, 1 or 2)."""
    if not pending or not plausible_name(pending[-1]) or is_heading(pending[-1]):
        return 0
    if len(pending) >= 2 and join_wrapped(pending[-2], pending[-1]):
        return 2
    return 1


# --- prose --------------------------------------------------------------------------------

_WORD = r"(?:[A-Z][A-Za-z'’\-]*|[A-Z][a-z]{0,2}\.|[A-Z]\.|\d+(?:st|nd|rd|th)|O'[A-Z][a-z]+)"
_SEP = r"(?:[ \t]+|[ \t]*\n[ \t]*)"
_INNER = r"(?:of|the|and|de|la|del|for|&)"
_TYPE_PHRASE = rf"(?:{TYPE_WORDS})(?:{_SEP}(?:{TYPE_WORDS}))*"
PROSE_RE = re.compile(
    rf"(?<![\w.])(?:{_WORD}{_SEP}(?:(?:{_INNER}){_SEP})?)+?(?:{_TYPE_PHRASE})\b"
    rf"(?:{_SEP}(?:of|for){_SEP}(?:the{_SEP})?{_WORD}(?:{_SEP}(?:and{_SEP})?{_WORD})*?"
    rf"(?={_SEP}?[,.;:)]|{_SEP}[a-z]|$))?"
    r"(?!\s+(?:District|Districts|Board|Year|Bus|System|Division|Calendar|Day|Days|"
    r"Nurse|Lunch|Supplies|Building|Campus|Zone|Boundary|Bond|Levy)\b)"
)
_STOP = {
    "The", "A", "An", "At", "In", "On", "From", "For", "With", "And", "But", "Both", "While",
    "When", "After", "Before", "Since", "This", "That", "These", "Those", "Each", "Every",
    "All", "Nearby", "Neighboring", "Meanwhile", "Also", "Then", "Today", "Yesterday", "Last",
    "Next", "Our", "Their", "His", "Her", "Its", "Students", "Teachers", "Parents", "Staff",
    "Families", "During", "Unlike", "Like", "Although", "Through", "Under", "Several", "Many",
    "Former", "New", "Local", "Area", "Visit", "Contact", "Please", "If", "As",
}  # fmt: skip
_GENERIC = {
    "high", "middle", "elementary", "junior", "senior", "primary", "secondary",
    "intermediate", "public", "charter", "private", "catholic", "christian", "community",
    "the", "our", "your", "local", "area", "other", "new", "day", "grammar", "of", "and", "a",
}  # fmt: skip


_CAPITAL_AFTER = re.compile(r"[ \t]+[A-Z][a-z]")


@dataclass(frozen=True)
class Mention:
    name: str
    start: int
    end: int


def _at_sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in '.!?:;\n"“'


def prose_mentions(text: str) -> list[Mention]:
    """Names ending in a type word, in running text ("students from Lincoln High School")."""
    found: list[Mention] = []
    for m in PROSE_RE.finditer(text):
        start, words = m.start(), m.group(0).split()
        # "The", "Students", ... open a sentence; mid-sentence a capital "The" is in the name
        while len(words) > 1 and words[0] in _STOP and _at_sentence_start(text, start):
            start = text.index(words[1], start + len(words[0]))
            words = words[1:]
        if _CAPITAL_AFTER.match(text, m.end()):
            continue  # "Multi-State School Contacts": the type word does not end it, a title
        distinct = [w for w in words if w.lower().strip(".") not in _GENERIC]
        if not any(not _TYPE_RE.search(w) for w in distinct):
            continue  # just "High School" or "The Academy"
        found.append(Mention(" ".join(words), start, m.end()))
    return found
