"""The Projects (v2) board: a task's card sits in the column of its status."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from gidgethub import BadGraphQLRequest, QueryError
from sqlalchemy import select

from bot import outbox, replies
from bot.config import Board, RepoConfig
from bot.github import (
    InstallationAPI,
    PermanentError,
    classify,
    graphql_error_types,
)
from bot.services import Services
from storage.models import AuditEntry, Status, Task

log = logging.getLogger(__name__)

LAYOUT_CACHE_SECONDS = 600
OUT_OF_STEP = "board_out_of_step"
REPAIRED = "board_repaired"

# The project, its status field and the field's options, looked up by name.
LAYOUT_QUERY = """
query BoardLayout($owner: String!, $number: Int!, $field: String!) {
  organization(login: $owner) {
    projectV2(number: $number) {
      id
      field(name: $field) {
        ... on ProjectV2SingleSelectField {
          id
          name
          options {
            id
            name
          }
        }
      }
    }
  }
}
"""

# Adding content already on the board answers with its existing item.
ADD_ITEM = """
mutation AddBoardItem($project: ID!, $content: ID!, $field: String!) {
  addProjectV2ItemById(input: {projectId: $project, contentId: $content}) {
    item {
      id
      fieldValueByName(name: $field) {
        ... on ProjectV2ItemFieldSingleSelectValue {
          optionId
          name
        }
      }
    }
  }
}
"""

SET_COLUMN = """
mutation SetBoardColumn(
  $project: ID!, $item: ID!, $field: ID!, $option: String!
) {
  updateProjectV2ItemFieldValue(
    input: {
      projectId: $project
      itemId: $item
      fieldId: $field
      value: {singleSelectOptionId: $option}
    }
  ) {
    projectV2Item {
      id
    }
  }
}
"""

# An item's column and what it holds: the card's side of the comparison.
ITEM_QUERY = """
query BoardItem($item: ID!, $field: String!) {
  node(id: $item) {
    ... on ProjectV2Item {
      id
      isArchived
      project {
        id
        number
      }
      fieldValueByName(name: $field) {
        ... on ProjectV2ItemFieldSingleSelectValue {
          optionId
          name
        }
      }
      content {
        ... on Issue {
          id
          number
          repository {
            databaseId
            nameWithOwner
          }
        }
      }
    }
  }
}
"""

# The issue's cards, to find one without adding it (a dry run writes nothing).
ISSUE_ITEMS_QUERY = """
query IssueBoardItems($issue: ID!, $field: String!) {
  node(id: $issue) {
    ... on Issue {
      projectItems(first: 50) {
        nodes {
          id
          project {
            id
          }
          fieldValueByName(name: $field) {
            ... on ProjectV2ItemFieldSingleSelectValue {
              optionId
              name
            }
          }
        }
      }
    }
  }
}
"""

DOCUMENTS = (LAYOUT_QUERY, ADD_ITEM, SET_COLUMN, ITEM_QUERY, ISSUE_ITEMS_QUERY)


class BoardMissing(Exception):
    """The configured project, field or column does not exist on GitHub."""


class NoBoardAccess(Exception):
    """The installation may not read or write the organisation's projects."""


@dataclass(frozen=True)
class Layout:
    """Ids of one board: project, single-select field, option per column name."""

    project_id: str
    field_id: str
    options: dict[str, str]  # column name, case-folded -> option id

    def option(self, column: str) -> str | None:
        return self.options.get(column.casefold())


@dataclass(frozen=True)
class Card:
    """A task's item on the board and the option it sits in (None: no column)."""

    item_id: str
    option_id: str | None
    column: str | None


@dataclass(frozen=True)
class ItemInfo:
    """An item as read back from GitHub, with the issue it carries."""

    item_id: str
    project_id: str | None
    column: str | None
    option_id: str | None
    issue_node_id: str | None
    repository_id: int | None
    repository: str | None
    number: int | None


_layouts: TTLCache[tuple[int, str, int, str], Layout] = TTLCache(
    1024, LAYOUT_CACHE_SECONDS
)
# Installations found to lack Projects access since this process started.
_no_access: set[int] = set()


