"""Pushes that change `.github/workflow-bot.yml` reload it and its roles."""

from __future__ import annotations

from typing import Any

from gidgethub import sansio
from gidgethub.routing import Router

from bot.config import CONFIG_PATH
from bot.context import DeliveryContext
from handlers.scope import config_of

router = Router()


def touches_config(payload: dict[str, Any]) -> bool:
    default = (payload.get("repository") or {}).get("default_branch")
    if payload.get("ref") != f"refs/heads/{default}":
        return False
    for commit in payload.get("commits") or []:
        for key in ("added", "modified", "removed"):
            if CONFIG_PATH in (commit.get(key) or []):
                return True
    return False


@router.register("push")
async def push(event: sansio.Event, ctx: DeliveryContext) -> None:
    if not touches_config(event.data) or ctx.installation_id is None:
        return
    repository = ctx.repository
    configs = ctx.services.configs
    if repository.get("name") == ".github":
        # The organisation default changed: every repository may inherit it.
        configs.forget_owner(str((repository.get("owner") or {}).get("login")))
    configs.forget(str(repository.get("full_name")))
    await config_of(ctx)
