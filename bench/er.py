"""Entity resolution end to end on the California data: two real lists of the same schools
saved as two documents through the real save path, identifiers removed.

Usage: ``python -m bench.er [--half held|train] [--db URL]``.

The held-back half (the weights were estimated on the other, ``bench/er_fit.py``) of each
list is one document: in-document dedupe groups its records, then ``SchoolStore.save``
matches each school against the database. Both orders are run (the federal list first,
then the state directory first) and compared. Printed per order:

- auto-merge precision: of the records merged into a school automatically (within a
  document or across), the share whose true school is the school's first record's;
- recall: of the true links, the share whose two records ended in one school or whose
  schools are proposed as a possible duplicate;
- proposed pairs, as a share of the schools;
- whether the two orders gave the same partition of the records.

The last line reads ``er precision=... recall=... pairs_pct=... same_partition=...``
(the worse order's figures).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

from sqlalchemy import Table, select

from bench.er_data import HELD_BACK, TRAIN, Row, load
from domain.matching.dedupe import group_duplicates
from domain.records import Evidence
from models.documents import DocumentStore
from models.schools import SaveItem, SchoolStore
from models.tables import SchoolPair, SchoolSource
from schoolx.app import open_app

sources = cast(Table, SchoolSource.__table__)
pairs = cast(Table, SchoolPair.__table__)


@dataclass(frozen=True)
class Figures:
    records: int
    schools: int
    merged: int
    precision: float
    recall: float
    proposed: int
    pairs_pct: float
    save_s: float
    partition: frozenset[frozenset[str]]


def items_of(rows: Sequence[Row]) -> list[SaveItem]:
    """One document: each row a record at its own place, grouped by in-document dedupe."""
    records = [
        replace(r.record, evidence=Evidence(1, i, i + 1, r.record.name)) for i, r in enumerate(rows)
    ]
    return [
        SaveItem(records[g[0]], tuple(records[i] for i in g[1:])) for g in group_duplicates(records)
    ]


async def run(url: str, first: Sequence[Row], second: Sequence[Row]) -> Figures:
    app = await open_app(url)
    try:
        documents, store = DocumentStore(app.db), SchoolStore(app.db)
        doc_ids, started = [], time.perf_counter()
        for n, rows in enumerate((first, second)):
            doc, _ = await documents.add(f"bench document {n} {url}".encode(), f"d{n}", "bench")
            doc_ids.append(doc.id)
            await store.save(items_of(rows), document_id=doc.id, task_id=0, extractor="bench")
        save_s = time.perf_counter() - started
        async with app.db.read.connect() as conn:
            placed = list(
                await conn.execute(
                    select(
                        sources.c.document_id,
                        sources.c.span_start,
                        sources.c.school_id,
                        sources.c.id,
                    )
                )
            )
            pending = list(
                await conn.execute(
                    select(pairs.c.school_a, pairs.c.school_b).where(pairs.c.status == "pending")
                )
            )
    finally:
        await app.close()
    truth = {(doc_ids[0], i): r.school for i, r in enumerate(first)}
    truth |= {(doc_ids[1], i): r.school for i, r in enumerate(second)}
    ident = {(doc_ids[0], i): r.id for i, r in enumerate(first)}
    ident |= {(doc_ids[1], i): r.id for i, r in enumerate(second)}
    school_of = {(d, s): school for d, s, school, _ in placed}
    members: dict[int, list[tuple[int, tuple[int, int]]]] = defaultdict(list)
    for d, s, school, source_id in placed:
        members[school].append((source_id, (d, s)))
    merged = right = 0
    for found in members.values():
        found.sort()
        head = truth[found[0][1]]
        merged += len(found) - 1
        right += sum(truth[key] == head for _, key in found[1:])
    linked: dict[str, list[int]] = defaultdict(list)
    for key, school in school_of.items():
        linked[truth[key]].append(school)
    # A pair whose school was merged away since is not shown to anyone: not counted.
    proposed = {frozenset(p) for p in pending if p[0] in members and p[1] in members}
    links = [v for v in linked.values() if len(v) == 2]
    hits = sum(a == b or frozenset((a, b)) in proposed for a, b in links)
    partition = frozenset(frozenset(ident[key] for _, key in found) for found in members.values())
    return Figures(
        records=len(placed),
        schools=len(members),
        merged=merged,
        precision=right / max(merged, 1),
        recall=hits / max(len(links), 1),
        proposed=len(proposed),
        pairs_pct=100 * len(proposed) / max(len(members), 1),
        save_s=save_s,
        partition=partition,
    )


def show(label: str, f: Figures) -> None:
    print(
        f"{label}: records={f.records} schools={f.schools} auto_merged={f.merged} "
        f"precision={f.precision:.4f} recall={f.recall:.4f} proposed_pairs={f.proposed} "
        f"({f.pairs_pct:.1f}% of schools) save_s={f.save_s:.1f}"
    )


async def main(half: int, db: str | None) -> None:
    side_a, side_b = load()
    rows_a = [r for r in side_a if r.half == half]
    rows_b = [r for r in side_b if r.half == half]
    links = len({r.school for r in rows_a} & {r.school for r in rows_b})
    print(
        f"{'held-back' if half == HELD_BACK else 'training'} half: {len(rows_a)} NCES rows, "
        f"{len(rows_b)} CDE rows, {links} true links; identifiers removed"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url_ab = db or f"sqlite:///{Path(tmp) / 'ab.db'}"
        url_ba = f"sqlite:///{Path(tmp) / 'ba.db'}" if db is None else db
        ab = await run(url_ab, rows_a, rows_b)
        show("NCES first", ab)
        if db is None:
            ba = await run(url_ba, rows_b, rows_a)
            show("CDE first ", ba)
        else:
            ba = ab
    same = ab.partition == ba.partition
    differ = len(ab.partition ^ ba.partition)
    print(f"same partition in both orders: {same} ({differ} groups differ)")
    worst = min((ab, ba), key=lambda f: (f.precision, f.recall))
    print(
        f"er precision={min(ab.precision, ba.precision):.4f} "
        f"recall={min(ab.recall, ba.recall):.4f} "
        f"pairs_pct={max(ab.pairs_pct, ba.pairs_pct):.2f} same_partition={same} "
        f"(worse order: {'NCES first' if worst is ab else 'CDE first'})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=["held", "train"], default="held")
    parser.add_argument("--db", help="one database URL (runs one order only)")
    args = parser.parse_args()
    asyncio.run(main(HELD_BACK if args.half == "held" else TRAIN, args.db))
