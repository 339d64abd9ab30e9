"""Schools are shared by every user: search, look, edit, approve, reject, merge."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel

from models.paging import MAX_LIMIT
from models.schools import STATUSES
from pipeline.errors import ConfigError, InvalidValue
from schoolx.web.auth import User
from schoolx.web.deps import State
from schoolx.web.paging import ApiOffset
from schoolx.web.routes_duplicates import review_extras
from schoolx.web.views import school_detail, school_json

router = APIRouter(prefix="/schools", tags=["schools"])


class MergeRequest(BaseModel):
    keep: int
    other: int
    confirm: bool = False  # needed when either school was rejected


def check_status(status: str | None) -> str | None:
    if status and status not in STATUSES:
        raise ConfigError(f"unknown status {status!r}; choose one of {', '.join(STATUSES)}")
    return status or None


MAX_FIELD = 255


def check_changes(changes: dict[str, str | None]) -> dict[str, str | None]:
    """Refuse what no field can hold before reading the school; the store normalizes
    and checks each value (422 naming the field) and refuses unknown fields (409)."""
    if "name" in changes and not (changes["name"] or "").strip():
        raise InvalidValue("name", "a school needs a name")
    for key, value in changes.items():
        if value is not None and len(value) > MAX_FIELD:
            raise InvalidValue(key, f"longer than {MAX_FIELD} characters")
    return changes


@router.get("")
async def search_schools(
    state: State,
    _user: User,
    q: str | None = None,
    region: str | None = None,
    city: str | None = None,
    status: str | None = None,
    document: Annotated[int | None, Query(description="Only the schools of this document")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: ApiOffset = 0,
) -> dict[str, Any]:
    """Schools (not those merged into another unless ``status=merged``), by name: one page
    (``items``) and how many match in all (``total``)."""
    found = await state.runtime.schools.find(
        text_query=q or None,
        region=region or None,
        city=city or None,
        status=check_status(status),
        document_ids=() if document is None else (document,),
        limit=limit,
        offset=offset,
    )
    return found.to_json(school_json)


@router.post(
    "/merge",
    responses={409: {"description": "Same school, already merged, or rejected without confirm"}},
)
async def merge_schools(body: MergeRequest, state: State, user: User) -> dict[str, Any]:
    """Fold ``other`` into ``keep``: its sources move, its values fill keep's gaps, its name
    becomes an alias of keep (undo with ``POST /schools/{other}/unmerge``)."""
    rt = state.runtime
    merged = await rt.schools.merge(body.keep, body.other, user, confirm=body.confirm)
    return await school_detail(rt.documents, merged, user) | review_extras(merged)


@router.post("/{school_id}/unmerge", responses={409: {"description": "Not merged"}})
async def unmerge_school(school_id: int, state: State, user: User) -> dict[str, Any]:
    """Take a merged school back out with its own sources and values; the two are then
    remembered as distinct."""
    rt = state.runtime
    restored = await rt.schools.unmerge(school_id, user)
    return await school_detail(rt.documents, restored, user) | review_extras(restored)


@router.get("/{school_id}")
async def get_school(school_id: int, state: State, user: User) -> dict[str, Any]:
    """One school with every source (snippet, page; the PDF link for your own documents)."""
    rt = state.runtime
    school = await rt.schools.get(school_id)
    detail = await school_detail(rt.documents, school, user) | review_extras(school)
    return detail | {"history": await rt.schools.history(school_id)}


@router.patch(
    "/{school_id}",
    responses={
        409: {"description": "Unknown field"},
        422: {"description": "A value that is not one of its field: detail and field"},
    },
)
async def edit_school(
    school_id: int,
    state: State,
    user: User,
    changes: Annotated[dict[str, str | None], Body(examples=[{"phone": "+12175550100"}])],
) -> dict[str, Any]:
    """Set fields, normalized as extraction would ("k–5" -> "K-5", "oregon" -> "OR");
    edited fields are locked against automatic changes. An empty value clears a field."""
    rt = state.runtime
    return await school_detail(
        rt.documents, await rt.schools.edit(school_id, check_changes(changes), user), user
    )


@router.post("/{school_id}/approve")
async def approve_school(school_id: int, state: State, user: User) -> dict[str, Any]:
    rt = state.runtime
    return await school_detail(rt.documents, await rt.schools.review(school_id, True, user), user)


@router.post("/{school_id}/reject")
async def reject_school(school_id: int, state: State, user: User) -> dict[str, Any]:
    rt = state.runtime
    return await school_detail(rt.documents, await rt.schools.review(school_id, False, user), user)
