"""Backoff for requeued tasks. (Calls to the outside world retry with tenacity at their
own edge: the LLM client, and database lock contention in models.retrying.)"""

from __future__ import annotations

import random


def backoff_delay(attempt: int, base_s: float, cap_s: float) -> float:
    """Full-jitter exponential backoff: uniform in [base/2, min(cap, base * 2**(attempt-1))]."""
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    return random.uniform(min(base_s / 2, ceiling), ceiling)
