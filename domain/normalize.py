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

import contextlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import phonenumbers

from domain.records import SchoolRecord

KINDS = ("elementary", "middle", "high", "k-12", "primary", "secondary", "college", "other")

# --- names --------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ACRONYMS = _words(
    "KIPP ISD IDEA STEM STEAM YES USD CUSD CISD ESD SD PS IS JHS YMCA NYC USA ROTC JROTC "
    "AP IB ESL CTE LEAP II III IV VI VII VIII IX XI XII"
)
# Short all-caps words that are ordinary words, not acronyms, in a mixed-case name.
_NORMAL_WORDS = _words(
    "A AN THE OF AND FOR AT IN ON TO BY NEW OLD HIGH EAST WEST PARK HILL LAKE VIEW OAK OAKS "
    "ELM CITY ART ARTS MID PREP DAY BAY GLEN ROSE LEE KING HOPE LIFE WAY LAB LABS FINE "
    "TECH HOME CARE OPEN GATE MAIN LONG RED BLUE GOLD"
)
_SMALL_WORDS = frozenset({"of", "the", "and", "for", "at", "in"})
_SAINTS = _words(
    "mary joseph john paul peter patrick francis anne ann michael james thomas elizabeth "
    "catherine andrew luke mark matthew pius agnes rose teresa theresa therese jude vincent "
    "anthony charles stephen benedict dominic margaret monica helen cecilia clare clair "
    "bernard ignatius augustine george columba brigid bridget raphael gabriel lawrence "
    "louis martin philip rita xavier hilda kilian aidan gregory edward bede albert leo hugh "
    "jerome simon timothy kevin brendan scholastica joan barbara frances gerard ambrose "
    "john's"
)
_SIMPLE_EXPANSIONS = {
    "hs": "High School",
    "elem": "Elementary",
    "acad": "Academy",
    "intl": "International",
    "sch": "School",
    "ctr": "Center",
    "jr/sr": "Junior/Senior",
    "jr-sr": "Junior/Senior",
}
_TOKEN = re.compile(r"^([(\[\"'“‘]*)(.*?)([)\]\"'”’.,;:]*)$")
_END_JUNK = " -–—•*·,;:/|"


def _core_key(core: str) -> str:
    return core.replace(".", "").casefold()


def _split_token(token: str) -> tuple[str, str, str]:
    match = _TOKEN.match(token)
    return match.groups() if match else ("", token, "")  # type: ignore[return-value]


def _expand_tokens(tokens: list[str]) -> list[tuple[str, bool]]:
    """Expand abbreviations; each result is (token, already_cased)."""
    parts = [_split_token(t) for t in tokens]
    keys = [_core_key(core) for _, core, _ in parts]
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(tokens):
        nxt = keys[i + 1] if i + 1 < len(keys) else ""
        expansion, used = _expansion(keys[i], nxt, i, len(tokens) - i)
        if expansion is None:
            out.append((tokens[i], False))
        else:
            # Keep an opening bracket; the abbreviation's own dot goes.
            trail = parts[i + used - 1][2].lstrip(".")
            out.append((parts[i][0] + expansion + trail, True))
        i += used
    return out


def _expansion(key: str, nxt: str, index: int, left: int) -> tuple[str | None, int]:
    """The expansion of abbreviation ``key`` and how many tokens it uses.

    ``nxt`` is the key of the next token, ``left`` the number of tokens from ``key`` on.
    """
    at_end, pair_at_end = left == 1, left == 2
    if key == "h" and nxt == "s":
        return "High School", 2
    if key == "m" and nxt == "s" and pair_at_end:
        return "Middle School", 2
    if key == "ms" and at_end:
        return "Middle School", 1
    if key == "jr" and nxt == "sr":
        return "Junior/Senior", 2  # "Jr Sr High" is spelled like "Jr/Sr High"
    if key in ("jr", "sr") and nxt in ("high", "hs", "h", "jr", "sr"):
        return ("Junior" if key == "jr" else "Senior"), 1
    if key in ("elem", "el") and at_end and index > 0:
        return "Elementary School", 1  # like HS and MS, a last-word abbreviation
    if key == "el" and nxt in ("sch", "school"):
        return "Elementary", 1
    if key == "st" and (index == 0 or nxt in _SAINTS or nxt.removesuffix("'s") in _SAINTS):
        return "Saint", 1
    return _SIMPLE_EXPANSIONS.get(key), 1


