"""The coding academy through signed deliveries and the fake GitHub.

The main scenario goes through a pull request, CI and a PR review; the others
mostly submit with `/submit` and approve with `/approve`, since the academy
reacts to Task.APPROVED however it comes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from bot import board
from bot.academy import enroll, installation_of
from bot.config import Exercise
from bot.provisioning import Job, made_by_us
from bot.workflow import remember_user
from storage.models import (
    AuditEntry,
    Provisioning,
    ProvisionState,
    ProvisionStep,
    Repository,
    Role,
    Status,
    Task,
    TaskType,
    User,
)
from tests.fakegithub import FakeGitHub
from tests.harness import Bot
from tests.payloads import World
from tests.prpayloads import check_run, head_of, open_pull, review

ORG = "acme-academy"
HUB = f"{ORG}/hub"
HELLO = f"{ORG}/hello-sam"
FIZZBUZZ = f"{ORG}/fizzbuzz-sam"
ACADEMY_CONFIG = f"""\
roles:
  REVIEWER: [rita]
academy:
  org: {ORG}
  exercises:
    - {{id: hello, title: "Hello, world", template: {ORG}/template-hello}}
    - id: fizzbuzz
      title: FizzBuzz
      template: {ORG}/template-fizzbuzz
      xp_required: 10
      body: Print the numbers from 1 to 100, with a twist.
"""
GENERATE = "repos/create-using-template"
ADD_COLLABORATOR = "repos/add-collaborator"
CREATE_ISSUE = "issues/create"


@pytest.fixture
def hub(gh: FakeGitHub) -> World:
    """The academy's organisation, its hub repository and two templates."""
    installation = gh.add_installation(ORG)
    gh.add_repo(HUB, installation_id=installation["id"])
    gh.set_file(HUB, ".github/workflow-bot.yml", ACADEMY_CONFIG)
    for name in ("template-hello", "template-fizzbuzz"):
        gh.add_repo(f"{ORG}/{name}", private=True, is_template=True)
        gh.set_file(f"{ORG}/{name}", "README.md", f"# {name}\n")
    for login in ("sam", "rita", "root-admin", "eve"):
        gh.add_user(login)
    return World(gh, installation["id"], repo=HUB)


def in_repo(world: World, repository: str) -> World:
    return World(world.gh, world.installation_id, repo=repository)


def calls(gh: FakeGitHub, operation: str) -> list[str]:
    return [r.path for r in gh.requests if r.operation_id == operation]


def bot_comments(gh: FakeGitHub, repository: str, number: int) -> list[str]:
    comments = gh.issue(repository, number)["comments"]
    return [c["body"] for c in comments if c["user"].endswith("[bot]")]


async def enrol(bot: Bot, hub: World, login: str = "sam") -> int:
    """`/enroll` in a new hub issue; returns the issue's number."""
    number = hub.gh.add_issue(HUB, title="Enrolment", author=login)["number"]
    await bot.handle("issue_comment", hub.comment(number, login, "/enroll")[1])
    return number


async def say(bot: Bot, world: World, number: int, login: str, body: str) -> None:
    await bot.handle("issue_comment", world.comment(number, login, body)[1])


async def exercise_task(bot: Bot, repository: str) -> Task:
    async with bot.services.sessions() as session:
        task = await session.scalar(
            select(Task).where(Task.repository_full_name == repository)
        )
    assert task is not None, f"no task in {repository}"
    return task


async def user(bot: Bot, login: str) -> User:
    async with bot.services.sessions() as session:
        found = await session.scalar(select(User).where(User.login == login))
    assert found is not None
    return found


async def audit(bot: Bot, action: str) -> list[AuditEntry]:
    async with bot.services.sessions() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == action)
        )
        return list(rows.all())


async def submitted(bot: Bot, hub: World, repository: str = HELLO) -> World:
    """The student submits the exercise (issue #1 of its repo)."""
    exercise = in_repo(hub, repository)
    await say(bot, exercise, 1, "sam", "/claim")
    await say(bot, exercise, 1, "sam", "/submit")
    task = await exercise_task(bot, repository)
    assert task.status == Status.SUBMITTED
    return exercise


