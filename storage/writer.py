"""Group commit for the webhook view: many deliveries, one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from storage import inbox
from storage.db import SessionFactory

log = logging.getLogger(__name__)

MAX_BATCH = 512


class InboxWriter:
    """Each caller waits for the commit holding its row, so a 202 is durable.

    Concurrent requests share one transaction instead of queueing for
    SQLite's single write lock one by one.
    """

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self._waiting: list[tuple[inbox.NewDelivery, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def store(self, delivery: inbox.NewDelivery) -> bool:
        if self._task is None:  # not started: write directly
            async with self.sessions.begin() as session:
                return await inbox.store(session, delivery)
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, answer))
        self._wake.set()
        return await answer

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                batch = self._waiting[:MAX_BATCH]
                del self._waiting[:MAX_BATCH]
                await self._write(batch)

    async def _write(
        self, batch: list[tuple[inbox.NewDelivery, asyncio.Future[bool]]]
    ) -> None:
        try:
            async with self.sessions.begin() as session:
                results = await inbox.store_many(session, [d for d, _ in batch])
        except Exception as exc:  # every waiter hears of it and answers 5xx
            log.exception("inbox write failed", extra={"batch": len(batch)})
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(exc)
            return
        for (_, answer), new in zip(batch, results, strict=True):
            if not answer.done():
                answer.set_result(new)