def _title_word(word: str) -> str:
    def cap(part: str) -> str:
        part = part.lower()
        if len(part) > 2 and part[1] == "'":  # O'Neil, D'Arcy
            return part[0].upper() + "'" + part[2:3].upper() + part[3:]
        if part.startswith("mc") and len(part) > 3:
            return "Mc" + part[2:3].upper() + part[3:]
        return part[:1].upper() + part[1:]

    return "-".join(cap(p) for p in word.split("-"))


def _case_core(core: str, all_upper: bool) -> str:
    letters = sum(c.isalpha() for c in core)
    if not letters:
        return core
    upper = core.upper()
    if upper.replace(".", "") in _ACRONYMS:
        return upper
    if any(c.isdigit() for c in core):
        if re.fullmatch(r"\d+(st|nd|rd|th)", core, re.IGNORECASE):
            return core.lower()
        return upper if letters <= 3 else core
    if core.isupper():
        if "." in core and letters <= 4:  # P.S., U.S.
            return core
        if not all_upper and letters <= 4 and upper not in _NORMAL_WORDS:
            return core
        return _title_word(core)
    if core.islower():
        return _title_word(core)
    return core  # written in mixed case on purpose: McDonald, DeKalb


def _case_token(token: str, all_upper: bool, first: bool) -> str:
    match = _TOKEN.match(token)
    if match is None:
        return token
    lead, core, trail = match.groups()
    if not first and core.casefold() in _SMALL_WORDS:
        return lead + core.lower() + trail
    return lead + _case_core(core, all_upper) + trail


def _strip_ends(name: str) -> str:
    name = name.strip(_END_JUNK)
    if name.endswith(".") and not re.search(r"\b(Jr|Sr|Inc|Co|St)\.$", name):
        name = name.rstrip(".").rstrip(_END_JUNK)
    if name.count("(") != name.count(")"):
        name = name.strip("()").strip(_END_JUNK)
    return name


def normalize_name(name: str) -> str:
    """The name as printed, tidied (see the module docstring): what is stored and shown."""
    text = unicodedata.normalize("NFKC", name).replace("’", "'").replace("‘", "'")
    return _strip_ends(" ".join(text.split()))


def canonical_name(name: str) -> str:
    """The spelling of a school name used for matching (see the module docstring)."""
    text = unicodedata.normalize("NFKC", name).replace("’", "'").replace("‘", "'")
    text = _strip_ends(" ".join(text.split()))
    letters = [c for c in text if c.isalpha()]
    all_upper = bool(letters) and all(c.isupper() for c in letters)
    cased: list[str] = []
    for index, (token, done) in enumerate(_expand_tokens(text.split())):
        cased.append(token if done else _case_token(token, all_upper, first=index == 0))
    words: list[str] = []
    for word in " ".join(cased).split():
        if words and word.casefold() == words[-1].casefold() == "school":
            continue  # "Lincoln HS School" -> one "School"
        words.append(word)
    return _strip_ends(" ".join(words))


# Words a key leaves out: they tell no two schools of one place apart. Level words
# (elementary, middle, high, primary, secondary, junior, senior) stay: "Lincoln Elementary"
# and "Lincoln High" in one city are two schools.
_KEY_DROP = frozenset({"school", "the", "of"})
# One spelling per word, whatever normalize_name left: "St" that was not read as Saint
# ("Mater Academy at St Cloud"), "Jr" outside "Jr High", British "Centre", "Prep".
_KEY_WORDS = {
    "st": "saint",
    "ste": "sainte",
    "mt": "mount",
    "ft": "fort",
    "jr": "junior",
    "sr": "senior",
    "dr": "doctor",
    "elem": "elementary",
    "centre": "center",
    "ctr": "center",
    "prep": "preparatory",
    "acad": "academy",
    "intl": "international",
    "sch": "school",
    "jhs": "junior high",
}


