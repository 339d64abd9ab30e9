"""``schoolx edit`` in a subprocess: values are stored as extraction would store them; a
value that is not one of its field is refused in one line naming the field."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from schoolx.cli.runtime import open_runtime
from tests.acceptance.cli import as_json, cli_env, schoolx
from tests.support.seed import seed, town


def seeded(tmp_path: Path) -> tuple[dict[str, str], str]:
    url = f"sqlite:///{tmp_path / 'edit.db'}"

    async def fill() -> None:
        async with open_runtime(url) as rt:
            places = [town("Lincoln Elementary", "Salem", country="US")]
            await seed(rt.documents, rt.schools, places)

    asyncio.run(fill())
    return cli_env(tmp_path / "home", SCHOOLX_DATABASE_URL=url), "1"


def test_edit_stores_normalized_values(tmp_path: Path) -> None:
    env, school = seeded(tmp_path)
    result = schoolx(
        env, "edit", school, "--grades", "k–5", "--region", "oregon", "--phone", "503.555.0142"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "school",
        "1",
        "updated:",
        "grades=K-5,",
        "phone=+15035550142,",
        "region=OR",
    ]
    detail = as_json(schoolx(env, "school", school, "--json"))
    assert (detail["grades"], detail["region"], detail["phone"]) == ("K-5", "OR", "+15035550142")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--phone", "banana"), "error: phone: 'banana' is not a phone number of US"),
        (("--region", "Bavaria"), "error: region: 'Bavaria' is not a state or territory of US"),
        (("--country", "Germany"), "error: country: 'Germany' is not a country"),
        (("--grades", "sometimes"), "error: grades: 'sometimes' is not a grade range"),
        (("--country", "AU", "--region", "Oregon"), "error: region: 'Oregon' is not a state"),
    ],
)
def test_edit_refuses_invalid_values_in_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    env, school = seeded(tmp_path)
    result = schoolx(env, "edit", school, *args)
    assert result.returncode == 1, result.stdout
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    detail = as_json(schoolx(env, "school", school, "--json"))
    assert (detail["region"], detail["country"], detail["phone"]) == ("OR", "US", None)
    assert detail["locked_fields"] == []
