"""The caller's own tasks: list, look, cancel, retry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from models.paging import MAX_LIMIT
from models.task_list import task_page
from pipeline.store import TaskStatus
from schoolx.web.auth import User
from schoolx.web.deps import State
from schoolx.web.paging import ApiOffset
from schoolx.web.views import own_task, task_json

router = APIRouter(prefix="/tasks", tags=["tasks"])


@router.get("")
async def list_tasks(
    state: State,
    user: User,
    status: TaskStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: ApiOffset = 0,
) -> dict[str, Any]:
    """The caller's tasks, newest first: one page (``items``) and ``total``."""
    db = state.runtime.app.db
    found = await task_page(db, status=status, user_id=user, limit=limit, offset=offset)
    return found.to_json(task_json)


@router.get("/{task_id}")
async def get_task(task_id: int, state: State, user: User) -> dict[str, Any]:
    return task_json(await own_task(state.runtime.app.queue, task_id, user))


@router.post("/{task_id}/cancel", responses={409: {"description": "Already finished"}})
async def cancel_task(task_id: int, state: State, user: User) -> dict[str, Any]:
    """Cancel at once if pending, within seconds if running."""
    queue = state.runtime.app.queue
    await own_task(queue, task_id, user)
    await queue.cancel(task_id)
    return task_json(await queue.get(task_id))


@router.post("/{task_id}/retry", responses={409: {"description": "Not failed or cancelled"}})
async def retry_task(task_id: int, state: State, user: User) -> dict[str, Any]:
    """Queue a failed or cancelled task again; finished stages are not redone."""
    queue = state.runtime.app.queue
    await own_task(queue, task_id, user)
    return task_json(await queue.retry(task_id))
