"""Issues are tasks: opened, edited, assigned, closed, moved, labelled."""

from __future__ import annotations

import re
from typing import Any

from gidgethub import sansio
from gidgethub.routing import Router

from bot import rbac, replies
from bot.config import RepoConfig
from bot.context import DeliveryContext
from bot.workflow import Refused, remember_user, task_for_issue
from handlers.scope import actor_of, config_of, issue_ref, workflow_for
from storage.models import Status, Task, TaskType

router = Router()

# Issue forms render a dropdown as "### Type\n\nBug".
_FORM_TYPE = re.compile(r"^#{1,6}\s*type\s*\n+\s*(\w+)", re.IGNORECASE | re.MULTILINE)


def task_type_of(issue: dict[str, Any], config: RepoConfig) -> TaskType:
    names = {label.get("name", "").lower() for label in issue.get("labels") or []}
    for kind in (TaskType.BUG, TaskType.RESEARCH, TaskType.FEATURE):
        if config.label(kind).lower() in names:
            return kind
    found = _FORM_TYPE.search(issue.get("body") or "")
    if found and found.group(1).upper() in {"FEATURE", "BUG", "RESEARCH"}:
        return TaskType(found.group(1).upper())
    return TaskType.FEATURE


def status_of_label(name: str, config: RepoConfig) -> Status | None:
    for status in Status:
        if config.label(status).lower() == name.lower():
            return status
    return None


async def _task(ctx: DeliveryContext) -> Task | None:
    issue = ctx.payload["issue"]
    task = await task_for_issue(ctx.session, ctx.repository["id"], issue["number"])
    return None if task is None or task.deleted else task


@router.register("issues", action="opened")
async def issue_opened(event: sansio.Event, ctx: DeliveryContext) -> None:
    issue = event.data["issue"]
    if "pull_request" in issue or await _task(ctx) is not None:
        return
    config = await config_of(ctx)
    actor = await actor_of(ctx, issue["user"], config)
    if actor.role not in rbac.CREATORS:
        return  # not a task until a creator says `/task <type>`
    workflow = workflow_for(ctx, "issue", config)
    task = await workflow.create_task(
        issue_ref(ctx, issue), task_type_of(issue, config), actor
    )
    for assignee in issue.get("assignees") or []:
        user = await remember_user(ctx.session, assignee)
        await workflow.assign(task, user, actor)
        break


@router.register("issues", action="edited")
async def issue_edited(event: sansio.Event, ctx: DeliveryContext) -> None:
    task = await _task(ctx)
    title = event.data["issue"].get("title")
    if task is None or not title or title == task.title:
        return
    config = await config_of(ctx)
    actor = await actor_of(ctx, event.data["sender"], config)
    await workflow_for(ctx, "issue").record(task, "edit", actor, f"title: {title}")
    task.title = title[:1024]


@router.register("issues", action="assigned")
@router.register("issues", action="unassigned")
async def issue_assignment(event: sansio.Event, ctx: DeliveryContext) -> None:
    task = await _task(ctx)
    if task is None:
        return
    config = await config_of(ctx)
    actor = await actor_of(ctx, event.data["sender"], config)
    workflow = workflow_for(ctx, "issue", config)
    if event.data["action"] == "assigned":
        user = await remember_user(ctx.session, event.data["assignee"])
        await workflow.assign(task, user, actor)
    elif (event.data.get("assignee") or {}).get("id") == task.assignee_id:
        await workflow.assign(task, None, actor)


@router.register("issues", action="closed")
@router.register("issues", action="reopened")
async def issue_closed_or_reopened(event: sansio.Event, ctx: DeliveryContext) -> None:
    task = await _task(ctx)
    if task is None:
        return
    config = await config_of(ctx)
    actor = await actor_of(ctx, event.data["sender"], config)
    task.issue_state = "closed" if event.data["action"] == "closed" else "open"
    await workflow_for(ctx, "issue").record(task, event.data["action"], actor, "")


@router.register("issues", action="transferred")
async def issue_transferred(event: sansio.Event, ctx: DeliveryContext) -> None:
    task = await _task(ctx)
    changes = event.data.get("changes") or {}
    new_issue, new_repository = changes.get("new_issue"), changes.get("new_repository")
    if task is None or not new_issue or not new_repository:
        return
    moved = ctx.payload | {"repository": new_repository}
    target = DeliveryContext(
        ctx.services, ctx.session, ctx.delivery_id, ctx.event, moved
    )
    await workflow_for(ctx, "issue").retarget(task, issue_ref(target, new_issue))


@router.register("issues", action="deleted")
async def issue_deleted(event: sansio.Event, ctx: DeliveryContext) -> None:
    task = await _task(ctx)
    if task is None:
        return
    config = await config_of(ctx)
    actor = await actor_of(ctx, event.data["sender"], config)
    task.deleted = True  # the audit trail stays
    await workflow_for(ctx, "issue").record(task, "delete", actor, "issue deleted")


@router.register("issues", action="labeled")
@router.register("issues", action="unlabeled")
async def issue_labels(event: sansio.Event, ctx: DeliveryContext) -> None:
    """A person moving a status label asks for the task to move."""
    task = await _task(ctx)
    label = (event.data.get("label") or {}).get("name") or ""
    if task is None:
        return
    config = await config_of(ctx)
    status = status_of_label(label, config)
    if status is None:
        return
    workflow = workflow_for(ctx, "label", config)
    if event.data["action"] == "unlabeled" or status == task.status:
        await workflow.sync(task)  # put the task's own label back
        return
    actor = await actor_of(ctx, event.data["sender"], config)
    try:
        await workflow.move(task, status, actor)
    except Refused as refusal:
        await workflow.sync(task)
        await replies.reply_on_task(
            ctx.session,
            task,
            marker=f"label-refused:{task.id}",
            template="label_refused.md.j2",
            login=actor.login,
            label=label,
            reason=refusal.reason,
            who_may=refusal.who_may,
        )
