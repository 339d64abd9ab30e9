"""The messages sent for one chunk. Bump PROMPT_VERSION whenever the wording changes:
it is part of the cache key, so old replies are not reused for a new prompt."""

from __future__ import annotations

from typing import Any

from domain.records import Chunk
from handlers.llm.schema import SCHEMA_TEXT

PROMPT_VERSION = "schools-v1"

Message = dict[str, Any]

SYSTEM = f"""You extract schools from the text of one page of a PDF document.
Rules:
- List every school that appears in the text between <text> and </text>, in order.
- Copy each value exactly as it is written in the text: no translation, no expansion of
  abbreviations, no corrections. A value that is not in the text is null.
- Text between <context> and </context> only precedes the text; never list a school from it.
- "kind" is the kind of school as written (e.g. public, private, charter), "grades" the grade
  range as written (e.g. K-5, 9-12).
- Reply with a single JSON object and nothing else, matching this JSON schema:
{SCHEMA_TEXT}"""

REASK = (
    "Your previous reply could not be used: {reason}. Reply again with only the JSON "
    "object for the same text, following the schema exactly."
)


def build_messages(chunk: Chunk) -> list[Message]:
    parts = []
    if chunk.boilerplate:
        lines = "\n".join(sorted(chunk.boilerplate))
        parts.append(f"Lines repeated on many pages (headers or footers):\n{lines}\n")
    if chunk.context.strip():
        parts.append(f"<context>\n{chunk.context}\n</context>\n")
    parts.append(f"<text>\n{chunk.text}\n</text>")
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "\n".join(parts)},
    ]


def reask_messages(messages: list[Message], reply: str | None, reason: str) -> list[Message]:
    """The conversation plus our own validation message - never text from an API error."""
    follow_up = list(messages)
    if reply:
        follow_up.append({"role": "assistant", "content": reply})
    follow_up.append({"role": "user", "content": REASK.format(reason=reason)})
    return follow_up


def estimate_tokens(messages: list[Message], max_completion: int | None) -> int:
    """A rough budget for the TPM limiter: ~4 characters a token, plus the reply."""
    chars = sum(len(str(m.get("content", ""))) for m in messages)
    return chars // 4 + (max_completion or 1000)
