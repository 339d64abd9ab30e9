"""Phones (E.164 via phonenumbers, the document's country as a hint) and websites."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import phonenumbers

from domain.normalize.places import infer_country, normalize_country
from domain.records import SchoolRecord

_NANP = re.compile(r"[2-9]\d{2}[2-9]\d{6}")


def _plausible(number: phonenumbers.PhoneNumber) -> bool:
    if phonenumbers.is_valid_number(number):
        return True
    # Directories use fictional 555 numbers, which libphonenumber calls invalid; accept any
    # number of the North American shape rather than leave it unformatted.
    national = str(number.national_number)
    return number.country_code == 1 and _NANP.fullmatch(national) is not None


_NANP_SHAPE = re.compile(r"^(?:\+?1[\s.-]?)?\(?[2-9]\d{2}\)?[\s.-]?\d{3}[\s.-]\d{4}\b")
_POSTAL_COUNTRY = (
    (re.compile(r"^\d{5}-\d{3}$"), "BR"),  # CEP
    (re.compile(r"^[1-9]\d{5}$"), "IN"),  # PIN code
    (re.compile(r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$", re.IGNORECASE), "CA"),
    (re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", re.IGNORECASE), "GB"),
)


def _country_hint(r: SchoolRecord) -> str | None:
    """What one record says about its country: stated, a state with its ZIP, a phone in
    international form, or a postal code of one country's shape."""
    country = normalize_country(r.country) or infer_country(r.region, r.postal_code)
    if country:
        return country
    phone = (r.phone or "").strip()
    if phone.startswith("+"):
        with contextlib.suppress(phonenumbers.NumberParseException):
            found = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
            if found and found != "ZZ":
                return str(found)
    postal = (r.postal_code or "").strip()
    for pattern, code in _POSTAL_COUNTRY:
        if pattern.match(postal):
            return code
    return "US" if phone and _NANP_SHAPE.match(phone) else None


def document_country(records: Sequence[SchoolRecord]) -> str | None:
    """The country of a document, from what its records say (not a US default): the most
    common hint when at least 60% of the hints agree, else None."""
    hints = Counter(h for h in map(_country_hint, records) if h)
    if not hints:
        return None
    country, votes = hints.most_common(1)[0]
    return country if votes >= 0.6 * sum(hints.values()) else None


def normalize_phone(phone: str | None, country: str | None) -> str | None:
    if phone is None or not phone.strip():
        return None
    raw = " ".join(phone.split())
    region = country if country and len(country) == 2 else None
    if region is None:
        # No country known: only numbers that say where they are can be read. A North
        # American shape, "(217) 555-0123", is one; "0484 234 5678" could be anywhere.
        if raw.startswith("+"):
            region = None
        elif _NANP_SHAPE.match(raw):
            region = "US"
        else:
            return raw
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return raw
    if not _plausible(number):
        return raw
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{e164} ext. {number.extension}" if number.extension else e164


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_EMAIL = re.compile(r"^(mailto:)?[^@/\s]+@[^@/\s]+\.[a-z]{2,}$", re.IGNORECASE)


def normalize_website(website: str | None) -> str | None:
    if website is None:
        return None
    url = "".join(website.split()).strip(",;")
    if not url or _EMAIL.match(url):
        return None
    if not _SCHEME.match(url):
        url = "https://" + url
    parts = urlsplit(url)
    path = "" if parts.path == "/" and not parts.query and not parts.fragment else parts.path
    host = parts.netloc.lower().rstrip(".")
    return urlunsplit((parts.scheme.lower(), host, path, parts.query, parts.fragment))
