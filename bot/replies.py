"""The bot's words on GitHub: rendered templates, each with a hidden marker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from storage.models import Task

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
COMMENT = "github.comment"
REACTION = "github.reaction"
ISSUE = "github.issue"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,  # Markdown for GitHub, not HTML
)


def quiet(text: object) -> str:
    """Text that names people without pinging them: a word joiner after "@"."""
    return str(text).replace("@", "@\u2060")


_environment.filters["quiet"] = quiet


def marker_line(marker: str) -> str:
    return f"<!-- workflow-bot:{marker} -->"


def render(template: str, **context: Any) -> str:
    return _environment.get_template(template).render(**context).strip()


def with_marker(marker: str, *parts: str) -> str:
    """The marker first, so the bot finds and edits its own comment later."""
    return "\n".join([marker_line(marker), *parts]) + "\n"


async def reply(
    session: AsyncSession,
    *,
    installation_id: int | None,
    repository: str,
    issue_number: int,
    marker: str,
    body: str,
) -> None:
    """Post, or edit in place, the bot's comment that carries `marker`."""
    body = with_marker(marker, body)
    await outbox.enqueue(
        session,
        COMMENT,
        {
            "installation_id": installation_id,
            "repository": repository,
            "issue_number": issue_number,
            "marker": marker,
            "body": body,
            "subject": f"{repository}#{issue_number}",
        },
    )


async def reply_on_task(
    session: AsyncSession,
    task: Task,
    *,
    marker: str,
    template: str,
    on_pull_request: bool = False,
    **context: Any,
) -> None:
    """A templated reply on the task's issue (or on its pull request)."""
    number = task.pr_number if on_pull_request and task.pr_number else None
    await reply(
        session,
        installation_id=task.installation_id,
        repository=task.repository_full_name,
        issue_number=number or task.issue_number,
        marker=marker,
        body=render(template, **context),
    )


async def react(
    session: AsyncSession,
    *,
    installation_id: int | None,
    repository: str,
    comment_id: int,
    content: str = "+1",
) -> None:
    await outbox.enqueue(
        session,
        REACTION,
        {
            "installation_id": installation_id,
            "repository": repository,
            "comment_id": comment_id,
            "content": content,
        },
        dedup_key=f"reaction:{repository}:{comment_id}:{content}",
    )
