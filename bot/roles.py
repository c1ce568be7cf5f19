"""Who holds which role: SUPER_ADMINS, stored roles, and config `roles:` lists."""

from __future__ import annotations

import logging
from typing import Any

from cachetools import TTLCache
from gidgethub import BadRequest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import RepoConfig
from bot.github import InstallationAPI
from bot.rbac import Actor
from bot.settings import Settings
from bot.workflow import remember_user
from storage.models import Role, User

log = logging.getLogger(__name__)

TEAM_CACHE_SECONDS = 300
_team_members: TTLCache[tuple[str, str, str], bool] = TTLCache(8192, TEAM_CACHE_SECONDS)


async def is_team_member(gh: InstallationAPI, team: str, login: str) -> bool:
    """`@org/team` membership, asked of GitHub and cached for five minutes."""
    org, _, slug = team.lstrip("@").partition("/")
    key = (org.lower(), slug.lower(), login.lower())
    if key not in _team_members:
        _team_members[key] = await _ask_membership(gh, org, slug, login)
    return _team_members[key]


async def _ask_membership(gh: InstallationAPI, org: str, slug: str, login: str) -> bool:
    try:
        answer = await gh.getitem(
            "/orgs/{org}/teams/{team_slug}/memberships/{username}",
            url_vars={"org": org, "team_slug": slug, "username": login},
        )
    except BadRequest as exc:
        if int(exc.status_code) == 404:
            return False
        raise
    return isinstance(answer, dict) and answer.get("state") == "active"


async def config_role(
    gh: InstallationAPI | None, config: RepoConfig, login: str
) -> Role | None:
    """The first role whose `roles:` list names the login or one of its teams."""
    wanted = login.lower()
    for role, entries in config.roles.items():
        if any(e.lstrip("@").lower() == wanted for e in entries if "/" not in e):
            return role
    for role, entries in config.roles.items():
        for team in (e for e in entries if "/" in e):
            if gh is not None and await is_team_member(gh, team, login):
                return role
    return None


async def resolve_actor(
    session: AsyncSession,
    settings: Settings,
    github_user: dict[str, Any],
    config: RepoConfig,
    gh: InstallationAPI | None,
    *,
    scope: str | None = None,
    impersonator_id: int | None = None,
) -> Actor:
    user = await remember_user(session, github_user)
    role = await effective_role(settings, user, config, gh, scope=scope)
    return Actor(user.id, user.login, role, impersonator_id)


async def effective_role(
    settings: Settings,
    user: User,
    config: RepoConfig,
    gh: InstallationAPI | None,
    *,
    scope: str | None = None,
) -> Role | None:
    """The role `user` holds where `scope` (an account: owner of a repository).

    A role a repository's file gave is stored to let the REST API list people,
    but it holds only on that file's own account: anyone can install the App
    on their own account and write a file there.
    """
    if user.login.lower() in settings.super_admins:
        return Role.SUPER_ADMIN
    if user.role is not None and stored_role_holds(user, scope):
        return user.role
    return await config_role(gh, config, user.login)


def stored_role_holds(user: User, scope: str | None) -> bool:
    source = user.role_source or ""
    if not source.startswith("config:") or scope is None:
        return True
    owner = source.removeprefix("config:").split("/")[0]
    return owner.lower() == scope.split("/")[0].lower()


async def sync_config_roles(
    session: AsyncSession, gh: InstallationAPI, config: RepoConfig
) -> list[str]:
    """Store the logins a config names, so the REST API knows their roles.

    A role set by `/role` wins; a login that two configs give different
    roles keeps the first and the clash is returned for reporting.
    """
    clashes: list[str] = []
    source = config.source or ""
    listed: set[int] = set()
    for role, entries in config.roles.items():
        for login in (e.lstrip("@") for e in entries if "/" not in e):
            user_id, clash = await _sync_one(session, gh, login, role, source)
            if user_id is not None:
                listed.add(user_id)
            if clash:
                clashes.append(clash)
    await _drop_unlisted(session, source, listed)
    return clashes


async def _drop_unlisted(session: AsyncSession, source: str, listed: set[int]) -> None:
    """A login taken out of the file loses the role the file gave it."""
    query = select(User).where(User.role_source == f"config:{source}")
    for user in (await session.scalars(query)).all():
        if user.id not in listed:
            user.role = None
            user.role_source = None


async def _sync_one(
    session: AsyncSession, gh: InstallationAPI, login: str, role: Role, source: str
) -> tuple[int | None, str | None]:
    """(user id, clash); the id is None for a login GitHub does not know."""
    try:
        github_user = await gh.getitem(
            "/users/{username}", url_vars={"username": login}
        )
    except BadRequest as exc:
        if int(exc.status_code) == 404:
            return None, f"@{login} named under {role} does not exist on GitHub"
        raise
    user = await remember_user(session, github_user)
    if user.role_source == "command" or user.role == role:
        return user.id, None
    if user.role is not None and user.role_source not in (None, f"config:{source}"):
        clash = f"@{login} is {user.role} in {user.role_source}, {role} in {source}"
        return user.id, clash
    user.role = role
    user.role_source = f"config:{source}"
    return user.id, None
