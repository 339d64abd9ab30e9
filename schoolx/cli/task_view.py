"""``schoolx task ID``: one task as a person reads it, or as JSON with ``--json``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from handlers.stages import CHUNK_PREFIX, STAGES
from pipeline.store import EventInfo, TaskInfo
from schoolx.cli.output import line, table

RECENT_EVENTS = 15

# The result of a PDF task, in reading order: key -> label. Other keys (a plugin's task)
# follow under their own names.
RESULT_LABELS = {
    "pages": "pages",
    "needs_ocr": "pages without text (OCR needed)",
    "skipped_pages": "pages skipped",
    "unread_pages": "pages the extractor could not read",
    "extractor": "extractor",
    "schools_found": "schools found",
    "saved": "new schools",
    "merged": "merged into known schools",
    "sources": "evidence rows",
    "dropped": "records dropped",
    "cost_usd": "cost (USD)",
}
SHOWN_ABOVE = {"usage", "warnings", "document", "document_id"}


def stages_done(steps: Mapping[str, Any]) -> list[str]:
    """Finished stages in the order they run (a plugin's unknown ones after, by name)."""
    done = [name for name in steps if "/" not in name]
    order = {name: i for i, name in enumerate(STAGES)}
    return sorted(done, key=lambda name: (order.get(name, len(order)), name))


def task_json(
    info: TaskInfo, steps: Mapping[str, Any], events: Sequence[EventInfo]
) -> dict[str, Any]:
    return info.to_json() | {
        "stages_done": stages_done(steps),
        "chunks_done": sum(1 for s in steps if s.startswith(CHUNK_PREFIX)),
        "events": [
            {"id": e.id, "type": e.type.value, "data": e.data, "at": e.created_at}
            for e in events[-RECENT_EVENTS:]
        ],
    }


def show_task(info: TaskInfo, steps: Mapping[str, Any], events: Sequence[EventInfo]) -> None:
    result = info.result if isinstance(info.result, dict) else {}
    rows: list[tuple[str, object]] = [
        ("task", info.id),
        ("file", _file(info)),
        ("type", info.type),
        ("user", info.user_id),
        ("status", info.status.value),
        ("progress", f"{info.progress}%" + (f" ({info.stage})" if info.stage else "")),
        ("stages done", ", ".join(stages_done(steps)) or "-"),
        ("chunks done", sum(1 for s in steps if s.startswith(CHUNK_PREFIX))),
        ("attempts", f"{info.attempts}/{info.max_attempts}"),
        ("error", info.error or "-"),
    ]
    usage = result.get("usage") or {}
    if usage:
        rows.append(("tokens", _tokens(usage)))
    rows += [("warning", warning) for warning in result.get("warnings") or []]
    for key, value in rows:
        line(f"{key:>12}: {value}")
    if result:
        table("result", ["", ""], result_rows(result), show_header=False)
    table(
        "recent events",
        ["id", "event", "data", "at"],
        [
            [e.id, e.type.value, _event_data(e), e.created_at.isoformat(" ", "seconds")]
            for e in events[-RECENT_EVENTS:]
        ],
    )


def result_rows(result: Mapping[str, Any]) -> list[list[str]]:
    keys = [k for k in RESULT_LABELS if k in result]
    keys += sorted(k for k in result if k not in RESULT_LABELS and k not in SHOWN_ABOVE)
    return [[RESULT_LABELS.get(k, k.replace("_", " ")), readable(result[k])] for k in keys]


def readable(value: Any, most: int = 10) -> str:
    """A value from a result or an event, on a line: lists joined, mappings as k=v, the
    first ``most`` items of a long one and how many there are."""
    if value is None or value in ([], {}, ""):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        items = [f"{k}={_scalar(v)}" for k, v in value.items()]
    elif isinstance(value, list | tuple):
        items = [_scalar(v) for v in value]
    else:
        return str(value)
    more = f", ... ({len(items)} in all)" if len(items) > most else ""
    return ", ".join(items[:most]) + more


def _scalar(value: Any) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _file(info: TaskInfo) -> str:
    name = info.payload.get("filename")
    document = info.payload.get("document_id")
    if name is None:
        return "-"
    return f"{name} (document {document})" if document is not None else str(name)


def _event_data(event: EventInfo) -> str:
    if "result" in event.data:  # the whole result again: it is in the table above
        return readable(event.data | {"result": "(above)"})
    return readable(event.data)


def _tokens(usage: Mapping[str, Any]) -> str:
    return (
        f"{usage.get('prompt_tokens', 0)} in, {usage.get('completion_tokens', 0)} out, "
        f"{usage.get('requests', 0)} requests ({usage.get('cached', 0)} cached)"
    )
