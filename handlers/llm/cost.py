"""What a run cost, from token usage and a price table."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.llm.config import Prices


def estimate_cost(usage: Mapping[str, int], model: str, prices: Prices) -> float | None:
    """USD for ``usage``; None when the model has no price (local servers, unknown models)."""
    price = prices.get(model)
    if price is None:
        return None
    per_in, per_out = price
    prompt = usage.get("prompt_tokens", 0)
    completion = usage.get("completion_tokens", 0)
    return (prompt * per_in + completion * per_out) / 1_000_000
