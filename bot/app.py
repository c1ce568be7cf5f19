"""`create_app(settings)`: routes, middlewares and resource lifetimes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from bot import api, metrics, outbox, setup, webhooks
from bot.appkeys import NEW_WORK, SERVICES, SESSIONS, SETTINGS
from bot.runtime import build_worker
from bot.services import open_services
from bot.settings import Settings
from storage import inbox
from storage.models import Delivery

log = logging.getLogger(__name__)

WORKER_TASK = web.AppKey("worker_task", asyncio.Task[None])
STOP = web.AppKey("stop", asyncio.Event)


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[SESSIONS]() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any database failure means unhealthy
        log.warning("health check failed", extra={"error": str(exc)})
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def metrics_view(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        rows = await session.execute(
            select(Delivery.state, func.count()).group_by(Delivery.state)
        )
        for state, count in rows.all():
            metrics.INBOX_DEPTH.labels(state=str(state)).set(count)
    body = generate_latest(metrics.REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(
    settings: Settings,
    *,
    run_worker: bool = True,
    env_file: Path = Path(".env"),
    registration: bool | None = None,
) -> web.Application:
    """The web app; with `run_worker` it also drains the inbox in-process.

    The registration pages exist only until the App is registered (or when
    `setup` asks for them): afterwards they would let anyone replace it.
    """
    app = web.Application(
        client_max_size=webhooks.MAX_BODY_BYTES, middlewares=[webhooks.count_answers]
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_resources(run_worker))
    app.router.add_post("/webhooks", webhooks.receive)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    if registration if registration is not None else not settings.can_call_github:
        setup.add_routes(app, env_file)
    api.add_routes(app)
    return app


def _resources(run_worker: bool):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        async with open_services(app[SETTINGS]) as services:
            app[SERVICES] = services
            app[SESSIONS] = services.sessions
            app[NEW_WORK] = services.new_work
            stop = app[STOP] = asyncio.Event()
            if run_worker and services.settings.can_call_github:
                if services.settings.is_sqlite:
                    # One process owns an SQLite inbox: any lease is a crashed one.
                    await inbox.release_all_leases(services.sessions)
                    await outbox.release_all_leases(services.sessions)
                worker = build_worker(services)
                app[WORKER_TASK] = asyncio.create_task(worker.run(stop))
            yield
            stop.set()
            if WORKER_TASK in app:
                with contextlib.suppress(asyncio.CancelledError):
                    await app[WORKER_TASK]

    return context
