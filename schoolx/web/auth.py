"""Who is calling: a bearer token in ``Authorization``, or the same token in a cookie.

The cookie is set by the sign-in form (HttpOnly, SameSite=Strict), which is what lets the
page's forms and ``EventSource('/events')`` authenticate without JavaScript seeing the
token. Cookie-authenticated writes also must not come from another origin.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from schoolx.web.deps import State
from schoolx.web.errors import HttpError

COOKIE = "schoolx_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = HTTPBearer(auto_error=False, description="A token from `schoolx users add NAME`.")


def unauthorized() -> HttpError:
    return HttpError(
        401,
        "missing or invalid token: send Authorization: Bearer <token>",
        {"WWW-Authenticate": "Bearer"},
    )


def same_origin(request: Request) -> bool:
    """True unless the browser says the request came from a page on another origin."""
    origin = request.headers.get("origin")
    if origin is None:  # not sent by every browser on same-origin requests
        return True
    return urlsplit(origin).netloc == request.headers.get("host")


def request_token(conn: HTTPConnection) -> str | None:
    """The bearer token of a request, else its sign-in cookie (read from headers only)."""
    scheme, _, token = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        token = conn.cookies.get(COOKIE, "")
    return token.strip() or None


async def token_user(state: State, token: str | None) -> str | None:
    return await state.users.authenticate(token) if token else None


async def current_user(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The caller's user id; 401 without a valid token."""
    if credentials is not None:
        user = await token_user(state, credentials.credentials)
    else:
        user = await token_user(state, request.cookies.get(COOKIE))
        if user is not None and request.method not in SAFE_METHODS and not same_origin(request):
            raise HttpError(403, "cross-origin request refused")
    if user is None:
        raise unauthorized()
    return user


async def page_user(request: Request, state: State) -> str:
    """The signed-in user of a page; without one, the browser is sent to the sign-in form."""
    user = await token_user(state, request.cookies.get(COOKIE))
    if user is None:
        raise HttpError(303, "sign in first", {"Location": "/login"})
    if request.method not in SAFE_METHODS and not same_origin(request):
        raise HttpError(403, "cross-origin request refused")
    return user


User = Annotated[str, Depends(current_user)]
PageUser = Annotated[str, Depends(page_user)]
