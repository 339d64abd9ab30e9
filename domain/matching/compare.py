"""Field-by-field comparison of two records' facts: one named level per comparison.

A comparison whose values are missing on either side has no level (it is left out: it
says nothing either way). Each level has a weight in ``weights.py``. Evidence that moves
together is one comparison, so it is counted once:

``contact``  phone and street together (``same/differs``, ``shared/same``, ...): a second
             school on the same campus shares both, while one school listed with its
             mailing address by one source and its site by another shares the phone only.
             Phone parts: ``same``; ``shared`` (the same number, also given for another
             school: a district office); ``near`` (one digit off: often the next school
             of the district); ``differs``; ``-`` (missing). Street parts: ``same``
             (also one house number with a similar street name); ``box`` (a PO box
             against a street: says little); ``differs``; ``-``.
``website``  ``same`` address (host and path), ``same_host`` (a district site: /school-a
             and /school-b), ``differs``.
``place``    ZIP and city together (a shared ZIP mostly implies a shared city); with a ZIP
             missing on either side, the city alone (``city``, ``city_differs``).
"""

from __future__ import annotations

from rapidfuzz import fuzz

from domain.matching.facts import Facts
from domain.matching.names import name_level

COMPARISONS = ("name", "contact", "website", "place", "district", "grades")


def phone_part(a: Facts, b: Facts) -> str:
    if not (a.phone and b.phone):
        return "-"
    if a.phone == b.phone:
        return "shared" if a.phone_shared or b.phone_shared else "same"
    if len(a.phone) == len(b.phone) and sum(map(str.__ne__, a.phone, b.phone)) == 1:
        return "near"
    return "differs"


def _number(street: str) -> str:
    first = street.split(" ", 1)[0]
    return first if first[:1].isdigit() else ""


def street_part(a: Facts, b: Facts) -> str:
    if not (a.street and b.street):
        return "-"
    if a.street == b.street:
        return "same"
    box_a, box_b = a.street.startswith("pobox "), b.street.startswith("pobox ")
    if box_a != box_b:
        return "box"
    if box_a:
        return "differs"
    number_a, number_b = _number(a.street), _number(b.street)
    if number_a and number_a == number_b:
        rest = fuzz.token_sort_ratio(a.street[len(number_a) :], b.street[len(number_b) :])
        return "same" if rest >= 80 else "differs"
    return "same" if fuzz.token_sort_ratio(a.street, b.street) >= 90 else "differs"


def contact_level(a: Facts, b: Facts) -> str | None:
    phone, street = phone_part(a, b), street_part(a, b)
    return None if phone == street == "-" else f"{phone}/{street}"


def website_level(a: Facts, b: Facts) -> str | None:
    if not (a.website and b.website):
        return None
    if a.website == b.website:
        return "same"
    if a.website[0] == b.website[0]:
        return "same_host"
    return "differs"


def place_level(a: Facts, b: Facts) -> str | None:
    if a.region and b.region and a.region != b.region:
        return "differs"
    same_zip = a.zip5 is not None and a.zip5 == b.zip5
    same_city = a.city is not None and a.city == b.city
    if same_zip and same_city:
        return "zip_city"
    if same_zip:
        return "zip"
    zips_known, cities_known = bool(a.zip5 and b.zip5), bool(a.city and b.city)
    if zips_known:
        return "city_zip_differs" if same_city else "differs"
    if cities_known:  # a ZIP missing: the city alone
        return "city" if same_city else "city_differs"
    return None


def district_level(a: Facts, b: Facts) -> str | None:
    if not (a.district and b.district):
        return None
    if a.district == b.district:
        return "same"
    return "similar" if fuzz.token_set_ratio(a.district, b.district) >= 90 else "differs"


def grades_level(a: Facts, b: Facts) -> str | None:
    if not (a.grades and b.grades):
        return None
    if a.grades == b.grades:
        return "same"
    if a.grades[0] <= b.grades[1] and b.grades[0] <= a.grades[1]:
        return "overlap"
    return "disjoint"


def levels(a: Facts, b: Facts) -> dict[str, str]:
    """The level of every comparison both records can be compared on."""
    out = {"name": name_level(a.tokens, b.tokens)}
    for comparison, level in (
        ("contact", contact_level(a, b)),
        ("website", website_level(a, b)),
        ("place", place_level(a, b)),
        ("district", district_level(a, b)),
        ("grades", grades_level(a, b)),
    ):
        if level is not None:
            out[comparison] = level
    return out


__all__ = ["COMPARISONS", "levels"]
