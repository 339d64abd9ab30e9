"""What a printed name line holds besides the name."""

from __future__ import annotations

import re

from handlers.reader.recognise import is_grades

# A bracket at the end of a name holding a code or a span, not words of the name: a
# classification "(7-AAA)", "(2-A Division I)", a grade span "(K-5)", a year "(est. 1921)".
# Brackets of words only stay: "Adelante High (Continuation)", "(Boys)".
_TRAILING_CODE = re.compile(r"\s*[(\[](?P<note>[^()\[\]]*\d[^()\[\]]*)[)\]]\s*$")


def split_name(text: str) -> tuple[str, str | None]:
    """The name without a trailing coded note, and the note's grade span when it is one."""
    m = _TRAILING_CODE.search(text)
    if m is None or not text[: m.start()].strip():
        return text, None
    note = m.group("note").strip()
    return text[: m.start()].rstrip(" ,-–"), note if is_grades(note) else None
