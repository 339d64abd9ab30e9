"""``schoolx``: submit and watch PDFs, run workers, review the schools found."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.errors import NotFoundError
from pipeline.store import TaskStatus
from schoolx.cli import db_cmds, duplicates, helpstyle, web_cmds
from schoolx.cli import schools as school_commands
from schoolx.cli.common import command, environment_help, setup_logging, state
from schoolx.cli.output import emit_json, line, table
from schoolx.cli.paging import LimitOpt, OffsetOpt, footer
from schoolx.cli.runtime import open_runtime

if TYPE_CHECKING:
    from pipeline.store import TaskInfo

# Every import above is cheap: what a command needs (the database, the PDF stages, the web
# server) is imported in the command, so `schoolx --help` and `schoolx tasks` start in a
# fraction of a second (bench/startup.py, tests/unit/test_startup.py).

helpstyle.restyle()
app = typer.Typer(
    help="Turn PDFs that list schools into a reviewed, de-duplicated database of schools.",
    epilog=environment_help(),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
school_commands.register(app)
duplicates.register(app)
db_cmds.register(app)
web_cmds.register(app)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ExtractorOpt = Annotated[
    str,
    typer.Option(
        "--extractor", help="rules | llm | hybrid | auto (hybrid when an LLM is configured)."
    ),
]


@app.callback()
def main_options(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="SCHOOLX_DATABASE_URL",
            help="sqlite:///file.db or postgresql://user@host/db",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    state.db_url = db
    setup_logging(verbose)


def task_row(t: TaskInfo) -> list[object]:
    return [
        t.id,
        t.payload.get("filename") or "",
        t.user_id,
        t.type,
        t.status.value,
        f"{t.progress}%",
        t.stage or "",
        t.attempts,
        (t.error or _first_warning(t))[:80],
    ]


def _first_warning(t: TaskInfo) -> str:
    warnings = t.result.get("warnings") if isinstance(t.result, dict) else None
    return f"warning: {warnings[0]}" if warnings else ""


@app.command()
@command
async def submit(
    files: Annotated[list[Path], typer.Argument(help="PDF files to process.")],
    user: Annotated[str, typer.Option("--user", help="Who the files belong to.")] = "default",
    extractor: ExtractorOpt = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Store PDFs and queue them (same bytes again: reported as a duplicate)."""
    from handlers.extractors import resolve
    from models.users import check_name

    check_name(user)
    chosen = resolve(extractor)
    async with open_runtime(state.db_url, runs_tasks=False) as rt:
        out = []
        for path in files:
            if not path.is_file():
                raise NotFoundError(f"{path}: no such file")
            sub = await rt.submit(path.read_bytes(), path.name, user, chosen)
            out.append(
                {
                    "file": str(path),
                    "task": sub.task.id,
                    "document": sub.document.id,
                    "duplicate": sub.duplicate,
                    "status": sub.task.status.value,
                }
            )
            if not as_json:
                note = f" (duplicate of {sub.document.filename})" if sub.duplicate else ""
                line(f"{path.name}: task {sub.task.id} {sub.task.status.value}{note}")
        if as_json:
            emit_json(out)


@app.command()
@command
async def tasks(
    status: Annotated[
        TaskStatus | None,
        typer.Option(
            "--status",
            metavar="STATUS",
            help="Only tasks with this status: pending, processing, completed, failed or "
            "cancelled.",
        ),
    ] = None,
    user: Annotated[str | None, typer.Option("--user")] = None,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """List tasks, newest first, a page at a time (how many in all is printed below)."""
    from models.task_list import task_page

    async with open_runtime(state.db_url, existing=True) as rt:
        found = await task_page(rt.app.db, status=status, user_id=user, limit=limit, offset=offset)
    if as_json:
        emit_json([t.to_json() for t in found.items])
        footer(found, stderr=True)
        return
    table(
        "tasks",
        [
            "id",
            "file",
            "user",
            "type",
            "status",
            "progress",
            "stage",
            "attempts",
            "error / warning",
        ],
        [task_row(t) for t in found.items],
    )
    footer(found)


@app.command()
@command
async def task(task_id: int, as_json: JsonOpt = False) -> None:
    """One task: its file, stages done, progress, attempts, error, result, recent events."""
    from schoolx.cli.task_view import show_task, task_json

    async with open_runtime(state.db_url, existing=True) as rt:
        info = await rt.app.store.get_task(task_id)
        steps = await rt.app.store.steps(task_id)
        events = await rt.app.store.events_since(0, task_id=task_id)
    if as_json:
        emit_json(task_json(info, steps, events))
    else:
        show_task(info, steps, events)


@app.command()
@command
async def cancel(task_id: int) -> None:
    """Cancel a task: at once if pending, within seconds if running."""
    async with open_runtime(state.db_url, existing=True) as rt:
        status = await rt.app.queue.cancel(task_id)
    if status is TaskStatus.PROCESSING:
        line(f"task {task_id}: cancel requested; it stops within a few seconds")
    else:
        line(f"task {task_id}: {status.value}")


@app.command()
@command
async def retry(task_id: int) -> None:
    """Queue a failed or cancelled task again; it resumes from its finished stages."""
    async with open_runtime(state.db_url, existing=True) as rt:
        info = await rt.app.queue.retry(task_id)
    line(f"task {task_id}: {info.status.value} (finished stages will not run again)")


@app.command()
@command
async def worker(
    once: Annotated[bool, typer.Option("--once", help="Exit when the queue is empty.")] = False,
    plugin: Annotated[
        list[str] | None, typer.Option("--plugin", help="Module with register(registry).")
    ] = None,
) -> None:
    """Run the queue only (no inbox): start as many as you like, on any machine."""
    from schoolx.cli.progress import ProgressView
    from schoolx.cli.serve_loop import run_worker

    interactive = sys.stdout.isatty()
    if not interactive:
        logging.getLogger("schoolx").setLevel(logging.INFO)
    async with open_runtime(state.db_url, plugin or ()) as rt:
        await run_worker(
            rt, once=once, view=ProgressView(interactive=True) if interactive else None
        )


def default_inbox() -> Path:
    return Path(os.environ.get("SCHOOLX_HOME") or "schoolx-data") / "inbox"


@app.command()
@command
async def run(
    inbox: Annotated[
        Path | None, typer.Option("--inbox", help="Default: $SCHOOLX_HOME/inbox")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Drain inbox and queue, then exit.")] = False,
    extractor: ExtractorOpt = "auto",
) -> None:
    """Watch the inbox (inbox/USER/file.pdf) and process what arrives."""
    from handlers.extractors import resolve
    from schoolx.cli.progress import ProgressView
    from schoolx.cli.serve_loop import InboxOptions, run_inbox
    from schoolx.cli.summary import print_summary

    chosen = resolve(extractor)
    async with open_runtime(state.db_url) as rt:
        options = InboxOptions(
            root=inbox or default_inbox(),
            once=once,
            extractor=chosen,
            settle_s=rt.app.settings.inbox_settle_s,
            poll_s=0.5,
        )
        view = ProgressView(interactive=sys.stdout.isatty())
        report = await run_inbox(rt, options, view)
        failed = await print_summary(rt, report)
    if once and failed:
        raise typer.Exit(2)
