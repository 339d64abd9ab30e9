"""Review commands: schools, documents, school, review, edit, merge, export."""

from __future__ import annotations

import csv
import getpass
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from domain.records import RECORD_FIELDS
from pipeline.errors import ConfigError, NotFoundError
from schoolx.cli.common import command, state
from schoolx.cli.output import emit_json, line, table
from schoolx.cli.paging import LimitOpt, OffsetOpt, footer
from schoolx.cli.runtime import open_runtime

if TYPE_CHECKING:
    from models.documents import DocumentStore
    from models.schools import SchoolInfo

CSV_COLUMNS = ["id", "name", *RECORD_FIELDS, "identifiers", "status", "sources"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ReviewerOpt = Annotated[str, typer.Option("--user", help="Who is reviewing.")]


def reviewer() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def register(app: typer.Typer) -> None:
    app.command("schools")(command(schools))
    app.command("documents")(command(documents))
    app.command("school")(command(school))
    app.command("review")(command(review))
    app.command("edit")(command(edit))
    app.command("merge")(command(merge))
    app.command("export")(command(export))


async def schools(
    search: Annotated[
        str | None, typer.Option("--search", help="Words of the name, city, address, district.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region")] = None,
    city: Annotated[str | None, typer.Option("--city")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending|approved|rejected|merged")
    ] = None,
    document: Annotated[
        str | None,
        typer.Option("--document", help="Only the schools of this document: its id or file name."),
    ] = None,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """List saved schools, a page at a time (how many in all is printed below)."""
    async with open_runtime(state.db_url, existing=True) as rt:
        found = await rt.schools.find(
            text_query=search,
            region=region,
            city=city,
            status=status,
            document_ids=await document_ids(rt.documents, document),
            limit=limit,
            offset=offset,
        )
    if as_json:
        emit_json([s.to_json() for s in found.items])
        footer(found, stderr=True)
        return
    table(
        "schools",
        ["id", "name", "city", "region", "phone", "grades", "status"],
        [
            [
                s.id,
                s.name,
                s.fields["city"],
                s.fields["region"],
                s.fields["phone"],
                s.fields["grades"],
                s.status,
            ]
            for s in found.items
        ],
    )
    footer(found)


async def document_ids(docs: DocumentStore, document: str | None) -> tuple[int, ...]:
    """The documents ``--document`` names: an id, or every document of that file name."""
    if document is None:
        return ()
    if document.strip().isdigit():
        return ((await docs.get(int(document))).id,)
    found = await docs.named(document)
    if not found:
        raise NotFoundError(f"no document named {document!r} (see schoolx documents)")
    return tuple(found)


async def documents(
    user: Annotated[str | None, typer.Option("--user", help="Whose documents.")] = None,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """List stored documents, newest first, with how many schools each gave."""
    async with open_runtime(state.db_url, existing=True) as rt:
        found = await rt.documents.page(user, limit=limit, offset=offset)
    if as_json:
        emit_json([d.to_json() for d in found.items])
        footer(found, stderr=True)
        return
    table(
        "documents",
        ["id", "file", "user", "pages", "schools", "task"],
        [
            [
                d.info.id,
                d.info.filename,
                d.info.user_id,
                d.info.page_count,
                d.schools,
                d.info.task_id,
            ]
            for d in found.items
        ],
    )
    footer(found)


async def school(school_id: int, as_json: JsonOpt = False) -> None:
    """One school with every field and every source (document, page, snippet)."""
    async with open_runtime(state.db_url, existing=True) as rt:
        info = await rt.schools.get(school_id)
        history = await rt.schools.history(school_id)
    if as_json:
        emit_json(
            info.to_json()
            | {
                "merged_into": info.merged_into,
                "locked_fields": list(info.locked_fields),
                "aliases": list(info.aliases),
                "alternatives": {
                    k: [a.to_json() for a in values] for k, values in info.alternatives().items()
                },
                "merges": [m.to_json() for m in info.merges],
                "history": history,
            }
        )
        return
    line(f"{'id':>12}: {info.id}")
    line(f"{'name':>12}: {info.name}")
    for key, value in info.fields.items():
        line(f"{key:>12}: {value if value is not None else '-'}")
    for scheme, value in info.identifiers.items():
        line(f"{scheme:>12}: {value} (identifier)")
    line(
        f"{'status':>12}: {info.status}"
        + (f" (into {info.merged_into})" if info.merged_into else "")
    )
    if info.locked_fields:
        line(f"{'locked':>12}: {', '.join(info.locked_fields)}")
    if info.aliases:
        line(f"{'also named':>12}: {'; '.join(info.aliases)}")
    others = [(k, a) for k, values in info.alternatives().items() for a in values if not a.current]
    for key, alt in others:
        seen = ", ".join(f"{s.document} p{s.page}" for s in alt.sources) or "a review"
        line(f"{key:>12}  or: {alt.value} (from {seen})")
    if others:
        line(f"{'':>12}  (to show another value: schoolx edit {info.id} --FIELD VALUE)")
    for merge in info.merges:
        if merge.undone:
            continue
        if merge.keep_id == info.id:
            line(
                f"{'merged here':>12}: school {merge.merged_id} {merge.merged_name} ({merge.kind}"
                f"{f', score {merge.score:+.1f}' if merge.score is not None else ''})"
                f"   undo: schoolx unmerge {merge.merged_id}"
            )
    for src in info.sources:
        line(
            f"- {src.document} page {src.page} [{src.extractor}]: "
            f"{' '.join(src.snippet.split())[:160]}"
        )
    for h in history:
        line(f"  {h['at']} {h['user']} {h['action']} {h['detail'] or ''}")


async def review(
    school_id: int,
    approve: Annotated[bool, typer.Option("--approve")] = False,
    reject: Annotated[bool, typer.Option("--reject")] = False,
    user: ReviewerOpt = "",
) -> None:
    """Approve (locks its fields against automatic changes) or reject a school."""
    if approve == reject:
        raise ConfigError("say either --approve or --reject")
    async with open_runtime(state.db_url, existing=True) as rt:
        info = await rt.schools.review(school_id, approve, user or reviewer())
    line(f"school {info.id} {info.name}: {info.status}")


async def edit(
    school_id: int,
    name: Annotated[str | None, typer.Option("--name")] = None,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    city: Annotated[str | None, typer.Option("--city")] = None,
    region: Annotated[str | None, typer.Option("--region")] = None,
    postal_code: Annotated[str | None, typer.Option("--postal-code")] = None,
    country: Annotated[str | None, typer.Option("--country")] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
    website: Annotated[str | None, typer.Option("--website")] = None,
    grades: Annotated[str | None, typer.Option("--grades")] = None,
    district: Annotated[str | None, typer.Option("--district")] = None,
    user: ReviewerOpt = "",
) -> None:
    """Change fields of a school, normalized as extraction would ("k–5" -> K-5, "oregon" ->
    OR; a value that is not one of its field is refused); edited fields are never
    overwritten automatically. An empty value ("") clears a field."""
    changes = {
        k: v
        for k, v in {
            "name": name,
            "kind": kind,
            "address": address,
            "city": city,
            "region": region,
            "postal_code": postal_code,
            "country": country,
            "phone": phone,
            "website": website,
            "grades": grades,
            "district": district,
        }.items()
        if v is not None
    }
    if not changes:
        raise ConfigError("nothing to change: give at least one --FIELD VALUE")
    async with open_runtime(state.db_url, existing=True) as rt:
        info = await rt.schools.edit(school_id, changes, user or reviewer())
    stored = {"name": info.name, **info.fields}
    shown = ", ".join(f"{k}={stored.get(k) or '-'}" for k in sorted(changes))
    line(f"school {info.id} updated: {shown}")


async def merge(
    keep_id: int,
    other_id: int,
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Merge even when a school was rejected.")
    ] = False,
    user: ReviewerOpt = "",
) -> None:
    """Merge the second school into the first (sources move, gaps are filled; undo with
    `schoolx unmerge OTHER_ID`)."""
    async with open_runtime(state.db_url, existing=True) as rt:
        info = await rt.schools.merge(keep_id, other_id, user or reviewer(), confirm=confirm)
    line(f"school {other_id} merged into {info.id} {info.name} ({len(info.sources)} sources)")


async def export(
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl")] = "jsonl",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Default: stdout")] = None,
    status: Annotated[str | None, typer.Option("--status")] = None,
) -> None:
    """Export every school with its sources (JSONL: one school per line)."""
    if fmt not in ("csv", "jsonl"):
        raise ConfigError(f"unknown format {fmt!r}: use csv or jsonl")
    async with open_runtime(state.db_url, existing=True) as rt:
        found = await rt.schools.export(status=status)
    text = to_jsonl(found) if fmt == "jsonl" else to_csv(found)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        line(f"{len(found)} schools written to {output}")


def to_jsonl(found: list[SchoolInfo]) -> str:
    return "".join(json.dumps(s.to_json(), ensure_ascii=False) + "\n" for s in found)


def to_csv(found: list[SchoolInfo]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for s in found:
        data = s.to_json()
        data["sources"] = "; ".join(f"{x['document']} p{x['page']}" for x in data["sources"])
        data["identifiers"] = "; ".join(f"{k}={v}" for k, v in data["identifiers"].items())
        writer.writerow([data.get(c) for c in CSV_COLUMNS])
    return buffer.getvalue()
