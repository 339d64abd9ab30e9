"""Line classification for the rules extractor: which line of a listing holds which field.

Everything here is about the text as printed (RAW values); normalization happens later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from handlers.rules_names import has_school_word, is_heading, plausible_name

US_STATES = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI", "AS", "MP",
}  # fmt: skip
US_STATE_NAMES = (
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|"
    "Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|"
    "Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|"
    "New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|"
    "Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|"
    "West Virginia|Wisconsin|Wyoming"
)
AU_STATES = {"WA", "NSW", "VIC", "QLD", "SA", "TAS", "NT", "ACT"}

US_PHONE = r"(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}|\(\d{3}\)\d{3}-\d{4}|\d{10}"
AU_PHONE = r"(?:\+61\s?\d|\(0\d\)|0\d)\s?\d{4}\s?\d{4}|1[38]00\s?\d{3}\s?\d{3}"
PHONE = rf"(?:{US_PHONE}|{AU_PHONE})"
# an extension: "x204", "ext. 12", ", Ext. 3"
PHONE_EXT = r"(?:\s*,?\s*(?:x|ext\.?|extension)\s*\d{1,5})"
PHONE_RE = re.compile(rf"(?<![\d\w])(?:{PHONE}){PHONE_EXT}?(?!\d)", re.I)

# A grade token: PK, K, KG, TK, 1-12 ("01"), AU "KIN", "PPR", "Y06", "Year 6", "Pre-K"
GRADE_TOKEN = (
    r"(?:Pre-?primary|Pre-?kindergarten|Kindergarten|Pre-?K|P-?K|TK|KG|K|KIN|PPR|PP|Y(?:ear)?\s?\d{1,2}|"
    r"\d{1,2}(?:st|nd|rd|th)?)"
)
GRADES_VALUE = rf"{GRADE_TOKEN}(?:\s*(?:-|–|—|to|through|thru)\s*{GRADE_TOKEN})?"
GRADES_RE = re.compile(rf"^(?:{GRADES_VALUE})$", re.I)
_GRADE_LABEL = re.compile(
    r"^(?:grades?(?: levels?| span| served)?|gr|years?(?: levels?)?|levels?)\s*[:.]?\s*(?P<v>.+)$",
    re.I,
)
# A span printed without a label: "K-8", "9th–12th", "KIN-Y06", or after a level word in
# brackets: "Elementary (K-5)". A lone number is not a span.
_GRADES_BARE = re.compile(
    rf"^(?:(?:elementary|middle|junior high|high|secondary|primary|k-12)(?: school)?\s*"
    rf"\((?P<b>{GRADE_TOKEN}\s*(?:-|–|—|to|through|thru)\s*{GRADE_TOKEN})\)|"
    rf"(?P<v>{GRADE_TOKEN}\s*(?:-|–|—)\s*{GRADE_TOKEN}))$",
    re.I,
)
_PHONE_LABEL = re.compile(
    r"^(?:(?:main|school|front)\s+)?(?:phone|telephone|tel|ph|p|t|office|main|contact)\b\.?\s*"
    rf"(?:no\.?|number|#)?\s*[:.]?\s*(?P<v>(?:{PHONE}){PHONE_EXT}?)(?!\d)",
    re.I,
)
# Lines about people and other facts a block carries but we do not extract. Said without a
# colon they would read as text and cut the block (or name the next school):
# "Jane Doe, Principal", "Principal Jane Doe", "Enrollment 512", "office@x.org", "Fax ...".
_ROLES = (
    r"(?i:(?:assistant |vice |associate )?principal|head(?:master|mistress| of school|teacher)|"
    r"director|superintendent|administrator|dean|manager|coordinator|contact|president)"
)
_ROLE_LINE = re.compile(
    rf"^(?:(?:{_ROLES})\b\s*[:\-–]?\s*(?:(?i:mr|mrs|ms|dr)\.?\s+)?[A-Z][a-z]+\.?(?:\s+[A-Z][\w.'’\-]*){{1,3}}|"
    rf"(?:(?i:mr|mrs|ms|dr)\.?\s+)?[A-Z][a-z]+\.?(?:\s+[A-Z][\w.'’\-]*){{1,3}},\s*(?:{_ROLES}))$"
)
_OTHER_LABEL = re.compile(
    r"^(?:fax|facsimile|e-?mail|enrol(?:l)?ment|students|pupils|staff|cell|mobile|tty)\b"
    r"|^[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+$",
    re.I,
)
URL = r"(?:https?://|www\.)[^\s,;]+|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:org|edu|com|net|us|gov|au)(?:/\S*)?"
_WEB_LABEL = re.compile(
    rf"^(?:website|web site|web|url|homepage|site)\s*[:.]?\s*(?P<v>{URL})$", re.I
)
_WEB_BARE = re.compile(
    r"^(?P<v>(?:https?://|www\.)\S+|"
    r"[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:org|edu|com|net|us|gov|info|school|k12\.[a-z]{2}\.us)"
    r"(?:/\S*)?)$",
    re.I,
)
_DISTRICT = re.compile(r"^(?:school )?district\s*:\s*(?P<v>.+)$", re.I)
_ADDRESS_LABEL = re.compile(r"^(?:address|street|location|physical address)\s*:\s*(?P<v>.+)$", re.I)
_ANY_LABEL = re.compile(r"^[A-Z][A-Za-z/ ]{1,24}:\s*\S")

_CITY = r"[A-Za-z][A-Za-z .'’\-]*?"
_CSZ_US = re.compile(
    rf"^(?P<city>{_CITY}),?\s+(?P<region>[A-Z]{{2}}|(?i:{US_STATE_NAMES}))\.?,?\s+"
    r"(?P<zip>\d{5}(?:-\d{4})?)$"
)
_CSZ_AU = re.compile(
    rf"^(?P<city>{_CITY}),?\s+(?P<region>{'|'.join(sorted(AU_STATES))}),?\s+(?P<zip>\d{{4}})$"
)
STREET_SUFFIXES = (
    "street|st|avenue|ave|av|road|rd|drive|dr|boulevard|blvd|lane|ln|way|court|ct|place|pl|"
    "parkway|pkwy|highway|hwy|circle|cir|terrace|ter|trail|trl|parade|pde|crescent|cres|cr|"
    "square|sq|loop|pike|plaza|row|close|grove|gr|esplanade|esp|freeway|fwy|expressway|"
    "route|rte|alley|broadway|mall|path|run|walk|crossing|xing|point|pt"
)
_SUFFIX_RE = re.compile(rf"\b(?:{STREET_SUFFIXES})\b\.?", re.I)
_DIRECTION = re.compile(r"(?:north|south|east|west|[NSEW]|NE|NW|SE|SW)\.?", re.I)
_ADDRESS_START = re.compile(
    r"^(?:\d+[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?\s+\S|[NSEW]\d+\s|p\.?\s?o\.?\s*box\b|box\s+\d|"
    r"post\s+office\s+box\b|"
    r"(?:unit|suite|ste|lot|rr|rural route)\b\.?\s*\d)",
    re.I,
)


@dataclass(frozen=True)
class Line:
    """One stripped line of chunk text; ``start``/``end`` index into the chunk text."""

    text: str
    start: int
    end: int
    after_gap: bool = False  # a blank line above it: a name does not continue across it


@dataclass(frozen=True)
class Field:
    """What a line holds. ``kind`` is one of: phone, grades, website, csz, address,
    address_csz, district, label (a labelled line we keep in the block but do not extract),
    text (anything else: a name, a heading, prose)."""

    kind: str
    values: dict[str, str] = field(default_factory=dict)

    @property
    def strong(self) -> bool:
        """A field that shows a line above it names a school (labels and text do not)."""
        return self.kind not in ("label", "text")


def split_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    pos = 0
    gap = False
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if stripped:
            lead = len(body) - len(body.lstrip())
            lines.append(Line(stripped, pos + lead, pos + lead + len(stripped), gap))
        gap = not stripped and bool(lines)
        pos += len(raw)
    return lines


def parse_csz(text: str) -> dict[str, str] | None:
    """'City, ST 12345' (US) or 'SUBURB WA 6230' (AU) -> city, region, postal_code, country."""
    for pattern, country in ((_CSZ_US, "US"), (_CSZ_AU, "AU")):
        m = pattern.match(text)
        if not m:
            continue
        region = m.group("region")
        if country == "US" and len(region) == 2 and region not in US_STATES:
            continue
        city = m.group("city").strip(" ,")
        if not city or len(city) > 40:
            continue
        return {"city": city, "region": region, "postal_code": m.group("zip"), "country": country}
    return None


def looks_like_address(text: str) -> bool:
    if _ADDRESS_START.match(text):
        return len(text) <= 80 and not PHONE_RE.fullmatch(text)
    # No house number (rural or AU listings): "HOTCHIN STREET" - a short line ending in a
    # suffix, or in a suffix and a direction ("Drummond Street East")
    words = text.split()
    if len(words) >= 3 and _DIRECTION.fullmatch(words[-1]):
        words = words[:-1]
    return 2 <= len(words) <= 5 and bool(_SUFFIX_RE.fullmatch(words[-1]))


def _phone_field(text: str) -> Field | None:
    m = _PHONE_LABEL.match(text)
    if m:
        return Field("phone", {"phone": m.group("v").strip()})
    m = PHONE_RE.match(text)
    # a bare number, possibly followed by "Fax ..." on the same line
    if m and (m.end() == len(text) or re.match(r"\s*[|,;/]?\s*(fax|f)\b", text[m.end() :], re.I)):
        return Field("phone", {"phone": m.group(0).strip()})
    return None


def _labelled(text: str) -> Field | None:
    m = _GRADE_LABEL.match(text)
    if m and re.match(GRADE_TOKEN, m.group("v"), re.I):
        return Field("grades", {"grades": m.group("v").strip()})
    m = _GRADES_BARE.match(text)
    if m:
        return Field("grades", {"grades": (m.group("b") or m.group("v")).strip()})
    m = _WEB_LABEL.match(text) or _WEB_BARE.match(text)
    if m:
        return Field("website", {"website": m.group("v").rstrip(".,;")})
    m = _DISTRICT.match(text)
    if m:
        return Field("district", {"district": m.group("v").strip()})
    m = _ADDRESS_LABEL.match(text)
    if m:
        return _address_field(m.group("v").strip()) or Field("address", {"address": m.group("v")})
    return None


def _address_field(text: str) -> Field | None:
    csz = parse_csz(text)
    if csz:
        return Field("csz", csz)
    # "123 Main St, Springfield, IL 62701" on one line
    parts = text.split(",", 1)
    if len(parts) == 2 and looks_like_address(parts[0]):
        csz = parse_csz(parts[1].strip())
        if csz:
            return Field("address_csz", {"address": parts[0].strip(), **csz})
    if looks_like_address(text):
        return Field("address", {"address": text})
    return None


# Spanish and French label words, and the English ones they pair with in bilingual
# directories ("Dirección / Address:", "Téléphone :"): the label read as its English word.
_FOREIGN_LABELS = {
    "dirección": "address", "direccion": "address", "domicilio": "address",
    "adresse": "address", "teléfono": "phone", "telefono": "phone", "téléphone": "phone",
    "telefone": "phone", "tél": "phone", "télécopieur": "fax",
    "télécopie": "fax", "grados": "grades", "niveaux": "grades", "niveles": "grades",
    "classes": "grades", "escuela": "school", "école": "school", "nombre": "name",
    "nom": "name", "correo": "email", "courriel": "email", "sitio web": "website",
    "site web": "website", "directora": "principal", "director": "principal",
    "directeur": "principal", "directrice": "principal",
}  # fmt: skip
_ENGLISH_LABELS = {
    "address", "street", "location", "phone", "telephone", "fax", "grades", "grade",
    "levels", "school", "name", "email", "e-mail", "website", "web", "principal",
}  # fmt: skip
_LABEL_PAIR = re.compile(
    r"^(?P<a>[^\W\d_]+(?: [^\W\d_]+)?)\.?\s*(?:/\s*(?P<b>[^\W\d_]+(?:[ -][^\W\d_]+)?)\.?\s*)?"
    r":\s*(?P<v>\S.*)$"
)


def english_label(text: str) -> str:
    """'Dirección / Address: 12 Main St' -> 'address: 12 Main St'; 'Téléphone : ...' ->
    'phone: ...'. Only labels with a Spanish or French word change."""
    m = _LABEL_PAIR.match(text)
    if not m:
        return text
    a, b = m.group("a").casefold(), (m.group("b") or "").casefold()
    if a not in _FOREIGN_LABELS and b not in _FOREIGN_LABELS:
        return text
    if a in _FOREIGN_LABELS and b and b not in _ENGLISH_LABELS and b not in _FOREIGN_LABELS:
        return text
    word = b if b in _ENGLISH_LABELS else _FOREIGN_LABELS.get(a) or _FOREIGN_LABELS[b]
    return f"{word}: {m.group('v')}"


# "School: Lincoln Elementary", "School Name: ...", "Name: ..." introduce a school's name
NAME_LABEL = re.compile(r"^(?:school(?: name)?|name(?: of school)?)\s*:\s*(?=\S)", re.I)


def classify(text: str) -> Field:
    text = english_label(text)
    found = _phone_field(text) or _labelled(text) or _address_field(text)
    if found:
        return found
    if _ANY_LABEL.match(text):
        return Field("label")
    # a person's name or a contact line holds no school word; a school's name may ("Dean
    # Elementary", "Students First Academy")
    if (_OTHER_LABEL.match(text) or _ROLE_LINE.match(text)) and not has_school_word(text):
        return Field("label")
    return Field("text")


# --- one-line entries ----------------------------------------------------------------------

# "1. " / "12) " / "(3) " numbering in front of a list entry
LIST_NUMBER = re.compile(r"^\(?\d{1,3}[.)]\s+(?=\S)")
# what separates a name from the street in one line: dashes, bars, bullets, commas, a wide gap
_ENTRY_SEP = r"(?:\s+[–—|•·-]\s+|\s*[;|]\s*|,\s*|\s{2,})"
_ENTRY_ADDRESS = re.compile(
    rf"{_ENTRY_SEP}(?=\d+[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?\s+\S|p\.?\s?o\.?\s*box\b)", re.I
)
_PHONE_WORD = re.compile(r"(?:phone|telephone|tel|ph|t)\.?\s*:?\s*$", re.I)
_ENTRY_EDGE = " \t–—|•·-;,:"
# a line that starts with one of these is a contact line, not a school ("Fax (217) ...")
_NOT_A_NAME = re.compile(
    r"^(?:fax|facsimile|phone|telephone|tel|ph|office|main|call|cell|mobile|tty|toll|voice|"
    r"hotline|attendance|email|e-mail|contact|info|information|hours|ext|extension|"
    r"enrol(?:l)?ment|registration|transportation)\b",
    re.I,
)


# dot leaders between a name and its phone: "Lincoln Elementary ........ (217) 555-0100"
_LEADER = re.compile(r"\s*(?:\.\s?){3,}\s*|\s*…+\s*")


def strip_list_number(text: str) -> str:
    return LIST_NUMBER.sub("", text, count=1)


def parse_entry(text: str) -> Field | None:
    """A whole listing on one line: "Lincoln Elementary (217) 555-0100", or
    "3. Lincoln Elementary – 123 Main St, Springfield, IL 62701 – (217) 555-0100".

    The name comes first; a phone and/or street with city, state and ZIP follow it. The
    values carry ``name`` (as printed, list number removed)."""
    body = _LEADER.sub("  ", strip_list_number(text)).strip()
    values: dict[str, str] = {}
    m = PHONE_RE.search(body)
    if m:
        values["phone"] = m.group(0).strip()
        before = _PHONE_WORD.sub("", body[: m.start()])
        body = before.rstrip(_ENTRY_EDGE) + " " + body[m.end() :].lstrip(_ENTRY_EDGE)
    body = body.strip(_ENTRY_EDGE)
    cut = _ENTRY_ADDRESS.search(body)
    name, rest = (body[: cut.start()], body[cut.end() :]) if cut else (body, "")
    run_on = None if cut else split_run_on(body)
    if run_on:
        name, rest = run_on
    name = name.strip(_ENTRY_EDGE)
    if rest:
        rest = re.sub(r"\s+[–—|•·-]\s+|\s{2,}", ", ", rest.strip(_ENTRY_EDGE))
        place = _address_field(rest)
        if place is None or place.kind not in ("address_csz", "csz"):
            return None  # something after the name we cannot read: not an entry
        values.update(place.values)
    if "phone" not in values and "postal_code" not in values:
        return None
    if not plausible_name(name) or is_heading(name) or _NOT_A_NAME.match(name):
        return None
    if any(ch.isdigit() for ch in name) and not re.search(r"[A-Za-z]{3}", name):
        return None
    return Field("entry", {"name": name, **values})


_TRAIL_CSZ = re.compile(rf",\s*(?:[A-Z]{{2}}|{US_STATE_NAMES})\.?,?\s+\d{{5}}(?:-\d{{4}})?$")
_HOUSE = re.compile(r"\d+[A-Za-z]?(?:-\d+)?")
_STREET_WORD = re.compile(r"[A-Za-z]|\d{1,3}(?:st|nd|rd|th)?$", re.I)
_UNIT_WORD = re.compile(r"(?:ste|suite|unit|apt|bldg)\.?", re.I)


def split_run_on(body: str) -> tuple[str, str] | None:
    """A listing printed with single spaces: "Farm Academy 9500 Lange Way Dade City, FL
    33525". The name runs to the first house number that starts a street (a number, words,
    a street suffix), the street to its suffix (and a direction or unit), the city to the
    comma. Returns the name and "street, city, ST ZIP"."""
    m = _TRAIL_CSZ.search(body)
    if not m:
        return None
    tokens = body[: m.start()].split()
    for i in range(1, len(tokens) - 2):
        end = _street_end(tokens, i)
        if end is None or end >= len(tokens):
            continue
        name, street, city = tokens[:i], tokens[i:end], tokens[end:]
        return " ".join(name), f"{' '.join(street)}, {' '.join(city)}{body[m.start() :]}"
    return None


_BOX = re.compile(r"^(?:p\.?\s?o\.?\s+)?box\s+\d+\b", re.I)


def _street_end(tokens: list[str], i: int) -> int | None:
    """Where a street starting at ``tokens[i]`` ends (None: no street starts there)."""
    box = _BOX.match(" ".join(tokens[i : i + 4]))
    if box and tokens[i][:1].isalpha():
        return i + len(box.group(0).split())
    if not _HOUSE.fullmatch(tokens[i]) or not _STREET_WORD.match(tokens[i + 1]):
        return None
    for j in range(i + 1, len(tokens) - 1):
        if has_school_word(tokens[j]):
            return None  # "PS 123 Elementary 45 Main St": the number is in the name
        if _SUFFIX_RE.fullmatch(tokens[j]) and j > i + 1:
            end = j + 1
            if end < len(tokens) - 1 and re.fullmatch(r"\d{1,3}", tokens[end]):
                end += 1  # "State Road 7"
            while end < len(tokens) - 1:
                if _UNIT_WORD.fullmatch(tokens[end]) and end + 2 < len(tokens):
                    end += 2
                elif re.fullmatch(r"(?:[NSEW]|NE|NW|SE|SW)\.?", tokens[end], re.I):
                    end += 1  # "Hammond Rd E"; a whole word ("North") may start the city
                else:
                    break
            return end
    return None


# "Lincoln Elementary, Springfield, IL" with an optional note after a dash ("— Accredited
# 2019"): a list of member / accredited schools that prints no street and no phone.
_PLACE_ENTRY = re.compile(
    rf"^(?P<name>[^,]+),\s*(?P<city>{_CITY}),\s*(?P<region>[A-Z]{{2,3}})\.?"
    r"(?:\s*[–—|:-]\s*(?P<note>[^\d,]*(?:\d{4})?[^\d,]*))?$"
)


def parse_place_entry(text: str) -> Field | None:
    """``Name, City, ST`` (optionally ``— note``): name, city, region and country. The
    caller decides whether the line is a school (a school word, or a run of such lines)."""
    m = _PLACE_ENTRY.match(strip_list_number(text))
    if not m:
        return None
    region = m.group("region")
    country = "US" if region in US_STATES else "AU" if region in AU_STATES else None
    name, city = m.group("name").strip(_ENTRY_EDGE), m.group("city").strip()
    if country is None or not city or len(city) > 40 or len(m.group("note") or "") > 40:
        return None
    if not plausible_name(name) or is_heading(name) or _NOT_A_NAME.match(name):
        return None
    if name[:1].isdigit() or looks_like_address(name):
        return None
    return Field("place", {"name": name, "city": city, "region": region, "country": country})


# --- a paragraph about one school ----------------------------------------------------------

# "... at 123 Main St., Springfield, IL 62701." / "at 58 Mohawk Ave., Corte Madera, the" /
# "The campus at 750 North California Ave. in Palo Alto enrolls ..."
_PLACE_WORD = r"[A-Z][\w'’\-]*\.?"
_PROSE_ADDRESS = re.compile(
    r"\b(?:at|on)\s+(?P<address>(?i:p\.?\s?o\.?\s*box)\s+\d+|"
    rf"\d+[A-Za-z]?(?:-\d+)?(?:\s+[A-Z0-9][\w.'’\-]*){{1,6}}?)"
    rf"(?:,\s*|\s+in\s+)(?P<city>{_PLACE_WORD}(?:\s+{_PLACE_WORD}){{0,3}}?)"
    r"(?:,\s*(?P<region>[A-Z]{2})\s+(?P<zip>\d{5}(?:-\d{4})?))?(?=[,.;]|\s+[a-z]|\s*$)"
)
_PROSE_GRADES = re.compile(
    rf"\bgrades?\s+(?P<v>{GRADE_TOKEN}\s*(?:-|–|—|to|through|thru)\s*{GRADE_TOKEN})\b", re.I
)


def parse_paragraph(text: str) -> dict[str, str] | None:
    """Phone, street, city (state, ZIP) and grades written into sentences about a school.
    None unless both a phone and a street with its city are there."""
    phone = PHONE_RE.search(text)
    place = _PROSE_ADDRESS.search(text)
    if not phone or not place or not looks_like_address(place.group("address")):
        return None
    values = {"phone": phone.group(0).strip(), "address": place.group("address").rstrip(",")}
    values["city"] = place.group("city").rstrip(".")
    if place.group("zip") and place.group("region") in US_STATES:
        values.update(region=place.group("region"), postal_code=place.group("zip"), country="US")
    grades = _PROSE_GRADES.search(text)
    if grades:
        values["grades"] = grades.group("v")
    return values
