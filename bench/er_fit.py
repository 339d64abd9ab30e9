"""Estimate the matcher's weights and bars from the California data; write weights.py.

Usage: ``python -m bench.er_fit [--check]`` (``--check``: print, write nothing).

1. Records of both lists (``bench/er_data.py``), identifiers removed; a phone or website
   given for two differently named records of one list is marked shared, as a save marks
   one found on two schools.
2. Candidate pairs: an A and a B record of the training half sharing a blocking key
   (``handlers/matching/blocking.py``), as a save finds them.
3. For every comparison level, m = its share among the linked candidate pairs and u = its
   share among the other candidate pairs (u among candidates, not random pairs: the matcher
   only ever sees candidates, and a candidate already shares a key, so agreeing on it says
   less than it would for a random pair). Weight = log2(m/u), with half a pair added to
   every count so that a level never seen on one side is not infinite. The prior is the
   log-odds that a candidate pair is a link.
4. Websites: the NCES list prints none, so m cannot be measured here; it is taken from the
   phone (the other way a school is reached), u is measured on CDE candidate pairs (all
   different schools; district-wide addresses included).
   Missing values: both lists print nearly every field, so the levels that need one side
   without a ZIP (``city``, ``city_differs``), a street (``same/-``, ...) or a phone
   (``-/same``, ...) are measured on the same data with that field taken away from the A
   side (candidates found by the keys left), as a document that does not print it.
   No level of the name or contact comparison weighs more than its full agreement.
5. The bars: every record of A goes to its best candidate, merged at or above the auto bar,
   proposed (up to ``PROPOSE``) from the review bar up. Of the bars on a 0.5 grid whose
   merge precision is at least ``MIN_PRECISION`` and whose proposals stay under
   ``MAX_PAIRS`` of the schools, the highest whose recall (merged plus proposed links) is
   within ``RECALL_SLACK`` of the best.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bench.er_data import HELD_BACK, TRAIN, Row, load
from domain.matching.blocking import MAX_BLOCK, block_keys, lookup_keys
from domain.matching.compare import levels
from domain.matching.dedupe import document_facts
from domain.matching.facts import Facts
from domain.matching.matcher import APART

WEIGHTS_PY = Path(__file__).resolve().parents[1] / "handlers/matching/weights.py"
MIN_PRECISION = 0.9985
MAX_PAIRS = 0.03
PROPOSE = 3
RECALL_SLACK = 0.005
# Website levels borrow m from these phone parts (see 4. above).
WEBSITE_FROM_PHONE = {"same": "same", "same_host": "near", "differs": "differs"}

Pair = tuple[int, int]
Levels = dict[str, str]


@dataclass
class Data:
    side_a: list[Row]
    side_b: list[Row]
    facts_a: list[Facts]
    facts_b: list[Facts]
    links: set[Pair]  # (index in A, index in B)


def prepare() -> Data:
    side_a, side_b = load()
    # the lists' records carry no identifiers (bench/er_data.py): what documents print
    facts_a = document_facts([r.record for r in side_a])
    facts_b = document_facts([r.record for r in side_b])
    b_of_school = {r.school: j for j, r in enumerate(side_b)}
    links = {(i, b_of_school[r.school]) for i, r in enumerate(side_a) if r.school in b_of_school}
    return Data(side_a, side_b, facts_a, facts_b, links)


def candidates(
    left: Sequence[Facts], right: Sequence[Facts], keep: Iterable[Pair] | None = None
) -> set[Pair]:
    """Pairs (i in left, j in right) sharing a blocking key no more common than MAX_BLOCK."""
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for j, f in enumerate(right):
        for key in block_keys(f):
            index[key].append(j)
    allowed = set(keep) if keep is not None else None
    found: set[Pair] = set()
    for i, f in enumerate(left):
        for key in lookup_keys(f):
            block = index.get(key, [])
            if len(block) <= MAX_BLOCK:
                found.update((i, j) for j in block if allowed is None or (i, j) in allowed)
    return found


def half_pairs(data: Data, half: int) -> set[Pair]:
    pairs = candidates(data.facts_a, data.facts_b)
    return {(i, j) for i, j in pairs if data.side_a[i].half == half == data.side_b[j].half}


def _ratio(count: int, total: int, kinds: int) -> float:
    return (count + 0.5) / (total + 0.5 * kinds)


def estimate(
    found: dict[Pair, Levels], links: set[Pair], website_u: Counter[str]
) -> tuple[float, dict[str, dict[str, float]], dict[str, dict[str, tuple[int, int]]]]:
    """(prior, weights, the m and u counts behind them)."""
    m: dict[str, Counter[str]] = defaultdict(Counter)
    u: dict[str, Counter[str]] = defaultdict(Counter)
    n_links = sum(1 for p in found if p in links)
    for pair, lv in found.items():
        for comparison, level in lv.items():
            (m if pair in links else u)[comparison][level] += 1
    phone_m: Counter[str] = Counter()
    for level, count in m["contact"].items():
        part = level.split("/")[0]
        phone_m["same" if part == "shared" else part] += count
    m["website"] = Counter(
        {w: phone_m[p] for w, p in WEBSITE_FROM_PHONE.items() if p in phone_m or w in website_u}
    )
    u["website"] = website_u
    weights: dict[str, dict[str, float]] = {}
    counts: dict[str, dict[str, tuple[int, int]]] = {}
    for comparison in sorted(m.keys() | u.keys()):
        seen = sorted(m[comparison].keys() | u[comparison].keys())
        tm, tu = sum(m[comparison].values()), sum(u[comparison].values())
        weights[comparison] = {
            level: round(
                math.log2(
                    _ratio(m[comparison][level], tm, len(seen))
                    / _ratio(u[comparison][level], tu, len(seen))
                ),
                3,
            )
            for level in seen
        }
        counts[comparison] = {lv: (m[comparison][lv], u[comparison][lv]) for lv in seen}
    prior = round(math.log2(n_links / (len(found) - n_links)), 3)
    return prior, weights, counts


def score(lv: Levels, prior: float, weights: dict[str, dict[str, float]]) -> float:
    return prior + sum(weights.get(c, {}).get(level, 0.0) for c, level in lv.items())


def mergeable(lv: Levels) -> bool:
    return lv.get("name") not in APART  # the matcher's rule: such pairs are only proposed


@dataclass(frozen=True)
class Figures:
    merged: int
    precision: float
    recall: float
    proposed: int
    proposed_share: float


Ranked = dict[int, list[tuple[float, int, bool]]]


def rank(found: dict[Pair, Levels], prior: float, weights: dict[str, dict[str, float]]) -> Ranked:
    """Every A record's candidates, best first."""
    by_a: Ranked = defaultdict(list)
    for (i, j), lv in found.items():
        by_a[i].append((score(lv, prior, weights), j, mergeable(lv)))
    for scored in by_a.values():
        scored.sort(reverse=True)
    return by_a


