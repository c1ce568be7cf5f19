"""Outbox topics and the functions that carry them out after commit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

EffectFunction = Callable[[dict[str, Any]], Awaitable[None]]

# Topic of a published domain event; its payload is {"name", "data"}.
PUBLISH = "publish"


class Effects:
    """A registry from outbox topic to the coroutine that carries it out."""

    def __init__(self) -> None:
        self._functions: dict[str, EffectFunction] = {}

    def register(self, topic: str, function: EffectFunction) -> None:
        self._functions[topic] = function

    async def run(self, topic: str, payload: dict[str, Any]) -> None:
        function = self._functions.get(topic)
        if function is None:
            # Written by a newer release during a rolling deploy: keep it, loudly.
            raise RuntimeError(f"no effect registered for outbox topic {topic!r}")
        await function(payload)
