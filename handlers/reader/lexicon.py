"""Words that name a column, a label or a heading, in English, Spanish, Portuguese, French and
German (and the Indian and Brazilian register of school lists). Hints only: the content of a
column decides where it disagrees (see ``recognise`` and ``tables``).
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Role(StrEnum):
    NAME = "name"
    SCHOOL = "school"  # "School", "Escola": names the school unless a NAME column exists
    ADDRESS = "address"
    CITY = "city"
    REGION = "region"
    DISTRICT = "district"  # a school district, or an administrative one (content decides)
    POSTAL = "postal_code"
    PHONE = "phone"
    WEBSITE = "website"
    EMAIL = "email"
    GRADES = "grades"
    LOW_GRADE = "low_grade"
    HIGH_GRADE = "high_grade"
    KIND = "kind"
    ID = "id"
    SERIAL = "serial"
    COUNTRY = "country"
    PERSON = "person"  # a column of people: a table of officers, not of schools
    OTHER = "other"  # a known column we do not keep (counts, distances, status, people, ...)


def fold(text: str) -> str:
    """Casefold, strip accents, and turn punctuation and underscores into single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^a-z0-9#º°]+", " ", plain).split())


# Whole folded header cells, by role. Longer phrases are tried first.
_HEADERS: dict[Role, tuple[str, ...]] = {
    Role.NAME: (
        "school name",
        "name of school",
        "name of the school",
        "name of institution",
        "institution name",
        "campus name",
        "facility name",
        "nome da escola",
        "nome escola",
        "nome",
        "nombre",
        "nombre del centro",
        "nombre de la escuela",
        "nombre del colegio",
        "nombre centro",
        "denominacion",
        "nom",
        "nom de l etablissement",
        "nom de l ecole",
        "name",
        "schulname",
        "name der schule",
        "bezeichnung",
        "school",
        "school campus",
        "institution",
        "institucion",
        "instituicao",
        "etablissement",
        "establecimiento",
        "estabelecimento",
        "unidade escolar",
        "centro educativo",
        "centro",
        "escuela",
        "escola",
        "colegio",
        "ecole",
        "schule",
        "campus",
        "facility",
        "academy",
        "organization",
        "organisation",
        "member school",
        "member",
    ),
    Role.ADDRESS: (
        "address",
        "street address",
        "physical address",
        "mailing address",
        "street",
        "location address",
        "site address",
        "direccion",
        "domicilio",
        "calle",
        "endereco",
        "logradouro",
        "adresse",
        "anschrift",
        "strasse",
        "rue",
        "location",
    ),
    Role.CITY: (
        "city",
        "town",
        "suburb",
        "locality",
        "city town",
        "ciudad",
        "localidad",
        "municipio",
        "poblacion",
        "cidade",
        "municipality",
        "ville",
        "commune",
        "localite",
        "ort",
        "stadt",
        "gemeinde",
        "village",
        "place",
    ),
    Role.REGION: (
        "state",
        "province",
        "region",
        "estado",
        "provincia",
        "comunidad autonoma",
        "uf",
        "region administrativa",
        "departement",
        "bundesland",
        "land",
        "prefecture",
        "governorate",
        "county",
        "parish",
        "condado",
        "comarca",
    ),
    Role.DISTRICT: (
        "district",
        "school district",
        "district name",
        "lea",
        "lea name",
        "division",
        "school division",
        "diretoria",
        "diretoria de ensino",
        "de",
        "distrito",
        "distrito escolar",
        "circonscription",
        "academie",
        "schulamt",
        "authority",
        "education authority",
        "local authority",
        "board",
        "school board",
        "zone",
    ),
    Role.POSTAL: (
        "zip",
        "zip code",
        "zipcode",
        "postcode",
        "post code",
        "postal code",
        "codigo postal",
        "cp",
        "c p",
        "cep",
        "code postal",
        "plz",
        "pin",
        "pin code",
        "pincode",
    ),
    Role.PHONE: (
        "phone",
        "telephone",
        "tel",
        "phone number",
        "telephone number",
        "contact",
        "contact no",
        "contact number",
        "mobile",
        "telefono",
        "telefone",
        "fone",
        "telephone fixe",
        "telefon",
        "tel no",
    ),
    Role.WEBSITE: (
        "website",
        "web site",
        "web",
        "url",
        "homepage",
        "home page",
        "sitio web",
        "pagina web",
        "site",
        "site web",
        "webseite",
        "internet",
    ),
    Role.EMAIL: ("email", "e mail", "correo", "correo electronico", "courriel", "mail"),
    Role.GRADES: (
        "grades",
        "grade",
        "grade span",
        "grade range",
        "grade levels",
        "grades served",
        "levels",
        "level",
        "school level",
        "years",
        "year levels",
        "nivel",
        "niveles",
        "nivel educativo",
        "niveis",
        "ensino",
        "etapa",
        "etapas",
        "niveau",
        "niveaux",
        "klassen",
        "schulstufe",
        "category",
        "school category",
        "classes",
    ),
    Role.LOW_GRADE: ("low grade", "lowest grade", "grade low", "gslo", "from grade"),
    Role.HIGH_GRADE: ("high grade", "highest grade", "grade high", "gshi", "to grade"),
    Role.KIND: (
        "type",
        "school type",
        "kind",
        "management",
        "sector",
        "tipo",
        "tipo de centro",
        "dependencia",
        "dependencia administrativa",
        "rede",
        "type d etablissement",
        "statut",
        "schulart",
        "schultyp",
        "schulform",
        "ownership",
        "governance",
        "charter type",
        "authority type",
    ),
    Role.ID: (
        "id",
        "code",
        "school code",
        "school id",
        "udise",
        "udise code",
        "dise code",
        "dise",
        "nces id",
        "nces",
        "campus number",
        "campus id",
        "cds code",
        "cds",
        "inep",
        "codigo inep",
        "codigo",
        "cod",
        "cod escola",
        "codigo do estabelecimento",
        "uai",
        "rne",
        "school num",
        "school number",
        "school no",
        "state id",
        "schulnummer",
        "numero",
        "cct",
        "clave",
        "clave del centro",
        "emis",
        "emis number",
        "registration no",
        "reg no",
        "license no",
    ),
    Role.SERIAL: (
        "s no",
        "si no",
        "sl no",
        "sr no",
        "s n",
        "sno",
        "no",
        "#",
        "nº",
        "n°",
        "no ord",
        "item",
        "sequence",
        "seq",
        "ord",
        "index",
    ),
    Role.COUNTRY: ("country", "pais", "pays", "land country"),
    Role.PERSON: (
        "member",
        "members",
        "committee member",
        "board member",
        "officer",
        "officers",
        "official",
        "officials",
        "coach",
        "coaches",
        "president",
        "chair",
        "chairman",
        "chairperson",
        "secretary",
        "treasurer",
        "representative",
        "delegate",
        "superintendent",
        "athletic director",
        "contact person",
        "staff member",
        "employee",
        "teacher",
        "miembro",
        "membre",
        "mitglied",
        "responsavel",
        "responsable",
    ),
    Role.OTHER: (
        "enrollment",
        "enrolment",
        "students",
        "pupils",
        "total",
        "distance",
        "distancia",
        "km",
        "distancia km",
        "status",
        "situacao",
        "situacion",
        "zona",
        "zone type",
        "principal",
        "head",
        "director",
        "directora",
        "diretor",
        "latitude",
        "longitude",
        "lat",
        "lon",
        "long",
        "coordinates",
        "fax",
        "block",
        "cluster",
        "taluk",
        "mandal",
        "tehsil",
        "ward",
        "village name",
        "area",
        "rural urban",
        "locale",
        "medium",
        "capacity",
        "staff",
        "teachers",
        "notes",
        "remarks",
        "comments",
        "programs",
        "program",
        "accreditation",
        "accredited",
        "year",
        "date",
        "established",
        "founded",
        "colors",
        "mascot",
        "classification",
        "division level",
    ),
}

