"""The inbox on each database: store once, claim fairly, share between workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio

from storage import inbox, migrate
from storage.db import SessionFactory, create_engine, session_factory
from storage.models import DeliveryState

LEASE = timedelta(minutes=5)


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield session_factory(engine)
    await engine.dispose()


def delivery(delivery_id: str, subject: str = "repo:1#1") -> inbox.NewDelivery:
    return inbox.NewDelivery(
        delivery_id=delivery_id,
        event="issues",
        action="edited",
        installation_id=1,
        repository_id=1,
        subject_key=subject,
        headers={"x-github-event": "issues"},
        body=b"{}",
    )


async def store(sessions: SessionFactory, *items: inbox.NewDelivery) -> list[bool]:
    results = []
    for item in items:
        async with sessions.begin() as session:
            results.append(await inbox.store(session, item))
    return results


async def test_same_delivery_id_is_stored_once(sessions: SessionFactory) -> None:
    assert await store(sessions, delivery("a"), delivery("a")) == [True, False]
    assert len(await inbox.recent(sessions)) == 1


async def test_claims_oldest_first_one_per_subject(sessions: SessionFactory) -> None:
    await store(
        sessions,
        delivery("a", "s1"),
        delivery("b", "s1"),
        delivery("c", "s2"),
        delivery("d", "s3"),
    )

    first = await inbox.claim(sessions, limit=10, lease=LEASE)
    assert [row.delivery_id for row in first] == ["a", "c", "d"]

    async with sessions.begin() as session:
        await inbox.finish(session, first[0].id)
    second = await inbox.claim(sessions, limit=10, lease=LEASE)
    assert [row.delivery_id for row in second] == ["b"]


async def test_concurrent_workers_never_share_a_row(sessions: SessionFactory) -> None:
    await store(sessions, *(delivery(f"d{n}", f"s{n}") for n in range(40)))

    batches = await asyncio.gather(
        *(inbox.claim(sessions, limit=7, lease=LEASE) for _ in range(8))
    )

    claimed = [row.delivery_id for batch in batches for row in batch]
    assert len(claimed) == len(set(claimed))
    assert len(claimed) <= 40


async def test_retry_later_waits_and_blocks_its_subject(
    sessions: SessionFactory,
) -> None:
    await store(sessions, delivery("a", "s1"), delivery("b", "s1"))
    [row] = await inbox.claim(sessions, limit=10, lease=LEASE)

    await inbox.retry_later(sessions, row.id, "github 502", timedelta(minutes=1))

    assert await inbox.claim(sessions, limit=10, lease=LEASE) == []


async def test_failed_row_does_not_block_later_ones(sessions: SessionFactory) -> None:
    await store(sessions, delivery("a", "s1"), delivery("b", "s1"))
    [row] = await inbox.claim(sessions, limit=10, lease=LEASE)

    await inbox.give_up(sessions, row.id, "github 404", DeliveryState.FAILED)

    [later] = await inbox.claim(sessions, limit=10, lease=LEASE)
    assert later.delivery_id == "b"


async def test_replay_requeues_a_finished_delivery(sessions: SessionFactory) -> None:
    await store(sessions, delivery("a"))
    [row] = await inbox.claim(sessions, limit=10, lease=LEASE)
    async with sessions.begin() as session:
        await inbox.finish(session, row.id)

    assert await inbox.requeue(sessions, "a")
    [again] = await inbox.claim(sessions, limit=10, lease=LEASE)
    assert again.delivery_id == "a" and again.attempts == 1
    assert not await inbox.requeue(sessions, "missing")
