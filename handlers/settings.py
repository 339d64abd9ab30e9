"""Knobs of the PDF handler and of uploads, from ``SCHOOLX_*`` environment variables
(validated like every setting: see ``pipeline.settings``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pipeline.settings import STRICT, Count, Seconds, describe, load


@dataclass(frozen=True)
class PdfSettings:
    __pydantic_config__: ClassVar[Any] = STRICT

    page_timeout_s: Seconds = 20.0  # a page whose text takes longer is skipped and recorded
    # All pages of one document: what is not read by then is skipped and recorded.
    document_timeout_s: Seconds = 600.0
    max_pages: Count = 5000  # a longer document is refused
    # A pool job stops after this long and the rest of its pages queue again, so other
    # documents' pages get a process in between (a job ends after its current page).
    job_budget_s: Seconds = 10.0
    max_content_bytes: Count = 20_000_000  # a page whose content stream is larger is skipped
    pages_per_job: Count = 25  # pages per process-pool job in stage 1
    text_workers: Count = 2  # processes for pypdf (both cores by default)
    chunk_concurrency: Count = 8  # chunks of one document extracted at once
    max_upload_bytes: Count = 100_000_000
    upload_idle_timeout_s: Seconds = 30.0  # an upload sending nothing this long gets 408
    upload_timeout_s: Seconds = 900.0  # and one taking longer in all (100 MB at ~1 Mbit/s)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PdfSettings:
        return load(cls, env)

    @staticmethod
    def describe() -> list[tuple[str, str]]:
        return describe(PdfSettings)
