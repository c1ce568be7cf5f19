"""`serve` in one process: the worker inside the app acts without being driven."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from bot.app import create_app
from tests.conftest import make_settings
from tests.fakegithub import FakeGitHub
from tests.harness import sign
from tests.payloads import make_world


async def test_delivery_is_acted_on_by_the_in_process_worker(
    gh: FakeGitHub, app_key: tuple[str, str], tmp_path: Path
) -> None:
    world = make_world(gh)
    number, payload = world.open_issue("dana")
    settings = make_settings(gh, app_key[0], f"sqlite+aiosqlite:///{tmp_path / 'e.db'}")
    server = TestServer(create_app(settings, run_worker=True), host="127.0.0.1")
    await server.start_server()
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": "embedded-1",
        "X-Hub-Signature-256": sign(body),
        "Content-Type": "application/json",
    }
    try:
        async with aiohttp.ClientSession() as client:
            async with client.post(
                server.make_url("/webhooks"), data=body, headers=headers
            ) as r:
                assert r.status == 202
        labels: list[str] = []
        for _ in range(100):  # the worker wakes on the new-work signal
            labels = gh.issue(world.repo, number)["labels"]
            if "status: todo" in labels:
                break
            await asyncio.sleep(0.05)
    finally:
        await server.close()  # stops the worker cleanly

    assert sorted(labels) == ["status: todo", "type: feature"]
