"""Registering the App through GitHub's manifest flow."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from bot.setup import STATE
from tests.fakegithub import FakeGitHub
from tests.harness import Bot


async def test_setup_page_posts_the_manifest_from_app_yml(bot: Bot) -> None:
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


async def test_callback_with_wrong_state_is_refused(bot: Bot, tmp_path: Path) -> None:
    async with bot.client.get(
        bot.url + "/setup/callback", params={"code": "c", "state": "forged"}
    ) as response:
        assert response.status == 400
    assert not (tmp_path / ".env").exists()


async def test_callback_converts_the_code_and_writes_env(
    bot: Bot, gh: FakeGitHub, tmp_path: Path
) -> None:
    env = tmp_path / ".env"
    env.write_text("DATABASE_URL=keep-me\n")
    state = bot.server.app[STATE]

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
