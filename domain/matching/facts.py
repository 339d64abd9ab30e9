"""What one record says about a school, in the form the matcher compares.

Built once per record (``facts_of``) and stored with a school (``to_json``), so a save
compares prepared values instead of parsing the same strings again for every candidate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from domain.matching.names import name_tokens
from domain.normalize import parse_grades
from domain.records import SchoolRecord

# Street words, one spelling each (the CDE prints "Avenue", the CCD "Ave.").
_STREET_WORDS = {
    "avenue": "ave",
    "av": "ave",
    "street": "st",
    "str": "st",
    "road": "rd",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "terrace": "ter",
    "terr": "ter",
    "highway": "hwy",
    "parkway": "pkwy",
    "circle": "cir",
    "square": "sq",
    "trail": "trl",
    "way": "way",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
    "fourth": "4th",
    "fifth": "5th",
    "mount": "mt",
    "saint": "st",
    "state": "state",
}
_UNIT = re.compile(r"\b(?:suite|ste|unit|room|rm|bldg|building|apt|#)\s*[\w-]*$")
_PO_BOX = re.compile(r"^(?:p\s*o|post\s+office)\s*box\s*(\w+)")
# District names: the words that say "this is a district" carry nothing.
_DISTRICT_DROP = frozenset(
    [
        "unified",
        "school",
        "district",
        "schools",
        "sd",
        "usd",
        "isd",
        "cisd",
        "esd",
        "the",
        "of",
        "public",
        "elementary",
        "union",
        "joint",
        "city",
        "county",
        "office",
        "education",
        "department",
    ]
)


def street_key(address: str | None) -> str | None:
    """Canonical street line: lower case, no punctuation, one spelling per street word, no
    suite or room; a PO box becomes ``pobox N``."""
    if not address:
        return None
    text = address.casefold().replace(".", "").replace(",", " ")
    box = _PO_BOX.match(text)
    if box:
        return f"pobox {box.group(1)}"
    text = _UNIT.sub("", re.sub(r"[^\w#\s-]", " ", text))
    words = [_STREET_WORDS.get(w, w) for w in text.replace("-", " ").split()]
    return " ".join(words) or None


def phone_key(phone: str | None) -> str | None:
    """The digits of a phone number without its extension ("+1 217..." -> "1217...")."""
    if not phone:
        return None
    main = re.split(r"\s*(?:ext\.?|x)\s*\d+$", phone.casefold())[0]
    digits = re.sub(r"\D", "", main)
    return digits if len(digits) >= 7 else None


def website_key(website: str | None) -> tuple[str, str] | None:
    """(host without "www.", path without a trailing slash), lower case."""
    if not website:
        return None
    url = website if "://" in website else "https://" + website
    parts = urlsplit(url.strip())
    host = parts.netloc.casefold().removeprefix("www.").split(":")[0]
    if not host or "." not in host:
        return None
    return host, parts.path.casefold().rstrip("/")


def district_key(district: str | None) -> str | None:
    if not district:
        return None
    words = re.sub(r"[^\w\s]", " ", district.casefold()).split()
    kept = [w for w in words if w not in _DISTRICT_DROP]
    return " ".join(kept or words) or None


def _place(value: str | None) -> str | None:
    return " ".join(value.casefold().split()) if value else None


@dataclass(frozen=True, slots=True)
class Facts:
    """One record's comparable values (None: the record does not say)."""

    name: str
    tokens: tuple[str, ...]
    phone: str | None = None
    website: tuple[str, str] | None = None
    street: str | None = None
    zip5: str | None = None
    city: str | None = None
    region: str | None = None
    district: str | None = None
    grades: tuple[int, int] | None = None
    identifiers: tuple[tuple[str, str], ...] = ()
    # The document gives this phone for another school too (a district office number):
    # agreeing on it says less. Set from the record's own document (``dedupe.
    # document_facts``), so it does not depend on what else the database holds.
    phone_shared: bool = False
    # The document the record is from (None: a person's review, an alias). Two records of
    # one document were already weighed by in-document dedupe, under its stricter rule.
    document: int | None = None

    @property
    def name_only(self) -> bool:
        """A mention by name (prose): nothing that places or reaches the school."""
        return not (self.phone or self.website or self.street or self.zip5 or self.identifiers)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        for key in ("phone", "street", "zip5", "city", "region", "district"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.website:
            data["website"] = list(self.website)
        if self.grades:
            data["grades"] = list(self.grades)
        if self.identifiers:
            data["identifiers"] = dict(self.identifiers)
        if self.phone_shared:
            data["phone_shared"] = True
        if self.document is not None:
            data["document"] = self.document
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Facts:
        website, grades = data.get("website"), data.get("grades")
        return cls(
            name=data["name"],
            tokens=name_tokens(data["name"]),
            phone=data.get("phone"),
            website=(website[0], website[1]) if website else None,
            street=data.get("street"),
            zip5=data.get("zip5"),
            city=data.get("city"),
            region=data.get("region"),
            district=data.get("district"),
            grades=(grades[0], grades[1]) if grades else None,
            identifiers=tuple(sorted(data.get("identifiers", {}).items())),
            phone_shared=bool(data.get("phone_shared")),
            document=data.get("document"),
        )


def identifiers_of(record: SchoolRecord) -> dict[str, str]:
    """``record.identifiers`` (scheme -> value) as compared: scheme in lower case, and the
    value without spaces and dashes ("3330 0100 101" is "33300100101")."""
    return {
        k.casefold(): "".join(c for c in v if c.isalnum()).casefold()
        for k, v in record.identifiers.items()
        if v
    }


def facts_of(record: SchoolRecord) -> Facts:
    """The facts of a normalized record."""
    digits = re.sub(r"\D", "", record.postal_code or "")
    ids = identifiers_of(record)
    return Facts(
        name=record.name,
        tokens=name_tokens(record.name),
        phone=phone_key(record.phone),
        website=website_key(record.website),
        street=street_key(record.address),
        zip5=digits[:5] if len(digits) >= 4 else None,
        city=_place(record.city),
        region=_place(record.region),
        district=district_key(record.district),
        grades=parse_grades(record.grades),
        identifiers=tuple(sorted(ids.items())),
    )


__all__ = [
    "Facts",
    "district_key",
    "facts_of",
    "identifiers_of",
    "phone_key",
    "street_key",
    "website_key",
]