async def test_academy_scenario_enrol_to_next_exercise(
    bot_any_db: Bot, gh: FakeGitHub, hub: World
) -> None:
    bot = bot_any_db
    gh.template_delay(3)  # GitHub fills a generated repository a little later
    enrolment = await enrol(bot, hub)

    assert gh.repo_exists(HELLO)
    assert len(calls(gh, "repos/get-branch")) >= 4
    assert gh.collaborators(HELLO) == {"sam": "push"}
    issue = gh.issue(HELLO, 1)
    assert issue["title"] == "Hello, world"
    assert issue["assignees"] == ["sam"]
    assert sorted(issue["labels"]) == [
        "status: todo",
        "type: academy exercise",
    ]
    task = await exercise_task(bot, HELLO)
    assert task.type == TaskType.ACADEMY_EXERCISE
    assert task.status == Status.TODO
    assert (await user(bot, "sam")).role == Role.STUDENT
    welcome, ready = bot_comments(gh, HUB, enrolment)
    assert "welcome to the academy" in welcome and f"`{HELLO}`" in welcome
    assert f"https://github.com/{HELLO}/issues/1" in ready
    assert "0 XP" in ready

    exercise = in_repo(hub, HELLO)
    pull, opened = open_pull(exercise, "sam", "Closes #1")
    await bot.handle("pull_request", opened)
    await bot.handle("check_run", check_run(exercise, head_of(exercise, pull)))
    assert (await exercise_task(bot, HELLO)).status == Status.SUBMITTED

    await bot.handle("pull_request_review", review(exercise, pull, "rita"))

    assert (await exercise_task(bot, HELLO)).status == Status.APPROVED
    assert (await user(bot, "sam")).xp == 10
    assert gh.repo_exists(FIZZBUZZ)
    assert gh.collaborators(FIZZBUZZ) == {"sam": "push"}
    assert "with a twist" in (gh.issue(FIZZBUZZ, 1)["body"] or "")
    announcements = "\n".join(bot_comments(gh, HELLO, 1))
    assert "+10 XP" in announcements and "Next exercise unlocked" in announcements
    assert f"https://github.com/{FIZZBUZZ}/issues/1" in announcements
    assert [name for name, _ in bot.events].count("Task.CREATED") == 2


