"""Duplicate and out-of-order deliveries."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import outbox
from bot.worker import LEASE
from storage import inbox
from storage.models import Status
from tests.fakegithub import FakeGitHub
from tests.harness import Bot
from tests.payloads import World, make_world
from tests.prpayloads import task_of


@pytest.fixture
def world(gh: FakeGitHub) -> World:
    return make_world(gh)


def bot_replies(gh: FakeGitHub, world: World, number: int) -> list[str]:
    comments = gh.issue(world.repo, number)["comments"]
    return [c["body"] for c in comments if c["user"].endswith("[bot]")]


async def test_command_before_issue_opened(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """GitHub does not promise order: /task arrives before issues.opened."""
    number, opened = world.open_issue("dana")
    _, task_cmd = world.comment(number, "dana", "/task bug")
    await bot.handle("issue_comment", task_cmd)
    await bot.handle("issues", opened)
    async with bot.services.sessions() as session:
        from storage.models import Task

        tasks = (await session.scalars(select(Task))).all()
    assert len(tasks) == 1, [(t.issue_number, t.type) for t in tasks]


async def test_outbox_leases_are_released_at_restart_like_inbox_leases(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """serve on SQLite releases inbox leases at start (one process owns the file)
    but not outbox leases: effects claimed by a crashed process wait 5 minutes."""
    number, payload = world.open_issue("dana")
    await bot.deliver("issues", payload)
    # run the delivery only, then "crash" after claiming its effects
    rows = await inbox.claim(bot.services.sessions, limit=8, lease=LEASE)
    for row in rows:
        await bot.worker.process(row)
    claimed = await outbox.claim(bot.services.sessions, limit=32, lease=LEASE)
    assert claimed
    # restart: what create_app does for SQLite before starting the worker
    await inbox.release_all_leases(bot.services.sessions)
    await outbox.release_all_leases(bot.services.sessions)
    await bot.drain()
    assert sorted(gh.issue(world.repo, number)["labels"]) == [
        "status: todo",
        "type: feature",
    ], "labels wait for the 5-minute outbox lease after a restart"


async def test_same_comment_redelivered_with_new_id_acts_once_and_keeps_answer(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """A comment delivered twice under two delivery ids (a manual redeliver)
    must not be run twice; the first answer must not be replaced by a refusal."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    for author, body in (("fred", "/claim"), ("fred", "/submit")):
        await bot.handle("issue_comment", world.comment(number, author, body)[1])
    _, approve = world.comment(number, "quinn", "/approve\n/why")
    await bot.handle("issue_comment", approve)
    first = bot_replies(gh, world, number)
    await bot.handle("issue_comment", approve)  # new delivery id, same comment
    second = bot_replies(gh, world, number)
    assert (await task_of(bot, number)).status == Status.APPROVED
    assert second == first, (first, second)
