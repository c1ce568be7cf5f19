"""The bot's own `workflow-bot` check run: green only when the task is approved.

Teams can require it in branch protection; its summary says what the task
waits for. It is a `Mirror.steps` sync step, so it follows every change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import ci, ciflow, rbac
from bot.config import RepoConfig
from bot.github import InstallationAPI
from bot.mirror import split
from bot.services import Services
from bot.votes import latest_rejection, standing_approvals
from storage.models import Status, Task, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Desired:
    """What the check run should show: GitHub's status, conclusion and output."""

    status: str
    conclusion: str | None
    title: str
    summary: str

    def matches(self, run: dict[str, Any]) -> bool:
        output = run.get("output") or {}
        return (
            run.get("status") == self.status
            and run.get("conclusion") == self.conclusion
            and output.get("title") == self.title
            and output.get("summary") == self.summary
        )


@dataclass(frozen=True)
class Facts:
    """Who and what the task waits on, read from the database."""

    assignee: str | None
    reviewers: tuple[str, ...]
    approvers: tuple[str, ...]
    rejected_by: str | None
    ci_waiting: tuple[str, ...]


def desired_check(status: Status, facts: Facts) -> Desired:
    assignee = f"@{facts.assignee}" if facts.assignee else "the assignee"
    if status == Status.APPROVED:
        by = ", ".join(f"@{login}" for login in facts.approvers) or "a reviewer"
        return Desired("completed", "success", "Approved", f"Approved by {by}.")
    if status == Status.REJECTED:
        by = facts.rejected_by or "a reviewer"
        return Desired(
            "completed",
            "failure",
            "Changes requested",
            f"Waiting for changes from {assignee}, requested by {by}.",
        )
    if status == Status.SUBMITTED:
        who = ", ".join(facts.reviewers) or rbac.describe(rbac.REVIEWERS)
        return Desired(
            "in_progress",
            None,
            "Waiting for review",
            f"Waiting for a review by {who} (not the assignee or the author).",
        )
    if status == Status.IN_PROGRESS:
        checks = ", ".join(facts.ci_waiting) or "the checks on this commit"
        return Desired(
            "in_progress",
            None,
            "Waiting for CI",
            f"Waiting for CI ({checks}), or for {assignee} to `/submit`.",
        )
    return Desired(
        "in_progress", None, "Waiting to be claimed", "The task waits to be claimed."
    )


async def sync_check_run(
    services: Services, gh: InstallationAPI, task: Task, config: RepoConfig
) -> None:
    if task.pr_number is None or task.head_sha is None or task.deleted:
        return
    async with services.sessions() as session:
        facts = await _facts(session, task, config, services.settings.app_id)
    desired = desired_check(task.status, facts)
    where = split(task.repository_full_name)
    existing = await _own_run(gh, where, task.head_sha, services.settings.app_id)
    if existing is not None and desired.matches(existing):
        return
    # A completed run is not reopened: a fresh run replaces it on the head.
    if existing is None or (
        existing.get("status") == "completed" and desired.status != "completed"
    ):
        await gh.post(
            "/repos/{owner}/{repo}/check-runs",
            url_vars=where,
            data={"name": ci.OWN_CHECK_NAME, "head_sha": task.head_sha}
            | _fields(desired, task),
        )
        return
    await gh.patch(
        "/repos/{owner}/{repo}/check-runs/{check_run_id}",
        url_vars={**where, "check_run_id": str(existing["id"])},
        data=_fields(desired, task),
    )


def _fields(desired: Desired, task: Task) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "status": desired.status,
        "external_id": str(task.id),
        "output": {"title": desired.title, "summary": desired.summary},
    }
    if desired.conclusion is not None:
        fields["conclusion"] = desired.conclusion
    return fields


async def _own_run(
    gh: InstallationAPI, where: dict[str, str], sha: str, app_id: str | None
) -> dict[str, Any] | None:
    """Our newest run of that name on the commit (another app may share it)."""
    answer = await gh.getitem(
        "/repos/{owner}/{repo}/commits/{ref}/check-runs{?check_name}",
        url_vars={**where, "ref": sha, "check_name": ci.OWN_CHECK_NAME},
    )
    runs = [
        run
        for run in answer.get("check_runs") or []
        if run.get("name") == ci.OWN_CHECK_NAME
        and (app_id is None or (run.get("app") or {}).get("id") == int(app_id))
    ]
    runs.sort(key=lambda run: int(run["id"]), reverse=True)
    return runs[0] if runs else None


async def _facts(
    session: AsyncSession, task: Task, config: RepoConfig, app_id: str | None
) -> Facts:
    assignee = await _login(session, task.assignee_id)
    author = await _login(session, task.pr_author_id)
    excluded = {login.lower() for login in (assignee, author) if login}
    approvals = await standing_approvals(session, task)
    rejection = await latest_rejection(session, task)
    rejected_by = None
    if rejection is not None:
        who = await _login(session, rejection.reviewer_id)
        rejected_by = f"@{who}" if who else "CI"
    approvers = {await _login(session, review.reviewer_id) for review in approvals}
    verdict = await ciflow.current_verdict(session, task, config, app_id)
    return Facts(
        assignee=assignee,
        reviewers=tuple(ciflow.reviewer_mentions(config, excluded)),
        approvers=tuple(sorted(login for login in approvers if login)),
        rejected_by=rejected_by,
        ci_waiting=verdict.waiting_for,
    )


async def _login(session: AsyncSession, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = await session.get(User, user_id)
    return user.login if user else None
