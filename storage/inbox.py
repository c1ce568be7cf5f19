"""The delivery inbox: store once, claim in subject order, finish or retry."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import SessionFactory
from storage.models import Delivery, DeliveryState, utcnow

BLOCKING_STATES = (DeliveryState.PENDING, DeliveryState.PROCESSING)


@dataclass(frozen=True)
class NewDelivery:
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    subject_key: str
    headers: dict[str, Any]
    body: bytes


def row_columns() -> tuple[str, ...]:
    return tuple(row_values(NewDelivery("", "", None, None, None, "", {}, b"")))


def row_values(delivery: NewDelivery) -> dict[str, Any]:
    """The inbox row of a new delivery, column by column."""
    now = utcnow()
    return {
        "delivery_id": delivery.delivery_id,
        "event": delivery.event,
        "action": delivery.action,
        "installation_id": delivery.installation_id,
        "repository_id": delivery.repository_id,
        "subject_key": delivery.subject_key,
        "headers": delivery.headers,
        "body": delivery.body,
        "received_at": now,
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
    }


def _first_of_each(deliveries: list[NewDelivery]) -> dict[str, int]:
    first: dict[str, int] = {}
    for index, delivery in enumerate(deliveries):
        first.setdefault(delivery.delivery_id, index)
    return first


@functools.cache
def _insert(dialect: str) -> Any:
    # One constant statement per dialect, so SQLAlchemy compiles it once.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(Delivery)
        .on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(Delivery.id)
    )


async def store_many(
    session: AsyncSession, deliveries: list[NewDelivery]
) -> list[bool]:
    """Insert each unknown delivery; for each, True when it was new."""
    first = _first_of_each(deliveries)
    statement = _insert(_dialect(session))
    inserted = set()
    for delivery_id, index in first.items():
        result = await session.execute(statement, row_values(deliveries[index]))
        if result.first() is not None:
            inserted.add(delivery_id)
    return [
        first[d.delivery_id] == index and d.delivery_id in inserted
        for index, d in enumerate(deliveries)
    ]


async def store(session: AsyncSession, delivery: NewDelivery) -> bool:
    """Insert the delivery unless its id is known; True when it was new."""
    return (await store_many(session, [delivery]))[0]


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _claimable(now: datetime) -> Any:
    earlier = aliased(Delivery)
    waiting_ahead = exists().where(
        earlier.subject_key == Delivery.subject_key,
        earlier.id < Delivery.id,
        earlier.state.in_(BLOCKING_STATES),
    )
    ready = or_(
        and_(Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= now),
        # A lease that ran out means the worker holding it died.
        and_(
            Delivery.state == DeliveryState.PROCESSING,
            Delivery.lease_expires_at < now,
        ),
    )
    return and_(ready, ~waiting_ahead)


async def claim(
    sessions: SessionFactory,
    *,
    limit: int,
    lease: timedelta,
) -> list[Delivery]:
    """Lease up to `limit` rows, at most one per subject, oldest first.

    One UPDATE ... RETURNING marks the rows, so two claimers can never both
    take a row: SQLite runs the statement under its write lock, PostgreSQL
    skips rows another worker has locked.
    """
    now = utcnow()
    async with sessions.begin() as session:
        candidates = (
            select(Delivery.id)
            .where(_claimable(now))
            .order_by(Delivery.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True, of=Delivery)
        statement = (
            update(Delivery)
            .where(Delivery.id.in_(candidates.scalar_subquery()))
            .values(
                state=DeliveryState.PROCESSING,
                attempts=Delivery.attempts + 1,
                lease_expires_at=now + lease,
            )
            .returning(Delivery)
            .execution_options(synchronize_session=False)
        )
        rows = list((await session.scalars(statement)).all())
    return sorted(rows, key=lambda row: row.id)


async def finish(session: AsyncSession, row_id: int) -> None:
    """Mark done inside the transaction that holds the delivery's work."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id == row_id)
        .values(
            state=DeliveryState.DONE,
            finished_at=utcnow(),
            lease_expires_at=None,
            last_error=None,
        )
    )


async def retry_later(
    sessions: SessionFactory, row_id: int, error: str, delay: timedelta
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == row_id)
            .values(
                state=DeliveryState.PENDING,
                last_error=error[:4000],
                next_attempt_at=utcnow() + delay,
                lease_expires_at=None,
            )
        )


async def give_up(
    sessions: SessionFactory, row_id: int, error: str, state: DeliveryState
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == row_id)
            .values(
                state=state,
                last_error=error[:4000],
                finished_at=utcnow(),
                lease_expires_at=None,
            )
        )


async def release_all_leases(sessions: SessionFactory) -> int:
    """Embedded mode: one process owns the inbox, so any lease is a dead one."""
    async with sessions.begin() as session:
        result = await session.execute(
            update(Delivery)
            .where(Delivery.state == DeliveryState.PROCESSING)
            .values(state=DeliveryState.PENDING, lease_expires_at=None)
        )
    return int(getattr(result, "rowcount", 0))


async def requeue(sessions: SessionFactory, delivery_id: str) -> bool:
    """Make a stored delivery run again (`replay`)."""
    async with sessions.begin() as session:
        result = await session.execute(
            update(Delivery)
            .where(Delivery.delivery_id == delivery_id)
            .values(
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=utcnow(),
                lease_expires_at=None,
                finished_at=None,
            )
        )
    return bool(getattr(result, "rowcount", 0))


async def recent(sessions: SessionFactory, limit: int = 20) -> list[Delivery]:
    async with sessions() as session:
        query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
        return list((await session.scalars(query)).all())


async def by_delivery_id(sessions: SessionFactory, delivery_id: str) -> Delivery | None:
    async with sessions() as session:
        query = select(Delivery).where(Delivery.delivery_id == delivery_id)
        return (await session.scalars(query)).first()
