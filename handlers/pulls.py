"""Pull requests submit tasks: linking, pushes and stale approvals."""

from __future__ import annotations

import logging
from typing import Any

from gidgethub import sansio
from gidgethub.routing import Router
from sqlalchemy import select

from bot import ciflow, links, rbac, replies
from bot.config import RepoConfig
from bot.context import DeliveryContext
from bot.github import QueryError, graphql_error_types
from bot.mirror import split
from bot.rbac import Actor
from bot.votes import standing_approvals
from bot.workflow import Refused, Workflow, remember_user, task_for_issue
from handlers.scope import actor_of, config_of, workflow_for
from storage.models import CheckResult, Outcome, Review, Status, Task, User

log = logging.getLogger(__name__)
router = Router()

CLOSING_REFERENCES = """
query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      closingIssuesReferences(first: 10) {
        nodes { number repository { nameWithOwner } }
      }
    }
  }
}
"""


async def task_of_pull(ctx: DeliveryContext, number: int) -> Task | None:
    return await ciflow.task_for_pulls(ctx.session, int(ctx.repository["id"]), [number])


async def closing_issue_numbers(ctx: DeliveryContext, number: int) -> list[int]:
    """Issues GitHub itself links to the PR (keywords and the sidebar)."""
    full_name = str(ctx.repository["full_name"])
    where = split(full_name)
    try:
        answer = await ctx.gh.query(
            CLOSING_REFERENCES, owner=where["owner"], name=where["repo"], number=number
        )
    except QueryError as exc:
        if "NOT_FOUND" in graphql_error_types(exc):
            return []  # deleted meanwhile, or not visible to this installation
        raise
    pull = ((answer or {}).get("repository") or {}).get("pullRequest") or {}
    nodes = (pull.get("closingIssuesReferences") or {}).get("nodes") or []
    return [
        int(node["number"])
        for node in nodes
        if (node.get("repository") or {}).get("nameWithOwner", "").lower()
        == full_name.lower()
    ]


async def _first_task(ctx: DeliveryContext, numbers: list[int]) -> Task | None:
    for number in numbers:
        task = await task_for_issue(ctx.session, int(ctx.repository["id"]), number)
        # An approved task is done: a later PR naming it does not reopen it.
        if task is not None and not task.deleted and task.status != Status.APPROVED:
            return task
    return None


async def linked_task(ctx: DeliveryContext, pull: dict[str, Any]) -> Task | None:
    """Body keywords, then GitHub's closing references, then the branch name."""
    known = await task_of_pull(ctx, int(pull["number"]))
    if known is not None:
        return known
    if not await _has_open_tasks(ctx):
        return None  # spare GitHub the question for repositories without tasks
    full_name = str(ctx.repository["full_name"])
    task = await _first_task(ctx, links.closing_references(pull.get("body"), full_name))
    if task is None and ctx.installation_id is not None:
        numbers = await closing_issue_numbers(ctx, int(pull["number"]))
        task = await _first_task(ctx, numbers)
    branch = links.issue_from_branch((pull.get("head") or {}).get("ref"))
    if task is None and branch is not None:
        task = await _first_task(ctx, [branch])
    return task


async def _has_open_tasks(ctx: DeliveryContext) -> bool:
    found = await ctx.session.scalar(
        select(Task.id)
        .where(
            Task.repository_id == int(ctx.repository["id"]),
            Task.deleted.is_(False),
            Task.status != Status.APPROVED,
        )
        .limit(1)
    )
    return found is not None


@router.register("pull_request", action="opened")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="edited")
@router.register("pull_request", action="synchronize")
async def pull_request_changed(event: sansio.Event, ctx: DeliveryContext) -> None:
    pull = event.data["pull_request"]
    task = await linked_task(ctx, pull)
    if task is None:
        return
    config = await config_of(ctx)
    if not await may_link(ctx, task, pull, config):
        log.info(
            "pull request not linked",
            extra={"task": task.id, "pull": pull.get("number")},
        )
        return
    workflow = workflow_for(ctx, "pull_request", config)
    previous_sha = task.head_sha
    await _link(ctx, workflow, task, pull)
    action = str(event.data["action"])
    if action in ("opened", "reopened"):
        await _start_if_assignee(ctx, workflow, task, config)
    if action == "synchronize" and task.status == Status.REJECTED:
        await _back_to_work(ctx, workflow, task, config)
    if await _approval_is_stale(ctx, task, previous_sha):
        await _approval_went_stale(ctx, workflow, task, config, previous_sha or "")
    await workflow.sync(task)  # the check run moves to the new head
    # Results for the new head may have arrived before this event did.
    await ciflow.evaluate(ctx, task, config)


