"""Stage 2 through any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp, ...)."""

from handlers.llm.cache import CachedReply, MemoryResponseCache, ResponseCache, SqlResponseCache
from handlers.llm.config import LlmConfig, llm_configured
from handlers.llm.cost import estimate_cost
from handlers.llm.extractor import InvalidReplyError, LlmExtractor

__all__ = [
    "CachedReply",
    "InvalidReplyError",
    "LlmConfig",
    "LlmExtractor",
    "MemoryResponseCache",
    "ResponseCache",
    "SqlResponseCache",
    "estimate_cost",
    "llm_configured",
]
