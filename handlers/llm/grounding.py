"""Tie every value the model returned to the text it came from.

A model may invent or "fix" things. A school is kept only if its name is found in the
chunk text; a field value that is not found becomes None. Found spans are turned into
Evidence with offsets into the page text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from domain.records import Chunk, Evidence, SchoolRecord
from handlers.llm.schema import SchoolItem, SchoolsReply

FUZZY_MIN_SCORE = 90.0
FUZZY_MIN_LENGTH = 5  # shorter needles match too much by chance ("K-5", "CA")
FIELD_WINDOW = 600  # fields are looked for after the name first, this far
MAX_SPAN = 400
GRADE_ENDS_MAX_GAP = 40  # "grade 9 through grade 12", or a Low and a High column
_GRADE_SPLIT = re.compile(r"\s*(?:-|–|—|\bto\b|\bthrough\b|\bthru\b)\s*", re.IGNORECASE)
_GRADE_WORD = re.compile(r"^(?:grades?|gr\.?)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Match:
    start: int  # offsets into the chunk text
    end: int
    value: str  # what to store: the text's own spelling where we can tell it


class NormalizedText:
    """Lower-cased text with whitespace runs collapsed, mapped back to the original."""

    def __init__(self, text: str) -> None:
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(text):
            if ch.isspace():
                if chars and chars[-1] != " ":
                    chars.append(" ")
                    origin.append(i)
                continue
            for low in ch.lower():  # lower() may lengthen a character
                chars.append(low)
                origin.append(i)
        self.text = "".join(chars)
        self.origin = origin

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[end - 1] + 1


def normalize(text: str) -> str:
    return " ".join(text.split()).lower()


def locate(
    text: str, norm: NormalizedText, needle: str, lo: int = 0, hi: int | None = None
) -> Match | None:
    """Exact, then whitespace/case-insensitive, then fuzzy; within [lo, hi) of ``text``."""
    hi = len(text) if hi is None else hi
    needle = needle.strip()
    if not needle:
        return None
    pos = text.find(needle, lo, hi)
    if pos != -1:
        return Match(pos, pos + len(needle), needle)
    target = normalize(needle)
    n_lo, n_hi = _norm_bounds(norm, lo, hi)
    pos = norm.text.find(target, n_lo, n_hi)
    if pos != -1:
        start, end = norm.span(pos, pos + len(target))
        return Match(start, end, " ".join(text[start:end].split()))
    if len(target) < FUZZY_MIN_LENGTH:
        return None
    return _fuzzy(norm, target, n_lo, n_hi, needle)


def _fuzzy(norm: NormalizedText, target: str, lo: int, hi: int, needle: str) -> Match | None:
    hay = norm.text[lo:hi]
    found = fuzz.partial_ratio_alignment(target, hay, score_cutoff=FUZZY_MIN_SCORE)
    if found is None or found.dest_end <= found.dest_start:
        return None
    start, end = norm.span(lo + found.dest_start, lo + found.dest_end)
    # The model's spelling is kept: it is within a few characters of the text (often a
    # repaired hyphenation or OCR slip), and the evidence span shows the original.
    return Match(start, end, needle)


def _norm_bounds(norm: NormalizedText, lo: int, hi: int) -> tuple[int, int]:
    """Translate original offsets [lo, hi) into normalized offsets."""
    return bisect.bisect_left(norm.origin, lo), bisect.bisect_left(norm.origin, hi)


def ground(chunk: Chunk, reply: SchoolsReply) -> tuple[list[SchoolRecord], int]:
    """Records whose names are in the chunk, and how many candidates were dropped."""
    norm = NormalizedText(chunk.text)
    records: list[SchoolRecord] = []
    seen: set[int] = set()
    dropped = 0
    cursor = 0  # models list schools in text order; look after the previous one first
    for item in reply.schools:
        name = locate(chunk.text, norm, item.name, cursor) or locate(chunk.text, norm, item.name)
        if name is None or name.start in seen:
            dropped += 1
            continue
        seen.add(name.start)
        cursor = name.end
        records.append(_record(chunk, norm, item, name))
    return records, dropped


def _record(chunk: Chunk, norm: NormalizedText, item: SchoolItem, name: Match) -> SchoolRecord:
    values: dict[str, str | None] = {}
    end = name.end
    for field_name, raw in item.values().items():
        found = _locate_field(chunk.text, norm, raw, name.start)
        if found is None and field_name == "grades":
            found = locate_grade_span(chunk.text, raw, name.start)
        values[field_name] = found.value if found else None
        if found and found.start >= name.start:
            end = max(end, found.end)
    end = min(end, max(name.end, name.start + MAX_SPAN))
    page_start, page_end = chunk.offset + name.start, chunk.offset + end
    evidence = Evidence(chunk.page, page_start, page_end, chunk.text[name.start : end])
    return SchoolRecord.of(name.value, evidence, values)


def locate_grade_span(text: str, raw: str | None, near: int) -> Match | None:
    """A grade span the model gives as one value ("9-12") while the page prints its ends
    apart ("grade 9 through grade 12", Low and High columns): each end is found on its
    own, low before high, close together, after the school's name."""
    ends = _GRADE_SPLIT.split((raw or "").strip())
    if len(ends) != 2:
        return None
    values = [_GRADE_WORD.sub("", end).strip() for end in ends]
    if not all(values):
        return None
    hi = min(len(text), near + FIELD_WINDOW)
    found: list[re.Match[str]] = []
    for value in values:
        pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", re.I)
        start = found[0].end() if found else near
        match = pattern.search(text, start, hi)
        if match is None:
            return None
        found.append(match)
    if found[1].start() - found[0].end() > GRADE_ENDS_MAX_GAP:
        return None
    return Match(found[0].start(), found[1].end(), (raw or "").strip())


def _locate_field(text: str, norm: NormalizedText, raw: str | None, near: int) -> Match | None:
    if raw is None or not raw.strip():
        return None
    hi = min(len(text), near + FIELD_WINDOW)
    # A district or city may also sit in a heading above the list, so fall back to the
    # whole chunk.
    return locate(text, norm, raw, near, hi) or locate(text, norm, raw)
