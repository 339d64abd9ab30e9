"""Reading and replaying a test run's events: how many tasks ran at once."""

from __future__ import annotations

from collections import Counter

from pipeline.store import EventInfo, EventType
from schoolx.app import App

END = {EventType.COMPLETED, EventType.FAILED, EventType.CANCELLED, EventType.RETRYING}


async def all_events(app: App) -> list[EventInfo]:
    events: list[EventInfo] = []
    while batch := await app.store.events_since(events[-1].id if events else 0, limit=5000):
        events += batch
    return events


def replay_peaks(events: list[EventInfo]) -> tuple[int, int]:
    """Replay events in id order; the most tasks running overall and for one user, counted
    right after each task_started event. A task started twice without ending between is
    an error.

    On SQLite one transaction writes at a time, so id order is commit order and the replay
    sees every moment. On PostgreSQL event ids come from a sequence when a transaction
    writes its events, just before it commits, so id order is not commit order in general,
    and this replay does not see every moment. What it does prove: claims are serialized
    by an advisory lock held until commit and write their events while holding it, so a
    task started with a smaller id was committed before a later claim read the running
    count; and an end event with a larger id was written (hence committed) after that
    read. So every
    task this replay counts as running at a claim was running in the database as that
    claim saw it: a count above the limit is a claim that admitted past the limit on its
    own view, or that did not see an earlier claim (broken serialization). It can never
    report a violation that did not happen; the sampler covers the rest.
    """
    peak_total, peak_user = 0, 0
    running: dict[int, str] = {}
    for event in events:
        if event.type is EventType.STARTED:
            assert event.task_id not in running, f"task {event.task_id} started twice"
            running[event.task_id] = event.user_id
            per_user = Counter(running.values())
            peak_total = max(peak_total, len(running))
            peak_user = max(peak_user, per_user[event.user_id])
        elif event.type in END:
            running.pop(event.task_id, None)
    return peak_total, peak_user
