"""Entity resolution: is this record a school we already have?

``facts`` prepares a record for comparison, ``names`` and ``compare`` put each comparison
on a level, ``weights`` holds the estimated weight of every level and the two bars,
``matcher`` scores a pair and decides, ``blocking`` says which pairs are compared at all.
Both dedupe paths use it: within one document (``domain.normalize``) and against the
database on save (``models.schools``).
"""

from domain.matching.blocking import block_keys, lookup_keys
from domain.matching.facts import Facts, facts_of
from domain.matching.matcher import (
    AUTO_MERGE,
    REVIEW,
    Judgement,
    Match,
    Outcome,
    Reason,
    best_of,
    compare,
    judge,
    match,
    outcome,
)

__all__ = [
    "AUTO_MERGE",
    "REVIEW",
    "Facts",
    "Judgement",
    "Match",
    "Outcome",
    "Reason",
    "best_of",
    "block_keys",
    "compare",
    "facts_of",
    "judge",
    "lookup_keys",
    "match",
    "outcome",
]
