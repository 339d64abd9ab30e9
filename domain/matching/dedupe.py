"""In-document dedupe: which records of one document are one school.

The same matcher as a save uses. Records are compared only within blocks (a shared name,
phone, ZIP, web host or identifier: near-linear on a 1,000-page directory), and two
records whose pair would merge automatically are one school; so are chains of such pairs
(the groups are the connected parts of the "would merge" graph). That makes the groups
independent of the order the records come in, and the same as a save of the records one
by one would give. Within one document, two records are one school under the same name
(unless the rest disagrees), never under different names (``matcher.outcome``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from typing import Any

from domain.matching.blocking import MAX_BLOCK, block_keys
from domain.matching.facts import Facts, facts_of, phone_key
from domain.matching.matcher import Outcome, compare, outcome
from domain.matching.names import name_tokens
from domain.records import SchoolRecord

_FILLED = tuple(f.name for f in fields(SchoolRecord) if f.name not in ("name", "evidence"))


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def group_facts(found: Sequence[Facts]) -> list[list[int]]:
    """Groups of indexes into ``found`` that are one school, each in ascending order,
    the groups ordered by their first index.

    Records that say where the school is are grouped first (the connected parts of the
    "would merge" graph). A mention by name alone then joins the group it would merge
    with only if there is one: a name mentioned in a list of two Lincoln Elementaries
    says nothing about which, and must not join the two.
    """
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, f in enumerate(found):
        for key in block_keys(f):
            blocks[key].append(i)
    edges: list[tuple[int, int]] = []
    for i, f in enumerate(found):
        later: set[int] = set()  # this record's partners, each compared once
        for key in block_keys(f):
            block = blocks[key]
            if len(block) <= MAX_BLOCK:
                later.update(j for j in block if j > i)
        for j in sorted(later):
            if outcome(compare(f, found[j]), same_document=True) is Outcome.MERGE:
                edges.append((i, j))
    parent = list(range(len(found)))

    def union(i: int, j: int) -> None:
        root_i, root_j = _root(parent, i), _root(parent, j)
        parent[max(root_i, root_j)] = min(root_i, root_j)

    mentions = {i for i, f in enumerate(found) if f.name_only}
    for i, j in edges:
        if (i in mentions) == (j in mentions):  # full with full, mention with mention
            union(i, j)
    targets: dict[int, set[int]] = defaultdict(set)
    for i, j in edges:
        if (i in mentions) != (j in mentions):
            mention, full = (i, j) if i in mentions else (j, i)
            targets[_root(parent, mention)].add(_root(parent, full))
    for mention_root, roots in targets.items():
        if len(roots) == 1:
            union(mention_root, roots.pop())
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(found)):
        groups[_root(parent, i)].append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def shared_phones(records: Iterable[SchoolRecord]) -> frozenset[str]:
    """Phones one document gives for two or more differently named records."""
    names: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for r in records:
        phone = phone_key(r.phone)
        if phone:
            names[phone].add(name_tokens(r.name))
    return frozenset(p for p, seen in names.items() if len(seen) > 1)


def document_facts(
    records: Sequence[SchoolRecord],
    shared: frozenset[str] | None = None,
    document: int | None = None,
) -> list[Facts]:
    """The facts of (some of) one document's records, phones the document gives for two
    differently named records (``shared``; default: found in ``records``) marked shared."""
    phones = shared_phones(records) if shared is None else shared
    out = []
    for r in records:
        f = facts_of(r)
        out.append(replace(f, phone_shared=f.phone in phones, document=document))
    return out


def group_duplicates(records: Sequence[SchoolRecord]) -> list[list[int]]:
    """Groups of indexes into ``records`` (one document's) that are one school."""
    return group_facts(document_facts(records))


def fill(first: SchoolRecord, others: Sequence[SchoolRecord]) -> SchoolRecord:
    """``first`` with its empty fields taken from ``others``, in order."""
    missing: dict[str, Any] = {}
    for other in others:
        for name in _FILLED:
            if name in missing or getattr(first, name) not in (None, "", {}):
                continue
            value = getattr(other, name)
            if value not in (None, "", {}):
                missing[name] = value
    return replace(first, **missing) if missing else first


def merge_duplicates(records: Sequence[SchoolRecord]) -> list[SchoolRecord]:
    """One record per school of the document, in the order each school first appears: the
    first record of each group, its empty fields filled from the group's others, its
    evidence kept."""
    return [
        fill(records[group[0]], [records[i] for i in group[1:]])
        for group in group_duplicates(records)
    ]


__all__ = [
    "document_facts",
    "fill",
    "group_duplicates",
    "group_facts",
    "merge_duplicates",
    "shared_phones",
]
