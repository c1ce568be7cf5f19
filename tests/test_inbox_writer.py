"""The SQLite inbox writer stores rows the ORM reads back unchanged."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from storage import inbox, migrate
from storage.db import create_engine, session_factory
from storage.models import Delivery, DeliveryState
from storage.writer import sqlite_writer


def new(delivery_id: str) -> inbox.NewDelivery:
    return inbox.NewDelivery(
        delivery_id=delivery_id,
        event="issues",
        action="opened",
        installation_id=3,
        repository_id=5,
        subject_key="repo:5#1",
        headers={"x-github-event": "issues", "user-agent": "GitHub-Hookshot/1"},
        body=b'{"action": "opened"}',
    )


async def test_group_commit_answers_each_caller_and_rows_read_back(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    writer = sqlite_writer(url)
    writer.start()
    try:
        ids = [f"d{n}" for n in range(50)] + ["d0", "d1"]
        answers = await asyncio.gather(*(writer.store(new(i)) for i in ids))
    finally:
        await writer.close()

    assert answers == [True] * 50 + [False, False]
    async with session_factory(engine)() as session:
        rows = (await session.scalars(select(Delivery).order_by(Delivery.id))).all()
    await engine.dispose()
    assert len(rows) == 50
    first = rows[0]
    assert first.state == DeliveryState.PENDING
    assert first.headers["user-agent"] == "GitHub-Hookshot/1"
    assert first.body == b'{"action": "opened"}'
    assert first.received_at.tzinfo is not None
    assert first.next_attempt_at <= first.received_at
