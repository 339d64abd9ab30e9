"""Choosing the stage-2 extractor: ``rules`` (offline), ``llm``, ``hybrid`` or ``auto``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from handlers.llm.config import LlmConfig, llm_configured
from pipeline.errors import ConfigError

if TYPE_CHECKING:  # the extractors import pypdf and openai: only a worker needs them
    from handlers.extractor import Extractor
    from handlers.hybrid import HybridExtractor
    from handlers.llm.extractor import LlmExtractor
    from models.db import Database

CHOICES = ("rules", "llm", "hybrid", "auto")


def resolve(choice: str, env: Mapping[str, str] | None = None) -> str:
    """``auto`` means the offline reader with the LLM for the pages it is unsure of
    (``hybrid``) when an LLM is configured, else the offline reader alone."""
    env = os.environ if env is None else env
    if choice not in CHOICES:
        raise ConfigError(f"unknown extractor {choice!r}; choose one of {', '.join(CHOICES)}")
    if choice == "auto":
        choice = "hybrid" if llm_configured(env) else "rules"
    elif choice in ("llm", "hybrid") and not llm_configured(env):
        raise ConfigError(f"the {choice} extractor needs OPENAI_API_KEY or OPENAI_BASE_URL")
    if choice in ("llm", "hybrid"):
        LlmConfig.from_env(env)  # bad SCHOOLX_LLM_* settings stop the command now
    return choice


class Extractors:
    """One instance of each extractor per process, created on first use."""

    def __init__(
        self, db: Database, pool: Executor | None = None, page_timeout_s: float = 20.0
    ) -> None:
        from handlers.reader.extractor import OfflineReader

        self._db = db
        # the offline reader is pure CPU: in the pypdf pool, off the event loop
        self._rules = OfflineReader(pool, page_timeout_s)
        self._llm: LlmExtractor | None = None
        self._hybrid: HybridExtractor | None = None

    def get(self, name: str) -> Extractor:
        if name == "rules":
            return self._rules
        if name == "llm":
            return self._llm_extractor()
        if name == "hybrid":
            if self._hybrid is None:
                from handlers.hybrid import HybridExtractor

                self._hybrid = HybridExtractor(self._rules, self._llm_extractor())
            return self._hybrid
        raise ConfigError(f"unknown extractor {name!r}")

    def _llm_extractor(self) -> LlmExtractor:
        if self._llm is None:
            from handlers.llm.extractor import LlmExtractor

            resolve("llm")
            self._llm = LlmExtractor.from_env(self._db.write, read_engine=self._db.read)
        return self._llm

    async def aclose(self) -> None:
        if self._llm is not None:
            await self._llm.aclose()
            self._llm = None
            self._hybrid = None
