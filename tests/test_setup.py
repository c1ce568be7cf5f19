"""Registering the App through GitHub's manifest flow."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from collections.abc import AsyncIterator

import pytest_asyncio

from bot.setup import STATE
from tests.conftest import make_settings
from tests.fakegithub import FakeGitHub
from tests.harness import Bot, start_bot, stop_bot


@pytest_asyncio.fixture
async def registering(
    gh: FakeGitHub, app_key: tuple[str, str], tmp_path: Path
) -> AsyncIterator[Bot]:
    """A server run by `python -m bot setup`: registration pages on."""
    settings = make_settings(gh, app_key[0], f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    running = await start_bot(settings, tmp_path / ".env", registration=True)
    yield running
    await stop_bot(running)


async def test_registered_server_offers_no_registration_pages(bot: Bot) -> None:
    for path in ("/setup", "/setup/callback?state=x&code=y"):
        async with bot.client.get(bot.url + path) as response:
            assert response.status == 404


async def test_setup_page_posts_the_manifest_from_app_yml(registering: Bot) -> None:
    bot = registering
    async with bot.client.get(bot.url + "/setup") as response:
        page = await response.text()

    assert response.status == 200
    found = re.search(r'name="manifest" value="([^"]*)"', page)
    assert found is not None
    manifest = json.loads(html.unescape(found.group(1)))
    assert manifest["hook_attributes"]["url"].endswith("/webhooks")
    assert manifest["redirect_url"].endswith("/setup/callback")
    assert "issues" in manifest["default_events"]
    assert manifest["default_permissions"]["checks"] == "write"
    assert "/settings/apps/new?state=" in page


async def test_callback_with_wrong_state_is_refused(
    registering: Bot, tmp_path: Path
) -> None:
    bot = registering
    async with bot.client.get(
        bot.url + "/setup/callback", params={"code": "c", "state": "forged"}
    ) as response:
        assert response.status == 400
    assert not (tmp_path / ".env").exists()


async def test_callback_converts_the_code_and_writes_env(
    registering: Bot, gh: FakeGitHub, tmp_path: Path
) -> None:
    bot = registering
    env = tmp_path / ".env"
    env.write_text("DATABASE_URL=keep-me\n")
    state = bot.server.app[STATE]["value"]

    async with bot.client.get(
        bot.url + "/setup/callback", params={"code": "abc123", "state": state}
    ) as response:
        text = await response.text()

    assert response.status == 200, text
    written = env.read_text()
    assert "DATABASE_URL=keep-me" in written
    assert re.search(r'^APP_ID="\d+"$', written, re.MULTILINE)
    assert "BEGIN RSA PRIVATE KEY" in written or "BEGIN PRIVATE KEY" in written
    assert re.search(r'^WEBHOOK_SECRET="[^"]+"$', written, re.MULTILINE)
    assert oct(env.stat().st_mode & 0o777) == "0o600"
    async with bot.client.get(
        bot.url + "/setup/callback", params={"code": "again", "state": state}
    ) as replayed:
        assert replayed.status == 400  # a state serves one registration