def forget_boards() -> None:
    _layouts.clear()
    _no_access.clear()


def has_access(installation_id: int) -> bool:
    return installation_id not in _no_access


def access_granted(installation_id: int) -> None:
    """The installation accepted new permissions: try the board again."""
    _no_access.discard(installation_id)


def status_of_column(board: Board, column: str | None) -> Status | None:
    if column is None:
        return None
    for status, name in board.columns.items():
        if name.casefold() == column.casefold():
            return Status(status)
    return None


async def query(gh: InstallationAPI, document: str, **variables: Any) -> Any:
    """A GraphQL call whose failures say what the board should do about them."""
    try:
        return await gh.query(document, **variables)
    except (QueryError, BadGraphQLRequest) as exc:
        if _forbidden(exc):
            _no_access.add(gh.installation_id)
            raise NoBoardAccess(str(exc)) from exc
        raise


def _forbidden(exc: QueryError | BadGraphQLRequest) -> bool:
    if isinstance(exc, BadGraphQLRequest):
        text = str(exc).lower()
        return int(exc.status_code) == 403 and "rate limit" not in text
    return "FORBIDDEN" in graphql_error_types(exc)


def _unknown(exc: BaseException) -> bool:
    """GitHub no longer knows an id we cached (an option or item was replaced)."""
    if not isinstance(exc, QueryError):
        return False
    return bool(graphql_error_types(exc) & {"NOT_FOUND", "UNPROCESSABLE"})


async def layout(gh: InstallationAPI, board: Board, *, refresh: bool = False) -> Layout:
    key = (gh.installation_id, board.owner.lower(), board.number, board.field)
    cached = _layouts.get(key)
    if cached is not None and not refresh:
        return cached
    try:
        data = await query(
            gh, LAYOUT_QUERY, owner=board.owner, number=board.number, field=board.field
        )
    except QueryError as exc:
        if "NOT_FOUND" in graphql_error_types(exc):
            raise BoardMissing(
                f"project {board.number} of organisation {board.owner} was not found"
            ) from exc
        raise
    found = _layout_of(data, board)
    _layouts[key] = found
    return found


def _layout_of(data: dict[str, Any], board: Board) -> Layout:
    project = ((data.get("organization") or {}).get("projectV2")) or None
    if project is None:
        raise BoardMissing(
            f"project {board.number} of organisation {board.owner} was not found"
        )
    field = project.get("field") or {}
    if not field.get("id") or "options" not in field:
        raise BoardMissing(
            f"project {board.number} has no single-select field {board.field!r}"
        )
    options = {str(o["name"]).casefold(): str(o["id"]) for o in field["options"]}
    return Layout(str(project["id"]), str(field["id"]), options)


async def add_item(
    gh: InstallationAPI, layout_: Layout, board: Board, content_id: str
) -> Card:
    data = await query(
        gh,
        ADD_ITEM,
        project=layout_.project_id,
        content=content_id,
        field=board.field,
    )
    item = data["addProjectV2ItemById"]["item"]
    value = item.get("fieldValueByName") or {}
    return Card(str(item["id"]), value.get("optionId"), value.get("name"))


async def read_item(gh: InstallationAPI, item_id: str, field: str) -> ItemInfo | None:
    """The item's column and content; None when GitHub does not know the item."""
    try:
        data = await query(gh, ITEM_QUERY, item=item_id, field=field)
    except QueryError as exc:
        if "NOT_FOUND" in graphql_error_types(exc):
            return None
        raise
    node = data.get("node")
    if not node or "id" not in node:
        return None
    value = node.get("fieldValueByName") or {}
    content = node.get("content") or {}
    repository = content.get("repository") or {}
    return ItemInfo(
        item_id=str(node["id"]),
        project_id=(node.get("project") or {}).get("id"),
        column=value.get("name"),
        option_id=value.get("optionId"),
        issue_node_id=content.get("id"),
        repository_id=repository.get("databaseId"),
        repository=repository.get("nameWithOwner"),
        number=content.get("number"),
    )


