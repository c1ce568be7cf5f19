"""The resources one process shares: database, HTTP session, GitHub App, events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import ConfigLoader
from bot.events import Publisher
from bot.github import GitHubApp
from bot.settings import Settings
from storage import migrate
from storage.db import SessionFactory, create_engine, session_factory
from storage.writer import InboxWriter, session_writer, sqlite_writer

log = logging.getLogger(__name__)

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    http: aiohttp.ClientSession
    github: GitHubApp
    publisher: Publisher
    writer: InboxWriter
    new_work: asyncio.Event = field(default_factory=asyncio.Event)
    configs: ConfigLoader = field(default_factory=ConfigLoader)
    _bot_login: str | None = None
    _bot_login_known: bool = False

    async def bot_login(self) -> str | None:
        """This App's own bot user; events it caused are recorded, not acted on."""
        if not self._bot_login_known:
            self._bot_login = await self.github.bot_login()
            self._bot_login_known = True
        return self._bot_login


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    migrate_sqlite: bool = True,
    dry_run: bool = False,
    http_timeout: aiohttp.ClientTimeout = HTTP_TIMEOUT,
) -> AsyncIterator[Services]:
    """Open every shared resource once and close them in reverse order."""
    engine = create_engine(settings.database_url)
    if migrate_sqlite and settings.is_sqlite:
        await migrate.upgrade(engine)
    http = aiohttp.ClientSession(timeout=http_timeout)
    publisher = Publisher()
    try:
        if settings.amqp_url:
            await publisher.connect_amqp(settings.amqp_url)
        sessions = session_factory(engine)
        writer = (
            sqlite_writer(settings.database_url)
            if settings.is_sqlite and ":memory:" not in settings.database_url
            else session_writer(sessions)
        )
        writer.start()
        yield Services(
            settings=settings,
            engine=engine,
            sessions=sessions,
            http=http,
            github=GitHubApp(settings, http, dry_run=dry_run),
            publisher=publisher,
            writer=writer,
        )
        await writer.close()
    finally:
        await publisher.close()
        await http.close()
        await engine.dispose()
