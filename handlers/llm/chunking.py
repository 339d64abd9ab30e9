"""Cut pages into chunks small enough for one LLM request.

A chunk never crosses a page (evidence offsets are per page). A long page is cut at
record boundaries - a blank line if there is one, else a line break - so a school's lines
stay together; the text just before a cut travels along as read-only context.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from domain.records import Chunk, PageText

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


def chunk_pages(
    pages: Sequence[PageText], *, max_chars: int = 6000, context_chars: int = 300
) -> list[Chunk]:
    """Deterministic: the same pages and settings always give the same chunks."""
    boilerplate = repeated_lines(pages)
    chunks: list[Chunk] = []
    for page in pages:
        if page.skipped or not page.text.strip():
            continue
        for start, end in split_points(page.text, max_chars):
            if not page.text[start:end].strip():
                continue
            chunks.append(
                Chunk(
                    index=len(chunks),
                    page=page.page,
                    text=page.text[start:end],
                    offset=start,
                    context=page.text[max(0, start - context_chars) : start],
                    boilerplate=boilerplate,
                )
            )
    return chunks


def split_points(text: str, max_chars: int) -> list[tuple[int, int]]:
    """(start, end) pieces of ``text``, each at most ``max_chars`` long."""
    pieces: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > max_chars:
        end = _cut(text, start, max_chars)
        pieces.append((start, end))
        start = end
    pieces.append((start, len(text)))
    return pieces


def _cut(text: str, start: int, max_chars: int) -> int:
    """Where to end the piece that starts at ``start``.

    Only the second half of the window is searched so a stray early blank line cannot
    produce a flood of tiny chunks.
    """
    low, high = start + max_chars // 2, start + max_chars
    blanks = [m.end() for m in _BLANK_LINE.finditer(text, low, high)]
    if blanks:
        return blanks[-1]
    newline = text.rfind("\n", low, high)
    if newline != -1:
        return newline + 1
    return high


def repeated_lines(pages: Sequence[PageText], *, min_pages: int = 3) -> frozenset[str]:
    """Lines found on more than half the pages (headers, footers): noise for the model."""
    texts = [p.text for p in pages if not p.skipped]
    if len(texts) < min_pages:
        return frozenset()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({line.strip() for line in text.splitlines() if line.strip()})
    return frozenset(line for line, n in counts.items() if n * 2 > len(texts))
