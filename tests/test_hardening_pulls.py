"""Pull requests from outsiders: outsiders linking PRs to others' tasks."""

from __future__ import annotations

import pytest

from storage.models import Status
from tests.fakegithub import FakeGitHub
from tests.harness import Bot
from tests.payloads import World, make_world
from tests.prpayloads import (
    check_run,
    claimed_task_with_pull,
    head_of,
    open_pull,
    task_of,
)


@pytest.fixture
def world(gh: FakeGitHub) -> World:
    return make_world(gh)


@pytest.mark.parametrize("fork", [False, True])
async def test_outsider_pr_cannot_hijack_linked_task(
    bot: Bot, gh: FakeGitHub, world: World, fork: bool
) -> None:
    number, fred_pull = await claimed_task_with_pull(bot, world, "fred")
    task = await task_of(bot, number)
    assert task.pr_number == fred_pull

    eve_pull, opened = open_pull(
        world, "eve", f"Closes #{number}", head_ref="evil", fork=fork
    )
    await bot.handle("pull_request", opened)
    task = await task_of(bot, number)
    assert task.pr_number == fred_pull, "eve's PR took over fred's task"


async def test_outsider_failing_ci_cannot_reject_someone_elses_task(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, fred_pull = await claimed_task_with_pull(bot, world, "fred")
    eve_pull, opened = open_pull(world, "eve", f"Closes #{number}", head_ref="evil")
    await bot.handle("pull_request", opened)
    await bot.handle(
        "check_run", check_run(world, head_of(world, eve_pull), "tests", "failure")
    )
    task = await task_of(bot, number)
    assert task.status == Status.IN_PROGRESS, (
        f"eve's failing PR moved fred's task to {task.status}"
    )


async def test_outsider_green_ci_cannot_submit_someone_elses_task(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, fred_pull = await claimed_task_with_pull(bot, world, "fred")
    eve_pull, opened = open_pull(world, "eve", f"Closes #{number}", head_ref="evil")
    await bot.handle("pull_request", opened)
    await bot.handle("check_run", check_run(world, head_of(world, eve_pull)))
    task = await task_of(bot, number)
    assert task.status == Status.IN_PROGRESS, (
        f"eve's (empty) PR submitted fred's task: {task.status}"
    )


async def test_transient_graphql_error_does_not_lose_the_pr_link(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """GitHub answers HTTP 200 with errors for its own timeouts ("Something went
    wrong while executing your query. This may be the result of a timeout...").
    That is worth a retry; classifying it permanent drops the delivery."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "fred", "/claim")[1])
    pull, opened = open_pull(world, "fred", "no keywords here", head_ref="feature")
    gh.link_issue(world.repo, pull, number)  # linked in the sidebar only
    gh.graphql_error(
        times=1,
        message="Something went wrong while executing your query. This may be "
        "the result of a timeout, or it could be a GitHub bug.",
        type="INTERNAL",
    )
    await bot.handle("pull_request", opened)
    task = await task_of(bot, number)
    assert task.pr_number == pull, "the PR link was dropped after one GitHub hiccup"
