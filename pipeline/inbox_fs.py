"""File operations of the inbox that never follow a symbolic link, and never lose bytes.

Every path below the inbox root is opened one component at a time with ``O_NOFOLLOW``,
starting from a descriptor of the root: a link planted anywhere below it (a folder, a file,
or one swapped in between listing and opening) makes the operation fail with ELOOP or
ENOTDIR instead of reaching outside the inbox. The root itself is the user's own setting
and may be a link.

A file is removed or moved only while it still has the identity (device, inode, size,
mtime) of the bytes that were read, and nobody has it open for writing: the Linux kernel
refuses a read lease on a file that some process has open for writing, which is how a slow
writer is told apart from a finished file. Moving uses ``rename``, so the inode moves with
its name and a writer that was still appending writes into the moved file, not into a
deleted one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
# O_NONBLOCK: opening a FIFO planted under a file's name must not hang the scan.
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC
NOTE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | _CLOEXEC
_SETLEASE = getattr(fcntl, "F_SETLEASE", None)

Rel = tuple[str, ...]  # a path below the root, one name per component


@dataclass(frozen=True)
class Identity:
    """What says "the same bytes as before" without reading them again."""

    device: int
    inode: int
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # "file", "dir", "link" or "other"


def identity_of(st: os.stat_result) -> Identity:
    return Identity(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@contextlib.contextmanager
def dir_fd(root: Path, parts: Rel, *, create: bool = False) -> Iterator[int]:
    """A descriptor of ``root/parts...`` reached without following any link below root."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
            child = os.open(part, DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def list_dir(root: Path, parts: Rel) -> list[Entry]:
    """The entries of a folder, each with what it is (a link is never looked through)."""
    with dir_fd(root, parts) as fd, os.scandir(fd) as found:
        return sorted((Entry(e.name, _kind(e)) for e in found), key=lambda e: e.name)


def _kind(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return "link"
    if entry.is_file(follow_symlinks=False):
        return "file"
    if entry.is_dir(follow_symlinks=False):
        return "dir"
    return "other"


@contextlib.contextmanager
def open_file(root: Path, rel: Rel) -> Iterator[tuple[int, Identity]]:
    """A read-only descriptor of a regular file and its identity."""
    with dir_fd(root, rel[:-1]) as parent:
        fd = os.open(rel[-1], FILE_FLAGS, dir_fd=parent)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            yield fd, identity_of(st)
        finally:
            os.close(fd)


def lstat(root: Path, rel: Rel) -> Identity:
    with dir_fd(root, rel[:-1]) as parent:
        return identity_of(os.stat(rel[-1], dir_fd=parent, follow_symlinks=False))


def being_written(fd: int) -> bool:
    """True when some process has the file open for writing (Linux; False if unknown).

    A read lease is refused with EAGAIN exactly then. Without the right to take one (a file
    owned by another user, a filesystem without leases) the answer is unknown, and the
    settle time is the only guard left.
    """
    if _SETLEASE is None:
        return False
    try:
        fcntl.fcntl(fd, _SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return exc.errno == errno.EAGAIN
    fcntl.fcntl(fd, _SETLEASE, fcntl.F_UNLCK)
    return False


def read_all(fd: int, size: int) -> bytes:
    parts = []
    while chunk := os.read(fd, max(size, 1 << 16)):
        parts.append(chunk)
    return b"".join(parts)


def read_file(root: Path, rel: Rel) -> tuple[bytes, Identity, bool]:
    """(bytes, identity, whether it is open for writing); the bytes only if it is not."""
    with open_file(root, rel) as (fd, before):
        if being_written(fd):
            return b"", before, True
        data = read_all(fd, before.size)
        after = identity_of(os.fstat(fd))
    # Changed while read: report it as being written, the next scan looks again.
    return data, before, after != before


def unchanged(fd: int, identity: Identity) -> bool:
    return identity_of(os.fstat(fd)) == identity and not being_written(fd)


def remove_if_unchanged(root: Path, rel: Rel, identity: Identity) -> bool:
    """Unlink the file if it still holds the bytes that were read; False if it does not.

    A missing file counts as removed (the user took it, or a crash came after the unlink).
    """
    try:
        with dir_fd(root, rel[:-1]) as parent:
            fd = os.open(rel[-1], FILE_FLAGS, dir_fd=parent)
            try:
                if not unchanged(fd, identity):
                    return False
                os.unlink(rel[-1], dir_fd=parent)
            finally:
                os.close(fd)
    except FileNotFoundError:
        return True
    return True


def move_if_unchanged(
    root: Path, rel: Rel, identity: Identity, target: Rel, note: tuple[str, str]
) -> bool:
    """Move the file to ``root/target...`` (created as needed) with a note beside it, if it
    still holds the bytes that were read. The note is written first: a crash between the
    two leaves the file in place, and the next scan does both again."""
    note_name, note_text = note
    try:
        with dir_fd(root, rel[:-1]) as parent, dir_fd(root, target, create=True) as dest:
            fd = os.open(rel[-1], FILE_FLAGS, dir_fd=parent)
            try:
                if not unchanged(fd, identity):
                    return False
                out = os.open(note_name, NOTE_FLAGS, 0o644, dir_fd=dest)
                with os.fdopen(out, "w", encoding="utf-8") as f:
                    f.write(note_text)
                os.replace(rel[-1], rel[-1], src_dir_fd=parent, dst_dir_fd=dest)
            finally:
                os.close(fd)
    except FileNotFoundError:
        return True
    return True
