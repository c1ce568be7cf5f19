"""The outbox: work recorded with a state change, carried out after commit."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import SessionFactory
from storage.models import OutboxEvent, OutboxState, utcnow

log = logging.getLogger(__name__)

# Set in a session's `info` when work was queued in it: the worker then looks.
QUEUED = "outbox_queued"


async def enqueue(
    session: AsyncSession,
    topic: str,
    payload: dict[str, Any],
    *,
    dedup_key: str | None = None,
) -> None:
    """Record work for after commit; a pending row with the same key absorbs it."""
    session.info[QUEUED] = True
    values = {
        "topic": topic,
        "payload": payload,
        "dedup_key": dedup_key,
        "state": OutboxState.PENDING,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "created_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(OutboxEvent).values(values)
    if dedup_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["dedup_key"])
    await session.execute(statement)


async def claim(
    sessions: SessionFactory, *, limit: int, lease: timedelta
) -> list[OutboxEvent]:
    """Lease due rows in one UPDATE ... RETURNING, as the inbox does."""
    now = utcnow()
    async with sessions.begin() as session:
        candidates = (
            select(OutboxEvent.id)
            .where(
                OutboxEvent.state == OutboxState.PENDING,
                OutboxEvent.next_attempt_at <= now,
                or_(
                    OutboxEvent.lease_expires_at.is_(None),
                    OutboxEvent.lease_expires_at < now,
                ),
            )
            .order_by(OutboxEvent.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(candidates.scalar_subquery()))
            .values(
                attempts=OutboxEvent.attempts + 1,
                lease_expires_at=now + lease,
                # Free the key at once: a change made while this runs queues anew.
                dedup_key=None,
            )
            .returning(OutboxEvent)
            .execution_options(synchronize_session=False)
        )
        rows = list((await session.scalars(statement)).all())
    return sorted(rows, key=lambda row: row.id)


async def release_all_leases(sessions: SessionFactory) -> None:
    """Embedded mode: one process owns the outbox, so any lease is a dead one."""
    async with sessions.begin() as session:
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.state == OutboxState.PENDING)
            .values(lease_expires_at=None)
        )


async def mark_done(sessions: SessionFactory, row_id: int) -> None:
    await _set(sessions, row_id, state=OutboxState.DONE, lease_expires_at=None)


async def mark_retry(
    sessions: SessionFactory, row_id: int, error: str, delay: timedelta
) -> None:
    await _set(
        sessions,
        row_id,
        last_error=error[:4000],
        next_attempt_at=utcnow() + delay,
        lease_expires_at=None,
    )


async def mark_dead(sessions: SessionFactory, row_id: int, error: str) -> None:
    await _set(
        sessions,
        row_id,
        state=OutboxState.DEAD,
        last_error=error[:4000],
        lease_expires_at=None,
    )


async def _set(sessions: SessionFactory, row_id: int, **values: Any) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.id == row_id).values(**values)
        )
