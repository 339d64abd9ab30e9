"""Bad settings stop a command at once with one line naming the variable."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from handlers.llm.config import LlmConfig, LlmSettings
from handlers.settings import PdfSettings
from pipeline.errors import ConfigError
from pipeline.settings import QueueSettings
from tests.acceptance.cli import cli_env, schoolx


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SCHOOLX_CHUNK_CONCURRENCY", "0", "greater than or equal to 1"),  # hung every task
        ("SCHOOLX_LEASE_S", "nan", "finite number"),
        ("SCHOOLX_MAX_ATTEMPTS", "-1", "greater than or equal to 1"),
        ("SCHOOLX_HEARTBEAT_S", "xyz", "valid number"),
        ("SCHOOLX_INBOX_SETTLE_S", "-1", "greater than or equal to 0"),
        ("SCHOOLX_TEXT_WORKERS", "1.5", "valid integer"),
        ("SCHOOLX_LLM_TIMEOUT_S", "inf", "finite number"),
        ("SCHOOLX_LLM_CHUNK_CHARS", "10", "greater than or equal to 200"),
    ],
)
def test_a_bad_value_stops_run_once_with_one_line(
    tmp_path: Path, variable: str, value: str, says: str
) -> None:
    env = cli_env(tmp_path / "home", OPENAI_BASE_URL="http://127.0.0.1:9/v1", **{variable: value})
    (tmp_path / "inbox").mkdir()
    result = schoolx(env, "run", "--inbox", str(tmp_path / "inbox"), "--once", timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"error: {variable}={value!r}"), lines[0]
    assert says in lines[0], lines[0]


def test_every_problem_is_named_and_good_values_load() -> None:
    with pytest.raises(ConfigError) as info:
        QueueSettings.from_env({"SCHOOLX_LEASE_S": "0", "SCHOOLX_POLL_S": "-2"})
    assert "SCHOOLX_LEASE_S='0'" in str(info.value) and "SCHOOLX_POLL_S='-2'" in str(info.value)
    loaded = PdfSettings.from_env({"SCHOOLX_CHUNK_CONCURRENCY": " 3 ", "SCHOOLX_HOME": "x"})
    assert loaded.chunk_concurrency == 3
    assert QueueSettings.from_env({"SCHOOLX_WORKER_CONCURRENCY": "0"}).worker_concurrency == 0


def test_llm_settings_are_read_by_the_same_loader() -> None:
    listed = [variable for variable, _ in LlmSettings.describe()]
    assert {"SCHOOLX_LLM_PRICES", "SCHOOLX_LLM_CHUNK_CHARS", "SCHOOLX_LLM_BACKOFF_S"} <= set(listed)
    with pytest.raises(ConfigError, match=r"SCHOOLX_LLM_RPM='-1': must be greater than"):
        LlmSettings.from_env({"SCHOOLX_LLM_RPM": "-1"})
    config = LlmConfig.from_env({"SCHOOLX_LLM_BACKOFF_S": "0.5", "SCHOOLX_LLM_CHUNK_CHARS": "900"})
    assert (config.backoff_initial_s, config.max_chunk_chars) == (0.5, 900)


@pytest.mark.parametrize("settings", [QueueSettings, PdfSettings, LlmSettings])
def test_the_defaults_pass_the_checks_a_set_variable_gets(settings: type[Any]) -> None:
    # load() skips pydantic when no variable is set, trusting the defaults.
    defaults = settings()
    checked = TypeAdapter(settings).validate_python(
        {f.name: str(getattr(defaults, f.name)) for f in fields(settings)}
    )
    assert checked == defaults