async def may_link(
    ctx: DeliveryContext, task: Task, pull: dict[str, Any], config: RepoConfig
) -> bool:
    """Whose pull request may become a task's submission.

    Anyone can write "Closes #12" in a PR; only the assignee may replace a
    linked PR, and a first PR needs an author who holds a role, so an
    outsider's PR (and its CI) cannot move someone else's task.
    """
    number = int(pull["number"])
    author_id = (pull.get("user") or {}).get("id")
    if task.pr_number == number or author_id == task.assignee_id:
        return True
    if task.pr_number is not None:
        return False
    author = await actor_of(ctx, pull["user"], config)
    return author.role is not None and (
        task.assignee_id is None or author.role in rbac.ADMINS
    )


async def _link(
    ctx: DeliveryContext, workflow: Workflow, task: Task, pull: dict[str, Any]
) -> None:
    author = await remember_user(ctx.session, pull["user"])
    number = int(pull["number"])
    if task.pr_number != number:
        note = f"PR #{number} by @{author.login}"
        sender = await remember_user(ctx.session, ctx.sender or pull["user"])
        await workflow.record(task, "link", Actor(sender.id, sender.login, None), note)
    task.pr_number = number
    task.pr_author_id = author.id
    task.head_sha = str(pull["head"]["sha"])


async def _start_if_assignee(
    ctx: DeliveryContext, workflow: Workflow, task: Task, config: RepoConfig
) -> None:
    """The assignee opening a PR on a TODO task has started it."""
    if task.status != Status.TODO or task.assignee_id != task.pr_author_id:
        return
    assignee = await ciflow.assignee_actor(ctx, task, config)
    if assignee is not None:
        await _try(workflow.move(task, Status.IN_PROGRESS, assignee))


async def _back_to_work(
    ctx: DeliveryContext, workflow: Workflow, task: Task, config: RepoConfig
) -> None:
    """A push answers the rejection: the system moves it for the assignee."""
    assignee = await ciflow.assignee_actor(ctx, task, config)
    if assignee is not None:
        await _try(workflow.move(task, Status.IN_PROGRESS, assignee, note="new push"))


async def _try(step: Any) -> None:
    try:
        await step
    except Refused as refusal:
        log.info("pull request step refused", extra={"reason": refusal.reason})


async def _approval_is_stale(
    ctx: DeliveryContext, task: Task, previous_sha: str | None
) -> bool:
    """The head moved under an approval, and nobody approved the new head yet."""
    moved = previous_sha not in (None, task.head_sha)
    if not moved or task.status != Status.APPROVED:
        return False
    return not await standing_approvals(ctx.session, task)


async def _approval_went_stale(
    ctx: DeliveryContext,
    workflow: Workflow,
    task: Task,
    config: RepoConfig,
    previous_sha: str,
) -> None:
    """Approvals were given on older commits: they no longer count."""
    approvers = await _approvers_on(ctx, task, previous_sha)
    note = f"new head {task.head_sha}"
    await workflow.move(task, Status.SUBMITTED, rbac.SYSTEM, note=note)
    waiting_ci = await _expects_ci(ctx, config, previous_sha)
    if waiting_ci:
        await workflow.move(task, Status.IN_PROGRESS, rbac.SYSTEM, note="CI runs")
    await replies.reply_on_task(
        ctx.session,
        task,
        marker=f"stale-approval:{task.id}:{task.head_sha}",
        template="stale_approval.md.j2",
        on_pull_request=True,
        sha=task.head_sha or "",
        reviewers=[f"@{login}" for login in approvers],
        status=task.status,
        waiting_ci=waiting_ci,
    )


async def _approvers_on(ctx: DeliveryContext, task: Task, sha: str) -> list[str]:
    rows = await ctx.session.scalars(
        select(User.login)
        .join(Review, Review.reviewer_id == User.id)
        .where(
            Review.task_id == task.id,
            Review.head_sha == sha,
            Review.outcome == Outcome.APPROVED,
            Review.counts.is_(True),
        )
    )
    return sorted(set(rows))


async def _expects_ci(ctx: DeliveryContext, config: RepoConfig, sha: str) -> bool:
    """CI is expected when checks are required or ran on the previous head."""
    if config.ci_required:
        return True
    found = await ctx.session.scalar(
        select(CheckResult.id)
        .where(
            CheckResult.repository_id == int(ctx.repository["id"]),
            CheckResult.head_sha == sha,
        )
        .limit(1)
    )
    return found is not None
