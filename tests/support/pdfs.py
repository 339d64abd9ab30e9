"""Small directory PDFs for tests, drawn with reportlab."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas


def directory_pdf(blocks: list[list[str]]) -> bytes:
    """A one-page directory: each block is a school's lines (name first), blank line between."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=letter, invariant=True)
    y = letter[1] - 72
    for block in blocks:
        for text in block:
            pdf.drawString(72, y, text)
            y -= 14
        y -= 14
    pdf.showPage()
    pdf.save()
    return out.getvalue()


NOBLE = ["Noble Middle School", "20 Oak Ave", "Dayton, OH 45403", "Phone: (937) 555-0200"]


def pair_documents() -> tuple[bytes, bytes]:
    """Two directories: Noble Middle in both (merged on save), Webster Elementary listed in
    full by one and by name and town only by the other (a possible duplicate)."""
    first = directory_pdf(
        [
            ["Webster Elementary School", "1 Elm St", "Dayton, OH 45402", "Phone: (937) 555-0100"],
            NOBLE,
        ]
    )
    second = directory_pdf(
        [["Webster Elementary", "Dayton, OH 45402"], [*NOBLE[:1], "20 Oak Avenue", *NOBLE[2:]]]
    )
    return first, second


def mention_document() -> bytes:
    """A third directory naming Webster Elementary again by name and town only."""
    return directory_pdf([["Webster Elementary", "Dayton, OH 45402"], ["Lone Pine High School"]])
