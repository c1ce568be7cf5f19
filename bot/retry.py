"""One backoff policy for deliveries and outbox work."""

from __future__ import annotations

import random
from datetime import timedelta

MAX_DELAY_SECONDS = 3600.0


def backoff(attempt: int, base: float, retry_after: float | None = None) -> timedelta:
    """Exponential with full jitter, never sooner than GitHub's Retry-After."""
    ceiling = min(base * (2 ** max(attempt - 1, 0)), MAX_DELAY_SECONDS)
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return timedelta(seconds=min(delay, MAX_DELAY_SECONDS))