async def set_column(
    gh: InstallationAPI, layout_: Layout, item_id: str, option_id: str
) -> None:
    await query(
        gh,
        SET_COLUMN,
        project=layout_.project_id,
        item=item_id,
        field=layout_.field_id,
        option=option_id,
    )


async def card_of(
    gh: InstallationAPI,
    layout_: Layout,
    board: Board,
    task: Task,
    *,
    add: bool = True,
) -> Card | None:
    """The task's card, added to the board when it is not (or no longer) there."""
    if task.board_item_id:
        info = await read_item(gh, task.board_item_id, board.field)
        # A transferred issue is new content: its old card no longer counts.
        if (
            info is not None
            and info.project_id == layout_.project_id
            and info.issue_node_id in (None, task.issue_node_id)
        ):
            return Card(info.item_id, info.option_id, info.column)
    if not task.issue_node_id:
        raise PermanentError("the task's issue has no node id to put on the board")
    if not add:
        return await find_card(gh, layout_, board, task.issue_node_id)
    return await add_item(gh, layout_, board, task.issue_node_id)


async def find_card(
    gh: InstallationAPI, layout_: Layout, board: Board, issue_node_id: str
) -> Card | None:
    """The issue's card on this board, looked up without changing anything."""
    data = await query(gh, ISSUE_ITEMS_QUERY, issue=issue_node_id, field=board.field)
    items = (((data.get("node") or {}).get("projectItems")) or {}).get("nodes") or []
    for item in items:
        if (item.get("project") or {}).get("id") == layout_.project_id:
            value = item.get("fieldValueByName") or {}
            return Card(str(item["id"]), value.get("optionId"), value.get("name"))
    return None


@dataclass(frozen=True)
class Move:
    """What bringing one card in step did (or, dry, would do)."""

    item_id: str | None
    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


async def desired_option(
    gh: InstallationAPI, board: Board, column: str
) -> tuple[Layout, str]:
    """The option for a column; a name not in the cache is looked up once more."""
    found = await layout(gh, board)
    option = found.option(column)
    if option is None:
        found = await layout(gh, board, refresh=True)
        option = found.option(column)
    if option is None:
        raise BoardMissing(
            f"the field {board.field!r} of project {board.number} "
            f"has no option {column!r}"
        )
    return found, option


async def bring_in_step(
    gh: InstallationAPI, board: Board, task: Task, *, dry_run: bool = False
) -> Move:
    """Put the task's card in its status's column; compare before writing."""
    column = board.columns[task.status]
    found, option = await desired_option(gh, board, column)
    card = await card_of(gh, found, board, task, add=not dry_run)
    if card is None:
        return Move(None, None, column)
    if card.option_id == option:
        return Move(card.item_id, column, column)
    if dry_run:
        return Move(card.item_id, card.column, column)
    try:
        await set_column(gh, found, card.item_id, option)
    except QueryError as exc:
        if not _unknown(exc):
            raise
        card = await _retry_fresh(gh, board, task, column, exc)
    return Move(card.item_id, card.column, column)


async def _retry_fresh(
    gh: InstallationAPI, board: Board, task: Task, column: str, exc: QueryError
) -> Card:
    """The option or item was replaced on the board: look both up again, once."""
    log.info("board ids stale, looking up again", extra={"task": task.id})
    found = await layout(gh, board, refresh=True)
    option = found.option(column)
    if option is None:
        raise BoardMissing(
            f"the field {board.field!r} of project {board.number} "
            f"has no option {column!r}"
        ) from exc
    card = await add_item(gh, found, board, task.issue_node_id or "")
    await set_column(gh, found, card.item_id, option)
    return card


# The sync step and its reports.


async def sync_board(
    services: Services, gh: InstallationAPI, task: Task, config: RepoConfig
) -> None:
    """`Mirror.steps` member: move the task's card; never undo the task's status."""
    if config.board is None or task.deleted or not has_access(gh.installation_id):
        return
    await sync_card(services, gh, task, config.board)


