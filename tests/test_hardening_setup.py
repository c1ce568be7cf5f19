"""The registration routes of a bot that is already registered."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fakegithub import FakeGitHub
from tests.harness import Bot


async def leaked_state(bot: Bot) -> tuple[int, str | None]:
    async with bot.client.get(bot.url + "/setup") as page:
        text = await page.text()
    found = re.search(r"state=([A-Za-z0-9_-]+)", text)
    return page.status, found.group(1) if found else None


async def test_registered_bot_does_not_hand_out_the_setup_state(bot: Bot) -> None:
    assert bot.settings.can_call_github
    status, state = await leaked_state(bot)
    assert status == 404 or state is None, "setup state readable by anyone"


async def test_registered_bot_env_cannot_be_overwritten_by_a_visitor(
    bot: Bot, gh: FakeGitHub, tmp_path: Path
) -> None:
    """An unauthenticated visitor reads the state from /setup, then hands
    /setup/callback a manifest code of an App *they* registered: the bot
    overwrites its .env with the visitor's App id, key and webhook secret,
    which it uses from the next restart on."""
    env = tmp_path / ".env"
    env.write_text('APP_ID="4242"\nWEBHOOK_SECRET="the-real-secret"\n')
    _, state = await leaked_state(bot)
    if state is None:
        return
    async with bot.client.get(
        bot.url + "/setup/callback",
        params={"code": "attackers-own-manifest-code", "state": state},
    ) as answer:
        await answer.text()
    assert "the-real-secret" in env.read_text(), env.read_text()
