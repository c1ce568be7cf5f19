"""Domain events reach RabbitMQ when AMQP_URL is set."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from bot.events import EXCHANGE, TASK_APPROVED, Publisher

AMQP_URL = os.environ.get("TEST_AMQP_URL")


@pytest.mark.skipif(not AMQP_URL, reason="TEST_AMQP_URL is not set: AMQP run skipped")
async def test_published_event_arrives_on_the_topic_exchange() -> None:
    import aio_pika

    assert AMQP_URL is not None
    publisher = Publisher()
    await publisher.connect_amqp(AMQP_URL)
    connection = await aio_pika.connect_robust(AMQP_URL)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(f"test-{uuid.uuid4()}", exclusive=True)
        await queue.bind(exchange, routing_key="Task.*")

        await publisher.publish(TASK_APPROVED, {"taskId": 7})

        message = await queue.get(timeout=10)
        await message.ack()
        assert json.loads(message.body) == {
            "event": "Task.APPROVED",
            "data": {"taskId": 7},
        }
        assert message.routing_key == "Task.APPROVED"
    finally:
        await connection.close()
        await publisher.close()
