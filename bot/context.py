"""What a handler gets for one delivery: its payload, transaction and clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.github import InstallationAPI, PermanentError
from bot.services import Services


@dataclass
class DeliveryContext:
    services: Services
    session: AsyncSession
    delivery_id: str
    event: str
    payload: dict[str, Any]

    @property
    def installation_id(self) -> int | None:
        installation = self.payload.get("installation")
        if isinstance(installation, dict) and isinstance(installation.get("id"), int):
            return int(installation["id"])
        return None

    @property
    def gh(self) -> InstallationAPI:
        installation = self.installation_id
        if installation is None:
            raise PermanentError("the delivery names no installation to act as")
        return self.services.github.client(installation)

    @property
    def repository(self) -> dict[str, Any]:
        repository = self.payload.get("repository")
        return repository if isinstance(repository, dict) else {}

    @property
    def sender(self) -> dict[str, Any]:
        sender = self.payload.get("sender")
        return sender if isinstance(sender, dict) else {}
