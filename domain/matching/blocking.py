"""Blocking: which schools a record is compared with at all.

A record is compared only with schools that share one of its keys: the name (as the
matcher spells it), the phone, the ZIP, the website host, an identifier. Each key is one
indexed lookup, so finding candidates costs about the same in a database of a hundred
schools or of a hundred thousand. A key shared by more than ``MAX_BLOCK`` schools (a
district web host, a big-city ZIP) is too common to tell anything apart and is not used;
the record's other keys still find its school.

The name is looked up within the record's state or province: "Lincoln Elementary" in
California is not compared with the hundred Lincoln Elementaries of other states (their
places differ: they could not match), only with those in California and those whose
state nobody printed. A record that does not say its state looks the name up everywhere.
(A key of the name's words cut to four letters, which a typo after the fourth letter
leaves alone, found no more links in the California lists and doubled the schools
compared: left out.)
"""

from __future__ import annotations

from domain.matching.facts import Facts

MAX_BLOCK = 200
# kinds fit school_keys.kind (8 characters)
KINDS = ("name", "in_state", "no_state", "phone", "zip", "host", "id")


def _name(facts: Facts) -> str:
    return " ".join(facts.tokens)


def _shared(facts: Facts) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    if facts.phone:
        keys.add(("phone", facts.phone))
    if facts.zip5:
        keys.add(("zip", facts.zip5))
    if facts.website:
        keys.add(("host", facts.website[0]))
    for scheme, value in facts.identifiers:
        keys.add(("id", f"{scheme}:{value}"))
    return keys


def block_keys(facts: Facts) -> set[tuple[str, str]]:
    """(kind, value) keys a school is found by, one set per record it is known by."""
    name = _name(facts)
    where = ("in_state", f"{facts.region}:{name}") if facts.region else ("no_state", name)
    return {("name", name), where} | _shared(facts)


def lookup_keys(facts: Facts) -> set[tuple[str, str]]:
    """(kind, value) keys a record looks schools up by (see the module docstring)."""
    name = _name(facts)
    if facts.region:
        names = {("in_state", f"{facts.region}:{name}"), ("no_state", name)}
    else:
        names = {("name", name)}
    return names | _shared(facts)


__all__ = ["KINDS", "MAX_BLOCK", "block_keys", "lookup_keys"]
