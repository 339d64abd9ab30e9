"""The progress view of ``run`` and ``worker``: bars named by file, and an "all tasks" bar
that moves with the tasks' progress, not only when one finishes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from pipeline.store import EventInfo, EventType
from schoolx.cli.progress import ProgressView, overall_percent, stage_label

_ids = itertools.count(1)


def event(task_id: int, kind: EventType, **data: Any) -> EventInfo:
    return EventInfo(next(_ids), task_id, "u", kind, data, datetime.now(UTC))


def test_overall_is_the_mean_of_every_task_progress() -> None:
    assert overall_percent({}) == 0
    # Every task three quarters through and none finished: 75 %, not 0 %.
    assert overall_percent({1: 75, 2: 75, 3: 75}) == 75
    assert overall_percent({1: 100, 2: 50, 3: 0, 4: 10}) == 40
    assert overall_percent({1: 150, 2: -5}) == 50  # out-of-range values are clamped


def test_stage_label_says_what_the_task_does() -> None:
    assert stage_label({"progress": 85, "message": "save 250/300"}) == "save 250/300"
    assert stage_label({"progress": 30, "stage": "extract/chunk/00001-a993c7f3"}) == "extract"
    assert stage_label({"progress": 75, "stage": "normalize"}) == "normalize"


def test_bars_are_named_by_file_and_the_overall_bar_follows_progress() -> None:
    view = ProgressView(interactive=True)
    view.names.update({1: "north.pdf", 2: "south.pdf", 3: None})
    with view.shown():
        for task_id in (1, 2, 3):
            view.handle(event(task_id, EventType.QUEUED, type="pdf_extraction"))
        view.handle(event(1, EventType.STARTED, attempt=1))
        view.handle(event(2, EventType.STARTED, attempt=1))
        view.handle(event(1, EventType.PROGRESS, progress=75, stage="normalize"))
        view.handle(event(2, EventType.PROGRESS, progress=30, stage="extract/chunk/00000-ab"))
        overall, *files = view.bars()
        assert overall == ("all tasks (0 of 3 done)", 35.0)
        assert files == [("north.pdf  normalize", 75.0), ("south.pdf  extract", 30.0)]
        view.handle(event(1, EventType.COMPLETED, result={}))
        view.handle(event(3, EventType.STARTED, attempt=1))
        overall, *files = view.bars()
        assert overall == ("all tasks (1 of 3 done)", 130 / 3)
        assert [name for name, _ in files] == ["south.pdf  extract", "task 3"]


def test_log_lines_name_the_file(capsys: Any) -> None:
    view = ProgressView(interactive=False)
    view.names[7] = "east.pdf"
    with view.shown():
        view.handle(event(7, EventType.STARTED, attempt=1))
        view.handle(event(7, EventType.COMPLETED, result={}))
    out = capsys.readouterr().out
    assert "task 7 (east.pdf) started (attempt 1)" in out
    assert "task 7 (east.pdf) completed" in out
    assert view.finished == 1 and view.progress == {7: 100.0}
