"""The one matcher: how likely two records are one school, and what to do about it.

Fellegi–Sunter: each comparison (``compare.py``) lands on a level, each level carries a
weight log2(m/u) — m how often true pairs show it, u how often other candidate pairs do —
and the score is the prior log-odds plus the weights. The weights and the two bars were
estimated from the California data (``python -m bench.er_fit`` writes ``weights.py``).

Identifiers decide on their own: the same value of one scheme is the same school, two
values of one scheme are two schools, whatever the names say.

Three outcomes: at or above ``AUTO_MERGE`` the records are merged automatically; from
``REVIEW`` up a *possible duplicate* is stored for a person to decide; below, distinct. A
mention by name alone (prose: no address, phone, website, ZIP or identifier) is never
merged automatically with a record of another document: at most it is proposed. Two
records of one document merge under the same name only, and names that tell schools
apart (campus numbers, levels) never merge automatically (see ``outcome``).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

from domain.matching.compare import levels
from domain.matching.facts import Facts, facts_of
from domain.matching.weights import AUTO_MERGE, PRIOR, REVIEW, WEIGHTS
from domain.records import SchoolRecord

DECISIVE = 99.0  # the score of an identifier's verdict: beyond any sum of weights
# Names that tell two schools apart: different campus numbers or compass words, levels that
# cannot be one school. However much else agrees (two campuses share a site and a phone),
# such a pair is never merged automatically: at most proposed.
APART = frozenset({"number_differs", "level_differs"})


class Outcome(StrEnum):
    MERGE = "merge"
    POSSIBLE = "possible"
    DISTINCT = "distinct"


class Reason(NamedTuple):
    comparison: str
    level: str
    weight: float

    def __str__(self) -> str:
        return f"{self.comparison} {self.level} {self.weight:+.1f}"


class Match(NamedTuple):
    score: float
    reasons: tuple[Reason, ...]

    def describe(self) -> str:
        return ", ".join(str(r) for r in self.reasons)


NO_MATCH = Match(-DECISIVE, ())


def _identifier_verdict(a: Facts, b: Facts) -> Match | None:
    ids_a, ids_b = dict(a.identifiers), dict(b.identifiers)
    for scheme in sorted(ids_a.keys() & ids_b.keys()):
        if ids_a[scheme] == ids_b[scheme]:
            return Match(DECISIVE, (Reason("identifier", f"{scheme} same", DECISIVE),))
    for scheme in sorted(ids_a.keys() & ids_b.keys()):
        return Match(-DECISIVE, (Reason("identifier", f"{scheme} differs", -DECISIVE),))
    return None


def compare(a: Facts, b: Facts) -> Match:
    """The score of two records' facts and the weight of every comparison behind it."""
    verdict = _identifier_verdict(a, b)
    if verdict is not None:
        return verdict
    reasons = tuple(
        Reason(comparison, level, WEIGHTS[comparison].get(level, 0.0))
        for comparison, level in levels(a, b).items()
    )
    return Match(PRIOR + sum(r.weight for r in reasons), reasons)


def match(a: SchoolRecord, b: SchoolRecord) -> Match:
    """``(score, reasons)`` for two normalized records."""
    return compare(facts_of(a), facts_of(b))


def outcome(found: Match, *, name_only: bool = False, same_document: bool = False) -> Outcome:
    """What to do with a pair scored ``found``.

    ``name_only``: either record is a mention by name alone; across documents it is at most
    proposed. ``same_document``: the two are records of one document. The document itself
    tells them apart or not: under the same name (once normalized: an index and its page,
    "Lincoln H S" and "Lincoln High School", a listing and a mention in its prose) they
    are one school unless the rest disagrees (below the review bar: twins in two towns);
    under different names they are two, however much else they share (two schools on one
    campus) — at most proposed.
    """
    if found.score >= DECISIVE:
        return Outcome.MERGE
    if _name_level(found) in APART:
        return Outcome.POSSIBLE if found.score >= REVIEW else Outcome.DISTINCT
    if same_document:
        if _name_level(found) == "same" and found.score >= REVIEW:
            return Outcome.MERGE
    elif found.score >= AUTO_MERGE and not name_only:
        return Outcome.MERGE
    if found.score >= REVIEW:
        return Outcome.POSSIBLE
    return Outcome.DISTINCT


def _name_level(found: Match) -> str | None:
    return next((r.level for r in found.reasons if r.comparison == "name"), None)


class Judgement(NamedTuple):
    found: Match
    outcome: Outcome


_RANK = {Outcome.MERGE: 2, Outcome.POSSIBLE: 1, Outcome.DISTINCT: 0}


def _same_document(a: Facts, b: Facts) -> bool:
    return a.document is not None and a.document == b.document


def judge(a: Facts, b: Facts) -> Judgement:
    """One pair of records: the score and what to do, by the rules of ``outcome``."""
    found = compare(a, b)
    return Judgement(
        found,
        outcome(found, name_only=a.name_only or b.name_only, same_document=_same_document(a, b)),
    )


def best_of(
    records: Iterable[Facts], members: Iterable[Facts], *, grouped: bool = False
) -> Judgement:
    """Records (one school of a document) against a school known by several records (its
    sources, its reviewed values, its aliases): the strongest single pair — a merge before
    a proposal, then the higher score. Whole records are compared, never fields of
    different ones mixed, so the merges are the connected parts of the record-to-record
    "would merge" graph, whatever order the records come in. An identifier that differs
    on any pair makes them two schools.

    ``grouped``: in-document dedupe has already grouped the records' document (a save), so
    a pair within it is at most proposed (a mention of "Lincoln Elementary" in a list of
    two is left alone there, and must not join both here)."""
    known = list(members)
    found: list[Judgement] = []
    for r in records:
        for m in known:
            j = judge(r, m)
            again = grouped and _same_document(r, m) and j.found.score < DECISIVE
            if again and j.outcome is Outcome.MERGE:
                j = Judgement(j.found, Outcome.POSSIBLE)
            found.append(j)
    if not found:
        return Judgement(NO_MATCH, Outcome.DISTINCT)
    vetoed = [j for j in found if j.found.score <= -DECISIVE]
    if vetoed:
        return vetoed[0]
    return max(found, key=lambda j: (_RANK[j.outcome], j.found.score))


__all__ = [
    "APART",
    "AUTO_MERGE",
    "DECISIVE",
    "NO_MATCH",
    "REVIEW",
    "Judgement",
    "Match",
    "Outcome",
    "Reason",
    "best_of",
    "compare",
    "judge",
    "match",
    "outcome",
]
