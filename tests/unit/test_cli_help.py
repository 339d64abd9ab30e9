"""Every command's ``--help`` reads as click writes it, and the main help lists every
``SCHOOLX_*`` variable the code reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from schoolx.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["schoolx", "handlers", "models", "pipeline", "domain"]


def commands(group: typer.core.TyperGroup, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in group.commands.items():
        yield (*path, name)
        if isinstance(command, typer.core.TyperGroup):
            yield from commands(command, (*path, name))


ALL = [(), *commands(typer.main.get_group(app))]


def help_of(path: tuple[str, ...], columns: int = 80) -> str:
    result = CliRunner().invoke(
        app, [*path, "--help"], prog_name="schoolx", env={"COLUMNS": str(columns)}
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_checked() -> None:
    assert {"task", "tasks", "submit", "run", "worker", "merge"} <= {p[0] for p in ALL if p}
    assert ("duplicates", "accept") in ALL and ("db", "prune") in ALL


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "schoolx")
def test_help_has_no_rendering_glitches(path: tuple[str, ...]) -> None:
    shown = help_of(path)
    assert "<bool>" not in shown  # a flag takes no value
    assert not re.search(r"[{}]", shown), shown  # "{task_id}" for TASK_ID in the usage
    assert "<list[" not in shown
    assert "``" not in shown  # docstring markup
    usage = next(line for line in shown.splitlines() if "Usage:" in line)
    assert usage.split()[-1].isupper() or usage.rstrip().endswith(("]", "...")), usage


def test_arguments_are_named_as_in_the_usage_line() -> None:
    shown = help_of(("task",))
    assert "Usage: schoolx task [OPTIONS] TASK_ID" in shown
    assert re.search(r"\* +TASK_ID +<int>", shown)
    assert "FILES..." in help_of(("submit",))


def test_the_status_choices_are_not_cut_mid_word() -> None:
    words = re.findall(r"[a-z]+", help_of(("tasks",), columns=60))
    assert {"pending", "processing", "completed", "failed", "cancelled"} <= set(words)


def variables_in_code() -> set[str]:
    found: set[str] = set()
    for top in SOURCES:
        for path in (ROOT / top).rglob("*.py"):
            found |= set(re.findall(r"SCHOOLX_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    return found


def test_main_help_lists_every_variable_read() -> None:
    names = variables_in_code()
    assert {"SCHOOLX_LLM_PRICES", "SCHOOLX_HOME", "SCHOOLX_LLM_MODEL"} <= names
    # Settings classes read SCHOOLX_<FIELD>: their names are never spelled in the code.
    assert "SCHOOLX_LEASE_S" not in names
    shown = " ".join(help_of((), columns=120).split())
    missing = sorted(
        n for n in names | {"SCHOOLX_LEASE_S", "SCHOOLX_TEXT_WORKERS"} if n not in shown
    )
    assert missing == []