def _key_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ").replace("'", "")
    text = "".join(c if c.isalnum() else " " for c in text)
    words: list[str] = []
    for word in text.split():
        words += _KEY_WORDS.get(word, word).split()
    return words


def _join_initials(words: list[str]) -> list[str]:
    """Runs of single letters are one token: "J M", "J.M." and "JM" all give "jm"."""
    out: list[str] = []
    run = ""
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        if word:
            out.append(word)
    return out


def match_key(name: str) -> str:
    """A key equal for spellings of the same school name: the words the matcher
    (``domain.matching``) starts from.

    The normalized name, without accents, punctuation, "school", "the" and "of", with one
    spelling per word (``St``/``Saint``, ``Prep``/``Preparatory``, ``Centre``/``Center``),
    runs of initials joined ("J. M." -> "jm") and "Senior High" read as "High" (but
    "Junior/Senior High" kept). So "St. Mary Acad" and "Saint Mary Academy", "Lincoln H S"
    and "Lincoln High School", "ROOSEVELT ELEM" and "Roosevelt Elementary School" share a
    key, while "Lincoln Elementary" and "Lincoln High" do not.
    """
    words = _join_initials(_key_words(canonical_name(name)))
    kept = [
        w
        for i, w in enumerate(words)
        if not (
            w == "senior"
            and words[i + 1 : i + 2] == ["high"]
            and (i == 0 or words[i - 1] != "junior")
        )
    ]
    key = [w for w in kept if w not in _KEY_DROP]
    return " ".join(key or kept)


# --- regions, countries, postal codes -----------------------------------------------------

_US_STATES = {
    "AL": "Alabama Ala.",
    "AK": "Alaska",
    "AZ": "Arizona Ariz.",
    "AR": "Arkansas Ark.",
    "CA": "California Calif. Cal.",
    "CO": "Colorado Colo.",
    "CT": "Connecticut Conn.",
    "DE": "Delaware Del.",
    "DC": "District_of_Columbia D.C.",
    "FL": "Florida Fla.",
    "GA": "Georgia Ga.",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois Ill.",
    "IN": "Indiana Ind.",
    "IA": "Iowa",
    "KS": "Kansas Kan. Kans.",
    "KY": "Kentucky Ky.",
    "LA": "Louisiana La.",
    "ME": "Maine",
    "MD": "Maryland Md.",
    "MA": "Massachusetts Mass.",
    "MI": "Michigan Mich.",
    "MN": "Minnesota Minn.",
    "MS": "Mississippi Miss.",
    "MO": "Missouri Mo.",
    "MT": "Montana Mont.",
    "NE": "Nebraska Neb. Nebr.",
    "NV": "Nevada Nev.",
    "NH": "New_Hampshire N.H.",
    "NJ": "New_Jersey N.J.",
    "NM": "New_Mexico N.M. N.Mex.",
    "NY": "New_York N.Y.",
    "NC": "North_Carolina N.C.",
    "ND": "North_Dakota N.D. N.Dak.",
    "OH": "Ohio",
    "OK": "Oklahoma Okla.",
    "OR": "Oregon Ore. Oreg.",
    "PA": "Pennsylvania Pa. Penn. Penna.",
    "RI": "Rhode_Island R.I.",
    "SC": "South_Carolina S.C.",
    "SD": "South_Dakota S.D. S.Dak.",
    "TN": "Tennessee Tenn.",
    "TX": "Texas Tex.",
    "UT": "Utah",
    "VT": "Vermont Vt.",
    "VA": "Virginia Va.",
    "WA": "Washington Wash.",
    "WV": "West_Virginia W.Va. W.V.",
    "WI": "Wisconsin Wis. Wisc.",
    "WY": "Wyoming Wyo.",
    "PR": "Puerto_Rico P.R.",
    "GU": "Guam",
    "VI": "Virgin_Islands U.S._Virgin_Islands",
    "AS": "American_Samoa",
    "MP": "Northern_Mariana_Islands",
}
_AU_STATES = {
    "NSW": "New_South_Wales",
    "VIC": "Victoria Vic.",
    "QLD": "Queensland Qld.",
    "WA": "Western_Australia",
    "SA": "South_Australia",
    "TAS": "Tasmania Tas.",
    "ACT": "Australian_Capital_Territory",
    "NT": "Northern_Territory",
}
_COUNTRIES = {
    "US": "US USA U.S. U.S.A. United_States United_States_of_America America",
    "AU": "AU AUS Australia",
}


