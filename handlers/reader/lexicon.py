"""Words that name a label or a heading, or say what a line is, in English, Spanish,
Portuguese, French and German; column header words and their roles are in ``headers``.
Hints only: the content decides where it disagrees (see ``recognise`` and ``tables``).
"""

from __future__ import annotations

import re

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
