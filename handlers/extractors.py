"""Choosing the stage-2 extractor: ``rules`` (offline), ``llm``, or ``auto``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import Executor

from handlers.extractor import Extractor
from handlers.llm.config import llm_configured
from handlers.llm.extractor import LlmExtractor
from handlers.reader.extractor import OfflineReader
from models.db import Database
from pipeline.errors import ConfigError

CHOICES = ("rules", "llm", "auto")


def resolve(choice: str, env: Mapping[str, str] | None = None) -> str:
    """``auto`` means the LLM when one is configured, else the offline rules."""
    env = os.environ if env is None else env
    if choice not in CHOICES:
        raise ConfigError(f"unknown extractor {choice!r}; choose one of {', '.join(CHOICES)}")
    if choice == "auto":
        return "llm" if llm_configured(env) else "rules"
    if choice == "llm" and not llm_configured(env):
        raise ConfigError("the llm extractor needs OPENAI_API_KEY or OPENAI_BASE_URL")
    return choice


class Extractors:
    """One instance of each extractor per process, created on first use."""

    def __init__(
        self, db: Database, pool: Executor | None = None, page_timeout_s: float = 20.0
    ) -> None:
        self._db = db
        # the offline reader is pure CPU: in the pypdf pool, off the event loop
        self._rules = OfflineReader(pool, page_timeout_s)
        self._llm: LlmExtractor | None = None

    def get(self, name: str) -> Extractor:
        if name == "rules":
            return self._rules
        if name == "llm":
            if self._llm is None:
                resolve("llm")
                self._llm = LlmExtractor.from_env(self._db.write, read_engine=self._db.read)
            return self._llm
        raise ConfigError(f"unknown extractor {name!r}")

    async def aclose(self) -> None:
        if self._llm is not None:
            await self._llm.aclose()
            self._llm = None
