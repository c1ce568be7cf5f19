"""The REST API end to end: real HTTP, real tokens, the fake GitHub behind it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from openapi_spec_validator import validate
from sqlalchemy import select, update
from yarl import URL

from bot import api_spec, auth
from bot.settings import Settings
from storage.models import AuditEntry, Installation, Review, Role, Status, Task, User
from tests.apihelp import BY_ROLE, Api, make_api
from tests.conftest import make_settings
from tests.fakegithub import FakeGitHub, oauth
from tests.harness import Bot, start_bot, stop_bot
from tests.payloads import make_world

REPO = "acme/widgets"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def api(bot: Bot, gh: FakeGitHub) -> Api:
    return await make_api(bot, gh)


@pytest.fixture
async def api_any_db(bot_any_db: Bot, gh: FakeGitHub) -> Api:
    """On SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""
    return await make_api(bot_any_db, gh)


def status_labels(gh: FakeGitHub, number: int) -> list[str]:
    return sorted(
        x for x in gh.issue(REPO, number)["labels"] if x.startswith("status:")
    )


def bot_comments(gh: FakeGitHub, number: int) -> list[str]:
    comments = gh.issue(REPO, number)["comments"]
    return [c["body"] for c in comments if c["user"].endswith("[bot]")]


async def audit_rows(bot: Bot) -> list[AuditEntry]:
    async with bot.services.sessions() as session:
        return list((await session.scalars(select(AuditEntry))).all())


async def set_role(bot: Bot, login: str, role: Role | None) -> None:
    async with bot.services.sessions.begin() as session:
        await session.execute(update(User).where(User.login == login).values(role=role))


# Creating tasks


async def test_designer_creates_task_and_issue_opens_on_github(
    api: Api, gh: FakeGitHub
) -> None:
    answer = await api.call(
        "POST",
        "/tasks",
        as_="dana",
        body={"repository": REPO, "title": "Login page", "type": "BUG", "body": "Hi"},
    )
    woken = api.bot.services.new_work.is_set()
    await api.bot.drain()

    assert answer.status == 201, answer.body
    assert woken, "the worker is told at once that effects wait"
    assert answer.body["status"] == "TODO" and answer.body["type"] == "BUG"
    issue = gh.issue(REPO, answer.body["issue_number"])
    assert issue["title"] == "Login page"
    assert sorted(issue["labels"]) == ["status: todo", "type: bug"]
    assert [name for name, _ in api.bot.events] == ["Task.CREATED"]
    rows = await audit_rows(api.bot)
    assert [(r.action, r.source, r.actor_login) for r in rows] == [
        ("create", "api", "dana")
    ]


async def test_task_creation_uses_the_known_installation_of_the_repository(
    api: Api, gh: FakeGitHub
) -> None:
    from storage.models import Repository

    async with api.bot.services.sessions.begin() as session:
        repo = gh.repo_json(REPO)
        session.add(
            Repository(
                id=repo["id"], full_name=REPO, installation_id=api.world.installation_id
            )
        )
    answer = await api.call(
        "POST", "/tasks", as_="fred", body={"repository": REPO, "title": "Known"}
    )

    assert answer.status == 201, answer.body
    operations = [r.operation_id for r in gh.requests]
    assert "apps/get-repo-installation" not in operations


async def test_qa_may_not_create_task_and_nothing_opens_on_github(
    api: Api, gh: FakeGitHub
) -> None:
    answer = await api.call(
        "POST", "/tasks", as_="quinn", body={"repository": REPO, "title": "No"}
    )

    assert answer.status == 403
    assert "BE_DEV" in answer.body["error"]["who_may"]
    assert answer.body["error"]["code"] == "forbidden"
    assert gh.writes() == []


async def test_task_in_repository_without_the_app_is_not_found(api: Api) -> None:
    answer = await api.call(
        "POST", "/tasks", as_="dana", body={"repository": "other/place", "title": "X"}
    )

    assert answer.status == 404
    assert "not installed" in answer.body["error"]["message"]


