"""Garbage collection while a command starts and when it ends.

Starting a command creates a few hundred thousand objects (modules, classes, SQLAlchemy's
and pydantic's tables) that live until the process ends. CPython's collector walks them
again and again while they are created and once more at exit, and frees nothing: on the
2-core machine that was about 0.26 s of ``schoolx tasks``'s 0.85 s (bench/startup.py).
So the console script (``schoolx.cli.entry``) makes collections rare while the command
starts; once it has opened its database, what exists is frozen (never scanned again) and
the normal thresholds come back, so a long-running worker or server collects as usual; at
exit everything is frozen again. A runtime opened in any other process (tests, an embedding
application) leaves that process's collector alone.
"""

from __future__ import annotations

import gc

NORMAL = gc.get_threshold()
# Rare, not off: an import-time cycle still gets collected if start-up runs long.
STARTING = (100_000, 50, 50)
_starting = False


def starting() -> None:
    global _starting
    _starting = True
    gc.set_threshold(*STARTING)


def started() -> None:
    """Called once the command is about to do its work (its runtime is open): a no-op
    unless ``starting`` changed the collector in this process."""
    global _starting
    if not _starting:
        return
    _starting = False
    # Not collected first (24-35 ms): the few cycles start-up leaves as garbage stay for
    # good, once per process.
    gc.freeze()
    gc.set_threshold(*NORMAL)


def exiting() -> None:
    gc.freeze()
