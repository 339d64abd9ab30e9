"""Lenient reading of a model reply: find the JSON object, then validate it strictly.

Local models wrap JSON in fences, think aloud in ``<think>`` blocks or start with a
sentence of prose; none of that should cost a re-ask.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from handlers.llm.schema import SchoolsReply

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
MAX_ERRORS = 5


class ReplyInvalid(Exception):
    """The reply is not usable; ``reason`` is our own short message, safe for a re-ask;
    ``raw`` the reply itself when the caller wants to keep it."""

    def __init__(self, reason: str, raw: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


def parse_reply(content: str | None) -> SchoolsReply:
    data = find_json(content or "")
    if isinstance(data, list):  # a bare list of schools is an obvious intent
        data = {"schools": data}
    try:
        return SchoolsReply.model_validate(data)
    except ValidationError as exc:
        raise ReplyInvalid(describe(exc)) from exc


def find_json(content: str) -> Any:
    text = _THINK.sub("", content).strip()
    if not text:
        raise ReplyInvalid("the reply was empty")
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for candidate in candidates:
        found = _first_json_value(candidate.strip())
        if found is not None:
            return found
    raise ReplyInvalid("the reply contained no JSON object")


def _first_json_value(text: str) -> Any:
    """The first object (or list) that decodes, preferring one with a "schools" key."""
    decoder = json.JSONDecoder()
    first: Any = None
    for match in re.finditer(r"[{\[]", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and "schools" in value:
            return value
        if first is None and isinstance(value, dict | list):
            first = value
    return first


def describe(exc: ValidationError) -> str:
    """A short, deterministic summary of what was wrong, e.g. ``schools.2.name: missing``."""
    parts = []
    for error in exc.errors()[:MAX_ERRORS]:
        where = ".".join(str(p) for p in error["loc"]) or "reply"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - MAX_ERRORS
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
