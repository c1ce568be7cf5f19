"""Pull-request reviews are review outcomes: approve, request changes, dismiss."""

from __future__ import annotations

from typing import Any

from gidgethub import sansio
from gidgethub.routing import Router
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import rbac, replies
from bot.context import DeliveryContext
from bot.rbac import Action, Actor
from bot.votes import standing_approvals
from bot.workflow import Refused, Workflow
from handlers.pulls import task_of_pull
from handlers.scope import actor_of, config_of, workflow_for
from storage.models import Outcome, Review, Status, Task

router = Router()

# Webhook review states that are votes; "commented" is conversation only.
VOTES = {"approved": Outcome.APPROVED, "changes_requested": Outcome.REJECTED}


@router.register("pull_request_review", action="submitted")
async def review_submitted(event: sansio.Event, ctx: DeliveryContext) -> None:
    review = event.data["review"]
    outcome = VOTES.get(str(review.get("state") or "").lower())
    task = await task_of_pull(ctx, int(event.data["pull_request"]["number"]))
    if outcome is None or task is None:
        return
    if await _known(ctx.session, int(review["id"])):
        return  # a redelivery: this review was already counted or refused
    config = await config_of(ctx)
    actor = await actor_of(ctx, review["user"], config)
    workflow = workflow_for(ctx, "review", config)
    try:
        async with ctx.session.begin_nested():
            await _vote(workflow, task, actor, outcome, review)
    except Refused as refusal:
        await _not_counted(ctx, workflow, task, actor, outcome, review, refusal)


async def _vote(
    workflow: Workflow,
    task: Task,
    actor: Actor,
    outcome: Outcome,
    review: dict[str, Any],
) -> None:
    _require_eligible(task, actor)
    sha = review.get("commit_id") or task.head_sha
    if outcome == Outcome.APPROVED and task.head_sha and sha != task.head_sha:
        raise Refused("it approves an older commit, not the pull request's head")
    if outcome == Outcome.REJECTED and task.status == Status.APPROVED:
        # A reviewer may change their mind: the approval stops standing first.
        note = f"@{actor.login} requested changes"
        await workflow.move(task, Status.SUBMITTED, rbac.SYSTEM, note=note)
    if task.status != Status.SUBMITTED:
        raise Refused(
            f"the task is {task.status}; reviews count while it is SUBMITTED "
            "(after CI passes)"
        )
    await workflow.review(
        task,
        actor,
        outcome,
        review.get("body") or None,
        github_review_id=int(review["id"]),
        head_sha=sha,
    )


def _require_eligible(task: Task, actor: Actor) -> None:
    decision = rbac.may(actor, Action.REVIEW)
    if not decision:
        raise Refused.from_decision(decision)
    if actor.id in (task.assignee_id, task.pr_author_id):
        raise Refused(
            "nobody reviews their own work (you are its assignee or PR author)",
            rbac.describe(rbac.REVIEWERS) + ", other than the assignee and author",
        )


async def _known(session: AsyncSession, review_id: int) -> bool:
    found = await session.scalar(
        select(Review.id).where(Review.github_review_id == review_id).limit(1)
    )
    return found is not None


async def _not_counted(
    ctx: DeliveryContext,
    workflow: Workflow,
    task: Task,
    actor: Actor,
    outcome: Outcome,
    review: dict[str, Any],
    refusal: Refused,
) -> None:
    """Kept for the record; the reviewer is told why, in one edited comment."""
    ctx.session.add(
        Review(
            task_id=task.id,
            reviewer_id=actor.id,
            outcome=outcome,
            comment=review.get("body") or None,
            source="review",
            head_sha=review.get("commit_id"),
            github_review_id=int(review["id"]),
            counts=False,
        )
    )
    await workflow.record(task, "review", actor, f"not counted: {refusal.reason}")
    await replies.reply_on_task(
        ctx.session,
        task,
        marker=f"review-refused:{task.id}:{actor.id}",
        template="review_refused.md.j2",
        on_pull_request=True,
        login=actor.login,
        reason=refusal.reason,
        who_may=refusal.who_may,
    )


@router.register("pull_request_review", action="dismissed")
async def review_dismissed(event: sansio.Event, ctx: DeliveryContext) -> None:
    """A dismissed review withdraws that reviewer's vote."""
    review = event.data["review"]
    task = await task_of_pull(ctx, int(event.data["pull_request"]["number"]))
    if task is None:
        return
    rows = list(
        await ctx.session.scalars(
            select(Review).where(
                Review.task_id == task.id,
                Review.github_review_id == int(review["id"]),
                Review.counts.is_(True),
            )
        )
    )
    if not rows:
        return
    for row in rows:
        row.counts = False
    config = await config_of(ctx)
    workflow = workflow_for(ctx, "review", config)
    actor = await actor_of(ctx, ctx.sender, config)
    await workflow.record(task, "dismiss", actor, f"review {review['id']} dismissed")
    if task.status == Status.APPROVED and not await standing_approvals(
        ctx.session, task
    ):
        await workflow.move(
            task, Status.SUBMITTED, rbac.SYSTEM, note="approval dismissed"
        )
