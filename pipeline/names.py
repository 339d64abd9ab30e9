"""User ids and text that reaches a terminal or a log.

File and folder names come from whoever can write to the inbox, school names from PDFs:
either may hold escape sequences that recolour, hide or rewrite a terminal's lines, so
everything printed or logged goes through ``printable`` first.
"""

from __future__ import annotations

import re
import unicodedata

# User ids end up in task rows, logs, paths and review history: keep them plain.
USER_ID_RE = re.compile(r"[A-Za-z0-9_.@-]{1,128}")
USER_ID_RULE = "1-128 letters, digits, '_', '.', '@' or '-'"


def valid_user_id(name: str) -> bool:
    return bool(USER_ID_RE.fullmatch(name)) and name not in (".", "..")


def printable(text: str, *, keep: str = "") -> str:
    """``text`` with control and format characters (ESC, CR, bidi overrides, ...) shown as
    ``\\x1b`` / ``\\u202e`` escapes; characters in ``keep`` (e.g. a newline) pass as they are."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in keep or not (category[0] == "C" or category in ("Zl", "Zp")):
            out.append(ch)  # spaces of every width are harmless; line separators are not
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)
