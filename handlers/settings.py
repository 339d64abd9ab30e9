"""Knobs of the PDF handler, from ``SCHOOLX_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from pipeline.errors import ConfigError


@dataclass(frozen=True)
class PdfSettings:
    page_timeout_s: float = 20.0  # a page whose text takes longer is skipped and recorded
    max_content_bytes: int = 20_000_000  # a page whose content stream is larger is skipped
    pages_per_job: int = 25  # pages per process-pool job in stage 1
    text_workers: int = 2  # processes for pypdf (both cores by default)
    chunk_concurrency: int = 8  # chunks of one document extracted at once
    max_upload_bytes: int = 100_000_000
    upload_idle_timeout_s: float = 30.0  # an upload sending nothing this long gets 408
    upload_timeout_s: float = 900.0  # and one taking longer in all (100 MB at ~1 Mbit/s)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PdfSettings:
        env = os.environ if env is None else env
        values: dict[str, float | int] = {}
        for f in fields(cls):
            name = "SCHOOLX_" + f.name.upper()
            raw = env.get(name)
            if not raw:
                continue
            kind = int if f.type in ("int", int) else float
            try:
                values[f.name] = kind(raw)
            except ValueError as exc:
                raise ConfigError(f"{name}={raw!r} is not a valid {kind.__name__}") from exc
        return cls(**values)  # type: ignore[arg-type]

    @staticmethod
    def describe() -> list[tuple[str, str]]:
        return [("SCHOOLX_" + f.name.upper(), str(f.default)) for f in fields(PdfSettings)]
