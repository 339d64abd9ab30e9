"""Stage 3: canonical values for extracted school records. Pure functions only.

Choices, so that every record of every document comes out the same way:

Names
    Stored as printed: Unicode compatibility forms folded (NFKC), curly quotes made straight,
    whitespace collapsed and stray punctuation stripped from the ends. Nothing is expanded
    and the case is kept: an abbreviation's meaning is not certain out of context ("INT" is
    Intermediate in one Texas list and International in another; "G H S" is a Government
    High School in India), and a user reads the name the document printed.
    ``canonical_name`` is the spelling used for matching only (``match_key``, kind from the
    name): ``HS``/``H S``/``H.S.`` -> High School; ``MS``/``M S`` -> Middle School only as
    the last word (elsewhere it may be "Ms."); ``Elem``/``Elem.`` as the last word ->
    Elementary School, elsewhere -> Elementary; ``EL`` likewise, but only as the last word
    or before ``Sch``/``School`` (so the Spanish "El Camino" survives); ``Jr``/``Sr`` ->
    Junior/Senior only before ``High`` or in ``Jr/Sr``/``Jr Sr``, never in "Martin Luther
    King Jr."; ``Acad`` -> Academy; ``Intl`` -> International (``Int`` stays: it may be
    either); ``Sch`` -> School; ``Ctr`` -> Center. ``St``/``St.`` -> Saint only as the first
    word or before a saint's given name. Casing there: an all-upper-case name is
    title-cased; a mixed-case name keeps short all-caps acronyms.
Regions
    US state names, postal codes and AP abbreviations ("Wash.") -> two-letter code;
    Australian states and territories likewise. Country "US"/"AU" is inferred from a state
    plus a 5-digit ZIP / 4-digit postcode when missing.
Postal codes
    US: ``98101`` or ``98101-1234`` (``981011234`` gets its hyphen; a 4-digit code with
    country US gets back the leading zero a spreadsheet dropped). AU: 4 digits.
Phones
    E.164 via ``phonenumbers`` with the record's country (default US), extension appended
    as `` ext. N``; anything unparseable is kept as the stripped raw string.
Websites
    ``https://`` added when there is no scheme, host lower-cased, a bare trailing slash
    dropped. A value that is an e-mail address is not a website and becomes None.
Grades
    ``PK``, ``K``, or numbers without leading zeros, joined by a hyphen: "PK-5", "K-8",
    "6-8", "9-12". AU "KIN" is K, "PPR"/"PP" (pre-primary) is PK, "Y06"/"Year 6" is 6. A lone
    grade stays single ("K", "9"). Values that are not grade ranges are kept stripped.
Kind
    One of elementary, middle, high, k-12, primary, secondary, college, other. Type words
    in the name win; then a recognised given kind; then grades, following the NCES levels
    (high grade <= 8 and low grade <= 3 -> elementary, so K-8 is elementary; low 4-7 and
    high <= 9 -> middle; low >= 7 and high >= 9 -> high; PK/K through 12 -> k-12; else
    other). In Australia grades give primary (up to Year 7) and secondary (from Year 7).
"""

from __future__ import annotations

from domain.normalize.contacts import document_country, normalize_phone, normalize_website
from domain.normalize.grades import KINDS, infer_kind, normalize_grades, parse_grades
from domain.normalize.names import canonical_name, match_key, normalize_name
from domain.normalize.places import (
    infer_country,
    normalize_country,
    normalize_postal_code,
    normalize_region,
)
from domain.normalize.record import normalize_document, normalize_record

__all__ = [
    "KINDS",
    "canonical_name",
    "document_country",
    "infer_country",
    "infer_kind",
    "match_key",
    "normalize_country",
    "normalize_document",
    "normalize_grades",
    "normalize_name",
    "normalize_phone",
    "normalize_postal_code",
    "normalize_record",
    "normalize_region",
    "normalize_website",
    "parse_grades",
]