def _region_key(value: str) -> str:
    return re.sub(r"[\s._]+", "", value).casefold()


def _lookup(table: dict[str, str]) -> dict[str, str]:
    index: dict[str, str] = {}
    for code, aliases in table.items():
        for alias in [code, *aliases.split()]:
            index[_region_key(alias.replace("_", " "))] = code
    return index


_US_INDEX = _lookup(_US_STATES)
_AU_INDEX = _lookup(_AU_STATES)
_COUNTRY_INDEX = _lookup(_COUNTRIES)


def normalize_country(country: str | None) -> str | None:
    if country is None or not country.strip():
        return None
    code = _COUNTRY_INDEX.get(_region_key(country))
    if code is not None:
        return code
    stripped = " ".join(country.split())
    return stripped.upper() if len(stripped) == 2 else stripped


def _postal_digits(postal: str | None) -> str:
    return re.sub(r"[\s-]", "", postal or "")


def infer_country(region: str | None, postal: str | None) -> str | None:
    """US or AU from a state plus a ZIP / postcode of the right shape, else None."""
    if not region:
        return None
    key, digits = _region_key(region), _postal_digits(postal)
    if key in _US_INDEX and re.fullmatch(r"\d{5}(\d{4})?", digits):
        return "US"
    if key in _AU_INDEX and re.fullmatch(r"\d{4}", digits):
        return "AU"
    return None


def normalize_region(region: str | None, country: str | None) -> str | None:
    if region is None or not region.strip():
        return None
    key = _region_key(region)
    first, second = (_AU_INDEX, _US_INDEX) if country == "AU" else (_US_INDEX, _AU_INDEX)
    code = first.get(key) or (second.get(key) if country not in ("US", "AU") else None)
    return code or " ".join(region.split())


def normalize_postal_code(postal: str | None, country: str | None) -> str | None:
    if postal is None or not postal.strip():
        return None
    digits = _postal_digits(postal)
    if country != "AU" and re.fullmatch(r"\d{9}", digits):
        return f"{digits[:5]}-{digits[5:]}"
    if country == "US" and re.fullmatch(r"\d{4}", digits):
        return "0" + digits  # a spreadsheet ate the leading zero of a New England ZIP
    if re.fullmatch(r"\d{4,5}", digits):
        return digits
    return " ".join(postal.split()).upper()


# --- phones, websites ------------------------------------------------------------------------


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


# --- grades ----------------------------------------------------------------------------------

# "PP" is how Western Australian lists print pre-primary ("PP-6")
_PK_WORDS = frozenset(
    {"pk", "prek", "ppr", "pp", "prekindergarten", "preprimary", "preschool", "ps"}
)
_K_WORDS = frozenset({"k", "kg", "kn", "kin", "kindergarten", "kinder"})
_GRADE_PREFIX = re.compile(r"^\s*(grades?|gr\.?|years?)\s*:?\s*", re.IGNORECASE)


_ROMAN_GRADES = {r: n for n, r in enumerate(
    ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"], 1
)}  # fmt: skip
_BRACKETED = re.compile(r"\(([^()]*)\)")


def _grade_value(token: str) -> int | None:
    if token in _ROMAN_GRADES:
        return _ROMAN_GRADES[token]  # Indian lists: "Primary Only (I-V)"
    if token in _PK_WORDS:
        return -1
    if token in _K_WORDS:
        return 0
    match = re.fullmatch(r"(?:y|yr|year)?0*(\d{1,2})(?:st|nd|rd|th)?", token)
    if match and int(match.group(1)) <= 13:
        return int(match.group(1))
    return None


