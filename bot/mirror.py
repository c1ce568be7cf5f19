"""Bring GitHub in step with a task: labels now; the board and check run hook in."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from gidgethub import BadRequest, InvalidField
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import RepoConfig
from bot.github import InstallationAPI
from bot.replies import marker_line
from bot.services import Services
from storage.models import BotComment, Status, Task, TaskType, User

log = logging.getLogger(__name__)

LABEL_COLOURS = {
    Status.TODO: ("ededed", "Task waiting to be claimed"),
    Status.IN_PROGRESS: ("fbca04", "Task being worked on"),
    Status.SUBMITTED: ("0e8a16", "Task submitted for review"),
    Status.APPROVED: ("5319e7", "Task approved"),
    Status.REJECTED: ("d93f0b", "Task rejected; changes needed"),
}
TYPE_COLOUR = ("c5def5", "Kind of task")

# Extra steps that keep other GitHub surfaces (board, check run) in step.
SyncStep = Callable[[Services, InstallationAPI, Task, RepoConfig], Awaitable[None]]


def desired_labels(task: Task, config: RepoConfig) -> set[str]:
    if task.deleted:
        return set()
    return {config.label(task.status), config.label(task.type)}


def managed_labels(config: RepoConfig) -> set[str]:
    keys = [*Status, *TaskType]
    return {config.label(key).lower() for key in keys}


def label_diff(
    current: list[str], desired: set[str], managed: set[str]
) -> tuple[list[str], list[str]]:
    """(to add, to remove); names compare case-insensitively, as on GitHub."""
    have = {name.lower(): name for name in current}
    add = sorted(name for name in desired if name.lower() not in have)
    wanted = {name.lower() for name in desired}
    remove = sorted(
        original
        for lowered, original in have.items()
        if lowered in managed and lowered not in wanted
    )
    return add, remove


def split(full_name: str) -> dict[str, str]:
    owner, _, repo = full_name.partition("/")
    return {"owner": owner, "repo": repo}


async def sync_labels(gh: InstallationAPI, task: Task, config: RepoConfig) -> None:
    where = {**split(task.repository_full_name), "issue_number": str(task.issue_number)}
    current = [
        label["name"]
        async for label in gh.getiter(
            "/repos/{owner}/{repo}/issues/{issue_number}/labels", url_vars=where
        )
    ]
    add, remove = label_diff(
        current, desired_labels(task, config), managed_labels(config)
    )
    for name in add:
        await _ensure_repo_label(gh, task, config, name)
    if add:
        await gh.post(
            "/repos/{owner}/{repo}/issues/{issue_number}/labels",
            url_vars=where,
            data={"labels": add},
        )
    for name in remove:
        await _remove_label(gh, where, name)


async def _ensure_repo_label(
    gh: InstallationAPI, task: Task, config: RepoConfig, name: str
) -> None:
    colour, description = TYPE_COLOUR
    for status, (status_colour, status_description) in LABEL_COLOURS.items():
        if config.label(status).lower() == name.lower():
            colour, description = status_colour, status_description
    try:
        await gh.post(
            "/repos/{owner}/{repo}/labels",
            url_vars=split(task.repository_full_name),
            data={"name": name, "color": colour, "description": description},
        )
    except InvalidField as exc:
        # "already_exists" means another writer won the race: fine.
        if "already_exists" not in str(exc.errors) and "already" not in str(exc):
            raise


async def _remove_label(gh: InstallationAPI, where: dict[str, str], name: str) -> None:
    try:
        await gh.delete(
            "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
            url_vars={**where, "name": name},
        )
    except BadRequest as exc:
        if int(exc.status_code) != 404:  # already gone is what we wanted
            raise


async def sync_assignee(services: Services, gh: InstallationAPI, task: Task) -> None:
    """The task's assignee is assigned on GitHub; an unclaimed task has none."""
    where = {**split(task.repository_full_name), "issue_number": str(task.issue_number)}
    issue = await gh.getitem(
        "/repos/{owner}/{repo}/issues/{issue_number}", url_vars=where
    )
    current = [a["login"] for a in issue.get("assignees") or []]
    login = await _login_of(services, task.assignee_id)
    if login is not None and login.lower() not in {c.lower() for c in current}:
        await gh.post(
            "/repos/{owner}/{repo}/issues/{issue_number}/assignees",
            url_vars=where,
            data={"assignees": [login]},
        )
    elif login is None and current and not task.deleted:
        await gh.delete(
            "/repos/{owner}/{repo}/issues/{issue_number}/assignees",
            url_vars=where,
            data={"assignees": current},
        )