_INDEX: dict[str, Role] = {}
for _role, _words in _HEADERS.items():
    for _word in _words:
        _INDEX.setdefault(_word, _role)


def header_role(cell: str) -> Role | None:
    """The role a header cell names, or None when it is no header word."""
    key = fold(cell)
    if not key:
        return None
    if key in _INDEX:
        return _INDEX[key]
    # "School_Name (as per UDISE)", "Nombre del centro educativo": the longest known phrase
    # at the start of the cell decides, if the cell is short (a header, not a sentence)
    words = key.split()
    if len(words) > 6:
        return None
    for size in range(min(len(words), 4), 0, -1):
        phrase = " ".join(words[:size])
        if phrase in _INDEX and size >= 1 and (size > 1 or len(words) <= 3):
            return _INDEX[phrase]
    for size in range(min(len(words), 3), 1, -1):
        phrase = " ".join(words[-size:])
        if phrase in _INDEX:
            return _INDEX[phrase]
    return None


# Words that say a line is a school, in the five languages (and common abbreviations).
SCHOOL_WORD = re.compile(
    r"\b(?:schools?|academy|academie|academia|college|colegio|colégio|escuela|escola|école|"
    r"ecole|schule|gymnasium|lyc[ée]e|coll[èe]ge|liceo|instituto|institute|institut|"
    r"elementary|primary|secondary|middle|high|preparatory|prep|montessori|kindergarten|"
    r"preschool|nursery|campus|center|centre|centro|charter|seminary|madrasa|vidyalaya|"
    r"vidyalayam|matriculation|ceip|cei|ies|emef|emei|eeef|e\.e\.|grundschule|realschule|"
    r"hauptschule|gesamtschule|maternelle|jardin de infantes|jardim)\b",
    re.IGNORECASE,
)

