"""Server-side HTML: Jinja2 with autoescape on, plus highlighting that keeps untrusted text escaped.

Everything that came from a PDF (school names, snippets, file names) is untrusted. Jinja's
autoescape escapes it in text and in quoted attributes, and ``highlight`` escapes before it
adds ``<mark>``. No page has inline script (the CSP forbids it), so no JSON is embedded in
``<script>``: the one value the script needs travels in a ``data-`` attribute.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).resolve().parent / "templates"


def name_pattern(name: str) -> re.Pattern[str] | None:
    """The name's words in order, any whitespace between them (snippets keep line breaks)."""
    words = name.split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)


def highlight(snippet: str, name: str) -> Markup:
    """The escaped snippet with the first occurrence of ``name`` wrapped in ``<mark>``."""
    pattern = name_pattern(name)
    found = pattern.search(snippet) if pattern else None
    if found is None:
        return escape(snippet)
    before, match, after = (
        snippet[: found.start()],
        snippet[found.start() : found.end()],
        snippet[found.end() :],
    )
    return escape(before) + Markup("<mark>") + escape(match) + Markup("</mark>") + escape(after)


# What a reviewer reads instead of a column name; any other key gets its words capitalised.
LABELS = {
    "postal_code": "Postal code",
    "grades": "Grades",
    "kind": "Type",
    "region": "Region / state",
    "udise": "UDISE code",
    "nces": "NCES id",
}


def label(key: str) -> str:
    """``postal_code`` -> ``Postal code``: field names as people write them."""
    return LABELS.get(key) or key.replace("_", " ").capitalize()


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["highlight"] = highlight
    env.filters["label"] = label
    return env


ENV = _environment()


def render(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(**context)


def render_error(status: int, message: str) -> str:
    return render("error.html", status=status, message=message, user=None)
