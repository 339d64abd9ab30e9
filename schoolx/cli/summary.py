"""The summary printed when ``run`` ends."""

from __future__ import annotations

from collections import Counter

from pipeline.inbox import InboxReport
from schoolx.cli.output import line
from schoolx.cli.runtime import Runtime


async def print_summary(rt: Runtime, report: InboxReport) -> int:
    """Print what happened; returns the number of failed files."""
    new = merged = 0
    tokens: Counter[str] = Counter()
    cost: float | None = None
    for outcome in report.completed:
        result = outcome.task.result if isinstance(outcome.task.result, dict) else {}
        if not outcome.duplicate:
            new += int(result.get("saved", 0))
            merged += int(result.get("merged", 0))
            tokens.update(result.get("usage") or {})
            if result.get("cost_usd") is not None:
                cost = (cost or 0.0) + float(result["cost_usd"])
    files = len(report.completed) + len(report.failed)
    line(
        f"files: {files} processed, {len(report.completed)} succeeded, "
        f"{len(report.failed)} failed, {report.duplicates} duplicates"
    )
    line(
        f"schools: {new} new, {merged} merged into existing; "
        f"{await rt.schools.count()} in the database"
    )
    if tokens:
        line(
            f"llm: {tokens['requests']} requests ({tokens['cached']} answered from cache), "
            f"{tokens['prompt_tokens']} prompt + {tokens['completion_tokens']} completion tokens"
            + (
                f", {tokens['llm_pages']} pages sent by the offline reader"
                if tokens["llm_pages"]
                else ""
            )
            + (f", about ${cost:.4f}" if cost is not None else "")
        )
    for outcome in report.completed:
        result = outcome.task.result if isinstance(outcome.task.result, dict) else {}
        for warning in result.get("warnings") or []:
            line(f"warning: {outcome.user_id}/{outcome.path.name}: {warning}")
    for outcome in report.failed:
        line(f"failed: {outcome.user_id}/{outcome.path.name}: {outcome.task.error}")
    return len(report.failed)
