"""The role matrix against hostile slash commands."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Status, Task, User
from tests.fakegithub import FakeGitHub
from tests.harness import Bot
from tests.payloads import World, make_world


@pytest.fixture
def world(gh: FakeGitHub) -> World:
    return make_world(gh)


async def task_of(bot: Bot, number: int, repo: str = "acme/widgets") -> Task:
    async with bot.services.sessions() as session:
        task = (
            await session.scalars(
                select(Task).where(
                    Task.issue_number == number, Task.repository_full_name == repo
                )
            )
        ).first()
    assert task is not None
    return task


async def user_id(bot: Bot, login: str) -> int | None:
    async with bot.services.sessions() as session:
        user = (await session.scalars(select(User).where(User.login == login))).first()
    return user.id if user else None


def bot_replies(gh: FakeGitHub, world: World, number: int) -> list[str]:
    comments = gh.issue(world.repo, number)["comments"]
    return [c["body"] for c in comments if c["user"].endswith("[bot]")]


async def test_no_role_user_cannot_start_a_task_by_assigning_self(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """`/claim` needs a worker role; `/assign @me` must not be a way around it."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)

    await bot.handle("issue_comment", world.comment(number, "eve", "/claim")[1])
    assert (await task_of(bot, number)).status == Status.TODO  # refused, good

    await bot.handle("issue_comment", world.comment(number, "eve", "/assign @eve")[1])
    task = await task_of(bot, number)
    assert task.assignee_id != await user_id(bot, "eve"), (
        "eve (no role) became the assignee"
    )
    assert task.status == Status.TODO, "eve (no role) started the task"


async def test_no_role_user_cannot_take_over_someone_elses_task(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "fred", "/claim")[1])
    fred = await user_id(bot, "fred")
    assert (await task_of(bot, number)).assignee_id == fred

    await bot.handle("issue_comment", world.comment(number, "eve", "/assign @eve")[1])
    assert (await task_of(bot, number)).assignee_id == fred, (
        "eve (no role) took the task away from its assignee"
    )
    # fred can no longer submit his own work
    await bot.handle("issue_comment", world.comment(number, "fred", "/submit")[1])
    assert (await task_of(bot, number)).status == Status.SUBMITTED