async def test_github_failing_to_open_the_issue_leaves_no_task(
    api: Api, gh: FakeGitHub
) -> None:
    gh.fail("POST", "/repos/{owner}/{repo}/issues", status=502)

    answer = await api.call(
        "POST", "/tasks", as_="dana", body={"repository": REPO, "title": "Flaky"}
    )
    listed = await api.call("GET", "/tasks", as_="dana")

    assert answer.status == 502 and answer.body["error"]["code"] == "github_failed"
    assert listed.body["items"] == []
    assert await audit_rows(api.bot) == []


async def test_body_breaking_the_schema_is_refused_with_the_field_named(
    api: Api, gh: FakeGitHub
) -> None:
    missing = await api.call("POST", "/tasks", as_="dana", body={"repository": REPO})
    wrong_type = await api.call(
        "POST",
        "/tasks",
        as_="dana",
        body={"repository": REPO, "title": "T", "type": "EPIC"},
    )
    not_json = await api.bot.post_raw(
        b"{nope",
        {"Authorization": f"Bearer {api.token('dana')}"},
        path="/tasks",
    )

    assert missing.status == 400 and "title" in missing.body["error"]["message"]
    assert wrong_type.status == 400 and "type" in wrong_type.body["error"]["message"]
    assert not_json.status == 400 and "JSON" in not_json.body["error"]["message"]
    assert gh.writes() == []


# Reading tasks


async def test_tasks_filter_by_status_type_assignee_and_repository(api: Api) -> None:
    first = await api.new_task(title="One")
    second = await api.new_task(title="Two")
    await api.claim(second, "fred")

    async def ids(query: str) -> list[int]:
        answer = await api.call("GET", f"/tasks?{query}", as_="eve")
        assert answer.status == 200, answer.body
        return [item["id"] for item in answer.body["items"]]

    assert await ids("") == [first, second]
    assert await ids("status=IN_PROGRESS") == [second]
    assert await ids("assignee=FRED") == [second]
    assert await ids("type=FEATURE&status=TODO") == [first]
    assert await ids("repository=acme/widgets") == [first, second]
    assert await ids("repository=acme/elsewhere") == []
    bad = await api.call("GET", "/tasks?status=DONE", as_="eve")
    assert bad.status == 400 and "status" in bad.body["error"]["message"]


async def test_task_reads_with_its_reviews(api: Api) -> None:
    task_id = await api.submitted_task()
    await api.call(
        "POST",
        "/reviews",
        as_="rita",
        body={"task_id": task_id, "outcome": "REJECTED", "comment": "Tests?"},
    )

    answer = await api.call("GET", f"/tasks/{task_id}", as_="sam")

    assert answer.status == 200
    assert answer.body["status"] == "REJECTED"
    assert answer.body["assignee"] == "fred"
    assert [
        (r["reviewer"], r["outcome"], r["comment"]) for r in answer.body["reviews"]
    ] == [("rita", "REJECTED", "Tests?")]


async def test_unknown_task_is_not_found(api: Api) -> None:
    for path in ("/tasks/999", "/tasks/abc", "/tasks/99999999999999999999999"):
        answer = await api.call("GET", path, as_="eve")
        assert answer.status == 404, path
        assert answer.body["error"]["code"] == "not_found"


async def test_pagination_walks_hundreds_of_tasks_without_gaps_or_repeats(
    api_any_db: Api,
) -> None:
    api = api_any_db
    async with api.bot.services.sessions.begin() as session:
        for number in range(1, 301):
            session.add(
                Task(
                    repository_id=1,
                    repository_full_name=REPO,
                    issue_number=number,
                    title=f"Task {number}",
                    type="FEATURE",
                    status=Status.TODO,
                )
            )
    async with api.bot.services.sessions() as session:
        expected = list(
            (await session.scalars(select(Task.id).order_by(Task.id))).all()
        )

    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = "limit=37" + (f"&cursor={cursor}" if cursor else "")
        answer = await api.call("GET", f"/tasks?{query}", as_="eve")
        assert answer.status == 200, answer.body
        seen += [item["id"] for item in answer.body["items"]]
        pages += 1
        cursor = answer.body["next"]
        if cursor is None:
            break

    assert seen == expected and len(seen) == 300
    assert pages == 9


