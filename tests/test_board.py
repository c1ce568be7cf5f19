"""The Projects (v2) board follows tasks, and a person's card move moves the task."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import graphql
import pytest
from sqlalchemy import select

from bot import board, reconcile
from bot.config import Board
from bot.runtime import build_worker
from handlers import projects
from storage.models import AuditEntry, ReconcileProgress, Status, Task, utcnow
from tests.fakegithub import FakeGitHub
from tests.fakegithub.gql import load_schema
from tests.harness import FIXTURES, Bot
from tests.payloads import TEAM_CONFIG, World, make_world

ORG, NUMBER = "acme", 3
COLUMNS = ["Todo", "In Progress", "Submitted", "Approved", "Rejected"]
BOARD_CONFIG = TEAM_CONFIG + f"board:\n  owner: {ORG}\n  number: {NUMBER}\n"
EXAMPLES = FIXTURES / "webhooks"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fresh_board_cache() -> Iterator[None]:
    """Board ids are cached per process; each test's fake board is new."""
    board.forget_boards()
    yield
    board.forget_boards()


@pytest.fixture(autouse=True)
def only_modelled_graphql(gh: FakeGitHub) -> Iterator[None]:
    """Every selection the bot makes is one the fake answers for real."""
    yield
    assert gh.unsupported == []


@pytest.fixture
def world(gh: FakeGitHub) -> World:
    made = make_world(gh, BOARD_CONFIG)
    gh.add_project(ORG, NUMBER, options=COLUMNS)
    return made


# helpers


def node_of(gh: FakeGitHub, world: World, number: int) -> str:
    return str(gh.issue(world.repo, number)["node_id"])


def column(gh: FakeGitHub, world: World, number: int) -> str | None:
    return gh.project_item_status(ORG, NUMBER, node_of(gh, world, number))


async def task_of(bot: Bot, number: int) -> Task:
    async with bot.services.sessions() as session:
        found = (
            await session.scalars(select(Task).where(Task.issue_number == number))
        ).first()
    assert found is not None
    return found


async def audit_actions(bot: Bot, number: int) -> list[str]:
    task = await task_of(bot, number)
    async with bot.services.sessions() as session:
        rows = await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.task_id == task.id)
            .order_by(AuditEntry.id)
        )
        return list(rows.all())


def bot_comments(gh: FakeGitHub, world: World, number: int) -> list[str]:
    comments = gh.issue(world.repo, number)["comments"]
    return [c["body"] for c in comments if c["user"].endswith("[bot]")]


def notices(gh: FakeGitHub, world: World) -> list[dict[str, Any]]:
    """Issues the bot opened on the repository to report a problem."""
    issues = gh.world.repo(world.repo).issues.values()
    return [
        {"title": i.title, "body": i.body or ""}
        for i in issues
        if i.user == gh.app_bot_user["login"]
    ]


def world_without_projects_access(gh: FakeGitHub) -> World:
    installation = gh.add_installation(
        ORG, permissions={"issues": "write", "contents": "read", "metadata": "read"}
    )
    gh.add_repo("acme/widgets", installation_id=installation["id"])
    for login in ("dana", "fred", "bea", "quinn", "rita", "sam"):
        gh.add_user(login)
    gh.set_file("acme/widgets", ".github/workflow-bot.yml", BOARD_CONFIG)
    gh.add_project(ORG, NUMBER, options=COLUMNS)
    return World(gh, installation["id"])


def drop_label(gh: FakeGitHub, world: World, number: int, name: str) -> None:
    """Someone removes a label without the bot hearing of it."""
    gh.world.repo(world.repo).issue(number).labels.remove(name)


async def new_task(bot: Bot, world: World, author: str = "dana") -> int:
    number, payload = world.open_issue(author)
    await bot.handle("issues", payload)
    return number


async def say(bot: Bot, world: World, number: int, author: str, body: str) -> None:
    _, payload = world.comment(number, author, body)
    await bot.handle("issue_comment", payload)


