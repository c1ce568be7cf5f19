"""CI on a task's pull request: record each result, reach a verdict, act once."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from gidgethub import BadRequest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import ci, events, outbox, rbac, replies
from bot.config import RepoConfig
from bot.context import DeliveryContext
from bot.effects import PUBLISH
from bot.mirror import split
from bot.rbac import Actor
from bot.roles import effective_role
from bot.workflow import Policy, Refused, Workflow
from storage.models import (
    CheckResult,
    CIVerdict,
    Outcome,
    Review,
    Role,
    Status,
    Task,
    User,
)

log = logging.getLogger(__name__)


async def record_result(
    session: AsyncSession,
    repository_id: int,
    head_sha: str,
    check: ci.CheckState,
    run_id: int | None,
    started_at: datetime | None = None,
) -> bool:
    """Keep the newest run per (app, name) on a commit; False when older news."""
    row = await session.scalar(
        select(CheckResult).where(
            CheckResult.repository_id == repository_id,
            CheckResult.head_sha == head_sha,
            CheckResult.app_key == check.app_key,
            CheckResult.name == check.name,
        )
    )
    if row is None:
        row = CheckResult(
            repository_id=repository_id,
            head_sha=head_sha,
            app_key=check.app_key,
            name=check.name,
        )
        session.add(row)
    elif not ci.replaces(row.external_id, run_id):
        return False
    row.status = check.status
    row.conclusion = check.conclusion
    row.details_url = (check.details_url or "")[:1024] or None
    row.external_id = run_id
    row.started_at = started_at
    await session.flush()
    return True


async def task_for_pulls(
    session: AsyncSession, repository_id: int, numbers: list[int]
) -> Task | None:
    for number in numbers:
        task = (
            await session.scalars(
                select(Task)
                .where(Task.repository_id == repository_id, Task.pr_number == number)
                .where(Task.deleted.is_(False))
                .with_for_update()
            )
        ).first()
        if task is not None:
            return task
    return None


async def task_for_commit(
    ctx: DeliveryContext, head_sha: str, pulls: list[dict[str, Any]]
) -> Task | None:
    """The task whose pull request a commit belongs to.

    Check events from forks list no pull requests, so the PR is found by the
    head SHA: first the one stored on the task, then GitHub's commit→pulls.
    """
    repository_id = int(ctx.repository["id"])
    numbers = [int(p["number"]) for p in pulls if isinstance(p.get("number"), int)]
    task = await task_for_pulls(ctx.session, repository_id, numbers)
    if task is not None or numbers:
        return task
    task = (
        await ctx.session.scalars(
            select(Task)
            .where(Task.repository_id == repository_id, Task.head_sha == head_sha)
            .where(Task.deleted.is_(False))
            .with_for_update()
        )
    ).first()
    if task is not None or ctx.installation_id is None:
        return task
    if not await _has_linked_pulls(ctx.session, repository_id):
        return None  # no task has a PR here: spare GitHub the question
    return await task_for_pulls(
        ctx.session, repository_id, await _pulls_with_commit(ctx, head_sha)
    )


async def _has_linked_pulls(session: AsyncSession, repository_id: int) -> bool:
    found = await session.scalar(
        select(Task.id)
        .where(Task.repository_id == repository_id, Task.pr_number.is_not(None))
        .where(Task.deleted.is_(False))
        .limit(1)
    )
    return found is not None


async def _pulls_with_commit(ctx: DeliveryContext, head_sha: str) -> list[int]:
    try:
        return [
            int(pull["number"])
            async for pull in ctx.gh.getiter(
                "/repos/{owner}/{repo}/commits/{commit_sha}/pulls",
                url_vars={**split(ctx.repository["full_name"]), "commit_sha": head_sha},
            )
        ]
    except BadRequest as exc:
        if int(exc.status_code) in (404, 422):  # commit unknown or gone
            return []
        raise


async def results_on(
    session: AsyncSession, repository_id: int, head_sha: str
) -> list[ci.CheckState]:
    rows = await session.scalars(
        select(CheckResult).where(
            CheckResult.repository_id == repository_id,
            CheckResult.head_sha == head_sha,
        )
    )
    return [
        ci.CheckState(r.name, r.app_key, r.status, r.conclusion, r.details_url)
        for r in rows
    ]


async def current_verdict(
    session: AsyncSession, task: Task, config: RepoConfig, app_id: str | None
) -> ci.Verdict:
    if task.head_sha is None:
        return ci.Verdict(ci.Outcome.PENDING)
    results = await results_on(session, task.repository_id, task.head_sha)
    return ci.verdict(results, config.ci_required, app_id)


async def evaluate(ctx: DeliveryContext, task: Task, config: RepoConfig) -> None:
    """Act on the verdict for the PR's current head, once per verdict."""
    if task.head_sha is None or task.pr_number is None:
        return
    settings = ctx.services.settings
    verdict = await current_verdict(ctx.session, task, config, settings.app_id)
    if not verdict.reached or not await _new_verdict(ctx.session, task, verdict):
        return
    log.info(
        "ci verdict",
        extra={"task": task.id, "sha": task.head_sha, "outcome": verdict.outcome},
    )
    await outbox.enqueue(
        ctx.session,
        PUBLISH,
        {
            "name": events.CI_RESULT,
            "data": {
                "taskId": task.id,
                "passed": verdict.passed,
                "logsUrl": verdict.logs_url,
            },
            "subject": f"task:{task.id}",
        },
    )
    if verdict.passed:
        await _passed(ctx, task, config)
    else:
        await _failed(ctx, task, config, verdict)