async def test_forged_cursor_is_a_bad_request(api: Api) -> None:
    forged = base64.urlsafe_b64encode(json.dumps(["x"]).encode()).decode()
    for cursor in ("%%%", forged, "bm90IGpzb24"):
        answer = await api.call("GET", f"/tasks?cursor={cursor}", as_="eve")
        assert answer.status == 400, cursor


# Moving and submitting


async def test_assignee_moves_task_and_labels_follow_on_github(
    api: Api, gh: FakeGitHub
) -> None:
    task_id = await api.new_task()
    await api.claim(task_id, "fred")
    number = (await api.call("GET", f"/tasks/{task_id}", as_="fred")).body[
        "issue_number"
    ]
    assert status_labels(gh, number) == ["status: in progress"]

    back = await api.call(
        "PATCH", f"/tasks/{task_id}/status", as_="fred", body={"status": "TODO"}
    )
    await api.bot.drain()

    assert back.status == 200 and back.body["status"] == "TODO"
    assert status_labels(gh, number) == ["status: todo"]
    rows = [r for r in await audit_rows(api.bot) if r.source == "api"]
    assert [(r.from_status, r.to_status) for r in rows][-1] == ("IN_PROGRESS", "TODO")


async def test_moves_outside_the_table_or_by_others_are_refused(api: Api) -> None:
    task_id = await api.new_task()
    await api.claim(task_id, "fred")

    stranger = await api.call(
        "PATCH", f"/tasks/{task_id}/status", as_="bea", body={"status": "TODO"}
    )
    no_role = await api.call(
        "PATCH", f"/tasks/{task_id}/status", as_="eve", body={"status": "TODO"}
    )
    approve_own = await api.call(
        "PATCH", f"/tasks/{task_id}/status", as_="fred", body={"status": "APPROVED"}
    )
    fresh = await api.new_task()
    jump = await api.call(
        "PATCH", f"/tasks/{fresh}/status", as_="ada", body={"status": "SUBMITTED"}
    )

    assert (
        stranger.status == 403 and "the assignee" in stranger.body["error"]["who_may"]
    )
    assert no_role.status == 403
    assert approve_own.status == 403
    assert jump.status == 409 and jump.body["error"]["code"] == "invalid_transition"


async def test_assignee_submits_and_task_submitted_is_emitted(
    api: Api, gh: FakeGitHub
) -> None:
    task_id = await api.new_task()
    await api.claim(task_id, "fred")
    other = await api.call("POST", f"/tasks/{task_id}/submit", as_="bea", body={})

    answer = await api.call("POST", f"/tasks/{task_id}/submit", as_="fred", body={})
    await api.bot.drain()

    assert other.status == 403
    assert answer.status == 200 and answer.body["status"] == "SUBMITTED"
    assert "Task.SUBMITTED" in [name for name, _ in api.bot.events]
    assert status_labels(gh, answer.body["issue_number"]) == ["status: submitted"]
    again = await api.call("POST", f"/tasks/{task_id}/submit", as_="fred", body={})
    assert again.status == 409


# Reviews and the queue


async def test_reviewer_approves_and_the_comment_shows_on_the_issue(
    api_any_db: Api, gh: FakeGitHub
) -> None:
    api = api_any_db
    task_id = await api.submitted_task()

    answer = await api.call(
        "POST",
        "/reviews",
        as_="rita",
        body={"task_id": task_id, "outcome": "APPROVED", "comment": "Lovely work"},
    )
    await api.bot.drain()

    assert answer.status == 201, answer.body
    assert answer.body["reviewer"] == "rita" and answer.body["source"] == "api"
    task = (await api.call("GET", f"/tasks/{task_id}", as_="rita")).body
    assert task["status"] == "APPROVED"
    comments = bot_comments(gh, task["issue_number"])
    assert any("@rita approved" in c and "Lovely work" in c for c in comments)
    assert status_labels(gh, task["issue_number"]) == ["status: approved"]
    names = [name for name, _ in api.bot.events]
    assert "Review.CREATED" in names and "Task.APPROVED" in names


