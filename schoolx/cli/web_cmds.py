"""``schoolx users ...`` (API tokens) and ``schoolx serve`` (web API, review page, worker)."""

from __future__ import annotations

from types import FrameType
from typing import Annotated

import typer

from schoolx.cli import startup
from schoolx.cli.common import command, state
from schoolx.cli.output import line, table

# Requests still running this long after Ctrl-C are cancelled.
GRACEFUL_SHUTDOWN_S = 5

users_app = typer.Typer(help="Users of the web API and their tokens.", no_args_is_help=True)


@users_app.command("add")
@command
async def users_add(name: Annotated[str, typer.Argument(help="The user's name (id).")]) -> None:
    """Create a user, or issue a new token to an existing one (the old token stops working)."""
    from models.users import UserStore
    from schoolx.app import open_app

    app = await open_app(state.db_url)
    try:
        token = await UserStore(app.db).add(name)
    finally:
        await app.close()
    line(f"token for {name} (shown once, keep it safe):")
    typer.echo(token)  # plain stdout: never wrapped or styled, so it copies cleanly


@users_app.command("list")
@command
async def users_list() -> None:
    """Every user and whether their token is revoked."""
    from models.users import UserStore
    from schoolx.app import open_app

    app = await open_app(state.db_url, existing=True)
    try:
        found = await UserStore(app.db).list()
    finally:
        await app.close()
    table("users", ["user", "revoked", "created"], [[u.id, u.revoked, u.created_at] for u in found])


@users_app.command("revoke")
@command
async def users_revoke(name: str) -> None:
    """Revoke a user's token at once; `schoolx users add` issues a new one."""
    from models.users import UserStore
    from schoolx.app import open_app

    app = await open_app(state.db_url, existing=True)
    try:
        await UserStore(app.db).revoke(name)
    finally:
        await app.close()
    line(f"{name}: token revoked")


@command
async def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
) -> None:
    """Serve the web API (/docs) and the review page, with a queue worker in the process."""
    import uvicorn  # only this command needs the server

    from schoolx.web import create_app, request_shutdown

    web_app = create_app(state.db_url)
    startup.started()

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            request_shutdown(web_app)  # open event streams end, so shutdown does not wait
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        web_app,
        host=host,
        port=port,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        proxy_headers=False,
    )
    line(f"schoolx: serving on http://{host}:{port}/ (API docs at /docs)")
    await Server(config).serve()


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.command("serve")(serve)
