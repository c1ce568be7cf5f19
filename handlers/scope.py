"""What most handlers need first: the repository's config, the actor, the task."""

from __future__ import annotations

import hashlib
from typing import Any

from bot import outbox, replies
from bot.config import CONFIG_PATH, RepoConfig
from bot.context import DeliveryContext
from bot.rbac import Actor
from bot.roles import resolve_actor, sync_config_roles
from bot.workflow import IssueRef, Policy, Workflow


async def config_of(ctx: DeliveryContext) -> RepoConfig:
    """The repository's config; its roles are stored the first time it is read."""
    full_name = ctx.repository.get("full_name")
    if not full_name or ctx.installation_id is None:
        return RepoConfig()
    configs = ctx.services.configs
    config = await configs.load(ctx.gh, full_name)
    source = config.source or full_name
    if source not in configs.synced:
        clashes = await sync_config_roles(ctx.session, ctx.gh, config)
        configs.synced.add(source)
        await report_config_problems(ctx, source, [*config.errors, *clashes])
    return config


async def report_config_problems(
    ctx: DeliveryContext, source: str, problems: list[str]
) -> None:
    """Once per distinct set of problems: an issue on the file's repository."""
    if not problems:
        return
    digest = hashlib.sha256("\n".join(problems).encode()).hexdigest()[:16]
    await outbox.enqueue(
        ctx.session,
        replies.ISSUE,
        {
            "installation_id": ctx.installation_id,
            "repository": source,
            "marker": f"config:{digest}",
            "title": "workflow-bot: configuration problem",
            "body": replies.render(
                "config_problem.md.j2", path=CONFIG_PATH, source=source, errors=problems
            ),
        },
        dedup_key=f"config:{source}:{digest}",
    )


async def actor_of(
    ctx: DeliveryContext, user: dict[str, Any], config: RepoConfig
) -> Actor:
    gh = ctx.gh if ctx.installation_id is not None else None
    scope = ctx.repository.get("full_name")
    return await resolve_actor(
        ctx.session, ctx.services.settings, user, config, gh, scope=scope
    )


def issue_ref(ctx: DeliveryContext, issue: dict[str, Any]) -> IssueRef:
    repository = ctx.repository
    return IssueRef(
        installation_id=ctx.installation_id,
        repository_id=int(repository["id"]),
        repository_full_name=str(repository["full_name"]),
        number=int(issue["number"]),
        node_id=issue.get("node_id"),
        title=str(issue.get("title") or ""),
        url=issue.get("html_url"),
    )


def workflow_for(
    ctx: DeliveryContext, source: str, config: RepoConfig | None = None
) -> Workflow:
    xp = config.academy.xp_per_approval if config and config.academy else 10
    return Workflow(
        ctx.session,
        source=source,
        delivery_id=ctx.delivery_id,
        policy=Policy(xp_per_approval=xp),
    )
