"""The group-commit writer on a real SQLite file: ordering within a transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, create_engine, event

from models.batcher import ThreadRunner, WriteBatcher


async def test_last_ops_run_after_the_others_of_their_transaction(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'b.db'}")
    batcher = WriteBatcher(ThreadRunner(engine))
    order: list[str] = []
    commits: list[list[str]] = []
    event.listen(engine, "commit", lambda _conn: commits.append(list(order)))

    def op(name: str) -> Callable[[Connection], None]:
        def run(_conn: Connection) -> None:
            order.append(name)

        return run

    try:
        # Submitted in this order in one loop turn, like a claim and the terminal writes
        # of tasks finishing beside it.
        await asyncio.gather(
            batcher.submit(op("claim"), last=True),
            batcher.submit(op("complete-a")),
            batcher.submit(op("complete-b")),
        )
    finally:
        await batcher.close()
    assert order == ["complete-a", "complete-b", "claim"]
    assert commits == [order]  # one transaction, committed after all three