def card_moved(
    gh: FakeGitHub,
    world: World,
    number: int,
    to: str,
    sender: str,
    *,
    newer_shape: bool = True,
) -> dict[str, Any]:
    """A person drags the card; the delivery GitHub sends for it (either shape)."""
    content = node_of(gh, world, number)
    before = gh.project_item_status(ORG, NUMBER, content)
    moved = gh.set_project_item_status(ORG, NUMBER, content, to)
    name = "edited.payload.json"
    folder = "examples-extra" if newer_shape else "examples"
    payload = json.loads((EXAMPLES / folder / "projects_v2_item" / name).read_text())
    item = payload["projects_v2_item"]
    item.update(
        id=moved["item_database_id"],
        node_id=moved["item_id"],
        project_node_id=moved["project_node_id"],
        content_node_id=content,
        content_type="Issue",
    )
    change = payload["changes"]["field_value"]
    change["field_node_id"] = moved["field_id"]
    if newer_shape:
        change.update(field_name="Status", project_number=NUMBER)
        change["from"] = {"id": moved["previous_option_id"], "name": before}
        change["to"] = {"id": moved["option_id"], "name": to}
    payload["organization"] = {"login": ORG, "id": 1}
    payload["installation"] = {"id": world.installation_id, "node_id": "MDIz"}
    payload["sender"] = gh.user_json(sender)
    return payload


# every GraphQL document the bot sends is GitHub's


@pytest.mark.parametrize(
    "document", board.DOCUMENTS, ids=lambda d: d.split("(")[0].split()[-1]
)
def test_board_documents_validate_against_githubs_schema(document: str) -> None:
    errors = graphql.validate(load_schema(), graphql.parse(document))
    assert [e.message for e in errors] == []


def test_a_misspelled_document_would_be_caught() -> None:
    broken = board.SET_COLUMN.replace("singleSelectOptionId", "singleSelectOption")
    assert graphql.validate(load_schema(), graphql.parse(broken)) != []


# both payload shapes of projects_v2_item.edited


def example(folder: str, name: str) -> dict[str, Any]:
    path = EXAMPLES / folder / "projects_v2_item" / f"{name}.payload.json"
    return dict(json.loads(path.read_text()))


@pytest.mark.parametrize(
    ("folder", "name", "column", "has_to", "ours"),
    [
        ("examples", "edited", None, False, True),
        ("examples-extra", "edited", "In Progress", True, True),
        ("examples-extra", "edited.with-date", None, True, False),
        ("examples-extra", "edited.with-number", None, True, False),
        ("examples-extra", "edited.reviewers", None, False, False),
    ],
)
def test_both_payload_shapes_are_understood(
    folder: str, name: str, column: str | None, has_to: bool, ours: bool
) -> None:
    config_board = Board(owner="octo-org", number=18)
    change = projects.field_change(example(folder, name))

    assert change is not None
    assert (change.to_column, change.has_to) == (column, has_to)
    assert change.field_id is not None
    assert projects.concerns_board(change, config_board) is ours


# task -> board


async def test_a_tasks_life_moves_its_card_through_every_column(
    bot_any_db: Bot, gh: FakeGitHub, world: World
) -> None:
    bot = bot_any_db  # on SQLite, and on PostgreSQL when configured
    number = await new_task(bot, world)
    assert column(gh, world, number) == "Todo"

    seen = []
    for author, command in [
        ("fred", "/claim"),
        ("fred", "/submit"),
        ("rita", "/reject the form has no labels"),
        ("fred", "/claim"),
        ("fred", "/submit"),
        ("rita", "/approve"),
    ]:
        await say(bot, world, number, author, command)
        seen.append(column(gh, world, number))

    assert seen == [
        "In Progress",
        "Submitted",
        "Rejected",
        "In Progress",
        "Submitted",
        "Approved",
    ]
    task = await task_of(bot, number)
    assert task.status == Status.APPROVED and task.board_item_id
    assert "board_out_of_step" not in await audit_actions(bot, number)


async def test_without_board_config_no_board_work_happens(
    bot: Bot, gh: FakeGitHub
) -> None:
    world = make_world(gh)
    gh.add_project(ORG, NUMBER, options=COLUMNS)
    number = await new_task(bot, world)

    assert (await task_of(bot, number)).status == Status.TODO
    assert column(gh, world, number) is None
    assert gh.graphql_calls == []


