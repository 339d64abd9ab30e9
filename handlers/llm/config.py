"""Settings of the ``llm`` extractor, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from annotated_types import Ge

from pipeline.errors import ConfigError
from pipeline.settings import STRICT, Count, Seconds, describe, load

LLM_PREFIX = "SCHOOLX_LLM_"

# model -> (USD per 1M prompt tokens, USD per 1M completion tokens)
Prices = Mapping[str, tuple[float, float]]


@dataclass(frozen=True)
class LlmConfig:
    """Everything the extractor needs to talk to an OpenAI-compatible server.

    The backoff and chunking knobs have production defaults; tests shrink them so a
    whole fault-injection suite runs in seconds.
    """

    api_key: str | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    max_in_flight: int = 8
    rpm: int = 0  # requests per minute, 0 = no limit
    tpm: int = 0  # tokens per minute, 0 = no limit
    timeout_s: float = 60.0
    max_retries: int = 5
    # Fresh requests for a chunk whose reply stayed invalid after a re-ask, with backoff.
    invalid_retries: int = 2
    prices: Prices = field(default_factory=dict)
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    backoff_jitter_s: float = 1.0
    retry_after_max_s: float = 120.0  # never sleep longer than this on a Retry-After
    max_chunk_chars: int = 6000
    context_chars: int = 300
    max_completion_tokens: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LlmConfig:
        env = os.environ if env is None else env
        s = LlmSettings.from_env(env)
        return cls(
            api_key=env.get("OPENAI_API_KEY") or None,
            base_url=env.get("OPENAI_BASE_URL") or None,
            model=s.model,
            max_in_flight=s.max_in_flight,
            rpm=s.rpm,
            tpm=s.tpm,
            timeout_s=s.timeout_s,
            max_retries=s.max_retries,
            invalid_retries=s.invalid_retries,
            prices=parse_prices(s.prices),
            backoff_initial_s=s.backoff_s,
            backoff_max_s=s.backoff_max_s,
            max_chunk_chars=s.chunk_chars,
        )


# Read by the same loader as every other setting (one parser, one error format); the
# OpenAI client's own variables (OPENAI_API_KEY, OPENAI_BASE_URL) keep their names.
@dataclass(frozen=True)
class LlmSettings:
    """The ``SCHOOLX_LLM_<FIELD>`` variables."""

    __pydantic_config__: ClassVar[Any] = STRICT

    model: str = "gpt-4o-mini"
    max_in_flight: Count = 8
    rpm: Annotated[int, Ge(0)] = 0  # requests per minute, 0 = no limit
    tpm: Annotated[int, Ge(0)] = 0  # tokens per minute, 0 = no limit
    timeout_s: Seconds = 60.0
    max_retries: Annotated[int, Ge(0)] = 5
    invalid_retries: Annotated[int, Ge(0)] = 2
    prices: str = ""  # "model=in_per_1M:out_per_1M,..." in USD, for the run's cost estimate
    backoff_s: Annotated[float, Ge(0)] = 1.0
    backoff_max_s: Annotated[float, Ge(0)] = 30.0
    chunk_chars: Annotated[int, Ge(200)] = 6000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LlmSettings:
        return load(cls, env, prefix=LLM_PREFIX)

    @staticmethod
    def describe() -> list[tuple[str, str]]:
        return describe(LlmSettings, LLM_PREFIX)


def llm_configured(env: Mapping[str, str] | None = None) -> bool:
    """True when the user pointed us at a server (key for OpenAI, or a local base URL)."""
    env = os.environ if env is None else env
    return bool(env.get("OPENAI_API_KEY") or env.get("OPENAI_BASE_URL"))


def parse_prices(text: str) -> dict[str, tuple[float, float]]:
    """Parse ``"model=in_per_1M:out_per_1M,..."``; an empty string means no prices."""
    prices: dict[str, tuple[float, float]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        model, sep, pair = item.partition("=")
        in_text, sep2, out_text = pair.partition(":")
        try:
            if not (sep and sep2 and model.strip()):
                raise ValueError(item)
            prices[model.strip()] = (float(in_text), float(out_text))
        except ValueError as exc:
            raise ConfigError(
                f"SCHOOLX_LLM_PRICES: {item!r} is not 'model=in_per_1M:out_per_1M'"
            ) from exc
    return prices
