"""Inbox rules on real files: what is taken, what waits, and what is never lost."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipeline.inbox import Inbox, is_ignored
from pipeline.store import TaskInfo, TaskStatus


def task(status: TaskStatus, error: str | None = None) -> TaskInfo:
    now = datetime.now(UTC).replace(tzinfo=None)
    return TaskInfo(
        1,
        "pdf_extraction",
        status,
        "u",
        {},
        None,
        error,
        100,
        None,
        1,
        3,
        None,
        None,
        None,
        False,
        now,
        now,
        now,
    )


def test_partial_and_hidden_names_are_ignored() -> None:
    for name in [".x.pdf", "~$x.pdf", "x.pdf.part", "x.pdf.crdownload", "x.pdf.error.txt"]:
        assert is_ignored(Path(name)), name
    assert not is_ignored(Path("x.pdf"))


async def test_file_replaced_while_its_task_ran_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "a.pdf"
    target.write_bytes(b"%PDF-1.4 version one")

    async def submit(data: bytes, name: str, user: str) -> tuple[TaskInfo, bool]:
        target.write_bytes(b"%PDF-1.4 version two, saved meanwhile")  # the user saves again
        return task(TaskStatus.COMPLETED), False

    inbox = Inbox(tmp_path, submit, settle_s=0)
    await inbox.scan(0.0)
    assert await inbox.scan(1.0) == 1  # the file stays: its new bytes were never submitted
    assert target.read_bytes().endswith(b"saved meanwhile")
    assert inbox.report.completed == []


async def test_failed_file_moves_with_its_reason_and_vanished_files_do_not_crash(
    tmp_path: Path,
) -> None:
    (tmp_path / "bob").mkdir()
    bad = tmp_path / "bob" / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    gone = tmp_path / "gone.pdf"
    gone.write_bytes(b"%PDF-1.4")

    async def submit(data: bytes, name: str, user: str) -> tuple[TaskInfo, bool]:
        if name == "gone.pdf":  # removed by the user while its task ran
            gone.unlink()
            return task(TaskStatus.COMPLETED), False
        return task(TaskStatus.FAILED, "bad.pdf: not a PDF"), False

    inbox = Inbox(tmp_path, submit, settle_s=0)
    await inbox.scan(0.0)
    await inbox.scan(1.0)
    assert not bad.exists()
    assert (tmp_path / "failed" / "bob" / "bad.pdf").read_bytes() == b"not a pdf"
    assert "not a PDF" in (tmp_path / "failed" / "bob" / "bad.pdf.error.txt").read_text()
    assert [o.path.name for o in inbox.report.failed] == ["bad.pdf"]
