"""A whole record, and a whole document's records, normalized field by field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from domain.normalize.contacts import document_country, normalize_phone, normalize_website
from domain.normalize.grades import infer_kind, normalize_grades
from domain.normalize.names import END_JUNK, canonical_name, normalize_name, title_word
from domain.normalize.places import (
    infer_country,
    normalize_country,
    normalize_postal_code,
    normalize_region,
)
from domain.records import SchoolRecord


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split()).strip(END_JUNK)
    return text or None


def _clean_place(value: str | None) -> str | None:
    text = _clean(value)
    if text and text.isupper() and len(text) > 3:
        return " ".join(title_word(w) for w in text.split())
    return text


def normalize_document(records: Sequence[SchoolRecord]) -> list[SchoolRecord]:
    """Every record of one document normalized, the document's country filling theirs."""
    country = document_country(records)
    return [normalize_record(r, country) for r in records]


def normalize_record(r: SchoolRecord, country_hint: str | None = None) -> SchoolRecord:
    """``r`` with canonical values; the evidence is kept as is. ``country_hint`` is the
    document's country, for a record that does not show its own."""
    country = normalize_country(r.country) or infer_country(r.region, r.postal_code) or country_hint
    name = normalize_name(r.name) or " ".join(r.name.split())
    grades = normalize_grades(r.grades)
    return replace(
        r,
        name=name,
        kind=infer_kind(canonical_name(name), r.kind, grades, country),
        address=_clean(r.address),
        city=_clean_place(r.city),
        region=normalize_region(r.region, country),
        postal_code=normalize_postal_code(r.postal_code, country),
        country=country,
        phone=normalize_phone(r.phone, country),
        website=normalize_website(r.website),
        grades=grades,
        district=_clean(r.district),
    )
