"""Possible duplicates and undo: ``duplicates`` (list, accept, dismiss) and ``unmerge``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain.records import RECORD_FIELDS
from schoolx.cli.common import command, run_async, state
from schoolx.cli.output import emit_json, line, table
from schoolx.cli.paging import LimitOpt, OffsetOpt, footer
from schoolx.cli.runtime import open_runtime
from schoolx.cli.schools import reviewer

if TYPE_CHECKING:
    from models.schools import PairInfo, SchoolInfo

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ReviewerOpt = Annotated[str, typer.Option("--user", help="Who is reviewing.")]
ConfirmOpt = Annotated[
    bool, typer.Option("--confirm", help="Merge even when a school was rejected.")
]

duplicates_app = typer.Typer(
    help="Possible duplicates: pairs of schools a save could not decide, for you to decide.",
    no_args_is_help=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(duplicates_app, name="duplicates")
    app.command("unmerge")(command(unmerge))


def school_json(s: SchoolInfo) -> dict[str, Any]:
    return s.to_json() | {"locked_fields": list(s.locked_fields), "aliases": list(s.aliases)}


def pair_json(p: PairInfo) -> dict[str, Any]:
    return {
        "id": p.id,
        "score": p.score,
        "reasons": list(p.reasons),
        "status": p.status,
        "a": school_json(p.a),
        "b": school_json(p.b),
    }


def side_by_side(p: PairInfo) -> None:
    """Both schools field by field, then where each was seen."""
    rows: list[list[object]] = [["id", p.a.id, p.b.id], ["name", p.a.name, p.b.name]]
    rows += [[k, p.a.fields.get(k), p.b.fields.get(k)] for k in RECORD_FIELDS]
    rows.append(["status", p.a.status, p.b.status])
    rows.append(
        ["sources", *("; ".join(f"{s.document} p{s.page}" for s in x.sources) for x in (p.a, p.b))]
    )
    table(
        f"possible duplicate {p.id}: score {p.score:+.1f} ({', '.join(p.reasons)})",
        ["", f"school {p.a.id}", f"school {p.b.id}"],
        rows,
    )
    line(
        f"  schoolx duplicates accept {p.id}   (merge {p.b.id} into {p.a.id}; --keep {p.b.id} "
        f"for the other way)   schoolx duplicates dismiss {p.id}"
    )


@duplicates_app.callback(invoke_without_command=True)
def duplicates(
    ctx: typer.Context,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """List pending possible duplicates, most likely first, both schools side by side."""
    if ctx.invoked_subcommand is not None:
        return

    async def run() -> None:
        async with open_runtime(state.db_url, existing=True) as rt:
            found = await rt.schools.duplicates_page(limit=limit, offset=offset)
        if as_json:
            emit_json([pair_json(p) for p in found.items])
            footer(found, stderr=True)
            return
        if not found.total:
            line("no possible duplicates to review")
            return
        for p in found.items:
            side_by_side(p)
        footer(found)

    run_async(run())


@duplicates_app.command("accept")
@command
async def accept(
    pair_id: int,
    keep: Annotated[
        int | None, typer.Option("--keep", help="The school to keep (default: the older).")
    ] = None,
    confirm: ConfirmOpt = False,
    user: ReviewerOpt = "",
) -> None:
    """They are one school: merge them (undo with `schoolx unmerge SCHOOL_ID`)."""
    async with open_runtime(state.db_url, existing=True) as rt:
        info = await rt.schools.accept(pair_id, user or reviewer(), keep=keep, confirm=confirm)
    line(f"possible duplicate {pair_id} accepted: school {info.id} {info.name}")


@duplicates_app.command("dismiss")
@command
async def dismiss(pair_id: int, user: ReviewerOpt = "") -> None:
    """They are two schools: never propose this pair again."""
    async with open_runtime(state.db_url, existing=True) as rt:
        found = await rt.schools.dismiss(pair_id, user or reviewer())
    line(f"possible duplicate {pair_id} dismissed: schools {found.a.id} and {found.b.id}")


async def unmerge(school_id: int, user: ReviewerOpt = "") -> None:
    """Take a merged school back out, with its own sources and values."""
    async with open_runtime(state.db_url, existing=True) as rt:
        info = await rt.schools.unmerge(school_id, user or reviewer())
    line(f"school {info.id} {info.name}: {info.status} again ({len(info.sources)} sources)")
