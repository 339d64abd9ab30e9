"""Search latency on 10,000 real schools: the indexed word search (``SchoolStore.find``,
FTS5 on SQLite, a tsvector GIN index on PostgreSQL) against a plain ``LIKE '%q%'`` over
name, address, city and district (what search was before), in the same run.

Usage: ``python -m bench.search [--schools N] [--repeat N] [--db URL]`` (default: a SQLite
file in a temporary directory; ``--db`` a PostgreSQL URL, emptied first). The schools are
the first N of the real US lists in ../shared/data (see ``bench.er_data``), loaded in bulk
with their search words as a save stores them. Each query asks for one page of 50 with
the total, as ``schoolx schools --search`` does; prints ms per query (median of
``--repeat``) for both.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, func, insert, or_, select, text

from bench.er_data import DATA, nces_records
from domain.matching.names import name_key
from domain.records import RECORD_FIELDS
from models.base import utcnow
from models.db import Database
from models.school_search import PLACES, search_text
from models.schools import SchoolStore
from models.tables import School
from schoolx.app import open_app

schools = cast(Table, School.__table__)
LISTS = ("us_california_public_schools.csv", "us_washington_schools.csv")
QUERIES = (
    "lincoln elem",
    "st mary",
    "washington high",
    "saint mary",
    "los angeles",
    "martin luther king",
    "roosevelt middle",
    "zebra unicorn",
)


async def load(db: Database, count: int) -> None:
    records = [r for name in LISTS for r in nces_records(DATA / name)][:count]
    now = utcnow()
    rows = [
        {
            "name": r.name,
            "match_key": name_key(r.name)[:255],
            "status": "pending",
            "locked_fields": [],
            "identifiers": {},
            "created_at": now,
            "updated_at": now,
            "search_text": search_text(r.name, (getattr(r, k) for k in PLACES)),
            **{k: getattr(r, k) for k in RECORD_FIELDS},
        }
        for r in records
    ]
    async with db.write.begin() as conn:
        for start in range(0, len(rows), 2000):
            await conn.execute(insert(schools), rows[start : start + 2000])
        if db.dialect == "postgresql":
            await conn.execute(text("ANALYZE schools"))


async def like(db: Database, query: str) -> int:
    pattern = f"%{query.lower()}%"
    where = or_(*(func.lower(schools.c[k]).like(pattern) for k in ("name", *PLACES)))
    where = where & (schools.c.status != "merged")
    async with db.read.connect() as conn:
        total = (await conn.execute(select(func.count()).where(where))).scalar_one()
        page = select(schools).where(where).order_by(schools.c.name).limit(50)
        list(await conn.execute(page))
    return int(total)


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = await fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


async def run(url: str, count: int, repeat: int) -> None:
    app = await open_app(url)
    try:
        if app.db.dialect == "postgresql":
            async with app.db.write.begin() as conn:
                await conn.execute(text("DELETE FROM schools"))
        await load(app.db, count)
        store = SchoolStore(app.db)
        print(f"{count} schools, {app.db.dialect}; ms per query (median of {repeat})")
        print(f"{'query':<22}{'search ms':>10}{'found':>7}{'LIKE ms':>10}{'found':>7}")
        for q in QUERIES:
            ms, page = await timed(functools.partial(store.find, text_query=q, limit=50), repeat)
            like_ms, like_total = await timed(functools.partial(like, app.db, q), repeat)
            print(f"{q:<22}{ms:>10.1f}{page.total:>7}{like_ms:>10.1f}{like_total:>7}")
    finally:
        await app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", default=None, help="PostgreSQL URL (emptied first)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'search.db'}"
        asyncio.run(run(url, args.schools, args.repeat))


if __name__ == "__main__":
    main()