def parse_grades(grades: str | None) -> tuple[int, int] | None:
    """(low, high) with PK = -1 and K = 0, or None when ``grades`` is not a grade range."""
    if grades is None:
        return None
    inner = _BRACKETED.search(grades)
    if inner is not None and inner.group(1) != grades.strip("() "):
        # a level with its span in brackets: "Middle School (I-VIII)", "Elementary (K-5)"
        return parse_grades(inner.group(1))
    text = _GRADE_PREFIX.sub("", grades.casefold())
    text = re.sub(r"\bpre[\s-]+(?=k|primary|school)", "pre", text)
    text = re.sub(r"\b(?:year|yr)\s+(?=\d)", "y", text)
    text = re.sub(r"\b(?:through|thru|to|and)\b|[–—]", "-", text)
    tokens = [t for t in re.split(r"[-,/&\s]+", text) if t]
    values = [_grade_value(t) for t in tokens]
    if not values or any(v is None for v in values):
        return None
    known = [v for v in values if v is not None]
    return min(known), max(known)


def _grade_label(value: int) -> str:
    return {-1: "PK", 0: "K"}.get(value, str(value))


def normalize_grades(grades: str | None) -> str | None:
    if grades is None or not grades.strip():
        return None
    parsed = parse_grades(grades)
    if parsed is None:
        return " ".join(grades.split())
    low, high = parsed
    return _grade_label(low) if low == high else f"{_grade_label(low)}-{_grade_label(high)}"


# --- kind ------------------------------------------------------------------------------------

_NAME_KINDS = (
    (re.compile(r"\bk\s*-\s*12\b"), "k-12"),
    (re.compile(r"\belementary\b"), "elementary"),
    (re.compile(r"\bprimary\b"), "primary"),
    (re.compile(r"\b(middle|junior high|intermediate)\b"), "middle"),
    (re.compile(r"\b(high|senior high)\b"), "high"),
    (re.compile(r"\bsecondary\b"), "secondary"),
    (re.compile(r"\b(university|community college|college)\b(?!\s+prep)"), "college"),
)
_KIND_SYNONYMS = {
    "elementary": "elementary",
    "elementary school": "elementary",
    "middle": "middle",
    "middle school": "middle",
    "junior high": "middle",
    "high": "high",
    "high school": "high",
    "senior high": "high",
    "k-12": "k-12",
    "k12": "k-12",
    "primary": "primary",
    "primary school": "primary",
    "secondary": "secondary",
    "secondary school": "secondary",
    "college": "college",
    "university": "college",
    "other": "other",
}


def _kind_from_name(name: str) -> str | None:
    text = name.casefold()
    found = {kind for pattern, kind in _NAME_KINDS if pattern.search(text)}
    if "middle" in found and "high" in found and "junior high" in text:
        found.discard("high")
    return found.pop() if len(found) == 1 else None


def _kind_from_grades(grades: str | None, country: str | None) -> str | None:
    parsed = parse_grades(grades)
    if parsed is None:
        return None
    low, high = parsed
    if low <= 0 and high >= 12:
        return "k-12"
    if country == "AU":
        return "primary" if high <= 7 else "secondary" if low >= 7 else "other"
    if low <= 3 and high <= 8:
        return "elementary"
    if 4 <= low <= 7 and high <= 9:
        return "middle"
    if low >= 7 and high >= 9:
        return "high"
    return "other"


def infer_kind(name: str, kind: str | None, grades: str | None, country: str | None) -> str | None:
    given = _KIND_SYNONYMS.get(" ".join((kind or "").casefold().split()))
    inferred = _kind_from_name(name) or given or _kind_from_grades(grades, country)
    if inferred is None and kind and kind.strip():
        return "other"
    return inferred


# --- records ---------------------------------------------------------------------------------


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split()).strip(_END_JUNK)
    return text or None


def _clean_place(value: str | None) -> str | None:
    text = _clean(value)
    if text and text.isupper() and len(text) > 3:
        return " ".join(_title_word(w) for w in text.split())
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
