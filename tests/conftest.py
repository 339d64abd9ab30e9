from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from pipeline.settings import QueueSettings
from schoolx.app import App, open_app
from tests.support.handlers import register
from tests.support.pg import create_database, drop_database, pg_enabled

FAST = QueueSettings(
    lease_s=3.0,
    heartbeat_s=0.2,
    sweep_s=0.3,
    poll_s=0.05,
    retry_base_s=0.05,
    retry_cap_s=0.2,
    shutdown_grace_s=2.0,
)

BACKENDS = ["sqlite", "postgresql"] if pg_enabled() else ["sqlite"]


def browser_enabled() -> bool:
    """Headless Chromium tests run unless SCHOOLX_TEST_BROWSER=0 (CI always runs them)."""
    return os.environ.get("SCHOOLX_TEST_BROWSER", "1") != "0"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that drives the browser is marked ``browser``; SCHOOLX_TEST_BROWSER=0
    skips them with a reason the -ra summary shows."""
    off = pytest.mark.skip(reason="SCHOOLX_TEST_BROWSER=0: browser tests off")
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
            if not browser_enabled():
                item.add_marker(off)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    url = asyncio.run(create_database())
    yield url
    asyncio.run(drop_database(url))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("pg_url")
    asyncio.run(_reset_pg(url))
    return url


async def _reset_pg(url: str) -> None:
    from models.db import open_database

    db = open_database(url)
    try:
        # Everything the migrations made, functions included: an empty database again.
        async with db.write.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database as open_app leaves a new one (migrated), made once per session:
    tests that need an app, not the migrations, start from a copy (see use_migrated)."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.db"

    async def make() -> None:
        made = await open_app(f"sqlite:///{path}", FAST)
        await made.close()

    asyncio.run(make())
    return path


def use_migrated(db_url: str, migrated: Path) -> None:
    """Copy the migrated database to ``db_url``'s path when that is a SQLite file not yet
    made: the same start as migrating it, without the cost."""
    if db_url.startswith("sqlite:///"):
        target = Path(db_url.removeprefix("sqlite:///"))
        if not target.exists():
            shutil.copyfile(migrated, target)


@pytest.fixture
async def app(db_url: str, migrated_sqlite: Path) -> AsyncIterator[App]:
    use_migrated(db_url, migrated_sqlite)
    app = await open_app(db_url, FAST)
    register(app.handlers)
    yield app
    await app.close()
