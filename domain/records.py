"""Values passed between the PDF stages. Frozen, JSON round-trippable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class PageText:
    """The text of one page. ``page`` counts from 1; spans index into ``text``."""

    page: int
    text: str
    needs_ocr: bool = False
    skipped: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A piece of one page's text to extract from.

    ``offset`` is where ``text`` starts inside the page's text, so a span found in the chunk
    maps back to the page. ``context`` is preceding text the extractor may read but must not
    extract from. ``boilerplate`` holds lines repeated on many pages (headers, footers).
    """

    index: int
    page: int
    text: str
    offset: int = 0
    context: str = ""
    boilerplate: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Evidence:
    page: int
    start: int  # character offsets into the page's text
    end: int
    snippet: str


@dataclass(frozen=True)
class SchoolRecord:
    name: str
    evidence: Evidence
    kind: str | None = None
    address: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone: str | None = None
    website: str | None = None
    grades: str | None = None
    district: str | None = None
    # official ids the document prints, by scheme: {"udise": "33300100101", "nces": "..."}
    identifiers: dict[str, str] = field(default_factory=dict, hash=False)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(
        cls,
        name: str,
        evidence: Evidence,
        values: Mapping[str, str | None],
        identifiers: Mapping[str, str] | None = None,
    ) -> SchoolRecord:
        """A record from field values by name (keys other than RECORD_FIELDS are ignored)."""
        kept: dict[str, Any] = {k: values.get(k) for k in RECORD_FIELDS}
        return cls(name=name, evidence=evidence, identifiers=dict(identifiers or {}), **kept)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SchoolRecord:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and k != "evidence"}
        values["identifiers"] = dict(values.get("identifiers") or {})
        return cls(evidence=Evidence(**data["evidence"]), **values)


# The one list of a record's plain text fields besides its name, in the order of the
# dataclass: the LLM's reply schema, the export columns, editing and the matcher's snapshot
# are derived from it (the ``schools`` table's columns are checked against it by a test).
RECORD_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(SchoolRecord) if f.name not in ("name", "evidence", "identifiers")
)


@dataclass(frozen=True)
class ChunkResult:
    """What an extractor found in one chunk, and what it cost."""

    records: tuple[SchoolRecord, ...]
    dropped: int = 0  # candidates rejected (e.g. an LLM name not found in the text)
    usage: dict[str, int] = field(default_factory=dict)  # prompt_tokens, completion_tokens, ...
    warnings: tuple[str, ...] = ()  # what the extractor could not read, for the user
    # how sure the offline reader is that it read the page (0-1); None for the LLM
    confidence: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "records": [r.to_json() for r in self.records],
            "dropped": self.dropped,
            "usage": dict(self.usage),
            "warnings": list(self.warnings),
            "confidence": self.confidence,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChunkResult:
        return cls(
            records=tuple(SchoolRecord.from_json(r) for r in data["records"]),
            dropped=int(data.get("dropped", 0)),
            usage={k: int(v) for k, v in data.get("usage", {}).items()},
            warnings=tuple(str(w) for w in data.get("warnings", ())),
            confidence=data.get("confidence"),
        )
