"""School records the matching tests share: the cases issue 12 names."""

from __future__ import annotations

from domain.normalize import normalize_record
from domain.records import Evidence, SchoolRecord


def rec(name: str, **values: str | None) -> SchoolRecord:
    """A normalized record, as the normalize stage hands it to dedupe and save."""
    return normalize_record(SchoolRecord.of(name, Evidence(1, 0, 1, name), values))


# A Texas school as the state directory (physical address) and the federal list (mailing
# address) print it: same name, city, phone; the street differs.
PHYSICAL = rec(
    "BONHAM MIDDLE SCHOOL",
    address="5200 Mainland Rd",
    city="DALLAS",
    region="TX",
    postal_code="75214",
    phone="(214) 555-0101",
    grades="06-08",
)
MAILING = rec(
    "Bonham Middle School",
    address="PO Box 1500",
    city="Dallas",
    region="Texas",
    postal_code="75214-1500",
    phone="214-555-0101",
    grades="6-8",
)
# Two schools of one directory with near names: once folded into one.
HARBOR = rec(
    "Adams Sycamore Harbor Elementary School",
    address="392 Lincoln Way",
    city="Columbus",
    region="OH",
    postal_code="43215",
    phone="(614) 555-0292",
)
PARK = rec(
    "Adams Sycamore Park Elementary School",
    address="192 Lincoln Way",
    city="Columbus",
    region="OH",
    postal_code="43215",
    phone="(951) 555-0092",
)
# Twins: one name, two towns.
FRESNO = rec(
    "Lincoln Elementary",
    address="100 Main St",
    city="Fresno",
    region="CA",
    postal_code="93701",
    phone="(559) 555-0100",
)
MODESTO = rec(
    "Lincoln Elementary",
    address="200 Oak Ave",
    city="Modesto",
    region="CA",
    postal_code="95350",
    phone="(209) 555-0200",
)
