"""The product team's day on GitHub issues, through signed deliveries."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from storage.models import AuditEntry, Status, Task, User
from tests.fakegithub import FakeGitHub
from tests.harness import Bot
from tests.payloads import World, make_world


@pytest.fixture
def world(gh: FakeGitHub) -> World:
    return make_world(gh)


async def task_of(bot: Bot, number: int) -> Task | None:
    async with bot.services.sessions() as session:
        return (
            await session.scalars(select(Task).where(Task.issue_number == number))
        ).first()


def status_labels(gh: FakeGitHub, world: World, number: int) -> list[str]:
    labels = gh.issue(world.repo, number)["labels"]
    return sorted(label for label in labels if label.startswith("status:"))


def replies(gh: FakeGitHub, world: World, number: int) -> list[str]:
    comments = gh.issue(world.repo, number)["comments"]
    return [c["body"] for c in comments if c["user"].endswith("[bot]")]


async def test_designer_issue_becomes_todo_task_with_labels(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    answer = await bot.handle("issues", payload)

    assert answer.status == 202
    task = await task_of(bot, number)
    assert task is not None and task.status == Status.TODO
    assert sorted(gh.issue(world.repo, number)["labels"]) == [
        "status: todo",
        "type: feature",
    ]
    assert [name for name, _ in bot.events] == ["Task.CREATED"]


async def test_issue_from_someone_without_role_is_not_a_task(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("eve")
    await bot.handle("issues", payload)

    assert await task_of(bot, number) is None
    assert gh.issue(world.repo, number)["labels"] == []


async def test_bug_label_sets_task_type(bot: Bot, gh: FakeGitHub, world: World) -> None:
    number, payload = world.open_issue("dana", labels=["type: bug"])
    await bot.handle("issues", payload)

    task = await task_of(bot, number)
    assert task is not None and task.type == "BUG"


async def test_full_command_flow_claim_submit_approve(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)

    claim_id, claim = world.comment(number, "fred", "/claim")
    await bot.handle("issue_comment", claim)
    task = await task_of(bot, number)
    assert task is not None and task.status == Status.IN_PROGRESS
    assert status_labels(gh, world, number) == ["status: in progress"]
    assert "fred" in gh.issue(world.repo, number)["assignees"]
    claim_comment = next(
        c for c in gh.issue(world.repo, number)["comments"] if c["id"] == claim_id
    )
    assert claim_comment["reactions"][0]["content"] == "+1"

    _, submit = world.comment(number, "fred", "Done, please look.\n/submit")
    await bot.handle("issue_comment", submit)
    assert status_labels(gh, world, number) == ["status: submitted"]

    _, approve = world.comment(number, "quinn", "/approve looks great")
    await bot.handle("issue_comment", approve)
    task = await task_of(bot, number)
    assert task is not None and task.status == Status.APPROVED
    assert status_labels(gh, world, number) == ["status: approved"]
    names = [name for name, _ in bot.events]
    assert names == [
        "Task.CREATED",
        "Task.SUBMITTED",
        "Review.CREATED",
        "Task.APPROVED",
    ]


async def test_student_approve_is_refused_with_reply_and_changes_nothing(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    for author, body in (("fred", "/claim"), ("fred", "/submit")):
        await bot.handle("issue_comment", world.comment(number, author, body)[1])

    await bot.handle("issue_comment", world.comment(number, "sam", "/approve")[1])

    task = await task_of(bot, number)
    assert task is not None and task.status == Status.SUBMITTED
    [reply] = replies(gh, world, number)
    assert "refused" in reply and "QA" in reply and "REVIEWER" in reply
    assert status_labels(gh, world, number) == ["status: submitted"]


async def test_assignee_cannot_approve_own_work(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "quinn", "/claim")[1])
    await bot.handle("issue_comment", world.comment(number, "quinn", "/submit")[1])

    await bot.handle("issue_comment", world.comment(number, "quinn", "/approve")[1])

    task = await task_of(bot, number)
    assert task is not None and task.status == Status.SUBMITTED
    assert "own work" in replies(gh, world, number)[0]


async def test_quoted_approve_in_a_reply_does_nothing(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    for body in ("/claim", "/submit"):
        await bot.handle("issue_comment", world.comment(number, "fred", body)[1])

    quoted = "> /approve\n\nShould I really approve this?"
    await bot.handle("issue_comment", world.comment(number, "quinn", quoted)[1])

    task = await task_of(bot, number)
    assert task is not None and task.status == Status.SUBMITTED
    assert replies(gh, world, number) == []


async def test_bot_comment_containing_claim_does_nothing(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    bot_login = f"{gh.app_slug}[bot]"
    _, comment = world.comment(number, bot_login, "/claim")
    comment["sender"] = gh.app_bot_user

    await bot.handle("issue_comment", comment)

    task = await task_of(bot, number)
    assert task is not None and task.status == Status.TODO
    assert task.assignee_id is None


async def test_label_war_ends_with_correct_labels_and_no_loop(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    gh.issue(world.repo, number)  # labels are "status: todo", "type: feature"

    # A person removes the status label on GitHub, then adds it back.
    await bot.handle(
        "issues", world.labels_event("unlabeled", number, "eve", "status: todo")
    )
    await bot.handle(
        "issues", world.labels_event("labeled", number, "eve", "status: todo")
    )
    # A person without a role tries to push it to approved.
    await bot.handle(
        "issues", world.labels_event("labeled", number, "eve", "status: approved")
    )

    assert status_labels(gh, world, number) == ["status: todo"]
    task = await task_of(bot, number)
    assert task is not None and task.status == Status.TODO
    [reply] = replies(gh, world, number)
    assert "status: approved" in reply and "put back" in reply
    assert await bot.drain() == 0  # nothing keeps feeding itself


async def test_assignee_moving_label_moves_task(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "fred", "/claim")[1])

    await bot.handle(
        "issues", world.labels_event("labeled", number, "fred", "status: submitted")
    )

    task = await task_of(bot, number)
    assert task is not None and task.status == Status.SUBMITTED
    assert status_labels(gh, world, number) == ["status: submitted"]


async def test_unknown_command_suggests_closest(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)

    await bot.handle("issue_comment", world.comment(number, "fred", "/clam")[1])

    [reply] = replies(gh, world, number)
    assert "/claim" in reply


async def test_redelivered_command_edits_reply_instead_of_posting_again(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    _, comment = world.comment(number, "sam", "/approve")

    await bot.deliver("issue_comment", comment, delivery_id="first")
    await bot.drain()
    await bot.deliver("issue_comment", comment, delivery_id="second")
    await bot.drain()

    assert len(replies(gh, world, number)) == 1


async def test_edit_runs_only_new_commands(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    comment_id, created = world.comment(number, "fred", "/claim")
    await bot.handle("issue_comment", created)

    edited = dict(created, action="edited")
    edited["comment"] = dict(created["comment"], body="/claim\n/submit")
    edited["changes"] = {"body": {"from": "/claim"}}
    await bot.handle("issue_comment", edited)

    task = await task_of(bot, number)
    assert task is not None and task.status == Status.SUBMITTED
    async with bot.services.sessions() as session:
        claims = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "claim")
            )
        ).all()
    assert len(claims) == 1


async def test_history_and_why_answer_in_a_comment(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "fred", "/claim")[1])

    await bot.handle("issue_comment", world.comment(number, "eve", "/history\n/why")[1])

    [reply] = replies(gh, world, number)
    assert "History of this task" in reply and "@\u2060fred" in reply
    assert "IN_PROGRESS" in reply and "/submit" in reply


async def test_override_by_super_admin_is_audited(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)

    body = "/override approved shipped in the hotfix"
    await bot.handle("issue_comment", world.comment(number, "root-admin", body)[1])

    task = await task_of(bot, number)
    assert task is not None and task.status == Status.APPROVED
    async with bot.services.sessions() as session:
        row = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "override")
            )
        ).one()
    assert row.actor_login == "root-admin" and row.note == "shipped in the hotfix"


async def test_role_command_grants_role(bot: Bot, gh: FakeGitHub, world: World) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle(
        "issue_comment", world.comment(number, "root-admin", "/role @eve QA")[1]
    )
    await bot.handle("issue_comment", world.comment(number, "fred", "/claim")[1])
    await bot.handle("issue_comment", world.comment(number, "fred", "/submit")[1])

    await bot.handle("issue_comment", world.comment(number, "eve", "/approve")[1])

    task = await task_of(bot, number)
    assert task is not None and task.status == Status.APPROVED


async def test_task_command_makes_issue_a_task(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("eve")
    await bot.handle("issues", payload)

    await bot.handle("issue_comment", world.comment(number, "bea", "/task bug")[1])

    task = await task_of(bot, number)
    assert task is not None and task.type == "BUG" and task.status == Status.TODO
    assert "type: bug" in gh.issue(world.repo, number)["labels"]


async def test_team_role_from_config_is_looked_up(bot: Bot, gh: FakeGitHub) -> None:
    world = make_world(
        gh,
        config='roles:\n  QA: ["@acme/testers"]\n  FE_DEV: [fred]\n  DESIGNER: [dana]\n',
    )
    gh.add_team("acme", "testers", members=["tess"])
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    for body in ("/claim", "/submit"):
        await bot.handle("issue_comment", world.comment(number, "fred", body)[1])

    await bot.handle("issue_comment", world.comment(number, "tess", "/approve")[1])

    task = await task_of(bot, number)
    assert task is not None and task.status == Status.APPROVED


async def test_transferred_issue_keeps_task_and_history(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "fred", "/claim")[1])
    gh.add_repo("acme/gadgets", installation_id=world.installation_id)
    moved = gh.add_issue("acme/gadgets", title="Build the login page", author="dana")

    event = world.issue_event("transferred", number, "dana")
    event["changes"] = {
        "new_issue": moved,
        "new_repository": gh.repo_json("acme/gadgets"),
    }
    await bot.handle("issues", event)

    async with bot.services.sessions() as session:
        task = (await session.scalars(select(Task))).one()
        history = (await session.scalars(select(AuditEntry))).all()
    assert task.repository_full_name == "acme/gadgets"
    assert task.issue_number == moved["number"] and task.status == Status.IN_PROGRESS
    assert [row.action for row in history][-1] == "transfer"
    assert "status: in progress" in gh.issue("acme/gadgets", moved["number"])["labels"]


async def test_invalid_config_is_reported_and_defaults_apply(
    bot: Bot, gh: FakeGitHub
) -> None:
    world = make_world(gh, config="roles:\n  WIZARD: [merlin]\n")
    number, payload = world.open_issue("root-admin")
    await bot.handle("issues", payload)

    task = await task_of(bot, number)
    assert task is not None  # SUPER_ADMINS still work with a broken file
    problems = [
        issue
        for n in range(1, 10)
        if gh.repo_exists(world.repo)
        for issue in [_maybe_issue(gh, world.repo, n)]
        if issue and issue["title"] == "workflow-bot: configuration problem"
    ]
    assert len(problems) == 1
    assert "WIZARD" in problems[0]["body"]

    second, payload = world.open_issue("root-admin", title="Another")
    await bot.handle("issues", payload)
    bot.services.configs.forget(world.repo)
    third, payload = world.open_issue("root-admin", title="And another")
    await bot.handle("issues", payload)
    titles = [
        issue["title"]
        for n in range(1, 12)
        for issue in [_maybe_issue(gh, world.repo, n)]
        if issue
    ]
    assert titles.count("workflow-bot: configuration problem") == 1


def _maybe_issue(gh: FakeGitHub, repo: str, number: int) -> dict[str, Any] | None:
    try:
        return gh.issue(repo, number)
    except Exception:
        return None


async def test_push_changing_config_takes_roles_away(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    gh.set_file(world.repo, ".github/workflow-bot.yml", "roles:\n  DESIGNER: [dana]\n")
    push = {
        "ref": "refs/heads/main",
        "commits": [{"modified": [".github/workflow-bot.yml"]}],
        **world.envelope("dana"),
    }
    await bot.handle("push", push)

    await bot.handle("issue_comment", world.comment(number, "fred", "/claim")[1])

    task = await task_of(bot, number)
    assert task is not None and task.status == Status.TODO
    assert "refused" in replies(gh, world, number)[0]
    async with bot.services.sessions() as session:
        fred = (await session.scalars(select(User).where(User.login == "fred"))).one()
    assert fred.role is None
