"""JSON shapes of tasks, events and schools as the API returns them, and ownership checks."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from models.documents import DocumentInfo, DocumentStore
from models.schools import SchoolInfo, SourceInfo
from pipeline.errors import NotFoundError
from pipeline.inbox import DEFAULT_USER
from pipeline.queue import TaskQueue
from pipeline.store import EventInfo, TaskInfo


def task_json(t: TaskInfo) -> dict[str, Any]:
    data = t.to_json()
    payload = data.pop("payload")
    return data | {
        "document_id": payload.get("document_id"),
        "filename": payload.get("filename"),
        "extractor": payload.get("extractor"),
    }


def task_warnings(t: TaskInfo) -> list[str]:
    result = t.result if isinstance(t.result, dict) else {}
    return [str(w) for w in result.get("warnings") or ()]


def task_note(t: TaskInfo) -> str:
    """What the page says about a task's outcome: the error, or what it found (the same
    words app.js writes when a task completes while the page is open)."""
    if t.error:
        return t.error
    result = t.result if isinstance(t.result, dict) else {}
    found = result.get("schools_found")
    note = "" if found is None else f"{found} schools found"
    warnings = task_warnings(t)
    return f"{note} — warning: {'; '.join(warnings)}" if warnings else note


def event_json(e: EventInfo) -> dict[str, Any]:
    return {
        "id": e.id,
        "task_id": e.task_id,
        "type": e.type.value,
        "data": e.data,
        "created_at": e.created_at.replace(tzinfo=UTC).isoformat(),
    }


def school_json(s: SchoolInfo) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        **s.fields,
        "identifiers": dict(s.identifiers),
        "status": s.status,
        "merged_into": s.merged_into,
        "locked_fields": list(s.locked_fields),
        "reviewed_by": s.reviewed_by,
    }


def source_json(s: SourceInfo, owned: bool) -> dict[str, Any]:
    """Schools are shared, documents are not: another user's file stays anonymous (``owned``:
    the caller may see the document, see ``may_see``)."""
    return {
        "document_id": s.document_id,
        "document": s.document if owned else None,
        "own_document": owned,
        "pdf_url": f"/documents/{s.document_id}/pdf#page={s.page}" if owned else None,
        "page": s.page,
        "span_start": s.span_start,
        "span_end": s.span_end,
        "snippet": s.snippet,
        "extractor": s.extractor,
    }


def may_see(doc: DocumentInfo, user: str) -> bool:
    """A user sees their own documents and those of the shared inbox folder: a file dropped
    at the top of the inbox belongs to no one in particular (user ``default``)."""
    return doc.user_id in (user, DEFAULT_USER)


async def owned_documents(documents: DocumentStore, school: SchoolInfo, user: str) -> set[int]:
    """Ids of the documents behind ``school``'s sources that ``user`` may see."""
    owned = set()
    for doc_id in {s.document_id for s in school.sources}:
        if may_see(await documents.get(doc_id), user):
            owned.add(doc_id)
    return owned


async def school_detail(documents: DocumentStore, school: SchoolInfo, user: str) -> dict[str, Any]:
    owned = await owned_documents(documents, school, user)
    return school_json(school) | {
        "sources": [source_json(s, s.document_id in owned) for s in school.sources]
    }


async def own_task(queue: TaskQueue, task_id: int, user: str) -> TaskInfo:
    """The task if it is ``user``'s; another user's task does not exist for them."""
    task = await queue.get(task_id)
    if task.user_id != user:
        raise NotFoundError(f"no task {task_id}")
    return task


async def own_document(documents: DocumentStore, document_id: int, user: str) -> DocumentInfo:
    """The document if ``user`` may see it (``may_see``); otherwise it does not exist for them."""
    doc = await documents.get(document_id)
    if not may_see(doc, user):
        raise NotFoundError(f"no document {document_id}")
    return doc