def assign(data: Data, by_a: Ranked, half: int, auto: float, review: float) -> Figures:
    """Each A record of ``half`` to its best B candidate: merged, proposed or left."""
    merged = right = hits = proposed = 0
    for i, scored in by_a.items():
        joins = [j for s, j, ok in scored if s >= auto and ok]
        if joins:
            merged += 1
            right += (i, joins[0]) in data.links
            hits += (i, joins[0]) in data.links
            continue
        band = [j for s, j, _ in scored if s >= review][:PROPOSE]
        proposed += len(band)
        hits += any((i, j) in data.links for j in band)
    n_links = sum(1 for i, _ in data.links if data.side_a[i].half == half)
    schools = {r.school for r in [*data.side_a, *data.side_b] if r.half == half}
    return Figures(
        merged,
        right / max(merged, 1),
        hits / max(n_links, 1),
        proposed,
        proposed / max(len(schools), 1),
    )


def website_levels(data: Data) -> Counter[str]:
    """Website levels of CDE candidate pairs (all different schools), training half."""
    train = [f if r.half == TRAIN else None for r, f in zip(data.side_b, data.facts_b, strict=True)]
    kept = [f for f in train if f is not None]
    out: Counter[str] = Counter()
    for i, j in candidates(kept, kept):
        if i < j:
            level = levels(kept[i], kept[j]).get("website")
            if level:
                out[level] += 1
    return out


Weights = dict[str, dict[str, float]]
Counts = dict[str, dict[str, tuple[int, int]]]
# Levels that need a value missing on one side, and how to take it away (see 4. above).
MISSING: tuple[tuple[str, str, Callable[[Facts], Facts]], ...] = (
    ("place", "city", lambda f: replace(f, zip5=None)),
    ("contact", "/-", lambda f: replace(f, street=None)),
    ("contact", "-/", lambda f: replace(f, phone=None, phone_shared=False)),
)


