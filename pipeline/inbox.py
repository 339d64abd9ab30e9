"""The inbox folder: files become documents and tasks, and leave only when their task ends.

``inbox/alice/x.pdf`` belongs to ``alice``; files at the top belong to ``default``. A file is
taken once its size and mtime have been stable for the settle time and no process has it
open for writing. The database is the only state: each scan submits every settled file
again, which is idempotent (same bytes -> same document and task), so a restart after a
crash at any moment carries on exactly once. A file is removed after its task completed, or
moved to ``failed/<user>/`` with ``<name>.error.txt`` after it failed: never before, and
only while it still holds the bytes that were submitted (see ``pipeline.inbox_fs``).

Nothing outside the inbox is ever read, moved or deleted: symbolic links are skipped with
one warning each, never followed. Folders whose names are not valid user ids, unreadable
folders and files, and things that are not regular files are reported once and skipped,
and do not keep ``run --once`` waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import inbox_fs
from pipeline.errors import TaskLimitError
from pipeline.inbox_fs import Identity, Rel
from pipeline.names import USER_ID_RULE, printable, valid_user_id
from pipeline.store import TaskInfo, TaskStatus

log = logging.getLogger("schoolx.inbox")

DEFAULT_USER = "default"
FAILED_DIR = "failed"
PARTIAL_SUFFIXES = (".part", ".crdownload", ".partial", ".tmp", ".download")

Submit = Callable[[bytes, str, str], Awaitable[tuple[TaskInfo, bool]]]


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
    identity: Identity  # of the bytes that were submitted


@dataclass
class InboxReport:
    """What one drain of the inbox did, for the run summary."""

    completed: list[FileOutcome] = field(default_factory=list)
    failed: list[FileOutcome] = field(default_factory=list)
    duplicates: int = 0


@dataclass
class _Seen:
    identity: Identity
    since: float


class Inbox:
    def __init__(self, root: Path, submit: Submit, *, settle_s: float = 1.0) -> None:
        self.root = root
        self.failed_root = root / FAILED_DIR
        self._submit = submit
        self._settle_s = settle_s
        self._seen: dict[Rel, _Seen] = {}
        # Whether a path's first submission in this process found its bytes already known.
        self._first_answer: dict[Rel, bool] = {}
        self._warned: set[tuple[Rel, str]] = set()
        # Files whose task ended but that could not be removed or moved (no permission, a
        # link planted as failed/): reported once, then left alone while they are unchanged.
        self._stuck: dict[Rel, Identity] = {}
        self.report = InboxReport()
        root.mkdir(parents=True, exist_ok=True)

    def _warn_once(self, rel: Rel, problem: str) -> None:
        if (rel, problem) not in self._warned:
            self._warned.add((rel, problem))
            log.warning("%s: %s", printable("/".join(rel)), problem)

    def files(self) -> list[tuple[Rel, str]]:
        """(path below the root, user) of every candidate file, in name order."""
        found: list[tuple[Rel, str]] = []
        for entry in self._entries(()):
            if entry.name == FAILED_DIR or is_ignored(Path(entry.name)):
                continue
            rel = (entry.name,)
            if entry.kind == "file":
                found.append((rel, DEFAULT_USER))
            elif entry.kind == "dir":
                found.extend(self._user_files(rel))
            else:
                self._skip(rel, entry.kind)
        return found

    def _user_files(self, rel: Rel) -> list[tuple[Rel, str]]:
        user_id = rel[0]
        if not valid_user_id(user_id):
            self._warn_once(rel, f"folder name is not a valid user id ({USER_ID_RULE}); skipped")
            return []
        found = []
        for entry in self._entries(rel):
            if is_ignored(Path(entry.name)):
                continue
            if entry.kind == "file":
                found.append(((*rel, entry.name), user_id))
            elif entry.kind != "dir":  # sub-folders are not part of the layout
                self._skip((*rel, entry.name), entry.kind)
        return found

    def _entries(self, rel: Rel) -> list[inbox_fs.Entry]:
        try:
            return inbox_fs.list_dir(self.root, rel)
        except OSError as exc:  # unreadable, or swapped for a link since it was listed
            self._warn_once(rel or (".",), f"cannot read this folder: {exc.strerror}; skipped")
            return []

    def _skip(self, rel: Rel, kind: str) -> None:
        if kind == "link":
            self._warn_once(rel, "symbolic link: skipped (links are never followed)")
        else:
            self._warn_once(rel, "not a regular file: skipped")

    def _settled(self, rel: Rel, now: float) -> bool:
        try:
            identity = inbox_fs.lstat(self.root, rel)
        except OSError:  # vanished, or its folder is no longer readable
            self._seen.pop(rel, None)
            return False
        seen = self._seen.get(rel)
        if seen is None or seen.identity != identity:
            self._seen[rel] = _Seen(identity, now)
            return False
        return now - seen.since >= self._settle_s

    async def scan(self, now: float) -> int:
        """Submit settled files and finish those whose task ended; returns files left
        (files that cannot be read are reported and not counted: nothing will take them)."""
        left = 0
        for rel, user_id in self.files():
            left += 1
            if not self._settled(rel, now):
                continue
            if self._stuck.get(rel) == self._seen[rel].identity:
                left -= 1
                continue
            try:
                data, identity, writing = inbox_fs.read_file(self.root, rel)
            except FileNotFoundError:
                continue  # vanished since it was listed
            except OSError as exc:  # unreadable, a link swapped in, not a regular file
                self._warn_once(rel, f"cannot read it: {exc.strerror or exc}; skipped")
                left -= 1
                continue
            if writing:
                self._warn_once(rel, "still being written by another process; waiting")
                self._seen.pop(rel, None)  # it must settle again once the writer is done
                continue
            try:
                task, duplicate = await self._submit(data, rel[-1], user_id)
            except TaskLimitError:
                continue  # the user is at the limit: the file waits for a free slot
            first = self._first_answer.setdefault(rel, duplicate)
            path = self.root.joinpath(*rel)
            outcome = FileOutcome(path, user_id, task, first, identity)
            if task.status.terminal and self._finish(rel, outcome):
                left -= 1
        return left

    def _finish(self, rel: Rel, outcome: FileOutcome) -> bool:
        """Remove or move the file whose task ended; False if it changed meanwhile (new
        bytes under the same name: the next scan submits them) or is still being written."""
        done = outcome.task.status is TaskStatus.COMPLETED
        try:
            if done:
                finished = inbox_fs.remove_if_unchanged(self.root, rel, outcome.identity)
            else:
                finished = self._move_to_failed(rel, outcome)
        except OSError as exc:
            self._warn_once(rel, f"cannot remove or move it: {exc.strerror or exc}; left there")
            self._stuck[rel] = outcome.identity
            finished = True
        if not finished:
            return False
        self._seen.pop(rel, None)
        self._first_answer.pop(rel, None)
        name = printable(rel[-1])
        if done:
            self.report.completed.append(outcome)
            if outcome.duplicate:
                self.report.duplicates += 1
            log.info("%s: done (task %s)", name, outcome.task.id)
        else:
            self.report.failed.append(outcome)
        return True

    def _move_to_failed(self, rel: Rel, outcome: FileOutcome) -> bool:
        reason = outcome.task.error or outcome.task.status.value
        name = rel[-1]
        note = (
            f"{name}.error.txt",
            f"{name} could not be processed (task {outcome.task.id}, "
            f"{outcome.task.status.value}):\n{reason}\n",
        )
        target = (FAILED_DIR, outcome.user_id)
        if not inbox_fs.move_if_unchanged(self.root, rel, outcome.identity, target, note):
            return False
        shown = self.failed_root / outcome.user_id / name
        log.warning("%s: failed: %s (moved to %s)", printable(name), printable(reason), shown)
        return True
