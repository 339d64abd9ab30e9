"""Settings of the ``llm`` extractor, read from the environment."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from pipeline.errors import ConfigError

T = TypeVar("T", int, float)

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
        return cls(
            api_key=env.get("OPENAI_API_KEY") or None,
            base_url=env.get("OPENAI_BASE_URL") or None,
            model=env.get("SCHOOLX_LLM_MODEL") or "gpt-4o-mini",
            max_in_flight=_number(env, "SCHOOLX_LLM_MAX_IN_FLIGHT", 8, int, minimum=1),
            rpm=_number(env, "SCHOOLX_LLM_RPM", 0, int),  # 0: no limit
            tpm=_number(env, "SCHOOLX_LLM_TPM", 0, int),
            timeout_s=_number(env, "SCHOOLX_LLM_TIMEOUT_S", 60.0, float, minimum=0.001),
            max_retries=_number(env, "SCHOOLX_LLM_MAX_RETRIES", 5, int),
            invalid_retries=_number(env, "SCHOOLX_LLM_INVALID_RETRIES", 2, int),
            prices=parse_prices(env.get("SCHOOLX_LLM_PRICES", "")),
            backoff_initial_s=_number(env, "SCHOOLX_LLM_BACKOFF_S", 1.0, float),
            backoff_max_s=_number(env, "SCHOOLX_LLM_BACKOFF_MAX_S", 30.0, float),
            max_chunk_chars=_number(env, "SCHOOLX_LLM_CHUNK_CHARS", 6000, int, minimum=200),
        )


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


def _number(
    env: Mapping[str, str],
    name: str,
    default: T,
    kind: Callable[[str], T],
    *,
    minimum: float = 0,
) -> T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc
    if not math.isfinite(value):
        raise ConfigError(f"{name}={raw!r} must be a finite number")
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value