async def _new_verdict(session: AsyncSession, task: Task, verdict: ci.Verdict) -> bool:
    """Store it; False when this head already has this verdict (redelivery,
    or one more event after the last check finished)."""
    sha = task.head_sha or ""
    row = await session.scalar(
        select(CIVerdict).where(CIVerdict.task_id == task.id, CIVerdict.head_sha == sha)
    )
    if row is not None and row.passed == verdict.passed:
        return False
    if row is None:
        row = CIVerdict(task_id=task.id, head_sha=sha, passed=verdict.passed)
        session.add(row)
    # A re-run can turn a red verdict green on the same head: that one counts.
    row.passed = verdict.passed
    row.logs_url = (verdict.logs_url or "")[:1024] or None
    await session.flush()
    return True


def ci_workflow(ctx: DeliveryContext, config: RepoConfig) -> Workflow:
    xp = config.academy.xp_per_approval if config.academy else 10
    return Workflow(
        ctx.session,
        source="ci",
        delivery_id=ctx.delivery_id,
        policy=Policy(xp_per_approval=xp),
    )


async def _failed(
    ctx: DeliveryContext, task: Task, config: RepoConfig, verdict: ci.Verdict
) -> None:
    workflow = ci_workflow(ctx, config)
    assignee = await _login(ctx.session, task.assignee_id)
    body = replies.render(
        "ci_failed.md.j2",
        sha=task.head_sha or "",
        failing=verdict.failing,
        assignee=assignee,
    )
    if task.status in (Status.IN_PROGRESS, Status.SUBMITTED):
        await workflow.review(task, rbac.SYSTEM, Outcome.REJECTED, body)
    else:
        names = ", ".join(check.name for check in verdict.failing)
        await workflow.record(task, "ci", rbac.SYSTEM, f"failed: {names}")
    await _comment(ctx, task, f"ci-failed:{task.id}:{task.head_sha}", body)


async def _passed(ctx: DeliveryContext, task: Task, config: RepoConfig) -> None:
    workflow = ci_workflow(ctx, config)
    if task.status == Status.REJECTED and await _rejected_by_ci_here(ctx, task):
        # A green re-run undoes CI's own rejection of this very commit.
        assignee = await assignee_actor(ctx, task, config)
        if assignee is not None:
            await _try(workflow.move(task, Status.IN_PROGRESS, assignee))
    if task.status == Status.IN_PROGRESS:
        await workflow.submit(task, rbac.SYSTEM)
    else:
        await workflow.record(task, "ci", rbac.SYSTEM, "passed")
        await workflow.sync(task)
    if task.status == Status.SUBMITTED:  # also when submitted by hand before CI
        await request_review(ctx, task, config)


async def _try(step: Any) -> None:
    try:
        await step
    except Refused as refusal:
        log.info("ci step refused", extra={"reason": refusal.reason})


async def _rejected_by_ci_here(ctx: DeliveryContext, task: Task) -> bool:
    latest = await ctx.session.scalar(
        select(Review)
        .where(Review.task_id == task.id, Review.counts.is_(True))
        .order_by(Review.id.desc())
        .limit(1)
    )
    return (
        latest is not None
        and latest.reviewer_id is None
        and latest.outcome == Outcome.REJECTED
        and latest.head_sha == task.head_sha
    )


async def assignee_actor(
    ctx: DeliveryContext, task: Task, config: RepoConfig
) -> Actor | None:
    """The assignee, for moves the system makes on their behalf (a push)."""
    if task.assignee_id is None:
        return None
    user = await ctx.session.get(User, task.assignee_id)
    if user is None:
        return None
    gh = ctx.gh if ctx.installation_id is not None else None
    role = await effective_role(ctx.services.settings, user, config, gh)
    return Actor(user.id, user.login, role)


def reviewer_mentions(config: RepoConfig, exclude: set[str]) -> list[str]:
    """Who to ask: the config's QA and REVIEWER entries, minus the authors."""
    mentions: list[str] = []
    for role in (Role.QA, Role.REVIEWER):
        for entry in config.roles.get(role, ()):
            name = entry.lstrip("@")
            if name.lower() not in exclude and f"@{name}" not in mentions:
                mentions.append(f"@{name}")
    return mentions


async def request_review(ctx: DeliveryContext, task: Task, config: RepoConfig) -> None:
    authors = {
        login.lower()
        for login in [
            await _login(ctx.session, task.assignee_id),
            await _login(ctx.session, task.pr_author_id),
        ]
        if login
    }
    body = replies.render(
        "review_request.md.j2",
        sha=task.head_sha or "",
        reviewers=reviewer_mentions(config, authors),
        who_may=rbac.describe(rbac.REVIEWERS),
    )
    await _comment(ctx, task, f"review-request:{task.id}:{task.head_sha}", body)


async def _comment(ctx: DeliveryContext, task: Task, marker: str, body: str) -> None:
    """On the pull request, where the people doing the work look."""
    await replies.reply(
        ctx.session,
        installation_id=task.installation_id,
        repository=task.repository_full_name,
        issue_number=task.pr_number or task.issue_number,
        marker=marker,
        body=body,
    )


async def _login(session: AsyncSession, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = await session.get(User, user_id)
    return user.login if user else None
