"""The API's documentation page, served from this machine: Swagger UI (/docs) with the
assets the ``fastapi-offline`` package ships, not from a CDN, so that it works offline and
under a CSP that allows our own origin only. (No ReDoc page: its bundle fetches its logo
from its makers' CDN.)"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from schoolx.web.render import render

router = APIRouter(include_in_schema=False)

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/docs-assets"


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return HTMLResponse(render("docs.html", assets=ASSETS_URL, openapi="/openapi.json"))
