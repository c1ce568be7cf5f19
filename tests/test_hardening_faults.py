"""Hostile GitHub answers: odd Retry-After, lost answers, planted markers."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import select

from storage.models import Delivery, OutboxEvent
from tests.fakegithub import FakeGitHub
from tests.harness import Bot
from tests.payloads import World, make_world
from tests.prpayloads import (
    bot_comments,
)

COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"


@pytest.fixture
def world(gh: FakeGitHub) -> World:
    return make_world(gh)


async def outbox_rows(bot: Bot) -> list[OutboxEvent]:
    async with bot.services.sessions() as session:
        return list((await session.scalars(select(OutboxEvent))).all())


async def test_retry_after_as_http_date_does_not_wedge_the_worker(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """RFC 9110 allows Retry-After as an HTTP-date; the worker must not crash on it."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    gh.fail(
        "POST",
        COMMENTS,
        status=429,
        headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
    )
    await bot.deliver("issue_comment", world.comment(number, "eve", "/help")[1])
    await bot.drain()  # raises ValueError out of the worker step
    rows = [r for r in await outbox_rows(bot) if r.topic == "github.comment"]
    assert rows and all(r.last_error or r.state == "done" for r in rows)


async def test_retry_after_http_date_on_delivery(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """Same, on the handler path (config read): the delivery must end retried."""
    number, payload = world.open_issue("dana")
    gh.fail(
        "GET",
        "/repos/{owner}/{repo}/contents/{path}",
        status=429,
        headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
    )
    await bot.deliver("issues", payload)
    try:
        await bot.drain()
    finally:
        async with bot.services.sessions() as session:
            row = (await session.scalars(select(Delivery))).one()
        print(row.state, row.attempts, row.last_error)
    assert row.state != "processing", "left leased for 5 minutes, then loops forever"


async def test_lost_answer_on_comment_does_not_double_post(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    bot.services.http._timeout = aiohttp.ClientTimeout(total=0.5)
    gh.fail("POST", COMMENTS, status=None, delay=1.0)
    await bot.deliver("issue_comment", world.comment(number, "eve", "/help")[1])
    await bot.worker.step()  # the POST times out on our side
    import asyncio

    await asyncio.sleep(1.5)  # ...but GitHub made the comment
    await bot.drain()
    replies = [
        c
        for c in gh.issue(world.repo, number)["comments"]
        if c["user"].endswith("[bot]")
    ]
    assert len(replies) == 1, [c["body"][:60] for c in replies]


async def test_planted_marker_comment_captures_bot_reply(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """Eve plants a comment that starts with the bot's marker for her next
    comment's reply; the bot edits Eve's comment instead of posting its own."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    # comment ids in the fake are sequential: plant the marker for the next one
    plant_id, _ = world.comment(number, "eve", "placeholder")
    planted = gh.issue(world.repo, number)["comments"][-1]
    target_id = plant_id + 1
    gh.world.repo(world.repo).comments[
        plant_id
    ].body = f"<!-- workflow-bot:reply:{target_id} -->\nI am the bot, trust me"
    cid, cmd = world.comment(number, "eve", "/help")
    assert cid == target_id, (cid, target_id, planted)
    await bot.handle("issue_comment", cmd)
    comments = gh.issue(world.repo, number)["comments"]
    bot_owned = [c for c in comments if c["user"].endswith("[bot]")]
    assert bot_owned, [(c["user"], c["body"][:60]) for c in comments]


async def test_5xx_on_label_writes_eventually_converges(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    gh.fail(
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        status=502,
        times=2,
    )
    await bot.handle("issues", payload)
    labels = sorted(gh.issue(world.repo, number)["labels"])
    assert labels == ["status: todo", "type: feature"]


async def test_graphql_200_errors_on_board_do_not_block_task(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    gh.set_file(
        world.repo,
        ".github/workflow-bot.yml",
        "roles:\n  DESIGNER: [dana]\n  FE_DEV: [fred]\nboard: {owner: acme, number: 3}\n",
    )
    gh.graphql_error(times=50, type="INTERNAL")
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "fred", "/claim")[1])
    async with bot.services.sessions() as session:
        rows = (await session.scalars(select(Delivery))).all()
    assert [r.state for r in rows] == ["done", "done"], [
        (r.state, r.last_error) for r in rows
    ]
    assert sorted(gh.issue(world.repo, number)["labels"]) == [
        "status: in progress",
        "type: feature",
    ]


async def test_token_endpoint_5xx_then_recovers_without_duplicates(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    gh.fail(
        "POST",
        "/app/installations/{installation_id}/access_tokens",
        status=502,
        times=3,
    )
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "eve", "/help")[1])
    async with bot.services.sessions() as session:
        rows = (await session.scalars(select(Delivery))).all()
    assert [r.state for r in rows] == ["done", "done"], [
        (r.state, r.last_error) for r in rows
    ]
    assert len(bot_comments(world, number)) == 1
    assert sorted(gh.issue(world.repo, number)["labels"]) == [
        "status: todo",
        "type: feature",
    ]


async def test_secondary_rate_limit_everywhere_ends_with_clear_reason(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    gh.rate_limit_secondary(times=100, retry_after=0)
    await bot.handle("issues", payload)
    async with bot.services.sessions() as session:
        row = (await session.scalars(select(Delivery))).one()
    assert row.state == "dead" and "rate limit" in (row.last_error or ""), (
        row.state,
        row.last_error,
    )
