"""What most handlers need first: the repository's config, the actor, the task."""

from __future__ import annotations

from typing import Any

from bot.config import RepoConfig
from bot.context import DeliveryContext
from bot.rbac import Actor
from bot.roles import resolve_actor
from bot.workflow import IssueRef, Policy, Workflow


async def config_of(ctx: DeliveryContext) -> RepoConfig:
    full_name = ctx.repository.get("full_name")
    if not full_name or ctx.installation_id is None:
        return RepoConfig()
    return await ctx.services.configs.load(ctx.gh, full_name)


async def actor_of(
    ctx: DeliveryContext, user: dict[str, Any], config: RepoConfig
) -> Actor:
    gh = ctx.gh if ctx.installation_id is not None else None
    return await resolve_actor(ctx.session, ctx.services.settings, user, config, gh)


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
