"""The review page: sign in, upload with live progress, the schools table, one school.

Plain HTML forms post to ``/ui/...`` and redirect back (303), so the page works without
JavaScript except for the live progress bars.
"""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.paging import MAX_OFFSET
from models.schools import EDITABLE, STATUSES
from schoolx.web.auth import COOKIE, PageUser, same_origin, token_user
from schoolx.web.deps import State
from schoolx.web.errors import HttpError
from schoolx.web.paging import PAGE_SIZE, Pager, page_offset
from schoolx.web.render import render
from schoolx.web.routes_schools import check_changes, check_status
from schoolx.web.views import owned_documents, task_json, task_note

router = APIRouter(include_in_schema=False)

TASKS_SHOWN = 20


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/login")
async def login_form() -> HTMLResponse:
    return HTMLResponse(render("login.html", user=None, message=None))


@router.post("/login")
async def login(request: Request, state: State, token: Annotated[str, Form()]) -> Response:
    if not same_origin(request):
        raise HttpError(403, "cross-origin request refused")
    if await token_user(state, token.strip()) is None:
        page = render("login.html", user=None, message="That token is not valid.")
        return HTMLResponse(page, status_code=401)
    response = see_other("/")
    response.set_cookie(
        COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout() -> Response:
    response = see_other("/login")
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/favicon.ico")
async def favicon() -> Response:
    return Response(status_code=204)


@router.get("/")
async def index(
    state: State,
    user: PageUser,
    q: str = "",
    region: str = "",
    city: str = "",
    status: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    rt = state.runtime
    # Read first: the live stream resumes after this id, and events that commit while the
    # page is built are then delivered instead of lost.
    last_event_id = await rt.app.store.latest_event_id()
    tasks = await rt.app.store.list_tasks(user_id=user, limit=TASKS_SHOWN)
    filters = {"q": q, "region": region, "city": city, "status": status}
    find = functools.partial(
        rt.schools.find,
        text_query=q or None,
        region=region or None,
        city=city or None,
        status=check_status(status),
        limit=PAGE_SIZE,
    )
    found = await find(offset=min(offset, MAX_OFFSET))  # a link's offset, however large
    last = page_offset(offset, found.total)
    if last != offset:  # a stale link past the end (after deletions): show the last page
        found = await find(offset=last)
    schools, total, offset = found.items, found.total, found.offset
    page = render(
        "index.html",
        user=user,
        tasks=[task_json(t) | {"note": task_note(t)} for t in tasks],
        schools=schools,
        pager=Pager("/", offset, total, len(schools), params=filters),
        filters=filters,
        statuses=STATUSES,
        last_event_id=last_event_id,
    )
    return HTMLResponse(page)


@router.get("/ui/schools/{school_id}")
async def school_page(school_id: int, state: State, user: PageUser) -> HTMLResponse:
    rt = state.runtime
    school = await rt.schools.get(school_id)
    page = render(
        "school.html",
        user=user,
        school=school,
        owned=await owned_documents(rt.documents, school, user),
        history=await rt.schools.history(school_id),
        editable=EDITABLE,
    )
    return HTMLResponse(page)


def back_to(back: str, default: str) -> str:
    """Where a form returns to: the review list it was posted from, else ``default`` (only
    our own review list: never a URL a link elsewhere could choose)."""
    return back if back == "/ui/review" or back.startswith("/ui/review?") else default


Back = Annotated[str, Form()]


@router.post("/ui/schools/{school_id}/approve")
async def approve(school_id: int, state: State, user: PageUser, back: Back = "") -> Response:
    await state.runtime.schools.review(school_id, True, user)
    return see_other(back_to(back, f"/ui/schools/{school_id}"))


@router.post("/ui/schools/{school_id}/reject")
async def reject(school_id: int, state: State, user: PageUser, back: Back = "") -> Response:
    await state.runtime.schools.review(school_id, False, user)
    return see_other(back_to(back, f"/ui/schools/{school_id}"))


@router.post("/ui/schools/{school_id}/edit")
async def edit(school_id: int, request: Request, state: State, user: PageUser) -> Response:
    """Save only the fields the reviewer changed, so only those get locked."""
    schools = state.runtime.schools
    current = await schools.get(school_id)
    before = {"name": current.name, **current.fields}
    form = await request.form()
    changes: dict[str, str | None] = {}
    for key in EDITABLE:
        raw = form.get(key)
        if not isinstance(raw, str):
            continue
        value = raw.strip() or None
        if value != before.get(key):
            changes[key] = value
    if changes:
        await schools.edit(school_id, check_changes(changes), user)
    return see_other(f"/ui/schools/{school_id}")
