"""What a person may set on a school: each value passes the same normalizers as
extraction (``domain.normalize``) and is stored the way a save would store it ("k–5" ->
"K-5", "oregon" -> "OR"). A value the normalizers cannot read is refused with the field
named, instead of being stored as typed and making the export inconsistent."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, cast

import phonenumbers
from sqlalchemy import String, Table

from domain.normalize import (
    KINDS,
    infer_kind,
    normalize_country,
    normalize_grades,
    normalize_name,
    normalize_phone,
    normalize_postal_code,
    normalize_region,
    normalize_website,
    parse_grades,
)
from domain.records import RECORD_FIELDS
from models.tables import School
from pipeline.errors import ConflictError, InvalidValue

schools = cast(Table, School.__table__)

EDITABLE = ("name", *RECORD_FIELDS)
# What a region of these countries is: their normalizers know every state and territory.
_REGION_EXAMPLES = {"US": "OR, Oregon, NY", "AU": "NSW, Victoria, QLD"}
_E164 = re.compile(r"\+\d{8,15}( ext\. \d+)?")
_POSTAL_SHAPES = {"US": (r"\d{5}(-\d{4})?", "12345 or 12345-6789"), "AU": (r"\d{4}", "2000")}


def _plain(value: str, country: str | None) -> str:
    return " ".join(value.split())


def _name(value: str, country: str | None) -> str:
    return normalize_name(value)


def _country(value: str, country: str | None) -> str:
    code = normalize_country(value) or ""
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidValue(
            "country",
            f"{value!r} is not a country; expected a two-letter ISO code (US, AU, IN, DE, ...)"
            " or United States / Australia",
        )
    return code


def _region(value: str, country: str | None) -> str:
    code = normalize_region(value, country) or ""
    if country not in _REGION_EXAMPLES:
        return code
    # A known state comes back as its code, and its code reads as itself.
    if normalize_region(code.casefold(), country) != code or not code.isupper():
        raise InvalidValue(
            "region",
            f"{value!r} is not a state or territory of {country}; "
            f"expected e.g. {_REGION_EXAMPLES[country]}",
        )
    return code


def _phone(value: str, country: str | None) -> str:
    number = normalize_phone(value, country) or ""
    if not _E164.fullmatch(number):  # what the normalizer returns when it read a number
        where = f" of {country}" if country else " (no country known: start it with +)"
        raise InvalidValue(
            "phone", f"{value!r} is not a phone number{where}; expected e.g. +1 217 555 0100"
        )
    return number


def _grades(value: str, country: str | None) -> str:
    if parse_grades(value) is None:
        raise InvalidValue(
            "grades", f"{value!r} is not a grade range; expected e.g. K-5, 9-12, PK-8, Year 7-12"
        )
    return normalize_grades(value) or ""


def _postal_code(value: str, country: str | None) -> str:
    code = normalize_postal_code(value, country) or ""
    shape = _POSTAL_SHAPES.get(country or "")
    if shape is not None and not re.fullmatch(shape[0], code):
        raise InvalidValue(
            "postal_code", f"{value!r} is not a postal code of {country}; expected e.g. {shape[1]}"
        )
    return code


def _website(value: str, country: str | None) -> str:
    url = normalize_website(value)
    host = (url or "").split("://", 1)[-1].split("/", 1)[0]
    if url is None or "." not in host or " " in value.strip():
        raise InvalidValue("website", f"{value!r} is not a web address; expected e.g. school.org")
    return url


def _kind(value: str, country: str | None) -> str:
    kind = infer_kind("", value, None, None)
    if kind is None or (kind == "other" and value.strip().casefold() != "other"):
        raise InvalidValue("kind", f"{value!r} is not a kind of school; one of {', '.join(KINDS)}")
    return kind


_CLEANERS: dict[str, Callable[[str, str | None], str]] = {
    "name": _name,
    "kind": _kind,
    "country": _country,
    "region": _region,
    "postal_code": _postal_code,
    "phone": _phone,
    "website": _website,
    "grades": _grades,
}


def clean_changes(changes: Mapping[str, str | None], row: Any) -> dict[str, str | None]:
    """``changes`` to school row ``row``, normalized; an empty value clears a field (not
    the name). Region, phone and postal code are read in the country the school will have."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ConflictError(
            f"cannot edit {', '.join(sorted(unknown))}; editable fields: {', '.join(EDITABLE)}"
        )
    out: dict[str, str | None] = {}
    if (changes.get("country") or "").strip():
        out["country"] = _country(str(changes["country"]), None)
    elif "country" in changes:
        out["country"] = None
    country = out["country"] if "country" in changes else row.country
    for key, value in changes.items():
        if key == "country":
            continue
        if value is None or not value.strip():
            if key == "name":
                raise InvalidValue("name", "a school needs a name")
            out[key] = None
            continue
        out[key] = _CLEANERS.get(key, _plain)(value, country)
    for key, value in out.items():
        limit = cast(String, schools.c[key].type).length
        if value is not None and limit is not None and len(value) > limit:
            raise InvalidValue(key, f"longer than {limit} characters")
    return out


__all__ = ["EDITABLE", "clean_changes"]
