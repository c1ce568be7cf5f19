"""Domain events: in-process subscribers and, when configured, AMQP."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

# The published names are a contract with outside consumers.
TASK_CREATED = "Task.CREATED"
TASK_SUBMITTED = "Task.SUBMITTED"
TASK_APPROVED = "Task.APPROVED"
TASK_REJECTED = "Task.REJECTED"
REVIEW_CREATED = "Review.CREATED"
CI_RESULT = "CI.RESULT"

Subscriber = Callable[[str, dict[str, Any]], Awaitable[None]]
EXCHANGE = "workflow-bot"


class Publisher:
    """Fans each event out to subscribers; AMQP is one of them when set up."""

    def __init__(self) -> None:
        self.subscribers: list[Subscriber] = []
        self._amqp: Any = None
        self._exchange: Any = None

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    async def connect_amqp(self, url: str) -> None:
        import aio_pika

        self._amqp = await aio_pika.connect_robust(url)
        channel = await self._amqp.channel(publisher_confirms=True)
        self._exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def close(self) -> None:
        if self._amqp is not None:
            await self._amqp.close()

    async def publish(self, name: str, data: dict[str, Any]) -> None:
        log.info("event published", extra={"event_name": name, "data": data})
        for subscriber in self.subscribers:
            await subscriber(name, data)
        if self._exchange is not None:
            await self._publish_amqp(name, data)

    async def _publish_amqp(self, name: str, data: dict[str, Any]) -> None:
        import aio_pika

        message = aio_pika.Message(
            json.dumps({"event": name, "data": data}).encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await self._exchange.publish(message, routing_key=name)
