"""Page furniture the line readers skip: lines repeated at the edges of many pages (headers,
footers) and the parts of a letter (opening, sign-off) around a list."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from handlers.rules_fields import classify, split_lines

# the closing of a letter: what follows is the signer, not a school
SIGNOFF = re.compile(
    r"^(?:sincerely|respectfully|regards|best regards|kind regards|warm regards|cordially|"
    r"yours truly|very truly yours|yours sincerely|with gratitude|thank you)(?: yours)?[,.!]?$",
    re.I,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# what opens a letter below its letterhead: a date ("September 2, 2025") or a salutation
LETTER_OPENING = re.compile(
    rf"^(?:(?:[a-z]+day,\s*)?{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|"
    r"dear\b.*|to whom it may concern\W*)$",
    re.I,
)
_MIN_PAGES_FOR_BOILERPLATE = 3
_EDGE_LINES = 3  # headers/footers sit in the first/last few lines of a page


def boilerplate_key(line: str) -> str:
    """Digits collapse so "Page 3 of 9" and "Page 4 of 9" are the same line."""
    return re.sub(r"\d+", "#", " ".join(line.split()))


def find_boilerplate(texts: Sequence[str]) -> frozenset[str]:
    """Lines at the top or bottom of >= 50% of pages (when there are >= 3 pages).

    Only page edges count, and field lines ("Phone: ...", "Grades: K-5") never do: with
    digits collapsed those repeat on every page of a directory without being headers.
    """
    if len(texts) < _MIN_PAGES_FOR_BOILERPLATE:
        return frozenset()
    counts: Counter[str] = Counter()
    for text in texts:
        lines = [ln.text for ln in split_lines(text)]
        edges = lines[:_EDGE_LINES] + lines[-_EDGE_LINES:]
        counts.update({boilerplate_key(ln) for ln in edges if classify(ln).kind in _NOT_FIELD})
    return frozenset(k for k, n in counts.items() if n * 2 >= len(texts))


_NOT_FIELD = ("text", "label")
