"""Server-side HTML: Jinja2 with autoescape on, plus the two helpers untrusted text needs.

Everything that came from a PDF (school names, snippets, file names) is untrusted. Jinja's
autoescape escapes it in text and in quoted attributes; ``highlight`` escapes before it
adds ``<mark>``; ``script_json`` makes JSON safe inside a ``<script>`` block.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).resolve().parent / "templates"

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"}


def script_json(value: Any) -> Markup:
    """JSON that cannot close its ``<script>`` element or open a comment inside it."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    text = re.sub(r"[<>&']", lambda m: _JSON_ESCAPES[m.group()], text)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


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


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["highlight"] = highlight
    env.filters["script_json"] = script_json
    return env


ENV = _environment()


def render(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(**context)


def render_error(status: int, message: str) -> str:
    return render("error.html", status=status, message=message, user=None)
