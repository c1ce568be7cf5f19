"""A running bot wired to the fake GitHub, with signed deliveries and a drain."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.appkeys import SERVICES
from bot.runtime import build_worker
from bot.services import Services
from bot.settings import Settings
from bot.worker import Worker

SECRET = "test-webhook-secret"
FIXTURES = Path(__file__).parent / "fixtures"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def fixture_payload(event: str, name: str) -> dict[str, Any]:
    path = FIXTURES / "webhooks" / "examples" / event / f"{name}.payload.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


@dataclass
class Bot:
    """The app under test: its HTTP server, services and a hand-driven worker."""

    settings: Settings
    server: TestServer
    client: aiohttp.ClientSession
    services: Services
    worker: Worker
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url(""))

    async def post_raw(
        self, body: Any, headers: dict[str, str], path: str = "/webhooks"
    ) -> Answer:
        async with self.client.post(self.url + path, data=body, headers=headers) as r:
            text = await r.text()
            try:
                parsed = json.loads(text) if text else {}
            except ValueError:
                parsed = {"text": text}
            return Answer(r.status, parsed)

    async def deliver(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        delivery_id: str | None = None,
        secret: str = SECRET,
    ) -> Answer:
        """POST a delivery exactly as GitHub signs and sends it."""
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/test",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature-256": sign(body, secret),
        }
        return await self.post_raw(body, headers)

    async def drain(self) -> int:
        return await self.worker.drain()

    async def handle(self, event: str, payload: dict[str, Any]) -> Answer:
        """Deliver and work until nothing is left to do."""
        answer = await self.deliver(event, payload)
        await self.drain()
        return answer


async def start_bot(
    settings: Settings, env_file: Path | None = None, *, registration: bool = False
) -> Bot:
    app: web.Application = create_app(
        settings,
        run_worker=False,
        env_file=env_file or Path(".env.test-unused"),
        registration=registration,
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    services = app[SERVICES]
    bot = Bot(
        settings=settings,
        server=server,
        client=aiohttp.ClientSession(),
        services=services,
        worker=build_worker(services),
    )

    async def record(name: str, data: dict[str, Any]) -> None:
        bot.events.append((name, data))

    services.publisher.subscribe(record)
    return bot


async def stop_bot(bot: Bot) -> None:
    await bot.client.close()
    await bot.server.close()
