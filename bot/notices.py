"""The `github.issue` effect: one marked issue per problem, never a second."""

from __future__ import annotations

import logging
from typing import Any

from bot.mirror import split
from bot.replies import marker_line
from bot.services import Services

log = logging.getLogger(__name__)


class Notices:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def open_issue(self, payload: dict[str, Any]) -> None:
        gh = self.services.github.client(payload["installation_id"])
        repository, marker = payload["repository"], payload["marker"]
        if await self._already_told(repository, marker, payload["installation_id"]):
            return
        await gh.post(
            "/repos/{owner}/{repo}/issues",
            url_vars=split(repository),
            data={"title": payload["title"], "body": payload["body"]},
        )
        log.info("notice opened", extra={"repo": repository, "marker": marker})

    async def _already_told(
        self, repository: str, marker: str, installation_id: int
    ) -> bool:
        """An issue with the marker, open or closed: the repository was told."""
        gh = self.services.github.client(installation_id)
        line = marker_line(marker)
        query: dict[str, str] = {"state": "all"}
        creator = await self.services.bot_login()
        if creator:
            query["creator"] = creator
        async for issue in gh.getiter(
            "/repos/{owner}/{repo}/issues{?state,creator}",
            url_vars={**split(repository), **query},
        ):
            if (issue.get("body") or "").startswith(line):
                return True
        return False