def _missing_levels(
    data: Data, comparison: str, marker: str, strip: Callable[[Facts], Facts]
) -> tuple[dict[str, float], dict[str, tuple[int, int]]]:
    facts_a = [strip(f) for f in data.facts_a]
    m: Counter[str] = Counter()
    u: Counter[str] = Counter()
    for i, j in candidates(facts_a, data.facts_b):
        if data.side_a[i].half == TRAIN == data.side_b[j].half:
            level = levels(facts_a[i], data.facts_b[j]).get(comparison)
            if level and marker in level and level != "-/-":
                (m if (i, j) in data.links else u)[level] += 1
    seen = sorted(m.keys() | u.keys())
    tm, tu = sum(m.values()), sum(u.values())
    weights = {
        lv: round(math.log2(_ratio(m[lv], tm, len(seen)) / _ratio(u[lv], tu, len(seen))), 3)
        for lv in seen
    }
    return weights, {lv: (m[lv], u[lv]) for lv in seen}


# A level is never worth more than the full agreement of its comparison: a few pairs seen
# only among links (a level synonym: 10 links, no other pair) would otherwise outweigh it.
CEILING = {"name": "same", "contact": "same/same"}


def cap(weights: Weights) -> None:
    for comparison, top in CEILING.items():
        table = weights[comparison]
        for level, weight in table.items():
            table[level] = min(weight, table[top])


def with_missing(data: Data, weights: Weights, counts: Counts) -> None:
    """Replace the weights of the levels that need a missing value by ones measured with
    that value taken away from the A side (both lists print nearly every field)."""
    for comparison, marker, strip in MISSING:
        found, seen = _missing_levels(data, comparison, marker, strip)
        weights[comparison] |= found
        counts[comparison] |= seen


def choose_bars(
    data: Data, found: dict[Pair, Levels], prior: float, weights: dict[str, dict[str, float]]
) -> tuple[float, float, Figures]:
    """The bars: of those meeting MIN_PRECISION and MAX_PAIRS, the highest auto bar (then
    review bar) whose recall is within RECALL_SLACK of the best: a few more links found
    do not pay for merges made on thinner evidence."""
    grid = [x / 2 for x in range(-8, 25)]
    ranked = rank(found, prior, weights)
    feasible: list[tuple[float, float, Figures]] = []
    for auto in grid:
        for review in (r for r in grid if r < auto):
            fig = assign(data, ranked, TRAIN, auto, review)
            if fig.precision >= MIN_PRECISION and fig.proposed_share <= MAX_PAIRS:
                feasible.append((auto, review, fig))
    assert feasible, "no bars meet the precision and review targets"
    best = max(fig.recall for _, _, fig in feasible)
    return max((f for f in feasible if f[2].recall >= best - RECALL_SLACK), key=lambda f: f[:2])


def render(
    prior: float,
    weights: dict[str, dict[str, float]],
    counts: dict[str, dict[str, tuple[int, int]]],
    auto: float,
    review: float,
) -> str:
    lines = [
        '"""Match weights estimated from the California data. Generated by',
        "``python -m bench.er_fit``: do not edit by hand, run it again.",
        "",
        "Per level: weight = log2(m / u); the comment gives the counts behind it (linked",
        "candidate pairs, other candidate pairs) in the training half.",
        '"""',
        "",
        f"PRIOR = {prior}",
        f"AUTO_MERGE = {auto}",
        f"REVIEW = {review}",
        "",
        "WEIGHTS: dict[str, dict[str, float]] = {",
    ]
    for comparison, table in weights.items():
        lines.append(f'    "{comparison}": {{')
        for level, weight in table.items():
            m, u = counts[comparison][level]
            lines.append(f'        "{level}": {weight},  # m {m}, u {u}')
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)
    data = prepare()
    found = {p: levels(data.facts_a[p[0]], data.facts_b[p[1]]) for p in half_pairs(data, TRAIN)}
    prior, weights, counts = estimate(found, data.links, website_levels(data))
    with_missing(data, weights, counts)
    cap(weights)
    auto, review, fig = choose_bars(data, found, prior, weights)
    print(f"training half: {len(found)} candidate pairs, prior {prior}")
    print(f"bars: auto-merge >= {auto}, review >= {review}")
    print(
        f"training: merged {fig.merged} precision {fig.precision:.4f} recall {fig.recall:.4f} "
        f"proposed {fig.proposed} ({100 * fig.proposed_share:.1f}% of schools)"
    )
    held = {p: levels(data.facts_a[p[0]], data.facts_b[p[1]]) for p in half_pairs(data, HELD_BACK)}
    fig = assign(data, rank(held, prior, weights), HELD_BACK, auto, review)
    print(
        f"held back: merged {fig.merged} precision {fig.precision:.4f} recall {fig.recall:.4f} "
        f"proposed {fig.proposed} ({100 * fig.proposed_share:.1f}% of schools)"
    )
    text = render(prior, weights, counts, auto, review)
    if args.check:
        print(text)
    else:
        WEIGHTS_PY.write_text(text, encoding="utf-8")
        print(f"wrote {WEIGHTS_PY}")


if __name__ == "__main__":
    main()
