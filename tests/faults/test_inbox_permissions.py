"""Unreadable files and folders are reported once and skipped; ``run --once`` still exits."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.acceptance.cli import SAMPLES, as_json, cli_env, schoolx
from tests.support.privileges import obeying_file_modes


def test_unreadable_file_and_folder_are_skipped_and_run_once_exits(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "carol").mkdir(parents=True)
    (inbox / "dave").mkdir()
    shutil.copy(SAMPLES / "table.pdf", inbox / "dave" / "good.pdf")
    shutil.copy(SAMPLES / "prose.pdf", inbox / "carol" / "hidden-by-mode.pdf")
    shutil.copy(SAMPLES / "australia.pdf", inbox / "locked.pdf")
    (inbox / "locked.pdf").chmod(0)
    (inbox / "carol").chmod(0)
    env = cli_env(tmp_path / "home")
    try:
        result = schoolx(
            env, "run", "--inbox", str(inbox), "--once", timeout=90, preexec_fn=obeying_file_modes()
        )
    finally:
        (inbox / "carol").chmod(0o755)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unexpected" not in result.stderr
    assert result.stderr.count("carol: cannot read this folder: Permission denied") == 1
    assert result.stderr.count("locked.pdf: cannot read it: Permission denied") == 1
    tasks = as_json(schoolx(env, "tasks", "--json"))
    assert [(t["user_id"], t["status"]) for t in tasks] == [("dave", "completed")]
    # The unreadable ones stay where they were.
    assert (inbox / "locked.pdf").exists()
    assert (inbox / "carol" / "hidden-by-mode.pdf").exists()
    assert not (inbox / "dave" / "good.pdf").exists()
