"""Reconcile: make every open task's labels and card show its status again.

A pass walks open tasks in id order and remembers the last one it finished,
so a pass stopped by a rate limit (or by an operator) resumes where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot import board, mirror
from bot.config import RepoConfig
from bot.github import InstallationAPI, TransientError, classify
from bot.services import Services
from storage.models import ReconcileProgress, Task, utcnow

log = logging.getLogger(__name__)

BATCH = 50
ALL = "*"
# A pass renews its lease after each batch; a crashed pass frees it after this.
LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Change:
    """One difference found (and, unless dry, fixed) on one task."""

    repository: str
    number: int
    what: str

    def __str__(self) -> str:
        return f"{self.repository}#{self.number}: {self.what}"


@dataclass
class Report:
    changes: list[Change] = field(default_factory=list)
    checked: int = 0
    failed: list[str] = field(default_factory=list)
    board_skipped: set[str] = field(default_factory=set)
    finished: bool = False
    resume_after: float | None = None  # set when a rate limit paused the pass
    busy: bool = False  # another process holds this scope's pass


async def reconcile(
    services: Services,
    *,
    repository: str | None = None,
    dry_run: bool = False,
    batch: int = BATCH,
) -> Report:
    """One pass (or the rest of an interrupted one) over the open tasks.

    A dry run starts at the beginning and remembers nothing; a real pass holds
    a lease on its scope so two processes never work through it at once.
    """
    scope = repository or ALL
    report = Report()
    cursor = 0
    if not dry_run:
        claimed = await _claim(services, scope)
        if claimed is None:
            report.busy = True
            return report
        cursor = claimed
    try:
        cursor = await _walk(services, report, repository, cursor, batch, dry_run)
    finally:
        if not dry_run:
            await _release(services, scope, 0 if report.finished else cursor)
    return report


async def _walk(
    services: Services,
    report: Report,
    repository: str | None,
    cursor: int,
    batch: int,
    dry_run: bool,
) -> int:
    """Reconcile tasks after `cursor`; the id of the last one finished."""
    scope = repository or ALL
    while tasks := await _open_tasks(services, repository, cursor, batch):
        for task in tasks:
            try:
                await reconcile_task(services, task, report, dry_run=dry_run)
            except Exception as exc:
                if not _note_failure(exc, task, report):
                    return cursor
            cursor = task.id
            report.checked += 1
        if not dry_run:
            await _renew(services, scope, cursor)
    report.finished = True
    return cursor


def _note_failure(exc: Exception, task: Task, report: Report) -> bool:
    """True when the pass goes on; False when a rate limit or outage pauses it."""
    kind = classify(exc)
    if isinstance(kind, TransientError):
        report.resume_after = kind.retry_after or 60.0
        log.warning(
            "reconcile paused",
            extra={
                "task": task.id,
                "error": str(kind),
                "resume_in_s": kind.retry_after,
            },
        )
        return False
    if kind is None:
        raise exc
    report.failed.append(f"{task.repository_full_name}#{task.issue_number}: {kind}")
    log.warning("reconcile task failed", extra={"task": task.id, "error": str(kind)})
    return True


async def reconcile_task(
    services: Services, task: Task, report: Report, *, dry_run: bool = False
) -> None:
    if task.installation_id is None:
        return
    gh = services.github.client(task.installation_id)
    config = await services.configs.load(gh, task.repository_full_name)
    label_change = await _label_difference(gh, task, config)
    if label_change:
        report.changes.append(_change(task, label_change))
        if not dry_run:
            await mirror.sync_labels(gh, task, config)
    if config.board is None:
        return
    if not board.has_access(task.installation_id):
        report.board_skipped.add(task.repository_full_name)
        return
    move = await board.sync_card(services, gh, task, config.board, dry_run=dry_run)
    if move is not None and move.changed:
        before = move.before or "no column"
        report.changes.append(_change(task, f"card {before} -> {move.after}"))
        if not dry_run:
            await board.record_repair(services, task, move)
    if not board.has_access(task.installation_id):
        report.board_skipped.add(task.repository_full_name)


async def _label_difference(gh: InstallationAPI, task: Task, config: RepoConfig) -> str:
    where = {
        **mirror.split(task.repository_full_name),
        "issue_number": str(task.issue_number),
    }
    current = [
        label["name"]
        async for label in gh.getiter(
            "/repos/{owner}/{repo}/issues/{issue_number}/labels", url_vars=where
        )
    ]
    add, remove = mirror.label_diff(
        current, mirror.desired_labels(task, config), mirror.managed_labels(config)
    )
    parts = [f"+{name}" for name in add] + [f"-{name}" for name in remove]
    return "labels " + ", ".join(parts) if parts else ""


def _change(task: Task, what: str) -> Change:
    return Change(task.repository_full_name, task.issue_number, what)


async def _open_tasks(
    services: Services, repository: str | None, after_id: int, batch: int
) -> list[Task]:
    query = (
        select(Task)
        .where(
            Task.id > after_id,
            Task.deleted.is_(False),
            Task.issue_state == "open",
            Task.installation_id.is_not(None),
        )
        .order_by(Task.id)
        .limit(batch)
    )
    if repository is not None:
        query = query.where(Task.repository_full_name == repository)
    async with services.sessions() as session:
        return list((await session.scalars(query)).all())


async def _claim(services: Services, scope: str) -> int | None:
    """The cursor to resume from, with the lease; None while another pass runs."""
    now = utcnow()
    try:
        async with services.sessions.begin() as session:
            row = await session.get(ReconcileProgress, scope, with_for_update=True)
            if row is None:
                row = ReconcileProgress(scope=scope, last_task_id=0)
                session.add(row)
            elif row.lease_expires_at is not None and row.lease_expires_at > now:
                return None
            row.lease_expires_at = now + LEASE
            return row.last_task_id
    except IntegrityError:
        return None  # another process created the row first: it runs the pass


async def _renew(services: Services, scope: str, cursor: int) -> None:
    async with services.sessions.begin() as session:
        row = await session.get(ReconcileProgress, scope, with_for_update=True)
        if row is not None:
            row.last_task_id = cursor
            row.lease_expires_at = utcnow() + LEASE


async def _release(services: Services, scope: str, cursor: int) -> None:
    async with services.sessions.begin() as session:
        row = await session.get(ReconcileProgress, scope, with_for_update=True)
        if row is not None:
            row.last_task_id = cursor
            row.lease_expires_at = None


def describe(report: Report, *, dry_run: bool = False) -> list[str]:
    """Lines for an operator: what changed, what failed, where the pass stands."""
    verb = "would fix " if dry_run else ""
    lines = [f"{verb}{change}" for change in report.changes]
    lines += [f"failed: {failure}" for failure in report.failed]
    lines += [
        f"board skipped (no Projects access): {name}"
        for name in sorted(report.board_skipped)
    ]
    if report.busy:
        lines.append("another reconcile pass is running; nothing done")
    elif report.finished:
        lines.append(f"checked {report.checked} task(s), {len(report.changes)} fixed")
    else:
        lines.append(
            f"paused after {report.checked} task(s): rate limited; run again in "
            f"{report.resume_after or 60:.0f} s to resume where it stopped"
        )
    return lines


async def run_periodically(services: Services, stop: asyncio.Event) -> None:
    """The worker's schedule: a pass every RECONCILE_INTERVAL_SECONDS."""
    interval = services.settings.reconcile_interval_seconds
    while not stop.is_set():
        wait = interval
        try:
            report = await reconcile(services)
            if report.resume_after is not None:
                wait = min(interval, report.resume_after)
            log.info(
                "reconcile pass",
                extra={
                    "checked": report.checked,
                    "changed": len(report.changes),
                    "finished": report.finished,
                },
            )
        except Exception:
            log.exception("reconcile pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)


__all__ = ["Change", "Report", "describe", "reconcile", "run_periodically"]
