"""Commands start without importing what they do not use (issue 14: every command took
~3 s to start, ``--help`` included). Each check runs in a fresh interpreter, and says
which heavy modules it found loaded; the times are measured by ``bench/startup.py``."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Imported only by the commands that need them.
HEAVY = [
    "alembic",  # a schema change only: a current database is checked with one query
    "fastapi",
    "uvicorn",
    "starlette",
    "jinja2",
    "openai",
    "pypdf",
    "rapidfuzz",
    "phonenumbers",
    "watchfiles",
    "handlers.pdf",
    "handlers.llm.extractor",
    "handlers.reader",
    "domain.matching",
    "domain.normalize",
    "models.schools",
    "schoolx.web",
    "sqlalchemy.dialects.postgresql",  # on SQLite
    "asyncpg",
]
# Needed to open a database, so not for the help.
DATABASE = ["sqlalchemy", "sqlalchemy.orm", "aiosqlite", "models.db"]

PROBE = """
import json, sys
{body}
print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))
"""


def python(*args: str, env: dict[str, str] | None = None) -> str:
    """A fresh interpreter's last line of output; it must succeed."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=(env or dict(os.environ)) | {"COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


def loaded_after(body: str, modules: list[str], env: dict[str, str] | None = None) -> list[str]:
    found: list[str] = json.loads(python("-c", PROBE.format(body=body, modules=modules), env=env))
    return found


def run_cli(*args: str) -> str:
    """The command run by typer's own runner in this process; its output is discarded."""
    return (
        "from typer.testing import CliRunner\n"
        "from schoolx.cli.main import app\n"
        f"result = CliRunner().invoke(app, {list(args)!r})\n"
        "assert result.exit_code == 0, result.output\n"
    )


def test_importing_the_cli_loads_nothing_heavy() -> None:
    assert loaded_after("import schoolx.cli.main", HEAVY + DATABASE) == []


def test_help_loads_nothing_heavy() -> None:
    assert loaded_after(run_cli("--help"), HEAVY + DATABASE) == []
    assert loaded_after(run_cli("task", "--help"), HEAVY + DATABASE) == []


def current_database(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A current SQLite database made by ``schoolx db upgrade``: its URL, and an
    environment naming it."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    env = dict(os.environ) | {"SCHOOLX_DATABASE_URL": url}
    python("-m", "schoolx.cli", "db", "upgrade", env=env)
    return url, env


def test_listing_tasks_opens_the_database_only(tmp_path: Path) -> None:
    _, env = current_database(tmp_path)
    assert loaded_after(run_cli("tasks"), [*HEAVY, "aiosqlite"], env) == ["aiosqlite"]


GC_PROBE = """
import asyncio, gc, json
from schoolx.cli import startup
from schoolx.cli.runtime import open_runtime

async def inside() -> list[int]:
    async with open_runtime({url!r}, existing=True):
        return [*gc.get_threshold(), gc.get_freeze_count()]

# A runtime opened by anything but the console script (a test, an application embedding
# schoolx) leaves the collector alone.
elsewhere = asyncio.run(inside())
startup.starting()
starting = gc.get_threshold()
print(json.dumps([elsewhere, starting, asyncio.run(inside()), gc.get_threshold()]))
"""


def test_collection_is_rare_only_while_a_command_starts(tmp_path: Path) -> None:
    """Start-up defers garbage collection (schoolx/cli/startup.py); a worker or server
    must collect as usual once its runtime is open, or a long run would grow."""
    url, _ = current_database(tmp_path)
    elsewhere, starting, running, after = json.loads(python("-c", GC_PROBE.format(url=url)))
    normal = list(gc.get_threshold())  # this interpreter never changed its own
    assert elsewhere == [*normal, 0]  # nothing frozen
    assert starting[0] > 10 * normal[0]
    assert running[:3] == normal and running[3] > 0  # start-up's objects frozen
    assert after == normal
