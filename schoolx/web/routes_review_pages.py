"""Review pages for merging: possible duplicates side by side (accept, dismiss), merging by
id, unmerging, and choosing which of the values the sources disagree on a school shows.

Merging a rejected school asks first: the first post answers with a page that says so and
repeats the request with ``confirm`` set (no JavaScript needed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response

from models.paging import MAX_OFFSET
from models.review_queue import needs_review
from models.schools import EDITABLE
from pipeline.errors import ConfigError, ConfirmationNeeded
from pipeline.store import TaskStatus
from schoolx.web.auth import PageUser
from schoolx.web.deps import State
from schoolx.web.paging import PAGE_SIZE, Pager, page_offset
from schoolx.web.render import render
from schoolx.web.routes_pages import see_other
from schoolx.web.routes_schools import check_changes
from schoolx.web.views import owned_documents, task_json, task_warnings

router = APIRouter(include_in_schema=False)

PAIRS_SHOWN = 100
TASKS_LOOKED_AT = 200  # recent completed tasks searched for warnings


async def confirmed(
    action: Callable[[bool], Awaitable[object]],
    confirm: bool,
    *,
    user: str,
    url: str,
    fields: dict[str, str],
    done: str,
) -> Response:
    """Run ``action``; if it needs confirmation, answer with the page that asks for it."""
    try:
        await action(confirm)
    except ConfirmationNeeded as exc:
        page = render(
            "confirm.html", user=user, message=str(exc), url=url, fields=fields, back=done
        )
        return HTMLResponse(page)  # a question, not an error
    return see_other(done)


@router.get("/ui/review")
async def review_page(
    state: State, user: PageUser, offset: Annotated[int, Query(ge=0)] = 0
) -> HTMLResponse:
    """Pending schools, least certain first, and the caller's documents with warnings."""
    rt = state.runtime
    offset = min(offset, MAX_OFFSET)  # a link's offset, however large
    total, items = await needs_review(rt.app.db, limit=PAGE_SIZE, offset=offset)
    if not items and offset:  # past the end (schools were reviewed meanwhile): the last page
        offset = page_offset(offset, total)
        total, items = await needs_review(rt.app.db, limit=PAGE_SIZE, offset=offset)
    done = await rt.app.store.list_tasks(
        status=TaskStatus.COMPLETED, user_id=user, limit=TASKS_LOOKED_AT
    )
    warned = [task_json(t) | {"warnings": task_warnings(t)} for t in done if task_warnings(t)]
    page = render(
        "review.html",
        user=user,
        items=items,
        pager=Pager("/ui/review", offset, total, len(items)),
        warned=warned,
        fields=len(EDITABLE) - 1,
    )
    return HTMLResponse(page)


@router.get("/ui/duplicates")
async def duplicates_page(state: State, user: PageUser) -> HTMLResponse:
    rt = state.runtime
    pairs = await rt.schools.duplicates(limit=PAIRS_SHOWN)
    owned: set[int] = set()
    for pair in pairs:
        owned |= await owned_documents(rt.documents, pair.a, user)
        owned |= await owned_documents(rt.documents, pair.b, user)
    page = render("duplicates.html", user=user, pairs=pairs, owned=owned, fields=EDITABLE[1:])
    return HTMLResponse(page)


@router.post("/ui/duplicates/{pair_id}/accept")
async def accept(
    pair_id: int,
    state: State,
    user: PageUser,
    keep: Annotated[int, Form()],
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    schools = state.runtime.schools

    async def action(sure: bool) -> object:
        return await schools.accept(pair_id, user, keep=keep, confirm=sure)

    return await confirmed(
        action,
        confirm,
        user=user,
        url=f"/ui/duplicates/{pair_id}/accept",
        fields={"keep": str(keep)},
        done="/ui/duplicates",
    )


@router.post("/ui/duplicates/{pair_id}/dismiss")
async def dismiss(pair_id: int, state: State, user: PageUser) -> Response:
    await state.runtime.schools.dismiss(pair_id, user)
    return see_other("/ui/duplicates")


@router.post("/ui/schools/{school_id}/merge")
async def merge(
    school_id: int,
    state: State,
    user: PageUser,
    other: Annotated[int, Form()],
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    schools = state.runtime.schools

    async def action(sure: bool) -> object:
        return await schools.merge(school_id, other, user, confirm=sure)

    return await confirmed(
        action,
        confirm,
        user=user,
        url=f"/ui/schools/{school_id}/merge",
        fields={"other": str(other)},
        done=f"/ui/schools/{school_id}",
    )


@router.post("/ui/schools/{school_id}/unmerge")
async def unmerge(school_id: int, state: State, user: PageUser) -> Response:
    await state.runtime.schools.unmerge(school_id, user)
    return see_other(f"/ui/schools/{school_id}")


@router.post("/ui/schools/{school_id}/use")
async def use_value(
    school_id: int,
    state: State,
    user: PageUser,
    field: Annotated[str, Form()],
    value: Annotated[str, Form()],
) -> Response:
    """Show another source's value for a field (it is then locked, like any edit)."""
    if field not in EDITABLE:
        raise ConfigError(f"unknown field {field!r}")
    await state.runtime.schools.edit(school_id, check_changes({field: value}), user)
    return see_other(f"/ui/schools/{school_id}")
