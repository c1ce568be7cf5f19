"""A person moving a card on the Projects (v2) board asks for the task to move."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from gidgethub import sansio
from gidgethub.routing import Router
from sqlalchemy import select

from bot import board, replies
from bot.config import Board, RepoConfig
from bot.context import DeliveryContext
from bot.github import InstallationAPI
from bot.workflow import Refused, Workflow
from handlers.scope import actor_of, workflow_for
from storage.models import Status, Task

router = Router()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldChange:
    """What `changes.field_value` says; older payloads name only the field id."""

    field_id: str | None
    field_name: str | None
    field_type: str | None
    project_number: int | None
    to_column: str | None
    has_to: bool


def field_change(payload: dict[str, Any]) -> FieldChange | None:
    changes = (payload.get("changes") or {}).get("field_value")
    if not isinstance(changes, dict):
        return None
    to = changes.get("to")
    return FieldChange(
        field_id=changes.get("field_node_id"),
        field_name=changes.get("field_name"),
        field_type=changes.get("field_type"),
        project_number=changes.get("project_number"),
        to_column=to.get("name") if isinstance(to, dict) else None,
        has_to="to" in changes,
    )


def concerns_board(change: FieldChange, config_board: Board) -> bool:
    """Edits of other fields, or of other boards, are none of our business."""
    if change.field_type not in (None, "single_select"):
        return False
    if change.field_name is not None and change.field_name != config_board.field:
        return False
    return change.project_number in (None, config_board.number)


async def _task_for_content(ctx: DeliveryContext, content_id: str) -> Task | None:
    query = select(Task).where(Task.issue_node_id == content_id).with_for_update()
    task = (await ctx.session.scalars(query)).first()
    return None if task is None or task.deleted else task


@dataclass(frozen=True)
class CardMove:
    """A person's move of a task's card on the configured board."""

    task: Task
    config: RepoConfig
    board: Board
    column: str | None


@router.register("projects_v2_item", action="edited")
async def item_edited(event: sansio.Event, ctx: DeliveryContext) -> None:
    move = await card_move(ctx, event.data)
    if move is not None:
        await _follow_card(ctx, move, event.data["sender"])


async def card_move(ctx: DeliveryContext, payload: dict[str, Any]) -> CardMove | None:
    """The move this delivery reports, or None when it is none of our business."""
    item = payload.get("projects_v2_item") or {}
    change = field_change(payload)
    if item.get("content_type") != "Issue" or change is None:
        return None  # drafts and pull requests are not tasks
    task = await _task_for_content(ctx, str(item.get("content_node_id") or ""))
    if task is None or task.installation_id is None:
        return None
    gh = ctx.services.github.client(task.installation_id)
    config = await ctx.services.configs.load(gh, task.repository_full_name)
    found = config.board
    if found is None or not concerns_board(change, found):
        return None
    if not _same_owner(payload, found):
        return None
    try:
        if not await _same_field(gh, item, change, found):
            return None
        column = change.to_column
        if not change.has_to:
            column = await _column_now(gh, str(item.get("node_id")), found)
    except (board.BoardMissing, board.NoBoardAccess) as exc:
        # Reported by the sync step; a card on a board we cannot read is ignored.
        log.info("board move ignored", extra={"task": task.id, "reason": str(exc)})
        return None
    return CardMove(task, config, found, column)


def _same_owner(payload: dict[str, Any], config_board: Board) -> bool:
    organization = payload.get("organization") or {}
    login = organization.get("login")
    return login is None or str(login).lower() == config_board.owner.lower()


async def _same_field(
    gh: InstallationAPI, item: dict[str, Any], change: FieldChange, config_board: Board
) -> bool:
    """The older payload names the field and project by id only: compare ids."""
    project_id = item.get("project_node_id")
    if change.field_id is None and project_id is None:
        return True
    ids = await board.layout(gh, config_board)
    return change.field_id in (None, ids.field_id) and project_id in (
        None,
        ids.project_id,
    )


async def _column_now(
    gh: InstallationAPI, item_id: str, config_board: Board
) -> str | None:
    """The old payload shape names no column: ask GitHub where the card is."""
    info = await board.read_item(gh, item_id, config_board.field)
    return info.column if info is not None else None


async def _follow_card(
    ctx: DeliveryContext, move: CardMove, sender: dict[str, Any]
) -> None:
    """Run the same transition as `/status`, with the mover as the actor."""
    task = move.task
    workflow = workflow_for(ctx, "board", move.config)
    target = board.status_of_column(move.board, move.column)
    if target == task.status:
        return
    if target is None:
        await workflow.sync(task)  # a column outside the workflow: put it back
        return
    actor = await actor_of(ctx, sender, move.config)
    try:
        await workflow.move(task, target, actor)
    except Refused as refusal:
        await _put_back(ctx, workflow, move, actor.login, refusal)


async def _put_back(
    ctx: DeliveryContext,
    workflow: Workflow,
    move: CardMove,
    login: str,
    refusal: Refused,
) -> None:
    task, column = move.task, move.column
    await workflow.sync(task)
    log.info(
        "board move refused",
        extra={"task": task.id, "column": column, "actor": login},
    )
    await replies.reply_on_task(
        ctx.session,
        task,
        marker=f"board-refused:{task.id}",
        template="board_refused.md.j2",
        login=login,
        column=column,
        back_to=move.board.columns[Status(task.status)],
        reason=refusal.reason,
        who_may=refusal.who_may,
    )


@router.register("installation", action="new_permissions_accepted")
async def permissions_accepted(event: sansio.Event, ctx: DeliveryContext) -> None:
    """Projects access may have been granted: stop skipping the board."""
    if ctx.installation_id is not None:
        # Tokens carry the permissions of their time: take a new one.
        ctx.services.github.forget_token(ctx.installation_id)
        board.access_granted(ctx.installation_id)
