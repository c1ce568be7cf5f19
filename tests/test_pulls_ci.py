"""Pull requests and CI results drive the task, through signed deliveries."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import AuditEntry, CheckResult, Review, Status
from tests.fakegithub import FakeGitHub
from tests.harness import Bot
from tests.payloads import TEAM_CONFIG, World, make_world
from tests.prpayloads import (
    DEPLOY_CONFIG,
    bot_comments,
    check_run,
    claimed_task_with_pull,
    event_names,
    head_of,
    open_pull,
    own_check,
    pull_event,
    push,
    review,
    task_of,
)

FIX = "f" * 40


@pytest.fixture
def world(gh: FakeGitHub) -> World:
    return make_world(gh, DEPLOY_CONFIG)


def ci_results(bot: Bot) -> list[bool]:
    return [data["passed"] for name, data in bot.events if name == "CI.RESULT"]


async def test_product_team_scenario_from_issue_to_deploy(
    bot_any_db: Bot, gh: FakeGitHub, world: World
) -> None:
    bot = bot_any_db  # on SQLite, and on PostgreSQL when configured
    # The designer files an issue; the developer claims it and opens a PR.
    number, pull = await claimed_task_with_pull(bot, world, "fred")
    task = await task_of(bot, number)
    assert task.status == Status.IN_PROGRESS
    assert task.pr_number == pull and task.head_sha == head_of(world, pull)

    # CI fails: the task goes back to the developer, and the bot says why.
    first_head = head_of(world, pull)
    await bot.handle("check_run", check_run(world, first_head, "tests", "failure"))
    assert (await task_of(bot, number)).status == Status.REJECTED
    [failure] = bot_comments(world, pull)
    assert "**tests**" in failure and "https://ci.example/tests/" in failure
    assert "status: rejected" in gh.issue(world.repo, number)["labels"]

    # The developer pushes a fix and CI passes: the task is submitted.
    await bot.handle("pull_request", push(world, pull, FIX, "fred"))
    assert (await task_of(bot, number)).status == Status.IN_PROGRESS
    await bot.handle("check_run", check_run(world, FIX, "tests", "success"))
    assert (await task_of(bot, number)).status == Status.SUBMITTED
    request = bot_comments(world, pull)[-1]
    assert "@quinn" in request and "@rita" in request and "@fred" not in request
    assert own_check(world, FIX)["conclusion"] is None

    # QA approves the PR: approved, one deploy dispatch, the bot's check green.
    await bot.handle("pull_request_review", review(world, pull, "quinn"))
    assert (await task_of(bot, number)).status == Status.APPROVED
    [dispatch] = gh.dispatches(world.repo)
    assert dispatch["event_type"] == "task-approved"
    assert dispatch["client_payload"] == {
        "taskId": task.id,
        "repository": world.repo,
        "issueNumber": number,
        "prNumber": pull,
        "headSha": FIX,
    }
    check = own_check(world, FIX)
    assert (check["status"], check["conclusion"]) == ("completed", "success")
    assert "@quinn" in check["output"]["summary"]
    assert ci_results(bot) == [False, True]
    assert event_names(bot).count("Task.APPROVED") == 1


async def test_redelivered_approval_dispatches_once(
    bot_any_db: Bot, gh: FakeGitHub, world: World
) -> None:
    bot = bot_any_db  # on SQLite, and on PostgreSQL when configured
    _, pull = await claimed_task_with_pull(bot, world)
    await bot.handle("check_run", check_run(world, head_of(world, pull)))
    approval = review(world, pull, "quinn")

    await bot.handle("pull_request_review", approval)
    await bot.handle("pull_request_review", approval)

    assert len(gh.dispatches(world.repo)) == 1
    assert event_names(bot).count("Task.APPROVED") == 1


async def test_approval_records_cycle_time_and_review_turnaround(
    bot: Bot, world: World
) -> None:
    number, pull = await claimed_task_with_pull(bot, world)
    await bot.handle("check_run", check_run(world, head_of(world, pull)))
    await bot.handle("pull_request_review", review(world, pull, "quinn"))

    task = await task_of(bot, number)
    async with bot.services.sessions() as session:
        notes = list(
            await session.scalars(
                select(AuditEntry.note).where(
                    AuditEntry.task_id == task.id, AuditEntry.action == "timing"
                )
            )
        )
    assert len(notes) == 1
    assert "cycle time 0m" in notes[0] and "review turnaround 0m" in notes[0]
    metrics = (await bot.client.get(bot.url + "/metrics")).content
    text = (await metrics.read()).decode()
    assert "workflow_bot_task_cycle_seconds_count" in text


async def test_fork_check_run_without_pull_requests_finds_task_by_head(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "fred", "/claim")[1])
    pull, opened = open_pull(world, "fred", f"Fixes #{number}", fork=True)
    await bot.handle("pull_request", opened)

    delivery = check_run(world, head_of(world, pull), "tests", "success")
    assert delivery["check_run"]["pull_requests"] == []
    await bot.handle("check_run", delivery)

    assert (await task_of(bot, number)).status == Status.SUBMITTED
    assert ci_results(bot) == [True]


async def test_green_rerun_replaces_red_run(bot_any_db: Bot, world: World) -> None:
    bot = bot_any_db  # on SQLite, and on PostgreSQL when configured
    number, pull = await claimed_task_with_pull(bot, world)
    head = head_of(world, pull)
    await bot.handle("check_run", check_run(world, head, "tests", "failure"))
    assert (await task_of(bot, number)).status == Status.REJECTED

    await bot.handle("check_run", check_run(world, head, "tests", "success"))

    assert (await task_of(bot, number)).status == Status.SUBMITTED
    assert ci_results(bot) == [False, True]


async def test_late_news_of_an_older_run_does_not_undo_a_rerun(
    bot: Bot, world: World
) -> None:
    number, pull = await claimed_task_with_pull(bot, world)
    head = head_of(world, pull)
    old_run = check_run(world, head, "tests", "failure")
    await bot.handle("check_run", check_run(world, head, "tests", "success"))

    await bot.handle("check_run", old_run)

    assert (await task_of(bot, number)).status == Status.SUBMITTED
    assert ci_results(bot) == [True]


async def test_skipped_check_neither_passes_nor_fails(bot: Bot, world: World) -> None:
    number, pull = await claimed_task_with_pull(bot, world)
    head = head_of(world, pull)
    await bot.handle(
        "check_run", check_run(world, head, "tests", None, status="in_progress")
    )
    await bot.handle("check_run", check_run(world, head, "docs", "skipped"))
    assert (await task_of(bot, number)).status == Status.IN_PROGRESS

    await bot.handle("check_run", check_run(world, head, "tests", "success"))

    assert (await task_of(bot, number)).status == Status.SUBMITTED


async def test_result_for_superseded_head_is_recorded_and_ignored(
    bot: Bot, world: World
) -> None:
    number, pull = await claimed_task_with_pull(bot, world)
    old_head = head_of(world, pull)
    await bot.handle("pull_request", push(world, pull, FIX, "fred"))

    await bot.handle("check_run", check_run(world, old_head, "tests", "failure"))

    assert (await task_of(bot, number)).status == Status.IN_PROGRESS
    assert ci_results(bot) == []
    async with bot.services.sessions() as session:
        recorded = await session.scalar(
            select(CheckResult).where(CheckResult.head_sha == old_head)
        )
    assert recorded is not None and recorded.conclusion == "failure"


async def test_verdict_is_published_once_per_head(bot: Bot, world: World) -> None:
    _, pull = await claimed_task_with_pull(bot, world)
    delivery = check_run(world, head_of(world, pull), "tests", "failure")

    await bot.handle("check_run", delivery)
    await bot.handle("check_run", delivery)
    await bot.handle(
        "check_run", check_run(world, head_of(world, pull), "lint", "failure")
    )

    assert ci_results(bot) == [False]


async def test_required_checks_are_all_awaited(bot: Bot, gh: FakeGitHub) -> None:
    world = make_world(gh, TEAM_CONFIG + "ci:\n  required: [tests, lint]\n")
    number, pull = await claimed_task_with_pull(bot, world)
    head = head_of(world, pull)

    await bot.handle("check_run", check_run(world, head, "tests", "success"))
    await bot.handle("check_run", check_run(world, head, "coverage", "failure"))
    assert (await task_of(bot, number)).status == Status.IN_PROGRESS
    assert "lint" in own_check(world, head)["output"]["summary"]

    await bot.handle("check_run", check_run(world, head, "lint", "success"))
    assert (await task_of(bot, number)).status == Status.SUBMITTED


async def test_failing_commit_status_rejects_with_system_review(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, pull = await claimed_task_with_pull(bot, world)
    head = head_of(world, pull)
    status = gh.add_status(world.repo, head, "ci/jenkins", "error")
    delivery = {
        **status,
        "sha": head,
        "state": "error",
        "context": "ci/jenkins",
        "target_url": "https://jenkins.example/1",
        **world.envelope("fred"),
    }

    await bot.handle("status", delivery)

    assert (await task_of(bot, number)).status == Status.REJECTED
    assert "ci/jenkins" in bot_comments(world, pull)[0]
    async with bot.services.sessions() as session:
        [system_review] = list(await session.scalars(select(Review)))
    assert system_review.reviewer_id is None and system_review.outcome == "REJECTED"


async def test_completed_check_suite_reads_its_runs(bot: Bot, world: World) -> None:
    number, pull = await claimed_task_with_pull(bot, world)
    head = head_of(world, pull)
    run = check_run(world, head, "tests", "failure")["check_run"]
    suite = {**run["check_suite"], "status": "completed", "conclusion": "failure"}

    await bot.handle(
        "check_suite",
        {"action": "completed", **world.envelope("fred", check_suite=suite)},
    )

    assert (await task_of(bot, number)).status == Status.REJECTED


async def test_pull_request_linked_by_branch_name(bot: Bot, world: World) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "fred", "/claim")[1])

    pull, opened = open_pull(world, "fred", "", head_ref=f"{number}-login-page")
    await bot.handle("pull_request", opened)

    assert (await task_of(bot, number)).pr_number == pull


async def test_pull_request_linked_in_the_sidebar(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    pull, _ = open_pull(world, "fred", "A change with no keyword")
    gh.link_issue(world.repo, pull, number)

    await bot.handle("pull_request", pull_event(world, "opened", pull, "fred"))

    assert (await task_of(bot, number)).pr_number == pull


async def test_assignee_opening_a_pull_request_starts_a_todo_task(
    bot: Bot, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    assigned = world.issue_event(
        "assigned", number, "eve", assignee=world.gh.user_json("fred")
    )
    await bot.handle("issues", assigned)
    assert (await task_of(bot, number)).status == Status.TODO

    _, opened = open_pull(world, "fred", f"Resolves #{number}")
    await bot.handle("pull_request", opened)

    assert (await task_of(bot, number)).status == Status.IN_PROGRESS


async def test_pull_request_for_no_task_is_left_alone(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    pull, opened = open_pull(world, "fred", "Just a typo fix")

    await bot.handle("pull_request", opened)
    await bot.handle("check_run", check_run(world, head_of(world, pull)))

    assert bot_comments(world, pull) == []
    assert [r["name"] for r in gh.check_runs(world.repo, head_of(world, pull))] == [
        "tests"
    ]


async def test_later_pull_request_naming_an_approved_task_does_not_reopen_it(
    bot: Bot, world: World
) -> None:
    number, pull = await claimed_task_with_pull(bot, world)
    await bot.handle("check_run", check_run(world, head_of(world, pull)))
    await bot.handle("pull_request_review", review(world, pull, "quinn"))

    _, follow_up = open_pull(world, "fred", f"Also fixes {world.repo}#{number}")
    await bot.handle("pull_request", follow_up)

    task = await task_of(bot, number)
    assert task.status == Status.APPROVED and task.pr_number == pull


async def test_push_puts_the_workflow_bot_check_on_the_new_head(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, pull = await claimed_task_with_pull(bot, world)

    await bot.handle("pull_request", push(world, pull, FIX, "fred"))

    assert own_check(world, FIX)["output"]["title"] == "Waiting for CI"
    assert (await task_of(bot, number)).head_sha == FIX


async def test_reviewers_are_asked_when_ci_passes_after_a_manual_submit(
    bot: Bot, world: World
) -> None:
    number, pull = await claimed_task_with_pull(bot, world)
    await bot.handle("issue_comment", world.comment(number, "fred", "/submit")[1])
    assert (await task_of(bot, number)).status == Status.SUBMITTED

    await bot.handle("check_run", check_run(world, head_of(world, pull)))

    assert (await task_of(bot, number)).status == Status.SUBMITTED
    assert "@quinn" in bot_comments(world, pull)[-1]
