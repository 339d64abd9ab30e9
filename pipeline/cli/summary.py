"""The summary printed when ``run`` ends."""

from __future__ import annotations

from pipeline.cli.output import line
from pipeline.cli.runtime import Runtime
from pipeline.inbox import InboxReport


async def print_summary(rt: Runtime, report: InboxReport) -> int:
    """Print what happened; returns the number of failed files."""
    new = merged = 0
    for outcome in report.completed:
        result = outcome.task.result if isinstance(outcome.task.result, dict) else {}
        if not outcome.duplicate:
            new += int(result.get("saved", 0))
            merged += int(result.get("merged", 0))
    files = len(report.completed) + len(report.failed)
    line(
        f"files: {files} processed, {len(report.completed)} succeeded, "
        f"{len(report.failed)} failed, {report.duplicates} duplicates"
    )
    line(
        f"schools: {new} new, {merged} merged into existing; "
        f"{await rt.schools.count()} in the database"
    )
    for outcome in report.failed:
        line(f"failed: {outcome.user_id}/{outcome.path.name}: {outcome.task.error}")
    return len(report.failed)
