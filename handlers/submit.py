"""Submitting a PDF: store its bytes once as a Document, then queue one task for it.

The document is stored before the task is created and the task id is attached after, so a
crash at any point leaves either nothing, or a stored document that the next submission of
the same bytes picks up and queues. Submitting bytes that already have a task returns that
task, marked as a duplicate: no second document, no second run.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.pdf import TASK_TYPE
from models.documents import DocumentInfo, DocumentStore
from pipeline.queue import TaskQueue
from pipeline.store import TaskInfo


@dataclass(frozen=True)
class Submission:
    document: DocumentInfo
    task: TaskInfo
    duplicate: bool


async def submit_pdf(
    queue: TaskQueue,
    documents: DocumentStore,
    data: bytes,
    filename: str,
    *,
    user_id: str,
    extractor: str = "rules",
) -> Submission:
    """Raises TaskLimitError when the user is at the limit (the bytes stay stored)."""
    doc, _created = await documents.add(data, filename, user_id)
    if doc.task_id is not None:
        return Submission(doc, await queue.get(doc.task_id), duplicate=True)
    # A crash between queueing the task and attaching it leaves a task nobody points to:
    # adopt it instead of queueing a second run of the same document.
    orphans = await queue.store.find_by_payload(TASK_TYPE, "document_id", doc.id)
    if orphans:
        task = orphans[0]
        await documents.attach_task(doc.id, task.id)
        return Submission(await documents.get(doc.id), task, duplicate=False)
    payload = {"document_id": doc.id, "filename": filename, "extractor": extractor}
    task = await queue.enqueue(TASK_TYPE, payload, user_id=user_id)
    if await documents.attach_task(doc.id, task.id):
        return Submission(await documents.get(doc.id), task, duplicate=False)
    # Another submission of the same bytes won the race: keep its task, drop ours.
    await queue.cancel(task.id)
    doc = await documents.get(doc.id)
    assert doc.task_id is not None
    return Submission(doc, await queue.get(doc.task_id), duplicate=True)
