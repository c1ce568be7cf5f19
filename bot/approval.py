"""After an approval: how long it took, and the deploy `repository_dispatch`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.mirror import split
from bot.services import Services
from storage.models import AuditEntry, Review, Task

log = logging.getLogger(__name__)


def duration_text(span: timedelta | None) -> str:
    if span is None:
        return "unknown"
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m"]
    return " ".join(part for part in parts if part)


def cycle_time(task: Task) -> timedelta | None:
    if task.approved_at is None:
        return None
    return task.approved_at - task.created_at


async def review_turnaround(session: AsyncSession, task: Task) -> timedelta | None:
    """Submission to the first review by a person (CI's verdicts are not one)."""
    if task.submitted_at is None:
        return None
    reviews = await session.scalars(
        select(Review.created_at)
        .where(Review.task_id == task.id, Review.reviewer_id.is_not(None))
        .order_by(Review.id)
    )
    first: datetime | None = next(
        (when for when in reviews if when >= task.submitted_at), None
    )
    return first - task.submitted_at if first is not None else None


class Approvals:
    """The `task.approved` outbox effect; idempotent, so a retry adds nothing."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def on_approved(self, payload: dict[str, Any]) -> None:
        sha = str(payload.get("head_sha") or "")
        async with self.services.sessions.begin() as session:
            task = await session.get(Task, payload["task_id"])
            if task is None or task.approved_at is None:
                return
            await _record_timings(session, task, sha)
        if task.installation_id is not None:
            await self._dispatch(task, sha)

    async def _dispatch(self, task: Task, sha: str) -> None:
        gh = self.services.github.client(task.installation_id or 0)
        config = await self.services.configs.load(gh, task.repository_full_name)
        event = config.dispatch_event
        if event is None:
            return
        note = f"{event} sha {sha}"
        async with self.services.sessions() as session:
            if await _noted(session, task.id, "dispatch", note):
                return  # this approval of this head was already dispatched
        await gh.post(
            "/repos/{owner}/{repo}/dispatches",
            url_vars=split(task.repository_full_name),
            data={
                "event_type": event,
                "client_payload": {
                    "taskId": task.id,
                    "repository": task.repository_full_name,
                    "issueNumber": task.issue_number,
                    "prNumber": task.pr_number,
                    "headSha": task.head_sha,
                },
            },
        )
        log.info("deploy dispatched", extra={"task": task.id, "event_type": event})
        async with self.services.sessions.begin() as session:
            session.add(_system_note(task, "dispatch", note))


async def _record_timings(session: AsyncSession, task: Task, sha: str) -> None:
    key = f"sha {sha}:"
    if await _noted(session, task.id, "timing", key + "%"):
        return
    cycle = cycle_time(task)
    turnaround = await review_turnaround(session, task)
    if cycle is not None:
        metrics.TASK_CYCLE_SECONDS.observe(cycle.total_seconds())
    if turnaround is not None:
        metrics.REVIEW_TURNAROUND_SECONDS.observe(turnaround.total_seconds())
    note = (
        f"{key} cycle time {duration_text(cycle)}, "
        f"review turnaround {duration_text(turnaround)}"
    )
    session.add(_system_note(task, "timing", note))


async def _noted(session: AsyncSession, task_id: int, action: str, note: str) -> bool:
    found = await session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.task_id == task_id,
            AuditEntry.action == action,
            AuditEntry.note.like(note),
        )
        .limit(1)
    )
    return found is not None


def _system_note(task: Task, action: str, note: str) -> AuditEntry:
    return AuditEntry(
        task_id=task.id,
        action=action,
        from_status=None,
        to_status=None,
        actor_id=None,
        actor_login="workflow-bot",
        source="system",
        note=note,
    )
