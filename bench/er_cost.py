"""Save cost against database size: one 2,400-school document saved into an empty database
and into one of 100,000 schools. Matching looks candidates up by indexed keys, so the two
should cost about the same (target: ratio <= 2).

Usage: ``python -m bench.er_cost [--schools N] [--document N] [--repeat N] [--db URL]``
(default: SQLite files in a temporary directory, the median of three runs each; ``--db`` a
PostgreSQL URL, emptied before each of the two runs).

The schools are the real US lists in ../shared/data (California, Florida, Michigan,
Washington: ~20,600) repeated, each copy moved to other schools' streets in towns and ZIPs
of its own with phones of its own, so names repeat as they do across a country ("Lincoln
Elementary" a hundred times) while every school is its own and a ZIP holds as many
schools as in the real lists. They are loaded in bulk with
their facts and blocking keys as a save stores them. The document is 2,400 of the same
schools moved again (new schools, sharing names and places with the database), saved
through ``SchoolStore.save`` with in-document dedupe, as the pdf handler does. Prints both
times, per school, and last ``er_save_ratio=<large / empty>``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import cast

from sqlalchemy import Table, insert, text

from bench.er_data import DATA, nces_records
from domain.matching.blocking import block_keys
from domain.matching.dedupe import document_facts, group_duplicates
from domain.matching.names import name_key
from domain.records import RECORD_FIELDS, Evidence, SchoolRecord
from models.base import utcnow
from models.documents import DocumentStore
from models.schools import SaveItem, SchoolStore
from models.tables import School, SchoolKey
from schoolx.app import App, open_app

schools = cast(Table, School.__table__)
keys = cast(Table, SchoolKey.__table__)
LISTS = (
    "us_california_public_schools.csv",
    "us_florida_schools.csv",
    "us_michigan_schools.csv",
    "us_washington_schools.csv",
)
CHUNK = 2000


def moved(rows: Sequence[SchoolRecord], copy: int, count: int) -> list[SchoolRecord]:
    """``count`` schools of copy number ``copy``: each a row's name at another row's street,
    in that row's town and ZIP as they would be in another state (the ZIP shifted far, the
    town renamed), with a phone of its own. A copy is as dense per ZIP as the real lists."""
    rng = random.Random(copy)
    out = []
    for i in range(count):
        school, place = rows[i % len(rows)], rows[rng.randrange(len(rows))]
        phone = f"+1{200 + copy % 800:03d}{555 + i // 10000:03d}{i % 10000:04d}"
        zip5 = (place.postal_code or "00000")[:5]
        postal = f"{(int(zip5) + 20011 * copy) % 100000:05d}" if zip5.isdigit() else zip5
        out.append(
            replace(
                school,
                address=place.address,
                city=f"{place.city} {copy}" if copy else place.city,
                region=place.region,
                postal_code=postal,
                phone=phone,
                evidence=Evidence(1 + i // 40, (i % 40) * 100, (i % 40) * 100 + 50, school.name),
            )
        )
    return out


async def load_base(app: App, rows: Sequence[SchoolRecord], total: int) -> None:
    """``total`` schools with their facts and keys, in bulk (what a save would store)."""
    copies = -(-total // len(rows))
    records = [r for c in range(copies) for r in moved(rows, c, len(rows))][:total]
    now = utcnow()
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        facts = document_facts(chunk)
        values = [
            {
                "name": r.name,
                "match_key": name_key(r.name)[:255],
                "status": "pending",
                "locked_fields": [],
                "identifiers": {},
                "match_facts": [f.to_json()],
                "created_at": now,
                "updated_at": now,
                **{k: getattr(r, k) for k in RECORD_FIELDS},
            }
            for r, f in zip(chunk, facts, strict=True)
        ]
        async with app.db.write.begin() as conn:
            ids = (await conn.execute(insert(schools).returning(schools.c.id), values)).scalars()
            rows_ = [
                {"kind": kind, "value": value[:255], "school_id": school_id}
                for school_id, f in zip(list(ids), facts, strict=True)
                for kind, value in block_keys(f)
            ]
            await conn.execute(
                insert(keys).prefix_with("OR IGNORE")
                if app.db.dialect == "sqlite"
                else insert(keys),
                rows_,
            )


async def save_document(app: App, records: Sequence[SchoolRecord], tag: str) -> float:
    documents, store = DocumentStore(app.db), SchoolStore(app.db)
    doc, _ = await documents.add(f"cost document {tag}".encode(), "cost.pdf", "bench")
    items = [
        SaveItem(records[g[0]], tuple(records[i] for i in g[1:])) for g in group_duplicates(records)
    ]
    started = time.perf_counter()
    await store.save(items, document_id=doc.id, task_id=0, extractor="bench")
    return time.perf_counter() - started


async def timed(url: str, document: list[SchoolRecord], tag: str) -> float:
    app = await open_app(url)
    try:
        return await save_document(app, document, tag)
    finally:
        await app.close()


async def on_postgresql(
    url: str, rows: Sequence[SchoolRecord], total: int, document: list[SchoolRecord]
) -> tuple[float, float]:
    """Both runs on one PostgreSQL database, emptied before each."""
    app = await open_app(url)
    try:
        times = []
        for base in (0, total):
            async with app.db.write.begin() as conn:
                await conn.execute(
                    text(
                        "TRUNCATE schools, school_keys, school_sources, school_pairs, "
                        "school_merges, school_aliases, documents RESTART IDENTITY CASCADE"
                    )
                )
            if base:
                await load_base(app, rows, base)
            times.append(await save_document(app, document, str(base)))
        return times[0], times[1]
    finally:
        await app.close()


async def on_sqlite(
    tmp: Path, rows: Sequence[SchoolRecord], total: int, document: list[SchoolRecord], repeat: int
) -> tuple[float, float]:
    """Medians of ``repeat`` runs each, alternating, every run on a fresh copy of its
    database (the machine is shared: single runs vary by half)."""
    template = tmp / "large-template.db"
    app = await open_app(f"sqlite:///{template}")
    try:
        started = time.perf_counter()
        await load_base(app, rows, total)
        print(f"  loaded {total} schools in {time.perf_counter() - started:.1f} s")
    finally:
        await app.close()
    empty, large = [], []
    for n in range(repeat):
        fresh = tmp / f"empty{n}.db"
        empty.append(await timed(f"sqlite:///{fresh}", document, f"e{n}"))
        copy = tmp / f"large{n}.db"
        shutil.copy(template, copy)
        large.append(await timed(f"sqlite:///{copy}", document, f"l{n}"))
        print(f"  run {n + 1}: empty {empty[-1]:.2f} s, large {large[-1]:.2f} s")
    return statistics.median(empty), statistics.median(large)


async def main(total: int, size: int, db: str | None, repeat: int) -> None:
    rows = [r for name in LISTS for r in nces_records(DATA / name)]
    document = random.Random(7).sample(moved(rows, 999, len(rows)), size)
    print(f"{len(rows)} real schools; database of {total}; document of {size}")
    if db:
        empty, large = await on_postgresql(db, rows, total, document)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            empty, large = await on_sqlite(Path(tmp), rows, total, document, repeat)
    print(f"empty database: {empty:.2f} s ({1000 * empty / size:.2f} ms a school)")
    print(f"{total} schools: {large:.2f} s ({1000 * large / size:.2f} ms a school)")
    print(f"er_save_ratio={large / empty:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=100_000)
    parser.add_argument("--document", type=int, default=2_400)
    parser.add_argument("--db", help="a PostgreSQL URL (emptied first) instead of SQLite files")
    parser.add_argument("--repeat", type=int, default=3, help="SQLite runs of each (median)")
    args = parser.parse_args()
    asyncio.run(main(args.schools, args.document, args.db, args.repeat))
