"""Pull-request reviews are review outcomes, through signed deliveries."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Review, Status
from tests.fakegithub import FakeGitHub
from tests.harness import Bot
from tests.payloads import World, make_world
from tests.prpayloads import (
    DEPLOY_CONFIG,
    bot_comments,
    check_run,
    claimed_task_with_pull,
    event_names,
    head_of,
    own_check,
    push,
    review,
    submitted_by_ci,
    task_of,
)

FIX = "f" * 40


@pytest.fixture
def world(gh: FakeGitHub) -> World:
    return make_world(gh, DEPLOY_CONFIG)


async def reviews_of(bot: Bot) -> list[Review]:
    async with bot.services.sessions() as session:
        return list(await session.scalars(select(Review).order_by(Review.id)))


async def test_qa_approval_approves_the_task(bot: Bot, world: World) -> None:
    number, pull = await submitted_by_ci(bot, world)

    await bot.handle("pull_request_review", review(world, pull, "quinn"))

    assert (await task_of(bot, number)).status == Status.APPROVED
    [vote] = await reviews_of(bot)
    assert vote.outcome == "APPROVED" and vote.counts


async def test_changes_requested_rejects_with_the_review_body(
    bot: Bot, world: World
) -> None:
    number, pull = await submitted_by_ci(bot, world)

    await bot.handle(
        "pull_request_review",
        review(world, pull, "rita", "CHANGES_REQUESTED", "Handle empty passwords"),
    )

    assert (await task_of(bot, number)).status == Status.REJECTED
    [vote] = await reviews_of(bot)
    assert vote.comment == "Handle empty passwords"
    summary = own_check(world, head_of(world, pull))["output"]["summary"]
    assert "@fred" in summary and "@rita" in summary


async def test_approval_goes_stale_after_a_push(bot_any_db: Bot, world: World) -> None:
    bot = bot_any_db  # on SQLite, and on PostgreSQL when configured
    number, pull = await submitted_by_ci(bot, world)
    await bot.handle("pull_request_review", review(world, pull, "quinn"))
    assert (await task_of(bot, number)).status == Status.APPROVED

    await bot.handle("pull_request", push(world, pull, FIX, "fred"))

    assert (await task_of(bot, number)).status == Status.IN_PROGRESS
    stale = bot_comments(world, pull)[-1]
    assert "no longer counts" in stale and "@quinn" in stale
    assert own_check(world, FIX)["conclusion"] is None

    await bot.handle("check_run", check_run(world, FIX))
    assert (await task_of(bot, number)).status == Status.SUBMITTED
    await bot.handle("pull_request_review", review(world, pull, "quinn"))
    assert (await task_of(bot, number)).status == Status.APPROVED
    assert len(world.gh.dispatches(world.repo)) == 2  # one per approved head


async def test_pr_author_approving_own_work_does_not_count(
    bot: Bot, world: World
) -> None:
    number, pull = await claimed_task_with_pull(bot, world, developer="quinn")
    await bot.handle("check_run", check_run(world, head_of(world, pull)))

    await bot.handle("pull_request_review", review(world, pull, "quinn"))

    assert (await task_of(bot, number)).status == Status.SUBMITTED
    [vote] = await reviews_of(bot)
    assert not vote.counts
    refusal = bot_comments(world, pull)[-1]
    assert "@quinn" in refusal and "own work" in refusal
    assert world.gh.dispatches(world.repo) == []


async def test_reviewer_without_a_role_is_told_why_once(bot: Bot, world: World) -> None:
    number, pull = await submitted_by_ci(bot, world)

    await bot.handle("pull_request_review", review(world, pull, "eve"))
    await bot.handle("pull_request_review", review(world, pull, "eve"))

    assert (await task_of(bot, number)).status == Status.SUBMITTED
    assert [vote.counts for vote in await reviews_of(bot)] == [False, False]
    refusals = [body for body in bot_comments(world, pull) if "@eve" in body]
    assert len(refusals) == 1 and "QA" in refusals[0]


async def test_commented_review_after_approval_changes_nothing(
    bot: Bot, world: World
) -> None:
    number, pull = await submitted_by_ci(bot, world)
    await bot.handle("pull_request_review", review(world, pull, "quinn"))
    comments_before = bot_comments(world, pull)

    await bot.handle(
        "pull_request_review", review(world, pull, "rita", "COMMENTED", "Nice work")
    )

    assert (await task_of(bot, number)).status == Status.APPROVED
    assert len(await reviews_of(bot)) == 1
    assert bot_comments(world, pull) == comments_before
    assert own_check(world, head_of(world, pull))["conclusion"] == "success"


async def test_reviewer_changing_their_mind_rejects_an_approved_task(
    bot: Bot, world: World
) -> None:
    number, pull = await submitted_by_ci(bot, world)
    await bot.handle("pull_request_review", review(world, pull, "quinn"))

    await bot.handle(
        "pull_request_review",
        review(world, pull, "quinn", "CHANGES_REQUESTED", "Found a bug after all"),
    )

    assert (await task_of(bot, number)).status == Status.REJECTED


async def test_dismissed_approval_withdraws_the_vote(bot: Bot, world: World) -> None:
    number, pull = await submitted_by_ci(bot, world)
    approval = review(world, pull, "quinn")
    await bot.handle("pull_request_review", approval)

    dismissed = {**approval, "action": "dismissed", **world.envelope("root-admin")}
    dismissed["review"] = {**approval["review"], "state": "dismissed"}
    dismissed["pull_request"] = approval["pull_request"]
    await bot.handle("pull_request_review", dismissed)

    assert (await task_of(bot, number)).status == Status.SUBMITTED
    assert own_check(world, head_of(world, pull))["conclusion"] is None


async def test_review_while_ci_runs_is_recorded_but_waits(
    bot: Bot, world: World
) -> None:
    number, pull = await claimed_task_with_pull(bot, world)

    await bot.handle("pull_request_review", review(world, pull, "quinn"))

    assert (await task_of(bot, number)).status == Status.IN_PROGRESS
    assert "IN_PROGRESS" in bot_comments(world, pull)[-1]


async def test_slash_approve_on_the_pull_request_approves_the_task(
    bot: Bot, world: World
) -> None:
    number, pull = await submitted_by_ci(bot, world)

    await bot.handle("issue_comment", world.comment(pull, "quinn", "/approve")[1])

    assert (await task_of(bot, number)).status == Status.APPROVED
    assert len(world.gh.dispatches(world.repo)) == 1
    assert "Task.APPROVED" in event_names(bot)


async def test_slash_reject_on_the_pull_request_rejects_the_task(
    bot: Bot, world: World
) -> None:
    number, pull = await submitted_by_ci(bot, world)

    await bot.handle(
        "issue_comment", world.comment(pull, "rita", "/reject tests are missing")[1]
    )

    task = await task_of(bot, number)
    assert task.status == Status.REJECTED
    [vote] = await reviews_of(bot)
    assert vote.comment == "tests are missing"
