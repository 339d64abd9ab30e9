"""The inbox never reaches outside itself: links (file, folder, loop) are skipped, not
followed; odd folder names and things that are not files are reported and skipped."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from tests.acceptance.cli import SAMPLES, as_json, cli_env, schoolx


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_links_are_skipped_with_one_warning_each_and_nothing_outside_is_touched(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(SAMPLES / "directory_blocks.pdf", outside / "victim.pdf")
    (outside / "private.txt").write_text("not yours")
    shutil.copy(SAMPLES / "prose.pdf", tmp_path / "secret.pdf")
    before = {p.name: digest(p) for p in [*outside.iterdir(), tmp_path / "secret.pdf"]}

    inbox = tmp_path / "inbox"
    (inbox / "bob").mkdir(parents=True)
    shutil.copy(SAMPLES / "table.pdf", inbox / "bob" / "real.pdf")
    shutil.copy(SAMPLES / "australia.pdf", inbox / "top.pdf")
    (inbox / "mallory").symlink_to(outside)  # a folder link: "user" mallory
    (inbox / "passwd.pdf").symlink_to(tmp_path / "secret.pdf")  # a file link at the top
    (inbox / "bob" / "x.pdf").symlink_to(tmp_path / "secret.pdf")  # one in a user folder
    (inbox / "loop").symlink_to(inbox)  # loop -> . would re-attribute every file
    os.mkfifo(inbox / "pipe.pdf")  # reading it would block forever
    (inbox / "bad\x1b[31mname").mkdir()  # not a valid user id (and an escape sequence)

    env = cli_env(tmp_path / "home")
    result = schoolx(env, "run", "--inbox", str(inbox), "--once", timeout=90)
    assert result.returncode == 0, result.stdout + result.stderr

    # Nothing outside the inbox was read, moved or deleted.
    assert {p.name: digest(p) for p in [*outside.iterdir(), tmp_path / "secret.pdf"]} == before
    assert not (inbox / "failed").exists()
    # Only the two real files became tasks, for the right users.
    tasks = as_json(schoolx(env, "tasks", "--json"))
    assert sorted((t["user_id"], t["payload"]["filename"]) for t in tasks) == [
        ("bob", "real.pdf"),
        ("default", "top.pdf"),
    ]
    # The links are still there, and each was reported exactly once.
    for name in ["mallory", "passwd.pdf", "bob/x.pdf", "loop"]:
        assert (inbox / name).is_symlink()
        assert result.stderr.count(f"{name}: symbolic link: skipped") == 1, result.stderr
    assert result.stderr.count("pipe.pdf: not a regular file: skipped") == 1
    assert result.stderr.count("is not a valid user id") == 1
    assert "\x1b" not in result.stderr  # the escape sequence is shown, not obeyed
    assert "bad\\x1b[31mname" in result.stderr
