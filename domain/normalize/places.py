"""Regions, countries and postal codes: US and Australian states to their codes, the
country inferred from a state and a postcode."""

from __future__ import annotations

import re

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