async def test_review_refusals(api: Api) -> None:
    task_id = await api.submitted_task()
    fresh = await api.new_task()

    def review(task: int) -> dict[str, Any]:
        return {"task_id": task, "outcome": "APPROVED", "comment": "ok"}

    developer = await api.call("POST", "/reviews", as_="bea", body=review(task_id))
    not_submitted = await api.call("POST", "/reviews", as_="rita", body=review(fresh))
    missing = await api.call("POST", "/reviews", as_="rita", body=review(424242))
    no_comment = await api.call(
        "POST", "/reviews", as_="rita", body={"task_id": task_id, "outcome": "APPROVED"}
    )

    assert developer.status == 403 and "REVIEWER" in developer.body["error"]["who_may"]
    assert not_submitted.status == 409
    assert missing.status == 404
    assert no_comment.status == 400 and "comment" in no_comment.body["error"]["message"]


async def test_nobody_reviews_their_own_work(api: Api) -> None:
    task_id = await api.submitted_task(worker="quinn")

    answer = await api.call(
        "POST",
        "/reviews",
        as_="quinn",
        body={"task_id": task_id, "outcome": "APPROVED", "comment": "mine"},
    )

    assert answer.status == 403
    assert "own work" in answer.body["error"]["message"]


async def test_reviewer_queue_is_oldest_submission_first_and_paginates(
    api_any_db: Api,
) -> None:
    api = api_any_db
    first = await api.submitted_task()
    second = await api.submitted_task()
    third = await api.submitted_task()
    await api.new_task()  # TODO, not queued
    async with api.bot.services.sessions.begin() as session:
        # The first submitted last: the queue follows submission time.
        task = await session.get(Task, first)
        assert task is not None
        later = await session.get(Task, third)
        assert later is not None and later.submitted_at is not None
        task.submitted_at = later.submitted_at + timedelta(seconds=1)

    page = await api.call("GET", "/queue/reviewer?limit=2", as_="quinn")
    rest = await api.call(
        "GET", f"/queue/reviewer?limit=2&cursor={page.body['next']}", as_="quinn"
    )
    refused = await api.call("GET", "/queue/reviewer", as_="fred")

    assert [t["id"] for t in page.body["items"]] == [second, third]
    assert [t["id"] for t in rest.body["items"]] == [first]
    assert rest.body["next"] is None
    assert refused.status == 403