async def sync_card(
    services: Services,
    gh: InstallationAPI,
    task: Task,
    board: Board,
    *,
    dry_run: bool = False,
) -> Move | None:
    """Move one card; failures are reported and audited, transient ones re-raised.

    A dry run reports nothing on GitHub and writes no audit row.
    """
    try:
        move = await bring_in_step(gh, board, task, dry_run=dry_run)
    except (NoBoardAccess, BoardMissing) as exc:
        if not dry_run:
            await _report_unusable(services, task, board, exc)
        return None
    except Exception as exc:
        kind = classify(exc)
        if not dry_run:
            await record_out_of_step(services, task, str(kind or exc))
        if not isinstance(kind, PermanentError):
            raise
        log.warning("board write failed", extra={"task": task.id, "error": str(kind)})
        return None
    if not dry_run and move.item_id and move.item_id != task.board_item_id:
        await remember_item(services, task, move.item_id)
    return move


async def _report_unusable(
    services: Services, task: Task, board: Board, exc: NoBoardAccess | BoardMissing
) -> None:
    if isinstance(exc, NoBoardAccess):
        await report_no_access(services, task, board)
        return
    await report_missing(services, task, board, str(exc))
    await record_out_of_step(services, task, str(exc))


async def remember_item(services: Services, task: Task, item_id: str) -> None:
    async with services.sessions.begin() as session:
        row = await session.get(Task, task.id)
        if row is not None:
            row.board_item_id = item_id
    task.board_item_id = item_id


async def record_repair(services: Services, task: Task, move: Move) -> None:
    """Reconcile moved a card the bot had not (or someone else had) moved."""
    async with services.sessions.begin() as session:
        session.add(_board_entry(task, REPAIRED, f"{move.before} -> {move.after}"))


def _board_entry(task: Task, action: str, note: str) -> AuditEntry:
    return AuditEntry(
        task_id=task.id,
        action=action,
        from_status=str(task.status),
        to_status=str(task.status),
        actor_id=None,
        actor_login="workflow-bot",
        source="board",
        note=note[:2000],
    )


async def record_out_of_step(services: Services, task: Task, reason: str) -> None:
    """The task's status stands; the audit says its card does not show it yet.

    Retries of one failed write add no further rows: the newest row says it.
    """
    async with services.sessions.begin() as session:
        newest = await session.scalar(
            select(AuditEntry.action)
            .where(AuditEntry.task_id == task.id)
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
        if newest == OUT_OF_STEP:
            return
        session.add(_board_entry(task, OUT_OF_STEP, reason))


async def report_missing(
    services: Services, task: Task, board: Board, problem: str
) -> None:
    marker = f"board-missing:{board.owner}/{board.number}:{problem}"[:200]
    body = replies.render(
        "board_missing.md.j2",
        owner=board.owner,
        number=board.number,
        field=board.field,
        problem=problem,
        columns=board.columns,
    )
    await _notice(services, task, marker, "Workflow board is missing a column", body)


async def report_no_access(services: Services, task: Task, board: Board) -> None:
    log.warning(
        "board access refused",
        extra={"installation": task.installation_id, "owner": board.owner},
    )
    body = replies.render(
        "board_no_access.md.j2", owner=board.owner, number=board.number
    )
    marker = f"board-no-access:{task.installation_id}"
    await _notice(services, task, marker, "Workflow board cannot be reached", body)


async def _notice(
    services: Services, task: Task, marker: str, title: str, body: str
) -> None:
    """An issue on the task's repository, opened once per marker."""
    async with services.sessions.begin() as session:
        await outbox.enqueue(
            session,
            replies.ISSUE,
            {
                "installation_id": task.installation_id,
                "repository": task.repository_full_name,
                "marker": marker,
                "title": title,
                "body": body,
            },
            dedup_key=f"{task.repository_full_name}:{marker}"[:255],
        )


__all__ = [
    "DOCUMENTS",
    "OUT_OF_STEP",
    "BoardMissing",
    "Move",
    "NoBoardAccess",
    "access_granted",
    "bring_in_step",
    "forget_boards",
    "has_access",
    "read_item",
    "status_of_column",
    "sync_board",
    "sync_card",
]
