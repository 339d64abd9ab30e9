"""When the database cannot be written, or is not there: one clear line, a clean exit."""

from __future__ import annotations

import resource
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.acceptance.cli import SAMPLES, cli_env, schoolx
from tests.support.privileges import obeying_file_modes

GOOD = ["table.pdf", "prose.pdf", "directory_blocks.pdf", "australia.pdf"]


def one_clean_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr and "unexpected" not in stderr, stderr
    return lines[0]


def prepared(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    """(env, inbox, database file) with a database made by an earlier run."""
    env = cli_env(tmp_path / "home")
    assert schoolx(env, "submit", str(SAMPLES / "same_schools_a.pdf")).returncode == 0
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in GOOD:
        shutil.copy(SAMPLES / name, inbox)
    return env, inbox, tmp_path / "home" / "schoolx.db"


@pytest.mark.parametrize(
    "args",
    [
        ["tasks"],
        ["task", "1"],
        ["schools"],
        ["export", "--format", "jsonl"],
        ["users", "list"],
        ["db", "current"],
        ["cancel", "1"],
    ],
)
def test_commands_on_a_missing_sqlite_file_say_so_and_create_nothing(
    tmp_path: Path, args: list[str]
) -> None:
    missing = tmp_path / "typo" / "schoolx.db"
    result = schoolx(cli_env(tmp_path / "home"), "--db", f"sqlite:///{missing}", *args)
    assert result.returncode == 1
    assert one_clean_line(result.stderr) == f"error: no database at {missing}"
    assert not missing.exists() and not missing.parent.exists()


def test_read_only_database_stops_the_run_with_one_line(tmp_path: Path) -> None:
    env, inbox, db = prepared(tmp_path)
    db.chmod(0o444)
    db.parent.chmod(0o555)  # no journal or WAL file can be made beside it either
    try:
        result = schoolx(
            env, "run", "--inbox", str(inbox), "--once", preexec_fn=obeying_file_modes()
        )
    finally:
        db.parent.chmod(0o755)
    assert result.returncode == 1
    assert "read-only" in one_clean_line(result.stderr)
    assert sorted(p.name for p in inbox.iterdir()) == sorted(GOOD)  # nothing lost


def limited_file_size(limit: int) -> Callable[[], None]:
    """A full disk, as far as the process can tell: writes past ``limit`` bytes fail."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_full_disk_stops_the_run_with_one_line(tmp_path: Path) -> None:
    env, inbox, db = prepared(tmp_path)
    room = db.stat().st_size + 200_000  # room for a little, not for four documents
    result = schoolx(
        env, "run", "--inbox", str(inbox), "--once", preexec_fn=limited_file_size(room)
    )
    assert result.returncode == 1
    assert "disk" in one_clean_line(result.stderr)
    assert len(list(inbox.iterdir())) >= 1  # what was not done is still there


async def test_closing_runs_every_step_when_one_fails(tmp_path: Path) -> None:
    from schoolx.app import open_app

    app = await open_app(f"sqlite:///{tmp_path / 'x.db'}")
    ran: list[str] = []

    async def last() -> None:
        ran.append("last")

    async def fails() -> None:
        raise OSError("No space left on device")

    app.on_close += [last, fails]  # closed in reverse: fails first
    pool = app.db.write.pool
    with pytest.raises(OSError, match="No space"):
        await app.close()
    assert ran == ["last"]
    assert app.db.write.pool is not pool  # disposed: the engine let its connections go
