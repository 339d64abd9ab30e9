"""Upload a PDF (stored once, queued once) and read back the original bytes."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from handlers.extractors import resolve
from models.paging import MAX_LIMIT
from pipeline.errors import ConflictError
from schoolx.web.auth import User
from schoolx.web.deps import State
from schoolx.web.paging import ApiOffset
from schoolx.web.uploads import read_upload, sanitize_filename
from schoolx.web.views import own_document, task_json

router = APIRouter(tags=["documents"])


@router.post(
    "/documents",
    status_code=201,
    responses={
        200: {"description": "The same bytes were submitted before: their task, duplicate=true"},
        413: {"description": "File too large"},
        415: {"description": "Not a PDF"},
        429: {"description": "Too many active tasks"},
    },
)
async def upload_document(
    state: State,
    user: User,
    file: Annotated[UploadFile, File(description="The PDF")],
    extractor: Annotated[str, Form(description="rules | llm | hybrid | auto")] = "auto",
) -> JSONResponse:
    """Store a PDF and queue a task for it; returns the task."""
    chosen = resolve(extractor)
    data = await read_upload(file, state.pdf.max_upload_bytes)
    name = sanitize_filename(file.filename)
    sub = await state.runtime.submit(data, name, user, chosen)
    if sub.task.user_id != user:
        # Documents are content-addressed across users: never hand out another user's task.
        raise ConflictError(
            "this file was already submitted by another user; "
            "the schools found in it are in the shared schools list"
        )
    body: dict[str, Any] = task_json(sub.task) | {"duplicate": sub.duplicate}
    return JSONResponse(body, status_code=200 if sub.duplicate else 201)


@router.get("/documents")
async def list_documents(
    state: State,
    user: User,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: ApiOffset = 0,
) -> dict[str, Any]:
    """The caller's documents, newest first, each with how many schools it gave (list them
    with ``GET /schools?document=ID``): one page (``items``) and ``total``."""
    found = await state.runtime.documents.page(user, limit=limit, offset=offset)
    return found.to_json(lambda d: d.to_json())


def _header_safe(c: str) -> bool:
    return c.isascii() and c.isprintable() and c not in '"\\'


def content_disposition(filename: str) -> str:
    """``inline`` with an ASCII fallback name and the exact name in RFC 5987 form."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/documents/{document_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def document_pdf(document_id: int, state: State, user: User) -> Response:
    """The original PDF bytes; only for the user who uploaded it."""
    docs = state.runtime.documents
    doc = await own_document(docs, document_id, user)
    data = await docs.content(doc.id)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(doc.filename)},
    )
