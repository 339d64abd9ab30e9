"""Blocking: which schools a record is compared with at all.

A record is compared only with schools that share one of its keys: the name (as the
matcher spells it, and its words cut to four letters, which a typo or an abbreviation
after the fourth letter leaves alone: "Lincon High" / "Lincoln High", "Perf Arts" /
"Performing Arts"), the phone, the ZIP, the website host, an identifier. Each key is one
indexed lookup, so finding candidates costs the same in a database of a hundred schools
or of a hundred thousand. A key shared by more than ``MAX_BLOCK`` schools (a district
web host, a big-city ZIP) is too common to tell anything apart and is not used; the
record's other keys still find its school.
"""

from __future__ import annotations

from handlers.matching.facts import Facts

MAX_BLOCK = 200
KINDS = ("name", "name4", "phone", "zip", "host", "id")


def block_keys(facts: Facts) -> set[tuple[str, str]]:
    """(kind, value) keys of one record's facts."""
    keys = {("name", " ".join(facts.tokens)), ("name4", " ".join(t[:4] for t in facts.tokens))}
    if facts.phone:
        keys.add(("phone", facts.phone))
    if facts.zip5:
        keys.add(("zip", facts.zip5))
    if facts.website:
        keys.add(("host", facts.website[0]))
    for scheme, value in facts.identifiers:
        keys.add(("id", f"{scheme}:{value}"))
    return keys


__all__ = ["KINDS", "MAX_BLOCK", "block_keys"]
