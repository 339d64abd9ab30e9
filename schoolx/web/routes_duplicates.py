"""Possible duplicates: pairs of schools a save could not decide; accept (merge) or dismiss."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from models.documents import DocumentStore
from models.paging import MAX_LIMIT
from models.schools import PairInfo, SchoolInfo
from schoolx.web.auth import User
from schoolx.web.deps import State
from schoolx.web.paging import ApiOffset
from schoolx.web.views import school_detail

router = APIRouter(prefix="/duplicates", tags=["duplicates"])


class AcceptRequest(BaseModel):
    keep: int | None = None  # the school to keep; default the older of the two
    confirm: bool = False  # needed when either school was rejected


def review_extras(school: SchoolInfo) -> dict[str, Any]:
    """What a reviewer needs beyond the fields: other names, values the sources disagree
    on (with the sources' document ids and pages), merges into and out of the school."""
    return {
        "aliases": list(school.aliases),
        "alternatives": {
            k: [a.to_json() for a in values] for k, values in school.alternatives().items()
        },
        "merges": [m.to_json() for m in school.merges],
    }


async def pair_detail(documents: DocumentStore, pair: PairInfo, user: str) -> dict[str, Any]:
    return {
        "id": pair.id,
        "score": pair.score,
        "reasons": list(pair.reasons),
        "status": pair.status,
        "a": await school_detail(documents, pair.a, user),
        "b": await school_detail(documents, pair.b, user),
    }


@router.get("")
async def list_duplicates(
    state: State,
    user: User,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: ApiOffset = 0,
) -> dict[str, Any]:
    """Pending possible duplicates, most likely first, both schools with their sources:
    one page (``items``) and ``total``."""
    rt = state.runtime
    found = await rt.schools.duplicates_page(limit=limit, offset=offset)
    return found.envelope([await pair_detail(rt.documents, p, user) for p in found.items])


@router.get("/{pair_id}")
async def get_duplicate(pair_id: int, state: State, user: User) -> dict[str, Any]:
    rt = state.runtime
    return await pair_detail(rt.documents, await rt.schools.pair(pair_id), user)


@router.post(
    "/{pair_id}/accept",
    responses={409: {"description": "Already decided, or a rejected school without confirm"}},
)
async def accept_duplicate(
    pair_id: int, state: State, user: User, body: AcceptRequest | None = None
) -> dict[str, Any]:
    """They are one school: merge them (undo with ``POST /schools/{id}/unmerge``)."""
    rt = state.runtime
    request = body or AcceptRequest()
    kept = await rt.schools.accept(pair_id, user, keep=request.keep, confirm=request.confirm)
    return await school_detail(rt.documents, kept, user) | review_extras(kept)


@router.post("/{pair_id}/dismiss", responses={409: {"description": "Already decided"}})
async def dismiss_duplicate(pair_id: int, state: State, user: User) -> dict[str, Any]:
    """They are two schools: the pair is never proposed again."""
    rt = state.runtime
    return await pair_detail(rt.documents, await rt.schools.dismiss(pair_id, user), user)