async def _login_of(services: Services, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    async with services.sessions() as session:
        user = await session.get(User, user_id)
    return user.login if user else None


class Mirror:
    """The `github.*` outbox effects."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.steps: list[SyncStep] = []

    async def sync_task(self, payload: dict[str, Any]) -> None:
        async with self.services.sessions() as session:
            task = await session.get(Task, payload["task_id"])
        if task is None or task.installation_id is None:
            return
        gh = self.services.github.client(task.installation_id)
        config = await self.services.configs.load(gh, task.repository_full_name)
        await sync_labels(gh, task, config)
        await sync_assignee(self.services, gh, task)
        for step in self.steps:
            await step(self.services, gh, task, config)

    async def comment(self, payload: dict[str, Any]) -> None:
        gh = self.services.github.client(payload["installation_id"])
        repository, number = payload["repository"], int(payload["issue_number"])
        marker = payload["marker"]
        comment_id = await self._known_comment(repository, number, marker)
        if comment_id is not None and await _edit(gh, repository, comment_id, payload):
            return
        own = await self.services.bot_login()
        comment_id = await _find_marked(gh, repository, number, marker, own)
        if comment_id is not None and await _edit(gh, repository, comment_id, payload):
            await self._remember(repository, number, marker, comment_id)
            return
        answer = await gh.post(
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            url_vars={**split(repository), "issue_number": str(number)},
            data={"body": payload["body"]},
        )
        await self._remember(repository, number, marker, int(answer["id"]))

    async def issue(self, payload: dict[str, Any]) -> None:
        """Open a marked issue once (configuration problems)."""
        repository, marker = payload["repository"], payload["marker"]
        if await self._known_comment(repository, 0, marker) is not None:
            return
        gh = self.services.github.client(payload["installation_id"])
        answer = await gh.post(
            "/repos/{owner}/{repo}/issues",
            url_vars=split(repository),
            data={
                "title": payload["title"],
                "body": f"{marker_line(marker)}\n{payload['body']}",
            },
        )
        # Issue number 0 stands for "the repository itself".
        await self._remember(repository, 0, marker, int(answer["number"]))

    async def reaction(self, payload: dict[str, Any]) -> None:
        gh = self.services.github.client(payload["installation_id"])
        await gh.post(
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            url_vars={
                **split(payload["repository"]),
                "comment_id": str(payload["comment_id"]),
            },
            data={"content": payload["content"]},
        )

    async def _known_comment(
        self, repository: str, number: int, marker: str
    ) -> int | None:
        async with self.services.sessions() as session:
            row = await _bot_comment(session, repository, number, marker)
        return row.comment_id if row is not None else None

    async def _remember(
        self, repository: str, number: int, marker: str, comment_id: int
    ) -> None:
        async with self.services.sessions.begin() as session:
            row = await _bot_comment(session, repository, number, marker)
            if row is None:
                session.add(
                    BotComment(
                        repository=repository,
                        issue_number=number,
                        marker=marker,
                        comment_id=comment_id,
                    )
                )
            else:
                row.comment_id = comment_id


async def _bot_comment(
    session: AsyncSession, repository: str, number: int, marker: str
) -> BotComment | None:
    """Where the bot's comment with `marker` on an issue lives, if known."""
    return await session.scalar(
        select(BotComment).where(
            BotComment.repository == repository,
            BotComment.issue_number == number,
            BotComment.marker == marker,
        )
    )


async def _edit(
    gh: InstallationAPI, repository: str, comment_id: int, payload: dict[str, Any]
) -> bool:
    try:
        await gh.patch(
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            url_vars={**split(repository), "comment_id": str(comment_id)},
            data={"body": payload["body"]},
        )
    except BadRequest as exc:
        if int(exc.status_code) == 404:  # someone deleted it: post anew
            return False
        raise
    return True


async def _find_marked(
    gh: InstallationAPI, repository: str, number: int, marker: str, own: str | None
) -> int | None:
    """The database forgot (restored backup?): look for the marker on GitHub.

    Only the bot's own comments count: anyone can paste a marker into theirs.
    """
    if own is None:
        return None
    line = marker_line(marker)
    async for comment in gh.getiter(
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        url_vars={**split(repository), "issue_number": str(number)},
    ):
        author = (comment.get("user") or {}).get("login")
        if author == own and (comment.get("body") or "").startswith(line):
            return int(comment["id"])
    return None