async def test_worker_cannot_steal_assigned_task_with_assign_self(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """may_claim refuses a task assigned to someone else; /assign @me must too."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "fred", "/claim")[1])

    await bot.handle("issue_comment", world.comment(number, "bea", "/claim")[1])
    fred = await user_id(bot, "fred")
    assert (await task_of(bot, number)).assignee_id == fred  # claim refused

    await bot.handle("issue_comment", world.comment(number, "bea", "/assign @bea")[1])
    assert (await task_of(bot, number)).assignee_id == fred, "bea stole the task"


async def test_student_cannot_take_product_task_with_assign_self(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, "sam", "/assign @sam")[1])
    task = await task_of(bot, number)
    assert task.status == Status.TODO and task.assignee_id is None


async def test_refused_reply_does_not_let_commenter_mention_anyone(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """The refused command is echoed in a code span; a backtick must not end it."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    gh.add_user("victim")
    await bot.handle(
        "issue_comment",
        world.comment(
            number, "eve", "/approve ` @victim [click](https://evil.example) `"
        )[1],
    )
    [reply] = bot_replies(gh, world, number)
    # Strip code spans the way GitHub would (pairs of single backticks).
    import re

    outside = re.sub(r"`[^`]*`", "", reply)
    assert "@victim" not in outside, reply
    assert "](https://evil" not in outside, reply


async def test_history_does_not_reping_users_named_in_reasons(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """A reject reason naming @someone is echoed by /history, which pings again."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    gh.add_user("victim")
    for author, body in (
        ("fred", "/claim"),
        ("fred", "/submit"),
        ("quinn", "/reject ask @victim about it"),
    ):
        await bot.handle("issue_comment", world.comment(number, author, body)[1])
    await bot.handle("issue_comment", world.comment(number, "eve", "/history")[1])
    import re

    history = [r for r in bot_replies(gh, world, number) if "victim" in r]
    assert history
    outside = re.sub(r"`[^`]*`", "", history[-1])
    assert "@victim" not in outside, history[-1]


async def test_editing_someone_elses_comment_does_not_run_commands_as_them(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """A collaborator with write access (here: no bot role) can edit any comment
    on GitHub. The edited command must run as the editor (the sender), not as
    the comment's author."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    for author, body in (("fred", "/claim"), ("fred", "/submit")):
        await bot.handle("issue_comment", world.comment(number, author, body)[1])

    _, created = world.comment(number, "quinn", "Looking at it now.")
    await bot.handle("issue_comment", created)
    edited = {
        **created,
        "action": "edited",
        "changes": {"body": {"from": "Looking at it now."}},
        "comment": {**created["comment"], "body": "Looking at it now.\n/approve"},
        "sender": gh.user_json("eve"),
    }
    await bot.handle("issue_comment", edited)
    assert (await task_of(bot, number)).status == Status.SUBMITTED, (
        "eve approved the task by editing quinn's comment"
    )


async def test_history_is_readable_by_anyone_and_pings_every_actor(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """Any commenter (no role) can make the bot @mention everyone who touched a task."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    for author, body in (
        ("fred", "/claim"),
        ("fred", "/submit"),
        ("quinn", "/approve"),
    ):
        await bot.handle("issue_comment", world.comment(number, author, body)[1])
    await bot.handle("issue_comment", world.comment(number, "eve", "/history")[1])
    history = bot_replies(gh, world, number)[-1]
    import re

    outside = re.sub(r"`[^`]*`", "", history)
    pinged = set(re.findall(r"(?<![\w`])@([A-Za-z0-9-]+)", outside))
    assert not pinged, pinged


async def test_one_repositorys_config_cannot_grant_roles_in_another(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """Eve installs the App on her own account and names herself SUPER_ADMIN in
    her repository's config. That must not make her SUPER_ADMIN in acme's repos."""
    evil = gh.add_installation("evilcorp")
    gh.add_repo("evilcorp/x", installation_id=evil["id"])
    gh.set_file(
        "evilcorp/x", ".github/workflow-bot.yml", "roles:\n  SUPER_ADMIN: [eve]\n"
    )
    issue = gh.add_issue("evilcorp/x", title="hi", author="eve")
    await bot.handle(
        "issues",
        {
            "action": "opened",
            "issue": gh.issue_json("evilcorp/x", issue["number"]),
            "repository": gh.repo_json("evilcorp/x"),
            "installation": {"id": evil["id"], "node_id": "MDIz"},
            "sender": gh.user_json("eve"),
        },
    )

    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle(
        "issue_comment",
        world.comment(number, "eve", "/override approved because I can")[1],
    )
    assert (await task_of(bot, number)).status == Status.TODO, (
        "eve's own repository made her SUPER_ADMIN in acme/widgets"
    )


async def test_worker_cannot_approve_own_work_after_unclaiming(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """QA may claim (a worker role) and review. Claim, submit, unclaim, approve:
    the work is still theirs."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    for body in ("/claim", "/submit", "/unclaim", "/approve"):
        await bot.handle("issue_comment", world.comment(number, "quinn", body)[1])
    assert (await task_of(bot, number)).status != Status.APPROVED, (
        "quinn approved her own work"
    )


async def test_reassigning_submitted_task_lets_the_worker_self_approve(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    """Same through /assign: a submitted task is re-assigned away from its author."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    for body in ("/claim", "/submit", "/assign @fred", "/approve"):
        await bot.handle("issue_comment", world.comment(number, "quinn", body)[1])
    assert (await task_of(bot, number)).status != Status.APPROVED, (
        "quinn approved her own work"
    )
