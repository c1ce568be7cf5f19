"""Typed keys under which the aiohttp application keeps its shared resources."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from bot.settings import Settings
from storage.db import SessionFactory

if TYPE_CHECKING:
    from bot.services import Services

SETTINGS = web.AppKey("settings", Settings)
SESSIONS = web.AppKey("sessions", SessionFactory)
NEW_WORK = web.AppKey("new_work", asyncio.Event)
SERVICES: web.AppKey[Services] = web.AppKey("services")
