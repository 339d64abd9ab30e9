"""The shape of the model's reply: pydantic models for parsing, JSON schema for the server."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, create_model, field_validator

from domain.records import RECORD_FIELDS

FIELDS = RECORD_FIELDS  # the reply carries every record field besides the name


class _ItemBase(BaseModel):
    # Lenient on purpose: servers without strict mode add keys or send a zip code as a
    # number; neither is worth a re-ask.
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    name: str

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be empty")
        return value

    def values(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in FIELDS}


# The record's fields come from RECORD_FIELDS, so a new field reaches the schema, the
# parser and the cache key at once; type checkers see the base with ``values()``.
if TYPE_CHECKING:
    SchoolItem = _ItemBase
else:
    SchoolItem = create_model(
        "SchoolItem",
        __base__=_ItemBase,
        **{name: (str | None, None) for name in FIELDS},
    )


class SchoolsReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    schools: list[SchoolItem]


def _nullable_string() -> dict[str, Any]:
    return {"type": ["string", "null"]}


SCHOOLS_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "schools": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    **{name: _nullable_string() for name in FIELDS},
                },
                "required": ["name", *FIELDS],
                "additionalProperties": False,
            },
        }
    },
    "required": ["schools"],
    "additionalProperties": False,
}

SCHEMA_TEXT = json.dumps(SCHOOLS_JSON_SCHEMA, sort_keys=True, separators=(",", ":"))
"""Canonical text of the schema: part of the cache key and of the fallback prompt."""
