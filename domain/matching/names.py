"""How alike two school names are, as one of a few named levels.

A name is read as words (``match_key``: accents, punctuation, "the", "of" and "school"
gone, initials joined, "St" = "Saint") and then spelled one way for matching: level
abbreviations become their level (``EL``/``Elem`` -> elementary, ``J H``/``Jr High`` ->
junior high, ``H S`` -> high, ``Int``/``Intermediate`` -> int, ``Pri`` -> primary) and a few
long words directories shorten become their short form. Then, first that applies:

``same``            the same words.
``number_differs``  both names have numbers, Roman numerals or compass words, and they
                    differ ("Academy 4" / "6", "North" / "South"): different campuses.
``number_extra``    one name has such a word, the other none ("Discovery" / "Discovery
                    II", "Delta Keys Charter" / "Delta Keys Charter #2").
``level_differs``   both name a level, and the levels cannot be one school (elementary /
                    high). Middle, junior high and intermediate are one group; so are
                    elementary and primary, and high and secondary.
``level_variant``   the same words except a level of the same group ("Bonham Junior High" /
                    "Bonham Middle"): a rename or a synonym, likely the same only with
                    other agreement.
``program_differs`` one name has words the other lacks that name a different programme
                    on the same campus ("Early College", "Academy", "Continuation",
                    "Community Day", "Independent Study", ...).
``core_same``       the same words once level and filler words ("Charter", "Elementary")
                    are set aside, one name adding them ("Tamarisk" / "Tamarisk
                    Elementary").
``core_swap``       the same, but each name has such a word the other lacks ("Dunham
                    Charter" / "Dunham Elementary": often two schools on one campus).
``subset``          one name's words are all in the other ("Frisbie Middle" / "Warren F.
                    Frisbie Middle").
``similar``         a token-sort similarity of at least 88 (typos, truncations).
``differs``         anything else.

How much each level counts is estimated from data (``weights.py``), not set here.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz

from domain.normalize import match_key

NAME_LEVELS = (
    "same",
    "number_differs",
    "number_extra",
    "level_differs",
    "level_variant",
    "program_differs",
    "core_same",
    "core_swap",
    "subset",
    "similar",
    "differs",
)

# One spelling per word, beyond what match_key already unifies.
_SYNONYMS = {
    "elem": "elementary",
    "el": "elementary",
    "pri": "primary",
    "prim": "primary",
    "mid": "middle",
    "ms": "middle",
    "hs": "high",
    "jh": "junior high",
    "jhs": "junior high",
    "jr": "junior",
    "intermediate": "int",
    "international": "int",
    "intl": "int",
    "sci": "science",
    "tech": "technology",
    "ed": "education",
    "co": "county",
    "cnty": "county",
    "perf": "performing",
    "ctr": "center",
    "centre": "center",
    "acad": "academy",
    "prep": "preparatory",
    "collegiate": "college",
    "cds": "community day",
    "cont": "continuation",
    "alt": "alternative",
    "magnet": "magnet",
}
_DROP = frozenset({"and", "for", "at", "in", "a", "an", "school", "schools"})
# Level words, by group: a name of one group is never the same school as one of another.
_LEVEL_GROUP = {
    "elementary": "elementary",
    "primary": "elementary",
    "middle": "middle",
    "junior high": "middle",
    "int": "middle",
    "high": "high",
    "secondary": "high",
}
# Words that name no school by themselves: set aside for ``core_same`` and ``subset``.
_FILLER = frozenset(
    {"charter", "public", "community", "unified", "district", "center", "campus", "the"}
)
# Words that name a different programme sharing a campus (and often a phone) with a school.
_PROGRAM = frozenset(
    {
        "academy",
        "early",
        "college",
        "continuation",
        "community day",
        "independent",
        "study",
        "alternative",
        "adult",
        "virtual",
        "online",
        "opportunity",
        "preparatory",
        "magnet",
        "montessori",
        "juvenile",
        "special",
        "education",
        "home",
        "stem",
        "steam",
        "arts",
    }
)
_COMPASS = frozenset(
    {"north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest"}
)
_ROMAN = re.compile(r"(?=[ivxl])(?:xl|l?x{0,3})(?:ix|iv|v?i{0,3})")
_GRADE_SPAN = re.compile(r"(?:t?k|p|pk)\d{1,2}|\d{1,2}12")  # "K-8", "TK-5" in a name
# A grade span printed in a name ("Beulah Payne P-8 STEAM Academy", "Madison Park Academy
# TK-5") is not part of what the school is called: one source prints it, another not.
_NAME_SPAN = re.compile(r"\b(?:T?K|P|PK|Pre-?K)\s*[-–]\s*\d{1,2}\b|\b\d{1,2}\s*[-–]\s*12\b", re.I)


def _phrases(words: list[str]) -> list[str]:
    """Two-word units read as one: "junior high", "community day"."""
    out: list[str] = []
    i = 0
    while i < len(words):
        pair = " ".join(words[i : i + 2])
        if pair in ("junior high", "community day"):
            out.append(pair)
            i += 2
            continue
        if words[i] == "senior" and words[i + 1 : i + 2] == ["high"]:
            i += 1  # "Senior High" is "High"
            continue
        out.append(words[i])
        i += 1
    return out


@lru_cache(maxsize=8192)
def name_tokens(name: str) -> tuple[str, ...]:
    """The words of ``name`` as the matcher compares them, in order."""
    words: list[str] = []
    for word in match_key(_NAME_SPAN.sub(" ", name)).split():
        if word.startswith("#"):
            word = word[1:]
        words += _SYNONYMS.get(word, word).split()
    return tuple(w for w in _phrases(words) if w not in _DROP) or tuple(words)


def _is_number(token: str) -> bool:
    if _GRADE_SPAN.fullmatch(token):
        return False
    return any(c.isdigit() for c in token) or (len(token) > 1 and bool(_ROMAN.fullmatch(token)))


def _distinct(tokens: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t for t in tokens if _is_number(t) or t in _COMPASS)


def _levels(tokens: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_LEVEL_GROUP[t] for t in tokens if t in _LEVEL_GROUP)


def _core(tokens: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        t
        for t in tokens
        if t not in _LEVEL_GROUP and t not in _FILLER and not _GRADE_SPAN.fullmatch(t)
    )


@lru_cache(maxsize=16384)
def name_level(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    """The level (see the module docstring) of two names given as ``name_tokens``."""
    if a == b:
        return "same"
    distinct_a, distinct_b = _distinct(a), _distinct(b)
    if distinct_a != distinct_b:
        return "number_differs" if distinct_a and distinct_b else "number_extra"
    levels_a, levels_b = _levels(a), _levels(b)
    if levels_a and levels_b and levels_a != levels_b:
        return "level_differs"
    grouped_a = tuple(_LEVEL_GROUP.get(t, t) for t in a)
    grouped_b = tuple(_LEVEL_GROUP.get(t, t) for t in b)
    if grouped_a == grouped_b:
        return "level_variant"
    core_a, core_b = _core(a), _core(b)
    set_a, set_b = set(core_a), set(core_b)
    if (set_a ^ set_b) & _PROGRAM:
        return "program_differs"
    if core_a == core_b and core_a:
        # "Dunham Charter" / "Dunham Elementary": each says something the other does not
        extra_a, extra_b = set(a) - set(b), set(b) - set(a)
        return "core_swap" if extra_a and extra_b else "core_same"
    if set_a and set_b and (set_a <= set_b or set_b <= set_a):
        return "subset"
    if fuzz.token_sort_ratio(" ".join(core_a), " ".join(core_b)) >= 88:
        return "similar"
    return "differs"


def name_key(name: str) -> str:
    """The blocking key of a name: its tokens, joined (equal names share it)."""
    return " ".join(name_tokens(name))


__all__ = ["NAME_LEVELS", "name_key", "name_level", "name_tokens"]
