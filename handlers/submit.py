"""Submitting a PDF: store its bytes once as a Document, then queue one task for it.

The document is stored before the task is created and the task id is attached after, so a
crash at any point leaves either nothing, or a stored document that the next submission of
the same bytes picks up and queues. Submitting bytes that already have a task returns that
task, marked as a duplicate: no second document, no second run. The document belongs to
the user (and carries the file name) of the task attached to it: bytes stored by a
submission that was refused (429) go to whoever's task later processes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.stages import TASK_TYPE
from models.documents import DocumentInfo, DocumentStore
from pipeline.queue import TaskQueue
from pipeline.store import TaskInfo, TaskStatus


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
    # A crash (or a concurrent submitter) between queueing a task and attaching it leaves a
    # task nobody points to yet: adopt it instead of queueing a second run.
    orphans = [
        t
        for t in await queue.store.find_by_payload(TASK_TYPE, "document_id", doc.id)
        if t.status is not TaskStatus.CANCELLED
    ]
    if orphans:
        return await _attach(queue, documents, doc, orphans[0], ours=False)
    payload = {"document_id": doc.id, "filename": filename, "extractor": extractor}
    task = await queue.enqueue(TASK_TYPE, payload, user_id=user_id)
    return await _attach(queue, documents, doc, task, ours=True)


async def _attach(
    queue: TaskQueue, documents: DocumentStore, doc: DocumentInfo, task: TaskInfo, *, ours: bool
) -> Submission:
    """Attach ``task`` unless another submission attached one first; the attached task is
    the one that runs. Only a task this call queued itself, and that is not the attached
    one, is cancelled: a task adopted as an orphan may be another submitter's, which that
    submitter may attach (or cancel) itself."""
    filename = str(task.payload.get("filename") or doc.filename)
    if await documents.attach_task(doc.id, task.id, user_id=task.user_id, filename=filename):
        return Submission(await documents.get(doc.id), task, duplicate=False)
    doc = await documents.get(doc.id)
    assert doc.task_id is not None
    if doc.task_id == task.id:  # another submitter adopted our task and attached it for us
        return Submission(doc, task, duplicate=False)
    if ours:
        await queue.cancel(task.id)
    return Submission(doc, await queue.get(doc.task_id), duplicate=True)
