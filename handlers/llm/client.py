"""One chat-completion request to an OpenAI-compatible server, done carefully.

The SDK's own retries are off: we retry here with tenacity so the policy (which errors,
how long, Retry-After) is ours and every attempt goes through the process-wide limiter.
openai exceptions stop at this module; callers see PermanentError or TransientError.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from datetime import UTC
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential_jitter

from handlers.llm.config import LlmConfig
from handlers.llm.limits import LIMITER, Limiter
from handlers.llm.prompt import Message, estimate_tokens
from handlers.llm.schema import SCHOOLS_JSON_SCHEMA
from pipeline.errors import PermanentError, TaskError, TransientError

DEFAULT_BASE_URL = "https://api.openai.com/v1"

# Structured-output modes, best first. What a (base_url, model) accepts is learned from its
# first 400 and remembered for the life of the process, so we pay for the probe once.
FORMAT_MODES = ("json_schema", "json_object", "none")
_format_memory: dict[tuple[str, str], str] = {}

_FORMAT_WORDS = ("response_format", "response format", "json_schema", "json_object")

# Reasoning models refuse temperature=0 ("only the default (1) value is supported").
_no_temperature: set[tuple[str, str]] = set()


def reset_format_memory() -> None:
    _format_memory.clear()
    _no_temperature.clear()


def format_mode(base_url: str, model: str) -> str:
    return _format_memory.get((base_url, model), FORMAT_MODES[0])


def _downgrade(key: tuple[str, str], rejected: str) -> None:
    current = _format_memory.get(key, FORMAT_MODES[0])
    # Concurrent requests may all hit the same 400; never move back up.
    after = FORMAT_MODES[min(FORMAT_MODES.index(rejected) + 1, len(FORMAT_MODES) - 1)]
    if FORMAT_MODES.index(after) > FORMAT_MODES.index(current):
        _format_memory[key] = after


def response_format(mode: str) -> ResponseFormat | None:
    if mode == "json_schema":
        schema = {"name": "schools", "strict": True, "schema": SCHOOLS_JSON_SCHEMA}
        return cast(ResponseFormat, {"type": "json_schema", "json_schema": schema})
    if mode == "json_object":
        return cast(ResponseFormat, {"type": "json_object"})
    return None


@dataclass(frozen=True)
class ChatReply:
    content: str | None
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int


@dataclass
class CallStats:
    """Counters for one chunk, across retries, format probes and re-asks."""

    attempts: int = 0  # HTTP requests sent
    prompt_tokens: int = 0
    completion_tokens: int = 0


class LlmClient:
    """Owns one AsyncOpenAI client; use it from one event loop and ``aclose`` it."""

    def __init__(self, config: LlmConfig, limiter: Limiter = LIMITER) -> None:
        self.config = config
        self.base_url = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.limiter = limiter
        self.key = (self.base_url, config.model)  # what server quirks are remembered by
        limiter.configure(max_in_flight=config.max_in_flight, rpm=config.rpm, tpm=config.tpm)
        self._openai = openai.AsyncOpenAI(
            # Local servers often need no key, but the SDK insists on one.
            api_key=config.api_key or "unused",
            base_url=self.base_url,
            max_retries=0,
            timeout=config.timeout_s,
        )

    async def aclose(self) -> None:
        await self._openai.close()

    async def complete(self, messages: list[Message], stats: CallStats) -> ChatReply:
        while True:
            mode = format_mode(*self.key)
            try:
                completion: ChatCompletion = await self._retrying()(
                    self._send, messages, mode, stats
                )
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if self._adapt(exc, mode):
                    continue
                raise self._translate(exc, stats) from exc
            except openai.OpenAIError as exc:
                raise self._translate(exc, stats) from exc
            return _reply(completion)

    def _adapt(self, exc: openai.APIStatusError, mode: str) -> bool:
        """Learn from a 400 what this server does not support; True if worth resending.

        Each adaptation only ever removes an option, so the loop in ``complete`` ends.
        """
        text = f"{exc.message} {exc.body}".lower()
        if mode != FORMAT_MODES[-1] and any(word in text for word in _FORMAT_WORDS):
            _downgrade(self.key, mode)
            return True
        if "temperature" in text and self.key not in _no_temperature:
            _no_temperature.add(self.key)
            return True
        return False

    def _retrying(self) -> AsyncRetrying:
        c = self.config
        backoff = wait_exponential_jitter(
            multiplier=c.backoff_initial_s, max=c.backoff_max_s, jitter=c.backoff_jitter_s
        )
        return AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_after_attempt(c.max_retries + 1),
            wait=WaitRetryAfter(backoff, cap=c.retry_after_max_s),
            reraise=True,
        )

    async def _send(self, messages: list[Message], mode: str, stats: CallStats) -> ChatCompletion:
        estimate = estimate_tokens(messages, self.config.max_completion_tokens)
        async with self.limiter.slot(estimate):
            stats.attempts += 1
            completion = await self._openai.chat.completions.create(
                model=self.config.model,
                messages=cast("list[ChatCompletionMessageParam]", messages),
                response_format=response_format(mode) or openai.omit,
                temperature=openai.omit if self.key in _no_temperature else 0,
                max_completion_tokens=self.config.max_completion_tokens or openai.omit,
            )
        usage = getattr(completion, "usage", None)
        if usage is not None:
            stats.prompt_tokens += usage.prompt_tokens or 0
            stats.completion_tokens += usage.completion_tokens or 0
            self.limiter.settle_tokens(estimate, usage.total_tokens or 0)
        return completion

    def _translate(self, exc: openai.OpenAIError, stats: CallStats) -> TaskError:
        where, model = self.base_url, self.config.model
        if isinstance(exc, openai.APIStatusError) and not is_retryable(exc):
            return PermanentError(_refusal(exc, where, model))
        attempts = f"after {stats.attempts} attempt{'s' if stats.attempts != 1 else ''}"
        if isinstance(exc, openai.APITimeoutError):
            what = f"timed out (limit {self.config.timeout_s:g}s)"
        elif isinstance(exc, openai.APIConnectionError):
            what = f"could not be reached ({exc.message})"
        elif isinstance(exc, openai.APIStatusError):
            what = f"kept failing ({_status_text(exc.status_code)})"
        else:
            what = f"failed ({type(exc).__name__}: {str(exc)[:200]})"
        return TransientError(f"the LLM server at {where} {what} {attempts}")


def _reply(completion: ChatCompletion) -> ChatReply:
    # Lenient servers may omit fields the SDK declares required; read defensively.
    choices = getattr(completion, "choices", None) or []
    usage = getattr(completion, "usage", None)
    first = choices[0] if choices else None
    message = getattr(first, "message", None)
    return ChatReply(
        content=getattr(message, "content", None),
        finish_reason=getattr(first, "finish_reason", None),
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
    )


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        return True
    if not isinstance(exc, openai.APIStatusError):
        return False
    if exc.status_code == 429 and exc.code == "insufficient_quota":
        return False  # billing, not load: waiting will not help
    return exc.status_code in (408, 409, 429) or exc.status_code >= 500


def _refusal(exc: openai.APIStatusError, where: str, model: str) -> str:
    status = exc.status_code
    if status == 401:
        return f"the API key was refused (401) by {where}; check OPENAI_API_KEY"
    if status == 403:
        return f"access was denied (403) by {where} for model {model!r}"
    if status == 404:
        return (
            f"model {model!r} not found (404) at {where}; "
            "check SCHOOLX_LLM_MODEL and OPENAI_BASE_URL"
        )
    if status == 429:
        return f"the API account at {where} has no quota left (429 insufficient_quota)"
    return f"the LLM server at {where} rejected the request ({status}): {exc.message[:300]}"


def _status_text(status: int) -> str:
    return "rate limited (429)" if status == 429 else f"HTTP {status}"


class WaitRetryAfter(wait_base):
    """Exponential backoff, but never shorter than the server's Retry-After (capped)."""

    def __init__(self, backoff: wait_base, *, cap: float) -> None:
        self.backoff = backoff
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        wait = self.backoff(retry_state)
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        hint = retry_after_seconds(exc)
        return wait if hint is None else max(wait, min(hint, self.cap))


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """The server's Retry-After (seconds or an HTTP date, or retry-after-ms), if any."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers: Any = exc.response.headers
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" dates come back naive; HTTP dates are UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())