async def test_an_item_missing_from_the_board_is_added_again(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number = await new_task(bot, world)
    first_item = (await task_of(bot, number)).board_item_id
    project = gh.world.project(ORG, NUMBER)
    project.items.clear()  # someone removed the card

    await say(bot, world, number, "fred", "/claim")

    assert column(gh, world, number) == "In Progress"
    task = await task_of(bot, number)
    assert task.board_item_id and task.board_item_id != first_item


async def test_a_card_already_on_the_board_is_reused(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number, payload = world.open_issue("dana")
    existing = gh.add_project_item(ORG, NUMBER, node_of(gh, world, number))

    await bot.handle("issues", payload)

    assert (await task_of(bot, number)).board_item_id == existing["id"]
    assert len(gh.world.project(ORG, NUMBER).items) == 1
    assert column(gh, world, number) == "Todo"


async def test_an_option_renamed_on_the_board_is_found_after_one_refresh(
    bot: Bot, gh: FakeGitHub
) -> None:
    world = make_world(gh, BOARD_CONFIG)
    gh.add_project(ORG, NUMBER, options=["Todo", "Doing", *COLUMNS[2:]])
    number = await new_task(bot, world)
    doing = gh.world.project(ORG, NUMBER).field_named("Status")
    assert doing is not None
    renamed = doing.option_named("Doing")
    assert renamed is not None
    renamed.name = "In Progress"
    gh.graphql_calls.clear()

    await say(bot, world, number, "fred", "/claim")

    assert column(gh, world, number) == "In Progress"
    layouts = [q for q, _ in gh.graphql_calls if "BoardLayout" in q]
    assert len(layouts) == 1


async def test_a_replaced_option_id_is_looked_up_once_and_the_write_retried(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number = await new_task(bot, world)
    field = gh.world.project(ORG, NUMBER).field_named("Status")
    assert field is not None
    option = field.option_named("In Progress")
    assert option is not None
    option.id = "fresh123"  # the board owner re-created the option
    gh.graphql_calls.clear()

    await say(bot, world, number, "fred", "/claim")

    assert column(gh, world, number) == "In Progress"
    writes = [q for q, _ in gh.graphql_calls if "SetBoardColumn" in q]
    assert len(writes) == 2
    assert "board_out_of_step" not in await audit_actions(bot, number)


async def test_graphql_errors_with_http_200_leave_the_status_and_note_the_board(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number = await new_task(bot, world)
    gh.graphql_error(times=1, message="Could not resolve the value", type="UNPROCESSABLE")

    await say(bot, world, number, "fred", "/claim")

    assert (await task_of(bot, number)).status == Status.IN_PROGRESS
    assert column(gh, world, number) == "Todo"
    assert "board_out_of_step" in await audit_actions(bot, number)

    report = await reconcile.reconcile(bot.services)

    assert column(gh, world, number) == "In Progress"
    assert [str(c) for c in report.changes] == [
        f"{world.repo}#{number}: card Todo -> In Progress"
    ]
    assert (await audit_actions(bot, number))[-2:] == [
        "board_out_of_step",
        "board_repaired",
    ]


async def test_a_column_missing_from_the_board_is_reported_once(
    bot: Bot, gh: FakeGitHub
) -> None:
    world = make_world(gh, BOARD_CONFIG)
    gh.add_project(ORG, NUMBER, options=COLUMNS[:2])  # no Submitted, Approved...
    number = await new_task(bot, world)

    await say(bot, world, number, "fred", "/claim")
    await say(bot, world, number, "fred", "/submit")
    await reconcile.reconcile(bot.services)
    await reconcile.reconcile(bot.services)

    assert (await task_of(bot, number)).status == Status.SUBMITTED
    assert column(gh, world, number) == "In Progress"
    opened = notices(gh, world)
    assert [i["title"] for i in opened] == ["Workflow board is missing a column"]
    assert "'Submitted'" in opened[0]["body"]
    assert "board_out_of_step" in await audit_actions(bot, number)


async def test_without_projects_permission_one_notice_and_the_workflow_goes_on(
    bot: Bot, gh: FakeGitHub
) -> None:
    world = world_without_projects_access(gh)
    number = await new_task(bot, world)
    await say(bot, world, number, "fred", "/claim")
    report = await reconcile.reconcile(bot.services)

    assert (await task_of(bot, number)).status == Status.IN_PROGRESS
    assert sorted(gh.issue(world.repo, number)["labels"]) == [
        "status: in progress",
        "type: feature",
    ]
    assert [i["title"] for i in notices(gh, world)] == [
        "Workflow board cannot be reached"
    ]
    assert report.board_skipped == {world.repo}


# board -> task


@pytest.mark.parametrize("newer_shape", [True, False], ids=["with_to", "without_to"])
async def test_the_assignee_moving_the_card_to_in_progress_moves_the_task(
    bot_any_db: Bot, gh: FakeGitHub, world: World, newer_shape: bool
) -> None:
    bot = bot_any_db  # on SQLite, and on PostgreSQL when configured
    number = await new_task(bot, world)
    await say(bot, world, number, "fred", "/claim")
    await say(bot, world, number, "fred", "/submit")
    await say(bot, world, number, "rita", "/reject needs tests")

    payload = card_moved(
        gh, world, number, "In Progress", "fred", newer_shape=newer_shape
    )
    await bot.handle("projects_v2_item", payload)

    task = await task_of(bot, number)
    assert task.status == Status.IN_PROGRESS
    assert "status: in progress" in gh.issue(world.repo, number)["labels"]
    async with bot.services.sessions() as session:
        last = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.task_id == task.id)
                .order_by(AuditEntry.id.desc())
            )
        ).first()
    assert last is not None
    assert (last.source, last.actor_login, last.to_status) == (
        "board",
        "fred",
        "IN_PROGRESS",
    )


async def test_a_student_moving_a_card_to_approved_is_put_back_with_a_reply(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number = await new_task(bot, world)
    await say(bot, world, number, "fred", "/claim")
    await say(bot, world, number, "fred", "/submit")

    await bot.handle(
        "projects_v2_item", card_moved(gh, world, number, "Approved", "sam")
    )

    assert (await task_of(bot, number)).status == Status.SUBMITTED
    assert column(gh, world, number) == "Submitted"
    [reply] = [b for b in bot_comments(gh, world, number) if "@sam" in b]
    assert "moved back to `Submitted`" in reply
    assert "Who may make this move" in reply


async def test_a_card_moved_to_a_column_outside_the_workflow_is_put_back(
    bot: Bot, gh: FakeGitHub
) -> None:
    world = make_world(gh, BOARD_CONFIG)
    gh.add_project(ORG, NUMBER, options=[*COLUMNS, "Icebox"])
    number = await new_task(bot, world)

    await bot.handle(
        "projects_v2_item", card_moved(gh, world, number, "Icebox", "fred")
    )

    assert (await task_of(bot, number)).status == Status.TODO
    assert column(gh, world, number) == "Todo"


async def test_drafts_other_fields_and_issues_that_are_not_tasks_are_ignored(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number = await new_task(bot, world)
    draft = json.loads(
        (EXAMPLES / "examples" / "projects_v2_item" / "edited.payload.json").read_text()
    )
    draft["installation"] = {"id": world.installation_id, "node_id": "MDIz"}
    reviewers = card_moved(gh, world, number, "In Progress", "fred")
    reviewers["changes"] = example("examples-extra", "edited.reviewers")["changes"]
    older = card_moved(gh, world, number, "In Progress", "fred", newer_shape=False)
    older["changes"]["field_value"]["field_node_id"] = "PVTF_lADOsomeOtherField"
    gh.set_project_item_status(ORG, NUMBER, node_of(gh, world, number), "Todo")
    plain, opened = world.open_issue("eve")  # no role: not a task
    await bot.handle("issues", opened)
    not_a_task = card_moved(gh, world, plain, "In Progress", "fred")
    gh.graphql_calls.clear()

    for payload in (draft, reviewers, older, not_a_task):
        await bot.handle("projects_v2_item", payload)

    assert (await task_of(bot, number)).status == Status.TODO
    assert column(gh, world, plain) == "In Progress"  # left as the person put it
    assert [q for q, _ in gh.graphql_calls if "BoardItem" in q] == []
    assert bot_comments(gh, world, number) == bot_comments(gh, world, plain) == []


# reconcile


async def test_reconcile_repairs_a_board_edited_behind_the_bots_back(
    bot_any_db: Bot, gh: FakeGitHub, world: World
) -> None:
    bot = bot_any_db  # on SQLite, and on PostgreSQL when configured
    first = await new_task(bot, world)
    second = await new_task(bot, world)
    await say(bot, world, second, "fred", "/claim")
    gh.set_project_item_status(ORG, NUMBER, node_of(gh, world, first), "Approved")
    gh.set_project_item_status(ORG, NUMBER, node_of(gh, world, second), None)
    drop_label(gh, world, second, "status: in progress")

    dry = await reconcile.reconcile(bot.services, dry_run=True)
    assert column(gh, world, first) == "Approved"  # a dry run changes nothing
    report = await reconcile.reconcile(bot.services)
    again = await reconcile.reconcile(bot.services)

    expected = [
        f"{world.repo}#{first}: card Approved -> Todo",
        f"{world.repo}#{second}: labels +status: in progress",
        f"{world.repo}#{second}: card no column -> In Progress",
    ]
    assert [str(c) for c in dry.changes] == expected
    assert [str(c) for c in report.changes] == expected
    assert column(gh, world, first) == "Todo"
    assert column(gh, world, second) == "In Progress"
    assert "status: in progress" in gh.issue(world.repo, second)["labels"]
    assert again.changes == [] and again.finished


async def test_reconcile_stops_on_a_rate_limit_and_resumes_without_double_work(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    numbers = [await new_task(bot, world) for _ in range(3)]
    for number in numbers[1:]:
        drop_label(gh, world, number, "status: todo")
    gh.fail(
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        status=403,
        times=1,
        headers={"Retry-After": "7"},
        body={"message": "You have exceeded a secondary rate limit."},
    )

    paused = await reconcile.reconcile(bot.services, batch=2)
    resumed = await reconcile.reconcile(bot.services, batch=2)

    assert not paused.finished and paused.resume_after == 7
    assert paused.checked == 1  # the first task was in step; the second hit the limit
    assert resumed.finished and resumed.checked == 2
    assert [str(c) for c in resumed.changes] == [
        f"{world.repo}#{n}: labels +status: todo" for n in numbers[1:]
    ]
    assert all("status: todo" in gh.issue(world.repo, n)["labels"] for n in numbers)


async def test_a_graphql_rate_limit_pauses_reconcile(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number = await new_task(bot, world)
    gh.set_project_item_status(ORG, NUMBER, node_of(gh, world, number), "Approved")
    gh.fail(
        "POST",
        "/graphql",
        status=403,
        times=1,
        headers={"Retry-After": "5"},
        body={"message": "You have exceeded a secondary rate limit."},
    )

    paused = await reconcile.reconcile(bot.services)
    resumed = await reconcile.reconcile(bot.services)

    assert (paused.finished, paused.resume_after, paused.checked) == (False, 5, 0)
    assert resumed.finished and column(gh, world, number) == "Todo"


async def test_card_moves_made_by_this_app_are_not_fed_back(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number = await new_task(bot, world)
    own = gh.app_bot_user["login"]

    await bot.handle("projects_v2_item", card_moved(gh, world, number, "Approved", own))

    assert (await task_of(bot, number)).status == Status.TODO
    assert bot_comments(gh, world, number) == []


async def test_projects_access_granted_later_brings_the_board_back(
    bot: Bot, gh: FakeGitHub
) -> None:
    world = world_without_projects_access(gh)
    number = await new_task(bot, world)
    assert column(gh, world, number) is None

    gh.world.installations[world.installation_id].permissions.update(
        organization_projects="write"
    )
    accepted = json.loads(
        (
            EXAMPLES
            / "examples"
            / "installation"
            / "new_permissions_accepted.payload.json"
        ).read_text()
    )
    accepted["installation"]["id"] = world.installation_id
    await bot.handle("installation", accepted)
    await say(bot, world, number, "fred", "/claim")

    assert column(gh, world, number) == "In Progress"


async def test_the_worker_reconciles_on_its_schedule(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number = await new_task(bot, world)
    gh.set_project_item_status(ORG, NUMBER, node_of(gh, world, number), "Approved")
    settings = dataclasses.replace(bot.settings, reconcile_interval_seconds=3600)
    services = dataclasses.replace(bot.services, settings=settings)
    worker = build_worker(services)
    stop = asyncio.Event()

    [job] = worker.background
    running = asyncio.create_task(job(stop))
    for _ in range(400):  # bounded: the pass needs a handful of round trips
        if column(gh, world, number) == "Todo":
            break
        await asyncio.sleep(0.01)
    stop.set()
    await running

    assert column(gh, world, number) == "Todo"
    assert build_worker(bot.services).background == []  # off by default


async def run_cli(bot: Bot, *args: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "WEBHOOK_SECRET": bot.settings.webhook_secret,
        "APP_ID": str(bot.settings.app_id),
        "PRIVATE_KEY": str(bot.settings.private_key),
        "DATABASE_URL": bot.settings.database_url,
        "GITHUB_API_URL": bot.settings.github_api_url,
        "APP_SLUG": str(bot.settings.app_slug),
        "LOG_LEVEL": "ERROR",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "reconcile",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return int(process.returncode or 0), out.decode()


async def test_reconcile_command_reports_then_fixes(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number = await new_task(bot, world)
    gh.set_project_item_status(ORG, NUMBER, node_of(gh, world, number), "Approved")

    code, dry = await run_cli(bot, "--repo", world.repo, "--dry-run")
    assert code == 0, dry
    assert f"would fix {world.repo}#{number}: card Approved -> Todo" in dry
    assert column(gh, world, number) == "Approved"

    code, fixed = await run_cli(bot, "--repo", world.repo)
    assert code == 0, fixed
    assert f"{world.repo}#{number}: card Approved -> Todo" in fixed
    assert "checked 1 task(s), 1 fixed" in fixed
    assert column(gh, world, number) == "Todo"


async def test_a_second_reconcile_pass_waits_while_one_holds_the_lease(
    bot: Bot, gh: FakeGitHub, world: World
) -> None:
    number = await new_task(bot, world)
    gh.set_project_item_status(ORG, NUMBER, node_of(gh, world, number), "Approved")
    async with bot.services.sessions.begin() as session:
        session.add(
            ReconcileProgress(
                scope="*", last_task_id=0, lease_expires_at=utcnow() + timedelta(1)
            )
        )

    busy = await reconcile.reconcile(bot.services)

    assert busy.busy and busy.checked == 0
    assert column(gh, world, number) == "Approved"
    assert reconcile.describe(busy) == [
        "another reconcile pass is running; nothing done"
    ]


async def test_a_dry_run_finds_cards_the_bot_has_not_remembered(
    bot: Bot, gh: FakeGitHub
) -> None:
    world = make_world(gh, TEAM_CONFIG)  # no board yet: tasks without cards
    number = await new_task(bot, world)
    gh.add_project(ORG, NUMBER, options=COLUMNS)
    gh.set_project_item_status(ORG, NUMBER, node_of(gh, world, number), "Approved")
    gh.set_file(world.repo, ".github/workflow-bot.yml", BOARD_CONFIG)
    bot.services.configs.forget(world.repo)

    dry = await reconcile.reconcile(bot.services, dry_run=True)
    report = await reconcile.reconcile(bot.services)

    expected = [f"{world.repo}#{number}: card Approved -> Todo"]
    assert [str(c) for c in dry.changes] == [str(c) for c in report.changes] == expected
    assert column(gh, world, number) == "Todo"
    assert len(gh.world.project(ORG, NUMBER).items) == 1
