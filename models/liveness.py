"""Whether the worker process that holds a lease is still alive.

An expired lease alone does not prove its worker died: a live worker's renewal can wait
behind a long transaction (SQLite has one writer) or a busy CPU. Taking its task then
makes the task run twice at once and spends one of its attempts for nothing. So a lease
is taken back only from a worker that is gone, or that has been silent for so long
(``silent_worker_s``) that it is presumed hung:

* SQLite (one machine): the worker's row names its host and pid; on this host, a pid that
  is not running (or is a zombie) is a dead worker. Another host's pid cannot be checked,
  and its lease alone decides, as before.
* PostgreSQL: each process holds a shared session advisory lock keyed by host and pid on
  its LISTEN connection; the server drops the lock when the process or its connection dies.
"""

from __future__ import annotations

import os
import socket
import zlib
from pathlib import Path

HOST = socket.gethostname()
LIVE_LOCK_CLASS = 0x5C0015  # the first key of every worker process's liveness lock


def process_key(host: str, pid: int) -> int:
    """The second key of a process's liveness lock (a positive int4)."""
    return zlib.crc32(f"{host}:{pid}".encode()) & 0x7FFFFFFF


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs on this host (a zombie has died, it is just not reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel directly
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")
