"""The list commands in a subprocess: a page at a time with how many in all, the schools
of one document, the file each task reads, a window out of range refused in one line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from schoolx.cli.runtime import open_runtime
from tests.acceptance.cli import SAMPLES, as_json, cli_env, schoolx
from tests.support.seed import seed, town


def seeded(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'lists.db'}"

    async def fill() -> None:
        async with open_runtime(url) as rt:
            salem = [town(f"School Number {i}", "Salem") for i in range(7)]
            await seed(rt.documents, rt.schools, salem, filename="salem.pdf")
            bend = [town(f"Academy {n}", "Bend") for n in "ABC"]
            await seed(rt.documents, rt.schools, bend, filename="bend.pdf", user="bob")
            data = (SAMPLES / "table.pdf").read_bytes()
            await rt.submit(data, "queued table.pdf", "carol", "rules")

    asyncio.run(fill())
    return cli_env(tmp_path / "home", SCHOOLX_DATABASE_URL=url)


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_schools_documents_and_tasks_say_how_many_in_all(tmp_path: Path) -> None:
    env = seeded(tmp_path)
    first = schoolx(env, "schools", "--limit", "4")
    assert first.returncode == 0, first.stderr
    assert last_line(first.stdout) == "showing 1–4 of 10 (next: --offset 4)"
    last = schoolx(env, "schools", "--limit", "4", "--offset", "8")
    assert last_line(last.stdout) == "showing 9–10 of 10"
    assert "School Number 6" in last.stdout and "Academy A" not in last.stdout
    as_list = schoolx(env, "schools", "--json", "--limit", "2")
    assert [s["name"] for s in as_json(as_list)] == ["Academy A", "Academy B"]
    assert as_list.stderr.strip() == "showing 1–2 of 10 (next: --offset 2)"

    by_name = as_json(schoolx(env, "schools", "--document", "bend.pdf", "--json"))
    assert sorted(s["name"] for s in by_name) == ["Academy A", "Academy B", "Academy C"]
    by_id = as_json(schoolx(env, "schools", "--document", "1", "--json"))
    assert len(by_id) == 7 and {s["city"] for s in by_id} == {"Salem"}

    documents = schoolx(env, "documents")
    assert documents.returncode == 0, documents.stderr
    assert last_line(documents.stdout) == "showing 1–3 of 3"
    rows = as_json(schoolx(env, "documents", "--user", "bob", "--json"))
    assert [(d["filename"], d["schools"]) for d in rows] == [("bend.pdf", 3)]

    tasks = schoolx(env, "tasks")
    assert tasks.returncode == 0, tasks.stderr
    assert "queued table.pdf" in tasks.stdout and "file" in tasks.stdout
    assert last_line(tasks.stdout) == "showing 1–1 of 1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("schools", "--limit", "0"), "error: limit: 0 is out of range; expected 1 to 500"),
        (("tasks", "--limit", "501"), "error: limit: 501 is out of range; expected 1 to 500"),
        (("documents", "--offset", "-1"), "error: offset: -1 is negative"),
        (
            ("schools", "--offset", str(10**20)),
            f"error: offset: {10**20} is out of range; expected at most 1000000000",
        ),
        (("schools", "--document", "nope.pdf"), "error: no document named 'nope.pdf'"),
        (("schools", "--document", "99"), "error: no document 99"),
    ],
)
def test_a_bad_window_or_document_is_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    env = seeded(tmp_path)
    result = schoolx(env, *args)
    assert result.returncode == 1, result.stdout
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
