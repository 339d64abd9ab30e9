"""The inbox folder: files become documents and tasks, and leave only when their task ends.

``inbox/alice/x.pdf`` belongs to ``alice``; files at the top belong to ``default``. A file is
taken once its size and mtime have been stable for the settle time. The database is the
only state: each scan submits every settled file again, which is idempotent (same bytes ->
same document and task), so a restart after a crash at any moment carries on exactly once.
A file is removed after its task completed, or moved to ``failed/<user>/`` with
``<name>.error.txt`` after it failed: never before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import TaskLimitError
from pipeline.store import TaskInfo, TaskStatus

log = logging.getLogger("schoolx.inbox")

DEFAULT_USER = "default"
FAILED_DIR = "failed"
PARTIAL_SUFFIXES = (".part", ".crdownload", ".partial", ".tmp", ".download")

Submit = Callable[[bytes, str, str], Awaitable[tuple[TaskInfo, bool]]]


def _identity(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def is_ignored(path: Path) -> bool:
    name = path.name
    return (
        name.startswith(".")
        or name.startswith("~$")
        or name.lower().endswith(PARTIAL_SUFFIXES)
        or name.endswith(".error.txt")
    )


@dataclass
class FileOutcome:
    path: Path
    user_id: str
    task: TaskInfo
    duplicate: bool
    identity: tuple[int, int, int]  # (inode, size, mtime) of the bytes that were submitted


@dataclass
class InboxReport:
    """What one drain of the inbox did, for the run summary."""

    completed: list[FileOutcome] = field(default_factory=list)
    failed: list[FileOutcome] = field(default_factory=list)
    duplicates: int = 0


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


class Inbox:
    def __init__(self, root: Path, submit: Submit, *, settle_s: float = 1.0) -> None:
        self.root = root
        self.failed_root = root / FAILED_DIR
        self._submit = submit
        self._settle_s = settle_s
        self._seen: dict[Path, _Seen] = {}
        # Whether a path's first submission in this process found its bytes already known.
        self._first_answer: dict[Path, bool] = {}
        self.report = InboxReport()
        root.mkdir(parents=True, exist_ok=True)

    def files(self) -> list[tuple[Path, str]]:
        """(path, user) of every candidate file, oldest layout first."""
        found: list[tuple[Path, str]] = []
        for entry in sorted(self.root.iterdir()):
            if entry.name == FAILED_DIR or is_ignored(entry):
                continue
            if entry.is_file():
                found.append((entry, DEFAULT_USER))
            elif entry.is_dir():
                found.extend(
                    (f, entry.name)
                    for f in sorted(entry.iterdir())
                    if f.is_file() and not is_ignored(f)
                )
        return found

    def _settled(self, path: Path, now: float) -> bool:
        try:
            stat = path.stat()
        except FileNotFoundError:
            self._seen.pop(path, None)
            return False
        seen = self._seen.get(path)
        if seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            self._seen[path] = _Seen(stat.st_size, stat.st_mtime_ns, now)
            return False
        return now - seen.since >= self._settle_s

    async def scan(self, now: float) -> int:
        """Submit settled files and finish those whose task ended; returns files left."""
        left = 0
        for path, user_id in self.files():
            left += 1
            if not self._settled(path, now):
                continue
            try:
                identity = _identity(path)
                task, duplicate = await self._submit(path.read_bytes(), path.name, user_id)
            except TaskLimitError:
                continue  # the user is at the limit: the file waits for a free slot
            except OSError as exc:  # vanished, unreadable: say so, keep serving the others
                log.warning("%s: cannot read it: %s", path, exc)
                continue
            first = self._first_answer.setdefault(path, duplicate)
            if task.status.terminal and self._finish(
                FileOutcome(path, user_id, task, first, identity)
            ):
                left -= 1
        return left

    def _finish(self, outcome: FileOutcome) -> bool:
        """Remove or move the file whose task ended; False if it was replaced meanwhile."""
        try:
            if _identity(outcome.path) != outcome.identity:
                return False  # new bytes under the same name: the next scan submits them
        except FileNotFoundError:
            return True  # already gone (the user removed it, or a crash after the move)
        self._seen.pop(outcome.path, None)
        self._first_answer.pop(outcome.path, None)
        if outcome.task.status is TaskStatus.COMPLETED:
            outcome.path.unlink(missing_ok=True)
            self.report.completed.append(outcome)
            if outcome.duplicate:
                self.report.duplicates += 1
            log.info("%s: done (task %s)", outcome.path.name, outcome.task.id)
            return True
        # Removed by someone else while we moved it: the note still says what happened.
        with contextlib.suppress(FileNotFoundError):
            self._move_to_failed(outcome)
        self.report.failed.append(outcome)
        return True

    def _move_to_failed(self, outcome: FileOutcome) -> None:
        target_dir = self.failed_root / outcome.user_id
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / outcome.path.name
        reason = outcome.task.error or outcome.task.status.value
        note = target_dir / f"{outcome.path.name}.error.txt"
        # The note first, then the copy, then the original goes: a crash in between
        # leaves the file in the inbox, and the next scan does it all again.
        note.write_text(
            f"{outcome.path.name} could not be processed (task {outcome.task.id}, "
            f"{outcome.task.status.value}):\n{reason}\n",
            encoding="utf-8",
        )
        tmp = target.with_name(target.name + ".part")
        shutil.copy2(outcome.path, tmp)
        os.replace(tmp, target)
        outcome.path.unlink(missing_ok=True)
        log.warning("%s: failed: %s (moved to %s)", outcome.path.name, reason, target)