async def test_queue_pages_do_not_repeat_tasks_submitted_at_the_same_instant(
    api_any_db: Api,
) -> None:
    api = api_any_db
    async with api.bot.services.sessions.begin() as session:
        when = (await session.scalar(select(User.created_at))) or None
        assert when is not None
        for number in range(1, 121):
            session.add(
                Task(
                    repository_id=1,
                    repository_full_name=REPO,
                    issue_number=number,
                    title=f"T{number}",
                    type="FEATURE",
                    status=Status.SUBMITTED,
                    submitted_at=when + timedelta(seconds=number % 3),
                )
            )

    seen: list[int] = []
    cursor = None
    while True:
        query = "limit=25" + (f"&cursor={cursor}" if cursor else "")
        answer = await api.call("GET", f"/queue/reviewer?{query}", as_="rita")
        seen += [t["id"] for t in answer.body["items"]]
        cursor = answer.body["next"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 120


# Academy, users, impersonation, audit


HUB = "acme-academy/hub"
ACADEMY_CONFIG = """\
academy:
  org: acme-academy
  exercises:
    - {id: hello, title: "Hello, world", template: acme-academy/template-hello}
"""


async def test_enrolment_makes_a_student_and_provisions_the_first_exercise(
    api: Api, gh: FakeGitHub
) -> None:
    installation = gh.add_installation("acme-academy")
    gh.add_repo(HUB, installation_id=installation["id"])
    gh.set_file(HUB, ".github/workflow-bot.yml", ACADEMY_CONFIG)
    gh.add_repo("acme-academy/template-hello", private=True, is_template=True)
    gh.set_file("acme-academy/template-hello", "README.md", "# hello\n")

    first = await api.call("POST", "/academy/enroll", as_="eve", body={"academy": HUB})
    await api.bot.drain()
    again = await api.call("POST", "/academy/enroll", as_="eve", body={"academy": HUB})
    developer = await api.call(
        "POST", "/academy/enroll", as_="fred", body={"academy": HUB}
    )
    not_academy = await api.call(
        "POST", "/academy/enroll", as_="sam", body={"academy": REPO}
    )

    assert first.status == 201, first.body
    assert first.body["login"] == "eve" and first.body["role"] == "STUDENT"
    assert gh.repo_exists("acme-academy/hello-eve")
    assert again.status == 200
    assert developer.status == 403
    assert not_academy.status == 409
    profile = await api.call("GET", "/users/eve", as_="eve")
    assert profile.body["role"] == "STUDENT"


async def test_user_profile_shows_role_xp_and_progress(api: Api) -> None:
    task_id = await api.submitted_task()
    await api.call(
        "POST",
        "/reviews",
        as_="rita",
        body={"task_id": task_id, "outcome": "APPROVED", "comment": "ok"},
    )

    fred = await api.call("GET", "/users/fred", as_="eve")
    rita = await api.call("GET", "/users/Rita", as_="eve")
    admin = await api.call("GET", "/users/root-admin", as_="eve")
    nobody = await api.call("GET", "/users/nobody-here", as_="eve")

    assert fred.status == 200
    assert fred.body["role"] == "FE_DEV" and fred.body["xp"] == 0
    assert fred.body["progress"]["approved"] == 1
    assert rita.body["progress"]["reviews_given"] == 1
    assert admin.body["role"] == "SUPER_ADMIN"
    assert nobody.status == 404


async def test_impersonation_is_audited_on_every_row_it_writes(api: Api) -> None:
    task_id = await api.new_task()
    await api.claim(task_id, "fred")

    issued = await api.call(
        "POST", "/admin/impersonate", as_="ada", body={"login": "fred"}
    )
    assert issued.status == 201, issued.body
    token = issued.body["token"]
    submitted = await api.call("POST", f"/tasks/{task_id}/submit", token=token, body={})

    assert issued.body["login"] == "fred" and issued.body["acting_as"] == "ada"
    assert submitted.status == 200
    rows = await audit_rows(api.bot)
    impersonate = [r for r in rows if r.action == "impersonate"]
    assert len(impersonate) == 1 and impersonate[0].actor_login == "ada"
    submit = [r for r in rows if r.action == "submit"]
    assert submit[0].actor_login == "fred"
    assert submit[0].acting_as_id == api.user_id("ada")
    trail = await api.call("GET", "/audit?action=submit", as_="ada")
    assert trail.body["items"][0]["acting_as_id"] == api.user_id("ada")


async def test_impersonation_is_for_super_admins_only(api: Api) -> None:
    reviewer = await api.call(
        "POST", "/admin/impersonate", as_="rita", body={"login": "fred"}
    )
    unknown = await api.call(
        "POST", "/admin/impersonate", as_="ada", body={"login": "ghost"}
    )

    assert reviewer.status == 403 and reviewer.body["error"]["who_may"] == "SUPER_ADMIN"
    assert unknown.status == 404


async def test_impersonation_token_dies_with_the_impersonators_role(api: Api) -> None:
    issued = await api.call(
        "POST", "/admin/impersonate", as_="ada", body={"login": "fred"}
    )
    await set_role(api.bot, "ada", Role.QA)

    answer = await api.call("GET", "/tasks", token=issued.body["token"])

    assert answer.status == 403


async def test_audit_trail_filters_and_paginates_for_super_admins(api: Api) -> None:
    first = await api.new_task()
    await api.new_task()
    await api.claim(first, "fred")

    everything = await api.call("GET", "/audit?limit=2", as_="root-admin")
    older = await api.call(
        "GET", f"/audit?limit=2&cursor={everything.body['next']}", as_="root-admin"
    )
    claims = await api.call("GET", "/audit?actor=fred", as_="ada")
    for_task = await api.call("GET", f"/audit?task_id={first}", as_="ada")
    refused = await api.call("GET", "/audit", as_="rita")

    assert [r["action"] for r in everything.body["items"]] == ["claim", "create"]
    assert [r["action"] for r in older.body["items"]] == ["create"]
    assert older.body["next"] is None
    assert [(r["action"], r["source"]) for r in claims.body["items"]] == [
        ("claim", "command")
    ]
    assert {r["task_id"] for r in for_task.body["items"]} == {first}
    assert refused.status == 403


# Tokens


def _forge(claims: dict[str, Any], key: bytes | str, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


async def test_bad_tokens_are_unauthorised(api: Api) -> None:
    now = int(time.time())
    good = {"iss": "workflow-bot", "sub": str(api.user_id("ada")), "iat": now,
            "exp": now + 600, "purpose": "api"}  # fmt: skip
    key = auth._secret(api.bot.settings)
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(good).encode()).rstrip(b"=")
    tokens = {
        "alg none": (header + b"." + payload + b".").decode(),
        "wrong signature": _forge(good, b"x" * 32),
        "expired": _forge({**good, "exp": now - 5}, key),
        "no expiry": _forge({k: v for k, v in good.items() if k != "exp"}, key),
        "unknown subject": _forge({**good, "sub": "987654321"}, key),
        "oauth state": _forge({**good, "purpose": "oauth-state"}, key),
        "garbage": "not-a-token",
    }
    assert (await api.call("GET", "/tasks", token=_forge(good, key))).status == 200
    for name, token in tokens.items():
        answer = await api.call("GET", "/tasks", token=token)
        assert answer.status == 401, name
        assert answer.body["error"]["code"] == "unauthorized"
    missing = await api.call("GET", "/tasks")
    assert missing.status == 401 and "Bearer" in missing.body["error"]["message"]
    # Who asks is checked before what is asked: strangers get no schema hints.
    stranger = await api.call("POST", "/tasks", body={"nonsense": True})
    assert stranger.status == 401


async def test_demoted_users_old_token_carries_no_old_power(api: Api) -> None:
    token = api.token("rita")
    assert (await api.call("GET", "/queue/reviewer", token=token)).status == 200

    await set_role(api.bot, "rita", None)
    answer = await api.call("GET", "/queue/reviewer", token=token)

    assert answer.status == 403
    assert "QA" in answer.body["error"]["who_may"]


async def test_operator_token_for_a_login_github_knows(api: Api) -> None:
    api.gh.add_user("newcomer")
    async with api.bot.services.sessions.begin() as session:
        session.add(
            Installation(
                id=api.world.installation_id,
                account_login="acme",
                account_id=1,
                account_type="Organization",
            )
        )

    issued = await auth.token_for_login(api.bot.services, "newcomer")
    answer = await api.call("GET", "/users/newcomer", token=issued.token)

    assert answer.status == 200 and answer.body["role"] is None
    with pytest.raises(LookupError):
        await auth.token_for_login(api.bot.services, "nobody-at-all")


# Idempotency


async def test_retried_create_with_same_key_acts_once(api: Api, gh: FakeGitHub) -> None:
    body = {"repository": REPO, "title": "Once"}
    key = {"Idempotency-Key": "create-1"}

    first = await api.call("POST", "/tasks", as_="dana", body=body, headers=key)
    again = await api.call("POST", "/tasks", as_="dana", body=body, headers=key)
    other = await api.call(
        "POST", "/tasks", as_="dana", body={**body, "title": "Twice"}, headers=key
    )

    assert first.status == again.status == 201
    assert first.body == again.body
    assert other.status == 422
    assert other.body["error"]["code"] == "idempotency_key_reused"
    opened = [r for r in gh.requests if r.operation_id == "issues/create"]
    assert len(opened) == 1


async def test_retried_review_with_same_key_records_one_review(api: Api) -> None:
    task_id = await api.submitted_task()
    body = {"task_id": task_id, "outcome": "REJECTED", "comment": "again"}
    key = {"Idempotency-Key": "review-7"}

    first = await api.call("POST", "/reviews", as_="rita", body=body, headers=key)
    again = await api.call("POST", "/reviews", as_="rita", body=body, headers=key)

    assert first.status == again.status == 201 and first.body == again.body
    async with api.bot.services.sessions() as session:
        reviews = (await session.scalars(select(Review))).all()
    assert len(reviews) == 1


async def test_concurrent_twins_with_one_key_act_once(
    api_any_db: Api, gh: FakeGitHub
) -> None:
    api = api_any_db
    body = {"repository": REPO, "title": "Twins"}
    key = {"Idempotency-Key": "twin"}

    answers = await asyncio.gather(
        *(
            api.call("POST", "/tasks", as_="dana", body=body, headers=key)
            for _ in range(2)
        )
    )

    assert [a.status for a in answers] == [201, 201]
    assert answers[0].body == answers[1].body
    opened = [r for r in gh.requests if r.operation_id == "issues/create"]
    assert len(opened) == 1


# The role table


ROLES: list[Role | None] = [None, *Role]
# operation → the roles that pass the role check (a 403 for everyone else).
REVIEWERS = frozenset({Role.QA, Role.REVIEWER, Role.SUPER_ADMIN})
ROLE_TABLE: list[tuple[str, str, str, frozenset[Role | None]]] = [
    ("POST", "/tasks", "create", frozenset({Role.DESIGNER, Role.FE_DEV, Role.BE_DEV,
                                           Role.SUPER_ADMIN})),
    ("GET", "/tasks", "", frozenset(ROLES)),
    ("GET", "/tasks/{id}", "", frozenset(ROLES)),
    ("POST", "/reviews", "review", REVIEWERS),
    ("GET", "/queue/reviewer", "", REVIEWERS),
    ("POST", "/academy/enroll", "enroll", frozenset({None, Role.STUDENT})),
    ("POST", "/admin/impersonate", "impersonate", frozenset({Role.SUPER_ADMIN})),
    ("GET", "/users/{login}", "", frozenset(ROLES)),
    ("GET", "/audit", "", frozenset({Role.SUPER_ADMIN})),
]  # fmt: skip


def _role_body(kind: str, task_id: int) -> Any:
    bodies = {
        "create": {"repository": REPO, "title": "Role check"},
        "review": {"task_id": task_id, "outcome": "REJECTED", "comment": "no"},
        "impersonate": {"login": "eve"},
        "enroll": {"academy": HUB},
    }
    return bodies.get(kind, {})


@pytest.mark.parametrize(("method", "path", "kind", "allowed"), ROLE_TABLE)
async def test_role_table(
    api: Api, method: str, path: str, kind: str, allowed: frozenset[Role | None]
) -> None:
    task_id = await api.submitted_task()
    url = path.format(id=task_id, login="fred")
    for role in ROLES:
        login = BY_ROLE[role]
        body = _role_body(kind, task_id) if method == "POST" else None
        answer = await api.call(method, url, as_=login, body=body)
        if role in allowed:
            assert answer.status != 403, (role, answer.body)
            assert answer.status != 500
        else:
            assert answer.status == 403, (role, answer.status)
            assert answer.body["error"]["who_may"]


# Signing in with GitHub


@pytest.fixture
async def sign_in_bot(
    gh: FakeGitHub, app_key: tuple[str, str], tmp_path: Path
) -> AsyncIterator[Bot]:
    settings = replace(
        make_settings(gh, app_key[0], f"sqlite+aiosqlite:///{tmp_path / 'in.db'}"),
        client_id=oauth.CLIENT_ID,
        client_secret=oauth.CLIENT_SECRET,
        github_web_url=gh.url,
    )
    running = await start_bot(settings)
    yield running
    await stop_bot(running)


async def test_sign_in_with_github_hands_out_a_working_token(
    sign_in_bot: Bot, gh: FakeGitHub
) -> None:
    gh.add_user("fred")
    api = Api(sign_in_bot, gh, make_world(gh, config=None))

    async with sign_in_bot.client.get(
        sign_in_bot.url + "/login", allow_redirects=False
    ) as response:
        assert response.status == 302
        location = URL(response.headers["Location"])
    assert str(location).startswith(gh.url + "/login/oauth/authorize?")
    assert location.query["client_id"] == oauth.CLIENT_ID
    assert location.query["redirect_uri"] == sign_in_bot.url + "/login/callback"

    code = gh.oauth.authorize("fred")
    state = location.query["state"]
    signed_in = await api.call("GET", f"/login/callback?code={code}&state={state}")
    assert signed_in.status == 200, signed_in.body
    assert signed_in.body["login"] == "fred"
    me = await api.call("GET", "/users/fred", token=signed_in.body["token"])
    assert me.status == 200 and me.body["login"] == "fred"

    reused = await api.call("GET", f"/login/callback?code={code}&state={state}")
    forged = await api.call("GET", f"/login/callback?code={code}&state=forged")
    assert reused.status == 400 and "incorrect" in reused.body["error"]["message"]
    assert forged.status == 400 and forged.body["error"]["code"] == "bad_state"


async def test_sign_in_is_off_without_client_credentials(api: Api) -> None:
    answer = await api.call("GET", "/login")

    assert answer.status == 503
    assert "GITHUB_CLIENT_ID" in answer.body["error"]["message"]


def test_token_command_prints_a_token_for_a_known_user(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "WEBHOOK_SECRET": "cli-webhook-secret",
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "API_SECRET": "cli-api-secret",
        "GITHUB_API_URL": "http://127.0.0.1:9",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert run("migrate").returncode == 0
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO users (id, login, role, xp, created_at, updated_at) "
            "VALUES (77, 'oona', 'QA', 0, '2026-01-01 00:00:00', "
            "'2026-01-01 00:00:00')"
        )
    printed = run("token", "oona")
    without_secret = subprocess.run(
        [sys.executable, "-m", "bot", "token", "oona"],
        env={k: v for k, v in env.items() if k != "API_SECRET"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert printed.returncode == 0, printed.stderr
    settings = Settings(webhook_secret="x", api_secret="cli-api-secret")
    assert auth.verify(settings, printed.stdout.strip()).user_id == 77
    assert without_secret.returncode != 0
    assert "API_SECRET" in without_secret.stderr


# The document


def _routes(bot: Bot) -> set[tuple[str, str, str]]:
    return {
        (route.method.lower(), route.resource.canonical, route.name[4:])
        for route in bot.server.app.router.routes()
        if route.name and route.name.startswith("api.") and route.method != "HEAD"
        if route.resource is not None
    }


async def test_every_route_is_documented_and_every_operation_routed(
    bot: Bot,
) -> None:
    documented = {
        (method, path, operation["operationId"])
        for path, methods in api_spec.PATHS.items()
        for method, operation in methods.items()
    }

    assert _routes(bot) == documented


def test_openapi_document_is_valid_openapi_3_1() -> None:
    validate(api_spec.document())


async def test_openapi_json_and_docs_page_are_served_without_a_token(
    bot: Bot,
) -> None:
    async with bot.client.get(bot.url + "/openapi.json") as response:
        served = await response.json()
    async with bot.client.get(bot.url + "/docs") as response:
        page = await response.text()
        kind = response.content_type

    assert served == api_spec.document()
    assert kind == "text/html"
    for path in api_spec.PATHS:
        assert f"<code>{path}</code>" in page
    # Works offline: no script, style sheet or font from elsewhere.
    assert "<script" not in page
    assert 'src="http' not in page and "<link" not in page
