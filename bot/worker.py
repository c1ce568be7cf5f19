"""Drains the inbox through the handlers and the outbox through the effects."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from gidgethub import sansio
from gidgethub.routing import Router

from bot import metrics, outbox
from bot.context import DeliveryContext
from bot.effects import Effects
from bot.github import PermanentError, TransientError, classify
from bot.retry import backoff
from bot.services import Services
from storage import inbox
from storage.models import Delivery, DeliveryState, OutboxEvent

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
IDLE_POLL_SECONDS = 1.0


class Worker:
    def __init__(self, services: Services, router: Router, effects: Effects) -> None:
        self.services = services
        self.router = router
        self.effects = effects
        self.concurrency = max(services.settings.worker_concurrency, 1)
        self._queued_effects = False
        self._outbox_checked = 0.0
        # Jobs that live as long as `run` (scheduled reconcile), given its stop.
        self.background: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = []

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; sleep on the new-work signal when idle."""
        log.info("worker started", extra={"concurrency": self.concurrency})
        jobs = [asyncio.create_task(job(stop)) for job in self.background]
        while not stop.is_set():
            try:
                busy = await self.step()
            except Exception:
                log.exception("worker step failed")
                busy = 0
            if not busy:
                await _wait_for_work(self.services.new_work, stop)
        await asyncio.gather(*jobs, return_exceptions=True)

    async def drain(self, max_steps: int = 1000) -> int:
        """Run until nothing is ready now; returns how many items ran."""
        total = 0
        for _ in range(max_steps):
            done = await self.step()
            if not done:
                break
            total += done
        return total

    async def step(self) -> int:
        self.services.new_work.clear()
        deliveries = await inbox.claim(
            self.services.sessions, limit=self.concurrency, lease=LEASE
        )
        await asyncio.gather(*(self.process(row) for row in deliveries))
        if not self._outbox_due(busy=bool(deliveries)):
            return len(deliveries)
        self._outbox_checked = time.monotonic()
        self._queued_effects = False
        effects = await outbox.claim(
            self.services.sessions, limit=self.concurrency * 4, lease=LEASE
        )
        await self._run_effects(effects)
        return len(deliveries) + len(effects)

    def _outbox_due(self, *, busy: bool) -> bool:
        """Skip the outbox query while deliveries queue nothing, up to a second.

        Idle steps always look: the REST API and retries fill it too.
        """
        waited = time.monotonic() - self._outbox_checked
        return not busy or self._queued_effects or waited >= IDLE_POLL_SECONDS

    async def process(self, row: Delivery) -> None:
        started = time.perf_counter()
        fields: dict[str, Any] = {
            "delivery": row.delivery_id,
            "event": row.event,
            "action": row.action,
            "attempt": row.attempts,
        }
        try:
            outcome = await self._handle(row)
        except Exception as exc:
            await self._failed(row, exc, fields)
            return
        elapsed = time.perf_counter() - started
        fields["outcome"] = outcome
        fields["ms"] = round(elapsed * 1000, 1)
        metrics.DELIVERIES_PROCESSED.labels(event=row.event, outcome="done").inc()
        metrics.DELIVERY_SECONDS.labels(event=row.event).observe(elapsed)
        log.info("delivery done", extra=fields)

    async def _handle(self, row: Delivery) -> str:
        payload = json.loads(row.body)
        event = sansio.Event(payload, event=row.event, delivery_id=row.delivery_id)
        async with self.services.sessions.begin() as session:
            outcome = "ignored: own event"
            if not await self._is_own(payload):
                context = DeliveryContext(
                    self.services, session, row.delivery_id, row.event, payload
                )
                await self.router.dispatch(event, context)
                outcome = "handled"
            # Done only together with the work: a crash before commit retries.
            await inbox.finish(session, row.id)
        if session.info.get(outbox.QUEUED):
            self._queued_effects = True
        return outcome

    async def _is_own(self, payload: dict[str, Any]) -> bool:
        sender = payload.get("sender")
        if not isinstance(sender, dict) or sender.get("type") != "Bot":
            return False
        own = await self.services.bot_login()
        return own is not None and sender.get("login") == own

    async def _failed(
        self, row: Delivery, exc: Exception, fields: dict[str, Any]
    ) -> None:
        kind = classify(exc) or _malformed(exc)
        settings = self.services.settings
        sessions = self.services.sessions
        fields["error"] = str(kind or exc)
        metrics.DELIVERIES_PROCESSED.labels(event=row.event, outcome="error").inc()
        if isinstance(kind, PermanentError):
            log.warning("delivery failed", extra=fields)
            await inbox.give_up(sessions, row.id, str(kind), DeliveryState.FAILED)
            return
        if row.attempts >= settings.max_attempts:
            log.error("delivery dead", extra=fields, exc_info=kind is None)
            await inbox.give_up(sessions, row.id, str(kind or exc), DeliveryState.DEAD)
            return
        retry_after = kind.retry_after if isinstance(kind, TransientError) else None
        delay = backoff(row.attempts, settings.retry_base_seconds, retry_after)
        fields["retry_in_s"] = round(delay.total_seconds(), 1)
        # An unexpected exception is a bug: keep its traceback in the log.
        log.warning("delivery will retry", extra=fields, exc_info=kind is None)
        await inbox.retry_later(sessions, row.id, _describe(exc, kind), delay)

    async def _run_effects(self, rows: list[OutboxEvent]) -> None:
        # Effects for one subject run in order; different subjects run at once.
        groups: dict[str, list[OutboxEvent]] = defaultdict(list)
        for row in rows:
            groups[str(row.payload.get("subject", row.id))].append(row)
        await asyncio.gather(*(self._run_group(group) for group in groups.values()))

    async def _run_group(self, rows: list[OutboxEvent]) -> None:
        for row in rows:
            await self._run_effect(row)

    async def _run_effect(self, row: OutboxEvent) -> None:
        sessions = self.services.sessions
        fields = {"outbox": row.id, "topic": row.topic, "attempt": row.attempts}
        try:
            await self.effects.run(row.topic, row.payload)
        except Exception as exc:
            metrics.EFFECTS.labels(topic=row.topic, outcome="error").inc()
            kind = classify(exc)
            fields["error"] = str(kind or exc)
            if isinstance(kind, PermanentError) or (
                row.attempts >= self.services.settings.max_attempts
            ):
                log.error("effect dead", extra=fields, exc_info=kind is None)
                await outbox.mark_dead(sessions, row.id, _describe(exc, kind))
                return
            retry_after = kind.retry_after if isinstance(kind, TransientError) else None
            delay = backoff(
                row.attempts, self.services.settings.retry_base_seconds, retry_after
            )
            log.warning("effect will retry", extra=fields, exc_info=kind is None)
            await outbox.mark_retry(sessions, row.id, _describe(exc, kind), delay)
            return
        metrics.EFFECTS.labels(topic=row.topic, outcome="done").inc()
        await outbox.mark_done(sessions, row.id)


def _malformed(exc: Exception) -> PermanentError | None:
    """A payload without the fields its event always has will not grow them."""
    if isinstance(exc, (KeyError, TypeError)):
        return PermanentError(f"malformed payload: {type(exc).__name__}: {exc}")
    return None


def _describe(exc: BaseException, kind: BaseException | None) -> str:
    return str(kind) if kind is not None else f"{type(exc).__name__}: {exc}"


async def _wait_for_work(signal: asyncio.Event, stop: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(signal.wait()), asyncio.ensure_future(stop.wait())]
    _done, pending = await asyncio.wait(
        waiters, timeout=IDLE_POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
    )
    for waiter in pending:
        waiter.cancel()