# Headings that set context for the records below them: "District: Thovalai", "BLOCK -
# AGASTHEESWARAM", "COUNTY  Harris". The label needs a separator, or capitals as printed
# ("Lea Anne Walters" is a person, "LEA Central" a heading).
_CONTEXT_LABELS = (
    r"(?:school\s+)?district|county|parish|borough|block|cluster|mandal|taluk|zone|region|"
    r"division|province|state|municipio|município|municipality|diretoria(?: de ensino)?|"
    r"distrito|departamento|département|landkreis|kreis|bezirk|circonscription|lea|"
    r"local authority|education office"
)
CONTEXT_HEADING = re.compile(
    rf"^(?:(?P<label>(?i:{_CONTEXT_LABELS}))\s*[:\-–—]\s*|"
    rf"(?P<caps>(?:{_CONTEXT_LABELS.upper().replace('(?:SCHOOL', '(?:SCHOOL')}))\s+)"
    r"(?P<value>\S.{0,80})$"
)
# "Rice CISD", "Alpine School District", "Seattle Public Schools": a school district's name
DISTRICT_NAME = re.compile(
    r"\b(?:c?isd|usd|cusd|sd|school district|public schools|schools|unified|"
    r"school division|county schools|city schools|board of education|independent school)\b",
    re.IGNORECASE,
)

# Organisations that are not schools: a name with one of these words and no school word
NOT_SCHOOL = re.compile(
    r"\b(?:association|assn|assoc|officials|umpires?|referees?|judges|league|club|"
    r"federation|committee|council|inc|llc|ltd|corp|corporation|company|commission|"
    r"society|"
    r"asociaci[oó]n|associa[cç][aã]o|f[ée]d[ée]ration|verband|verein)\b",
    re.IGNORECASE,
)

# Rows and lines that are never schools
TOTAL_WORD = re.compile(
    r"^(?:grand\s+)?(?:total|totals|sum|subtotal|sub-total|summary|overall|all schools|"
    r"district total|state total|gesamt|summe|totale?s?|resumen|resumo|somme)\b",
    re.IGNORECASE,
)

# "School: Ballard", "Escola: ...", "Nom de l'école : ...": a label that names the school
NAME_LABEL = re.compile(
    r"^(?:school(?:\s+name)?|name\s+of\s+(?:the\s+)?school|campus(?:\s+name)?|"
    r"escuela|escola|colegio|centro(?:\s+educativo)?|nome\s+da\s+escola|nombre\s+del\s+centro|"
    r"[ée]cole|nom\s+de\s+l['’][ée]cole|[ée]tablissement|schule|schulname)\s*:\s*(?=\S)",
    re.IGNORECASE,
)
