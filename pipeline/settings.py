"""Settings, read from ``SCHOOLX_*`` environment variables once at startup and validated.

Every settings class is a frozen dataclass whose fields carry their bounds: a value that
is not a number, not finite (``nan``, ``inf``) or out of range (a concurrency of 0 would
make every task wait for ever) stops the command with one line naming the variable, before
anything runs. ``load`` is the one reader of the environment for them.

The classes are plain dataclasses with ``annotated_types`` bounds, and pydantic checks
them only in ``load`` when a variable is set: building a pydantic dataclass costs a tenth
of a second at import, which every command (``--help`` lists the defaults) would pay.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Annotated, Any, ClassVar, TypeVar

from annotated_types import Ge, Gt

from pipeline.errors import ConfigError

ENV_PREFIX = "SCHOOLX_"
# pydantic reads this off a plain dataclass (``__pydantic_config__``).
STRICT: Any = {"allow_inf_nan": False, "extra": "forbid"}

S = TypeVar("S")
Count = Annotated[int, Ge(1)]
Seconds = Annotated[float, Gt(0)]
NonNegative = Annotated[float, Ge(0)]


def env_name(field_name: str, prefix: str = ENV_PREFIX) -> str:
    return prefix + field_name.upper()


def load(cls: type[S], env: Mapping[str, str] | None = None, *, prefix: str = ENV_PREFIX) -> S:
    """``cls`` with every field set in ``env`` (default: the process environment) as
    ``<prefix><FIELD>``; ConfigError naming each bad variable otherwise."""
    env = os.environ if env is None else env
    names = {f.name: env_name(f.name, prefix) for f in fields(cls)}  # type: ignore[arg-type]
    raw = {n: env[var].strip() for n, var in names.items() if env.get(var, "").strip()}
    if not raw:
        return cls()  # the defaults, valid by construction (tests/faults/test_settings.py)
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(cls).validate_python(raw)
    except ValidationError as exc:
        problems = (_problem(e, raw, prefix) for e in exc.errors())
        raise ConfigError("; ".join(problems)) from exc


def _problem(error: Any, raw: Mapping[str, str], prefix: str) -> str:
    name = str(error["loc"][0]) if error.get("loc") else "?"
    message = str(error.get("msg", "invalid")).replace("Input should be", "must be")
    return f"{env_name(name, prefix)}={raw.get(name, '')!r}: {message}"


def describe(cls: type[Any], prefix: str = ENV_PREFIX) -> list[tuple[str, str]]:
    """(variable, default) pairs for ``--help``."""
    return [(env_name(f.name, prefix), str(f.default)) for f in fields(cls)]


@dataclass(frozen=True)
class QueueSettings:
    """Every knob of the queue; each field can be set as ``SCHOOLX_<FIELD>`` (upper case)."""

    __pydantic_config__: ClassVar[Any] = STRICT

    max_processing: Count = 7  # tasks processing at once, across all workers
    max_processing_per_user: Count = 5
    # Tasks one worker process runs at once; 0 means up to max_processing. With several
    # worker machines, set it so the slots spread (a finishing worker claims the next task
    # at once, so one worker with room for all 7 would keep them).
    worker_concurrency: Annotated[int, Ge(0)] = 0
    max_active_per_user: Count = 5  # pending + processing, checked at enqueue
    max_attempts: Count = 3
    lease_s: Seconds = 30.0
    heartbeat_s: Seconds = 5.0  # also how often cancel requests from other processes are seen
    sweep_s: Seconds = 10.0  # how often expired leases are taken back
    # A worker still running but silent this long (no renewal) is presumed hung: its
    # tasks are taken back even though its process lives (models.liveness).
    silent_worker_s: Seconds = 300.0
    poll_s: Seconds = 0.5  # idle poll when nothing wakes the worker
    retry_base_s: Seconds = 2.0  # task-level backoff: base * 2**(attempt-1), jittered
    retry_cap_s: Seconds = 300.0
    shutdown_grace_s: NonNegative = 10.0
    inbox_settle_s: NonNegative = 1.0  # stable this long before taken
    sse_keepalive_s: Seconds = 15.0  # a comment line on a quiet event stream

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> QueueSettings:
        return load(cls, env)

    @staticmethod
    def describe() -> list[tuple[str, str]]:
        return describe(QueueSettings)
