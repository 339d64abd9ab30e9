"""Names: stored as printed, tidied; a canonical spelling and a key for matching only
(see the package docstring for the choices)."""

from __future__ import annotations

import re
import unicodedata


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
END_JUNK = " -–—•*·,;:/|"


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


def title_word(word: str) -> str:
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
        return title_word(core)
    if core.islower():
        return title_word(core)
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
    name = name.strip(END_JUNK)
    if name.endswith(".") and not re.search(r"\b(Jr|Sr|Inc|Co|St)\.$", name):
        name = name.rstrip(".").rstrip(END_JUNK)
    if name.count("(") != name.count(")"):
        name = name.strip("()").strip(END_JUNK)
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
