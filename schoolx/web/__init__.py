"""The web API and review page: ``create_app(db_url)`` returns the FastAPI application."""

from __future__ import annotations

from schoolx.web.app import create_app, request_shutdown

__all__ = ["create_app", "request_shutdown"]
