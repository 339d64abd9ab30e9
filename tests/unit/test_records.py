"""The record's field list is defined once (domain.records); everything else follows it."""

from __future__ import annotations

from dataclasses import fields

from domain.records import RECORD_FIELDS, SchoolRecord
from handlers.llm.schema import SCHOOLS_JSON_SCHEMA, SchoolsReply
from models.tables import School


def test_record_fields_are_the_dataclass_fields_besides_name_evidence_and_ids() -> None:
    names = [f.name for f in fields(SchoolRecord)]
    assert list(RECORD_FIELDS) == [n for n in names if n not in ("name", "evidence", "identifiers")]
    assert "postal_code" in RECORD_FIELDS


def test_the_llm_schema_asks_for_every_record_field() -> None:
    item = SCHOOLS_JSON_SCHEMA["properties"]["schools"]["items"]
    assert set(item["properties"]) == {"name", *RECORD_FIELDS}
    assert item["required"] == ["name", *RECORD_FIELDS]
    reply = SchoolsReply.model_validate({"schools": [{"name": "A", "district": "D", "x": 1}]})
    assert reply.schools[0].values() == {**dict.fromkeys(RECORD_FIELDS), "district": "D"}


def test_the_schools_table_stores_every_record_field() -> None:
    columns = set(School.__table__.columns.keys())
    missing = [f for f in RECORD_FIELDS if f not in columns]
    assert not missing, f"schools table lacks {missing}: add the column and a migration"
