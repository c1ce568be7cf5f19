"""Which reviews still stand: per reviewer the latest vote, on the current head."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Outcome, Review, Task


async def standing_approvals(session: AsyncSession, task: Task) -> list[Review]:
    """Per reviewer, the latest counted vote, when it approves the head."""
    rows = await session.scalars(
        select(Review)
        .where(Review.task_id == task.id, Review.counts.is_(True))
        .order_by(Review.id)
    )
    latest: dict[int | None, Review] = {}
    for row in rows:
        latest[row.reviewer_id] = row
    return [
        row
        for row in latest.values()
        if row.outcome == Outcome.APPROVED and row.head_sha == task.head_sha
    ]


async def latest_rejection(session: AsyncSession, task: Task) -> Review | None:
    """The counted review that sent the task back, if the latest vote did."""
    row = await session.scalar(
        select(Review)
        .where(Review.task_id == task.id, Review.counts.is_(True))
        .order_by(Review.id.desc())
        .limit(1)
    )
    return row if row is not None and row.outcome == Outcome.REJECTED else None
