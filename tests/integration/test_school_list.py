"""Lists of schools by name on both databases: statements built once per filter shape must
take each call's values, pages near the start read on the event loop, and on SQLite a page
walks the name index instead of sorting the table (migration 0010)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite

from models.db import SQLITE_BUSY_TIMEOUT_S, Database, open_database, read_json, run_read
from models.documents import DocumentStore
from models.migrate import upgrade
from models.school_list import INLINE_OFFSET, Shape, by_name
from models.schools import SchoolStore
from schoolx.app import App
from tests.support.seed import seed, town

PLACES = [
    town("Adams Elementary", "Salem"),
    town("Baker Middle School", "Portland"),
    town("Carver High School", "Salem", region="WA"),
    town("Dunbar Academy", "Portland", region="WA"),
]


@pytest.fixture
async def seeded(app: App) -> AsyncIterator[tuple[SchoolStore, list[int]]]:
    """The schools, and the ids of the two documents they came from (3 and 1 schools)."""
    store = SchoolStore(app.db)
    first = await seed(DocumentStore(app.db), store, PLACES[:3], filename="a.pdf")
    second = await seed(DocumentStore(app.db), store, PLACES[3:], filename="b.pdf")
    yield store, [first, second]


async def names(store: SchoolStore, **filters: object) -> tuple[list[str], int]:
    page = await store.find(**filters)  # type: ignore[arg-type]
    return [s.name for s in page.items], page.total


async def test_one_statement_per_shape_takes_each_calls_values(
    seeded: tuple[SchoolStore, list[int]],
) -> None:
    schools, (first, second) = seeded
    # The same shapes again and again with other values: nothing of a first call stays.
    assert await names(schools, city="salem") == (["Adams Elementary", "Carver High School"], 2)
    assert await names(schools, city="Portland") == (["Baker Middle School", "Dunbar Academy"], 2)
    assert await names(schools, region="wa", city="salem") == (["Carver High School"], 1)
    assert await names(schools, region="OR", city="salem") == (["Adams Elementary"], 1)
    assert await names(schools, limit=2, offset=1) == (
        ["Baker Middle School", "Carver High School"],
        4,
    )
    assert await names(schools, limit=3, offset=3) == (["Dunbar Academy"], 4)
    assert (await names(schools, document_ids=[first]))[1] == 3
    assert (await names(schools, document_ids=[second]))[1] == 1
    assert await names(schools, status="approved") == ([], 0)
    assert (await names(schools, status="pending"))[1] == 4


async def test_a_page_past_the_end_still_counts(seeded: tuple[SchoolStore, list[int]]) -> None:
    schools, _ = seeded
    assert await names(schools, offset=INLINE_OFFSET + 1) == ([], 4)
    assert await names(schools, city="salem", offset=10) == ([], 2)


async def test_bounded_reads_run_on_the_event_loop(app: App) -> None:
    def thread_name(conn: Connection) -> str:
        return threading.current_thread().name

    loop_thread = threading.current_thread().name
    assert await run_read(app.db, thread_name, inline=True) == loop_thread
    elsewhere = await run_read(app.db, thread_name)
    if app.db.dialect == "sqlite":  # asyncpg needs no thread: both run on the loop
        assert elsewhere != loop_thread
        return

    def no_transaction(conn: Connection) -> bool:
        """True when each statement is a transaction of its own (no BEGIN around them)."""
        now = "SELECT transaction_timestamp()"
        return bool(conn.exec_driver_sql(now).scalar() != conn.exec_driver_sql(now).scalar())

    # On PostgreSQL a bounded read saves asyncpg's BEGIN and ROLLBACK round trips.
    assert await run_read(app.db, no_transaction, inline=True)
    assert not await run_read(app.db, no_transaction)


async def test_a_page_walks_the_name_index_on_sqlite(tmp_path: Path) -> None:
    """An SQLite query plan (PostgreSQL plans by its statistics, so not there)."""
    db = open_database(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        await upgrade(db)
        await page_plans(db)
    finally:
        await db.dispose()


async def page_plans(db: Database) -> None:
    for shape in [Shape(False, False, False, False), Shape(True, False, False, False)]:
        page = by_name(shape).page.params(status="merged", limit=50, offset=0)
        sql = str(page.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))

        def plan(conn: Connection, sql: str = sql) -> str:
            return " | ".join(
                str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)
            )

        found = await run_read(db, plan)
        assert "ix_schools_" in found, found
        assert "TEMP B-TREE" not in found, found


async def test_empty_json_values_are_fresh_objects(seeded: tuple[SchoolStore, list[int]]) -> None:
    """``models.db.read_json`` skips json.loads for "{}" and "[]": each row must still get
    its own dict and list, or changing one school's would change every school's."""
    schools, _ = seeded
    first, second = (await schools.find(limit=2)).items
    assert first.identifiers == {} and first.locked_fields == ()
    assert read_json("{}") is not read_json("{}")
    assert read_json("[]") is not read_json("[]")
    assert read_json('{"nces": "1"}') == {"nces": "1"}
    first.identifiers["nces"] = "x"
    assert second.identifiers == {}


async def test_a_locked_database_is_waited_for_off_the_event_loop(tmp_path: Path) -> None:
    """A WAL reader rarely meets a lock, but an inline read must not wait for one on the
    event loop (SQLite's busy timeout is 60 s): it gives up at once and waits in a thread."""
    path = tmp_path / "locked.db"
    made = open_database(f"sqlite:///{path}")
    await upgrade(made)
    await made.dispose()  # no connection of its pools left to share the lock with
    db = open_database(f"sqlite:///{path}")
    try:
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("PRAGMA locking_mode=EXCLUSIVE")  # kept until the connection closes
        locker.execute("CREATE TABLE holding_the_lock (x)")

        def count(conn: Connection) -> int:
            return int(conn.exec_driver_sql("SELECT count(*) FROM schools").scalar_one())

        reading = asyncio.create_task(run_read(db, count, inline=True))
        began = time.monotonic()
        await asyncio.sleep(0.2)
        # The loop ran on: not held for the busy timeout (60 s), the read waits elsewhere.
        assert time.monotonic() - began < SQLITE_BUSY_TIMEOUT_S / 2
        assert not reading.done()
        locker.close()
        assert await asyncio.wait_for(reading, 60) == 0
    finally:
        await db.dispose()
