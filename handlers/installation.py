"""Installations and the repositories they cover."""

from __future__ import annotations

from typing import Any

from gidgethub import sansio
from gidgethub.routing import Router
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import DeliveryContext
from storage.models import Installation, Repository, utcnow

router = Router()


async def _remember_installation(
    session: AsyncSession, installation: dict[str, Any]
) -> Installation:
    account = installation.get("account") or {}
    row = await session.get(Installation, installation["id"])
    if row is None:
        row = Installation(id=installation["id"])
        session.add(row)
    row.account_login = account.get("login") or ""
    row.account_id = account.get("id") or 0
    row.account_type = account.get("type") or installation.get("target_type") or ""
    return row


async def _set_repositories(
    session: AsyncSession,
    installation_id: int | None,
    repositories: list[dict[str, Any]],
    *,
    active: bool,
) -> None:
    for repository in repositories:
        row = await session.get(Repository, repository["id"])
        if row is None:
            row = Repository(id=repository["id"])
            session.add(row)
        row.installation_id = installation_id
        row.full_name = repository.get("full_name") or repository.get("name") or ""
        row.active = active


@router.register("installation", action="created")
@router.register("installation", action="unsuspend")
@router.register("installation", action="new_permissions_accepted")
async def installation_active(event: sansio.Event, ctx: DeliveryContext) -> None:
    row = await _remember_installation(ctx.session, event.data["installation"])
    row.suspended_at = None
    row.deleted_at = None
    await _set_repositories(
        ctx.session, row.id, event.data.get("repositories") or [], active=True
    )


@router.register("installation", action="suspend")
async def installation_suspended(event: sansio.Event, ctx: DeliveryContext) -> None:
    row = await _remember_installation(ctx.session, event.data["installation"])
    row.suspended_at = utcnow()


@router.register("installation", action="deleted")
async def installation_deleted(event: sansio.Event, ctx: DeliveryContext) -> None:
    row = await _remember_installation(ctx.session, event.data["installation"])
    row.deleted_at = utcnow()
    ctx.services.github.forget_token(row.id)
    await _set_repositories(
        ctx.session, row.id, event.data.get("repositories") or [], active=False
    )


@router.register("installation_repositories", action="added")
async def repositories_added(event: sansio.Event, ctx: DeliveryContext) -> None:
    row = await _remember_installation(ctx.session, event.data["installation"])
    await _set_repositories(
        ctx.session, row.id, event.data.get("repositories_added") or [], active=True
    )


@router.register("installation_repositories", action="removed")
async def repositories_removed(event: sansio.Event, ctx: DeliveryContext) -> None:
    row = await _remember_installation(ctx.session, event.data["installation"])
    await _set_repositories(
        ctx.session, row.id, event.data.get("repositories_removed") or [], active=False
    )
