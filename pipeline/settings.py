"""Queue limits and timings, read from the environment once at startup."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from pipeline.errors import ConfigError

ENV_PREFIX = "SCHOOLX_"


@dataclass(frozen=True)
class QueueSettings:
    """Every knob of the queue; each field can be set as ``SCHOOLX_<FIELD>`` (upper case)."""

    max_processing: int = 7  # tasks processing at once, across all workers
    max_processing_per_user: int = 5
    # Tasks one worker process runs at once; 0 means up to max_processing. With several
    # worker machines, set it so the slots spread (a finishing worker claims the next task
    # at once, so one worker with room for all 7 would keep them).
    worker_concurrency: int = 0
    max_active_per_user: int = 5  # pending + processing, checked at enqueue
    max_attempts: int = 3
    lease_s: float = 30.0
    heartbeat_s: float = 5.0  # also how often cancel requests from other processes are seen
    sweep_s: float = 10.0  # how often expired leases are taken back
    # A worker still running but silent this long (no renewal) is presumed hung: its
    # tasks are taken back even though its process lives (models.liveness).
    silent_worker_s: float = 300.0
    poll_s: float = 0.5  # idle poll when nothing wakes the worker
    retry_base_s: float = 2.0  # task-level backoff: base * 2**(attempt-1), jittered
    retry_cap_s: float = 300.0
    shutdown_grace_s: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> QueueSettings:
        env = os.environ if env is None else env
        values: dict[str, int | float] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            kind = int if f.type in ("int", int) else float
            try:
                values[f.name] = kind(raw)
            except ValueError as exc:
                raise ConfigError(
                    f"{ENV_PREFIX}{f.name.upper()}={raw!r} is not a valid {kind.__name__}"
                ) from exc
            if values[f.name] < 0 or (values[f.name] == 0 and f.name != "worker_concurrency"):
                raise ConfigError(f"{ENV_PREFIX}{f.name.upper()} must be positive, got {raw}")
        return cls(**values)  # type: ignore[arg-type]

    @staticmethod
    def describe() -> list[tuple[str, str]]:
        """(variable, default) pairs for ``--help``."""
        return [(ENV_PREFIX + f.name.upper(), str(f.default)) for f in fields(QueueSettings)]