async def test_completing_the_last_exercise_is_announced(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    await enrol(bot, hub)
    await say(bot, await submitted(bot, hub), 1, "rita", "/approve")
    await say(bot, await submitted(bot, hub, FIZZBUZZ), 1, "rita", "/approve")

    assert (await user(bot, "sam")).xp == 20
    assert any("completed every exercise" in b for b in bot_comments(gh, FIZZBUZZ, 1))
    assert len(calls(gh, GENERATE)) == 2


async def test_next_exercise_waits_for_its_xp(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    gh.set_file(
        HUB,
        ".github/workflow-bot.yml",
        ACADEMY_CONFIG.replace("xp_required: 10", "xp_required: 30"),
    )
    await enrol(bot, hub)
    await say(bot, await submitted(bot, hub), 1, "rita", "/approve")

    assert not gh.repo_exists(FIZZBUZZ)
    assert any("unlocks at 30 XP" in b for b in bot_comments(gh, HELLO, 1))


async def test_enrolling_twice_sets_up_nothing_twice(
    bot_any_db: Bot, gh: FakeGitHub, hub: World
) -> None:
    bot = bot_any_db
    first = await enrol(bot, hub)
    _, payload = hub.comment(first, "sam", "/enroll")
    await bot.deliver("issue_comment", payload, delivery_id="enrol-again")
    await bot.deliver("issue_comment", payload, delivery_id="enrol-again")
    await bot.drain()
    second = await enrol(bot, hub)

    assert len(calls(gh, GENERATE)) == 1
    assert len(calls(gh, CREATE_ISSUE)) == 1
    [answer] = bot_comments(gh, HUB, second)
    assert "already enrolled" in answer and "Hello, world" in answer
    assert len(await audit(bot, "enroll")) == 1


async def test_duplicate_approving_review_grants_xp_once(
    bot_any_db: Bot, gh: FakeGitHub, hub: World
) -> None:
    bot = bot_any_db
    await enrol(bot, hub)
    exercise = in_repo(hub, HELLO)
    pull, opened = open_pull(exercise, "sam", "Closes #1")
    await bot.handle("pull_request", opened)
    await bot.handle("check_run", check_run(exercise, head_of(exercise, pull)))
    approval = review(exercise, pull, "rita")
    await bot.deliver("pull_request_review", approval, delivery_id="approval")
    await bot.deliver("pull_request_review", approval, delivery_id="approval")
    await bot.deliver("pull_request_review", approval)  # resent: a new delivery id
    await bot.drain()

    assert (await user(bot, "sam")).xp == 10
    assert len(await audit(bot, "xp")) == 1
    assert [name for name, _ in bot.events].count("Task.APPROVED") == 1
    assert len(calls(gh, GENERATE)) == 2  # hello, then fizzbuzz once


async def test_duplicate_approve_command_grants_xp_once(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    await enrol(bot, hub)
    exercise = await submitted(bot, hub)
    _, approval = exercise.comment(1, "rita", "/approve")
    await bot.deliver("issue_comment", approval)
    await bot.deliver("issue_comment", approval)
    await bot.drain()

    assert (await user(bot, "sam")).xp == 10
    assert len(calls(gh, GENERATE)) == 2


async def test_provisioning_resumes_after_a_failed_step(
    bot_any_db: Bot, gh: FakeGitHub, hub: World
) -> None:
    bot = bot_any_db
    gh.fail("PUT", "/repos/{owner}/{repo}/collaborators/{username}", status=502)
    await enrol(bot, hub)

    assert len(calls(gh, GENERATE)) == 1
    assert len(calls(gh, ADD_COLLABORATOR)) == 2  # failed once, then done
    assert gh.collaborators(HELLO) == {"sam": "push"}
    assert len(calls(gh, CREATE_ISSUE)) == 1
    assert (await exercise_task(bot, HELLO)).assignee_id is not None


async def test_provisioning_given_up_resumes_when_the_student_enrols_again(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    # More failures than the outbox retries: the work stops, recorded.
    gh.fail("PUT", "/repos/{owner}/{repo}/collaborators/{username}", times=4)
    enrolment = await enrol(bot, hub)
    async with bot.services.sessions() as session:
        row = await session.scalar(select(Provisioning))
    assert row is not None and row.state == ProvisionState.PENDING
    assert row.last_error and "502" in row.last_error
    assert not gh.collaborators(HELLO)

    await say(bot, hub, enrolment, "sam", "/enroll")

    assert len(calls(gh, GENERATE)) == 1
    assert gh.collaborators(HELLO) == {"sam": "push"}
    assert gh.issue(HELLO, 1)["assignees"] == ["sam"]


async def test_taken_repository_name_is_reported_not_overwritten(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    gh.add_repo(HELLO, description="someone else's")
    enrolment = await enrol(bot, hub)

    assert calls(gh, GENERATE) == []
    assert calls(gh, ADD_COLLABORATOR) == []
    assert not gh.repo_exists(f"{HELLO}-1") and not gh.repo_exists(f"{HELLO}-2")
    answer = bot_comments(gh, HUB, enrolment)[-1]
    assert f"`{HELLO}` already exists" in answer and "/enroll" in answer
    async with bot.services.sessions() as session:
        row = await session.scalar(select(Provisioning))
    assert row is not None and row.state == ProvisionState.TAKEN


async def test_student_cannot_approve_own_exercise(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    await enrol(bot, hub)
    exercise = await submitted(bot, hub)
    await say(bot, exercise, 1, "sam", "/approve I did great")

    assert (await exercise_task(bot, HELLO)).status == Status.SUBMITTED
    assert (await user(bot, "sam")).xp == 0
    assert any("refused" in b for b in bot_comments(gh, HELLO, 1))
    assert not gh.repo_exists(FIZZBUZZ)


async def test_super_admin_override_and_xp_adjustment_are_audited(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    await enrol(bot, hub)
    exercise = in_repo(hub, HELLO)
    await say(bot, exercise, 1, "root-admin", "/override approved paired live")

    assert (await exercise_task(bot, HELLO)).status == Status.APPROVED
    assert (await user(bot, "sam")).xp == 10
    assert gh.repo_exists(FIZZBUZZ)
    [override] = await audit(bot, "override")
    assert override.actor_login == "root-admin" and override.note == "paired live"

    await say(bot, hub, 1, "root-admin", "/xp @sam +5 helped a peer")
    assert (await user(bot, "sam")).xp == 15
    notes = [row.note for row in await audit(bot, "xp")]
    assert "@sam +5 XP: helped a peer" in notes


async def test_override_by_a_reviewer_is_refused(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    await enrol(bot, hub)
    await say(bot, in_repo(hub, HELLO), 1, "rita", "/override approved why not")

    assert (await exercise_task(bot, HELLO)).status == Status.TODO
    assert (await user(bot, "sam")).xp == 0


async def test_xp_shows_progress_through_the_curriculum(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    enrolment = await enrol(bot, hub)
    await say(bot, await submitted(bot, hub), 1, "rita", "/approve")
    await say(bot, hub, enrolment, "sam", "/xp")
    await say(bot, hub, enrolment, "rita", "/xp @sam")

    mine, theirs = bot_comments(gh, HUB, enrolment)[-2:]
    for answer in (mine, theirs):
        assert "@sam has **10 XP**" in answer
        assert "Hello, world" in answer and "`APPROVED`" in answer
        assert "FizzBuzz" in answer and "`TODO`" in answer


async def test_student_cannot_see_others_xp(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    enrolment = await enrol(bot, hub)
    await say(bot, hub, enrolment, "sam", "/xp @rita")

    assert "refused" in bot_comments(gh, HUB, enrolment)[-1]


async def test_enrol_where_no_academy_is_configured_is_refused(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    gh.set_file(HUB, ".github/workflow-bot.yml", "roles:\n  REVIEWER: [rita]\n")
    enrolment = await enrol(bot, hub)

    assert "no `academy:` configuration" in bot_comments(gh, HUB, enrolment)[-1]
    assert (await user(bot, "sam")).role is None
    assert calls(gh, GENERATE) == []


async def rewind(bot: Bot, **values: object) -> None:
    """Put the provisioning back, as if a run died before recording a step."""
    async with bot.services.sessions.begin() as session:
        row = await session.scalar(select(Provisioning))
        assert row is not None
        for name, value in {"last_error": "worker killed", **values}.items():
            setattr(row, name, value)
        row.state = ProvisionState.PENDING


async def test_lost_answer_to_generate_adopts_our_repository(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    enrolment = await enrol(bot, hub)
    # GitHub made the repository but the bot never heard back.
    await rewind(bot, step="generate", created_repo_id=None, generate_requested=True)
    await say(bot, hub, enrolment, "sam", "/enroll")

    assert len(calls(gh, GENERATE)) == 1
    assert not any("already exists" in b for b in bot_comments(gh, HUB, enrolment))
    async with bot.services.sessions() as session:
        row = await session.scalar(select(Provisioning))
    assert row is not None and row.state == ProvisionState.DONE


async def test_exercise_issue_is_not_opened_twice_after_a_lost_answer(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    enrolment = await enrol(bot, hub)
    await rewind(bot, step="issue", issue_number=None)
    await say(bot, hub, enrolment, "sam", "/enroll")

    assert len(calls(gh, CREATE_ISSUE)) == 1
    assert len([name for name, _ in bot.events if name == "Task.CREATED"]) == 1


async def test_enrolling_keeps_another_role(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    await enrol(bot, hub, "rita")

    assert (await user(bot, "rita")).role == Role.REVIEWER  # from the hub's config
    assert await audit(bot, "role") == []
    assert gh.repo_exists(f"{ORG}/hello-rita")


async def test_enroll_function_for_the_rest_api(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    async with bot.services.sessions.begin() as session:
        student = await remember_user(session, gh.user_json("eve"))
        result = await enroll(session, bot.services, student, HUB, hub.installation_id)
    await bot.drain()

    assert result.newly_enrolled and result.role == "STUDENT"
    assert result.current is not None and result.current.id == "hello"
    assert result.as_dict()["exercises"][0]["state"] == "preparing"
    assert gh.issue(f"{ORG}/hello-eve", 1)["assignees"] == ["eve"]


async def test_unusable_template_is_reported_to_the_student(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    gh.add_repo(f"{ORG}/plain", private=True)  # not marked as a template
    gh.set_file(
        HUB,
        ".github/workflow-bot.yml",
        ACADEMY_CONFIG.replace("template-hello", "plain"),
    )
    enrolment = await enrol(bot, hub)

    answer = bot_comments(gh, HUB, enrolment)[-1]
    assert "could not be set up" in answer and "not a template" in answer
    async with bot.services.sessions() as session:
        row = await session.scalar(select(Provisioning))
    assert row is not None and row.state == ProvisionState.FAILED


async def test_exercise_repository_follows_the_hubs_xp_per_approval(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    gh.set_file(
        HUB,
        ".github/workflow-bot.yml",
        ACADEMY_CONFIG.replace("  exercises:", "  xp_per_approval: 25\n  exercises:"),
    )
    await enrol(bot, hub)
    await say(bot, await submitted(bot, hub), 1, "rita", "/approve")

    assert (await user(bot, "sam")).xp == 25
    assert any("+25 XP" in b for b in bot_comments(gh, HELLO, 1))


def test_a_repository_from_another_template_is_never_adopted() -> None:
    exercise = Exercise("hello", "Hello", f"{ORG}/template-hello")
    job = Job(
        id=1,
        step=ProvisionStep.GENERATE,
        state=ProvisionState.PENDING,
        repository=HELLO,
        installation_id=1,
        student_id=2,
        login="sam",
        hub=HUB,
        generate_requested=True,
        created_repo_id=None,
        default_branch=None,
        issue_number=None,
        announce_repository=None,
        announce_issue_number=None,
        exercise_id="hello",
    )
    ours = {"id": 7, "template_repository": {"full_name": f"{ORG}/Template-Hello"}}
    theirs = {"id": 8, "template_repository": {"full_name": f"{ORG}/other"}}

    assert made_by_us(ours, job, exercise)
    assert not made_by_us(theirs, job, exercise)
    assert not made_by_us({"id": 10}, job, exercise)  # made by hand
    assert not made_by_us(ours, replace(job, generate_requested=False), exercise)
    assert not made_by_us(ours, replace(job, created_repo_id=9), exercise)


async def test_student_review_of_own_exercise_pull_request_is_refused(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    await enrol(bot, hub)
    exercise = in_repo(hub, HELLO)
    pull, opened = open_pull(exercise, "sam", "Closes #1")
    await bot.handle("pull_request", opened)
    await bot.handle("check_run", check_run(exercise, head_of(exercise, pull)))
    await bot.handle("pull_request_review", review(exercise, pull, "sam"))

    assert (await exercise_task(bot, HELLO)).status == Status.SUBMITTED
    assert (await user(bot, "sam")).xp == 0
    assert not gh.repo_exists(FIZZBUZZ)


async def test_api_finds_the_hubs_installation(bot: Bot, hub: World) -> None:
    async with bot.services.sessions.begin() as session:
        session.add(
            Repository(id=1, installation_id=hub.installation_id, full_name=HUB)
        )
    async with bot.services.sessions() as session:
        assert await installation_of(session, HUB.upper()) == hub.installation_id
        assert await installation_of(session, f"{ORG}/elsewhere") is None


async def test_name_taken_between_look_and_generate_is_reported(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    gh.add_repo(HELLO, description="made by hand a moment ago")
    gh.fail("GET", "/repos/{owner}/{repo}", status=404)  # our look missed it
    enrolment = await enrol(bot, hub)

    assert len(calls(gh, GENERATE)) == 1  # refused by GitHub: name exists
    assert calls(gh, ADD_COLLABORATOR) == []
    assert f"`{HELLO}` already exists" in bot_comments(gh, HUB, enrolment)[-1]


async def test_exercise_is_on_the_hubs_board(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    board.forget_boards()  # board ids are cached per process
    gh.add_project(ORG, 7)
    config = ACADEMY_CONFIG + f"board:\n  owner: {ORG}\n  number: 7\n"
    gh.set_file(HUB, ".github/workflow-bot.yml", config)
    await enrol(bot, hub)

    card = gh.project_item_status(ORG, 7, gh.issue(HELLO, 1)["node_id"])
    board.forget_boards()
    assert card == "Todo"


async def test_xp_given_by_an_admin_opens_the_next_gate(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    await enrol(bot, hub)
    await say(bot, hub, 1, "root-admin", "/xp @sam +10 prior experience")

    assert (await user(bot, "sam")).xp == 10
    assert gh.repo_exists(FIZZBUZZ)
    assert (await exercise_task(bot, HELLO)).status == Status.TODO
    ready = "\n".join(bot_comments(gh, HELLO, 1))
    assert f"https://github.com/{FIZZBUZZ}/issues/1" in ready


async def test_xp_for_someone_not_enrolled_sets_up_nothing(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    hub.gh.add_issue(HUB, title="Kudos", author="rita")
    await say(bot, hub, 1, "root-admin", "/xp @eve +50 great talk")

    assert (await user(bot, "eve")).xp == 50
    assert calls(gh, GENERATE) == []


async def test_curriculum_with_a_repeated_exercise_id_is_refused(
    bot: Bot, gh: FakeGitHub, hub: World
) -> None:
    twice = ACADEMY_CONFIG.replace("id: fizzbuzz", "id: Hello")
    gh.set_file(HUB, ".github/workflow-bot.yml", twice)
    enrolment = await enrol(bot, hub)

    assert "exercise id twice" in bot_comments(gh, HUB, enrolment)[-1]
    assert calls(gh, GENERATE) == []
