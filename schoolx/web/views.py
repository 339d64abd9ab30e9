"""JSON shapes of tasks, events and schools as the API returns them, and ownership checks."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from models.documents import DocumentInfo, DocumentStore
from models.schools import SchoolInfo, SourceInfo
from pipeline.errors import NotFoundError
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
    """Schools are shared, documents are not: another user's file stays anonymous."""
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


async def owned_documents(documents: DocumentStore, school: SchoolInfo, user: str) -> set[int]:
    """Ids of the documents behind ``school``'s sources that belong to ``user``."""
    owned = set()
    for doc_id in {s.document_id for s in school.sources}:
        if (await documents.get(doc_id)).user_id == user:
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
    doc = await documents.get(document_id)
    if doc.user_id != user:
        raise NotFoundError(f"no document {document_id}")
    return doc
