"""Repair the text pypdf extracts from directory-style PDFs. Pure functions only.

What ``repair_text`` does, in order:

* line endings become ``\\n``; tabs become two spaces (a tab separates columns);
* soft hyphens and zero-width characters are removed, NBSP and the other Unicode spaces
  become a plain space;
* typographic ligatures (U+FB00..U+FB06: ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ) are expanded with NFKC, applied to
  those characters only so that other compatibility characters (½, ², ™) are left as is;
* glued tokens are split where two fields of a listing ran together:
  ``(773) 582-1100Charter`` -> ``(773) 582-1100 Charter``, ``60614Phone`` -> ``60614 Phone``,
  ``SchoolPhone:`` -> ``School Phone:``. Ordinals (``4th``, ``3RD``) and codes (``K12``,
  ``B2B``) are not split;
* runs of two or more spaces become exactly two spaces (unless ``keep_spacing``), because
  two spaces is what marks a table column boundary for the later stages, and trailing
  spaces are stripped.
"""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_UNICODE_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_LIGATURES = re.compile("[\ufb00-\ufb06]")

# Label words that start a new field of a listing. A lower-case run glued to one of them
# ("SchoolPhone:") is two tokens; two lower-case letters are required before the label so
# that brand names such as "iPhone" stay whole.
_LABELS = (
    "Phone",
    "Tel",
    "Telephone",
    "Fax",
    "Grades",
    "Grade",
    "Website",
    "Web",
    "Principal",
    "Address",
    "Email",
    "E-mail",
    "District",
    "Enrollment",
)
_LABEL_GLUE = re.compile(r"(?<=[a-z][a-z])(?=(?:" + "|".join(_LABELS) + r")\b)")

# A digit followed by a capitalised word of 2+ letters ("1100Charter", "60614USA") is a glue
# point, except an ordinal suffix in any case ("4TH", "21St", "37Th": title-casing tools
# write them so). Single capitals ("12B", "B2B") and lower-case suffixes never match.
_DIGIT_GLUE = re.compile(r"(?<=\d)(?=[A-Z][A-Za-z])(?!(?i:st|nd|rd|th)\b)")

_SPACE_RUN = re.compile(r" {2,}")


def _expand_ligature(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", match.group())


def _repair_line(line: str, keep_spacing: bool) -> str:
    line = _LABEL_GLUE.sub(" ", line)
    line = _DIGIT_GLUE.sub(" ", line)
    if not keep_spacing:
        line = _SPACE_RUN.sub("  ", line)
    return line.rstrip(" ")


def repair_text(text: str, *, keep_spacing: bool = False) -> str:
    """Return ``text`` with the extraction artefacts listed in the module docstring fixed.

    ``keep_spacing`` leaves runs of spaces as they are: in fixed-width layout text their
    length is the column position the reader aligns cells by.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "  ")
    text = _ZERO_WIDTH.sub("", text)
    text = _UNICODE_SPACES.sub(" ", text)
    text = _LIGATURES.sub(_expand_ligature, text)
    return "\n".join(_repair_line(line, keep_spacing) for line in text.split("\n"))
