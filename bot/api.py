"""The JSON REST API: tasks, reviews, the reviewer queue, enrolment, impersonation.

Every write goes through bot/workflow.py with source "api", so role checks,
audit rows, events and the mirroring to GitHub are those of the commands.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from gidgethub import BadRequest, GitHubException
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot import academy, api_spec, auth, rbac, replies
from bot.apierrors import ApiError, bad_request, forbidden, not_found
from bot.appkeys import SERVICES
from bot.mirror import split
from bot.rbac import Action, Actor, Decision
from bot.services import Services
from bot.workflow import IssueRef, Refused, Workflow
from handlers.comments import LEVEL_XP
from storage.models import (
    AuditEntry,
    IdempotentRequest,
    Outcome,
    Repository,
    Review,
    Role,
    Status,
    Task,
    TaskType,
    User,
)

log = logging.getLogger(__name__)

routes = web.RouteTableDef()
SOURCE = "api"
ROUTE_PREFIX = "api."
JsonObject = dict[str, Any]
# What a write answers: HTTP status and JSON body.
Answer = tuple[int, JsonObject]
Perform = Callable[[AsyncSession, Actor, JsonObject], Awaitable[Answer]]
# GitHub said no, broke, or could not be reached: the caller gets a 4xx/502.
GITHUB_FAILURES = (GitHubException, aiohttp.ClientError, TimeoutError)

_pages = Environment(
    loader=FileSystemLoader(replies.TEMPLATES), autoescape=select_autoescape(["html"])
)


def add_routes(app: web.Application) -> None:
    app.middlewares.append(json_errors)
    app.router.add_routes(routes)
    app.router.add_get("/login", auth.login, name="api.signIn")
    app.router.add_get(
        "/login/callback", auth.login_callback, name="api.signInCallback"
    )


@web.middleware
async def json_errors(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """API routes answer every failure as `{"error": {"code", "message"}}`."""
    if not (request.match_info.route.name or "").startswith(ROUTE_PREFIX):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response(exc.body(), status=exc.status)
    except Refused as refusal:
        return _refused(refusal)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("api request failed", extra={"path": request.path})
        body = {"error": {"code": "internal", "message": "something broke; retry"}}
        return web.json_response(body, status=500)


def _refused(refusal: Refused) -> web.Response:
    error = forbidden(refusal.reason, refusal.who_may or None)
    return web.json_response(error.body(), status=error.status)


# Reading requests: bodies and query strings checked against the document.


@functools.cache
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def _check(schema: api_spec.Schema, value: Any, where: str) -> None:
    validator = _validator(json.dumps(schema, sort_keys=True))
    error = best_match(validator.iter_errors(value))
    if error is not None:
        place = "/".join(str(p) for p in error.absolute_path)
        raise bad_request(f"{where}{'.' + place if place else ''}: {error.message}")


async def read_body(request: web.Request, path: str, method: str) -> JsonObject:
    raw = await request.read()
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise bad_request(f"the body is not JSON: {exc}") from None
    _check(api_spec.request_schema(path, method), body, "body")
    result: JsonObject = body
    return result


def read_query(request: web.Request, path: str, method: str) -> JsonObject:
    found: JsonObject = {}
    for name, schema in api_spec.parameters(path, method, "query").items():
        raw = request.query.get(name)
        if raw is None:
            continue
        value: Any = raw
        if schema.get("type") == "integer":
            try:
                value = int(raw)
            except ValueError:
                raise bad_request(
                    f"query.{name}: {raw!r} is not a whole number"
                ) from None
        _check(schema, value, f"query.{name}")
        found[name] = value
    return found


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode()


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error):
        raise bad_request("query.cursor: not a cursor this API gave out") from None
    if not isinstance(values, list) or len(values) != size:
        raise bad_request("query.cursor: not a cursor this API gave out")
    return values


def _services(request: web.Request) -> Services:
    return request.app[SERVICES]


_DIGITS = re.compile("[0-9]{1,20}")


def _task_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= api_spec.MAX_ID:
        raise not_found(f"there is no task {raw}")
    return int(raw)


def require(decision: Decision) -> None:
    if not decision:
        raise forbidden(decision.reason, decision.who_may)


def require_role(actor: Actor, roles: frozenset[Role], doing: str) -> None:
    if actor.role not in roles:
        held = actor.role or "no role"
        who = rbac.describe(roles)
        raise forbidden(f"@{actor.login} holds {held}; {doing} needs {who}", who)


# Writes: one transaction, an optional Idempotency-Key, then wake the worker.


def fingerprint(request: web.Request, body: JsonObject) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    text = f"{request.method} {request.path}\n{canonical}"
    return hashlib.sha256(text.encode()).hexdigest()


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 255:
        raise bad_request("Idempotency-Key must be 1 to 255 characters")
    return key


async def _replay(
    session: AsyncSession, user_id: int, key: str, print_: str
) -> web.Response | None:
    found = await session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.user_id == user_id, IdempotentRequest.key == key
        )
    )
    if found is None:
        return None
    if found.fingerprint != print_:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was sent before with another request",
        )
    return web.json_response(found.response, status=found.status)


async def write(
    request: web.Request, path: str, method: str, perform: Perform
) -> web.Response:
    services = _services(request)
    key: str | None = None
    print_ = ""
    try:
        async with services.sessions.begin() as session:
            # Who asks comes first: a stranger learns nothing from a 400.
            actor = await auth.caller(request, session)
            key = _idempotency_key(request)
            body = await read_body(request, path, method)
            print_ = fingerprint(request, body)
            held = None
            if key is not None:
                replayed = await _replay(session, int(actor.id or 0), key, print_)
                if replayed is not None:
                    return replayed
                held = await _hold_key(session, int(actor.id or 0), key, print_)
            status, answer = await perform(session, actor, body)
            if held is not None:
                held.status, held.response = status, answer
    except IntegrityError:
        if key is None:
            raise
        # A concurrent twin with the same key won; answer as it did.
        async with services.sessions() as session:
            actor = await auth.caller(request, session)
            replayed = await _replay(session, int(actor.id or 0), key, print_)
        if replayed is None:
            raise
        return replayed
    services.new_work.set()
    return web.json_response(answer, status=status)


async def _hold_key(
    session: AsyncSession, user_id: int, key: str, print_: str
) -> IdempotentRequest:
    """Claim the key before acting: on PostgreSQL a concurrent twin waits on
    the unique index until this commits, then replays instead of acting."""
    held = IdempotentRequest(
        user_id=user_id, key=key, fingerprint=print_, status=0, response={}
    )
    session.add(held)
    await session.flush()
    return held


# Shapes of answers.


def task_json(
    task: Task, assignee: str | None, reviews: list[JsonObject] | None = None
) -> JsonObject:
    data: JsonObject = {
        "id": task.id,
        "repository": task.repository_full_name,
        "issue_number": task.issue_number,
        "title": task.title,
        "type": str(task.type),
        "status": str(task.status),
        "assignee": assignee,
        "url": task.repository_url,
        "created_at": task.created_at.isoformat(),
        "updated_at": task.updated_at.isoformat(),
        "submitted_at": task.submitted_at.isoformat() if task.submitted_at else None,
    }
    if reviews is not None:
        data["reviews"] = reviews
    return data


def review_json(review: Review, reviewer: str | None) -> JsonObject:
    return {
        "id": review.id,
        "task_id": review.task_id,
        "outcome": str(review.outcome),
        "comment": review.comment,
        "reviewer": reviewer,
        "source": review.source,
        "created_at": review.created_at.isoformat(),
    }


def audit_json(row: AuditEntry) -> JsonObject:
    return {
        "id": row.id,
        "task_id": row.task_id,
        "action": row.action,
        "from_status": row.from_status,
        "to_status": row.to_status,
        "actor_id": row.actor_id,
        "actor": row.actor_login,
        "acting_as_id": row.acting_as_id,
        "source": row.source,
        "delivery_id": row.delivery_id,
        "note": row.note,
        "created_at": row.created_at.isoformat(),
    }


async def _login_of(session: AsyncSession, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = await session.get(User, user_id)
    return user.login if user else None


async def _task_answer(session: AsyncSession, task: Task) -> JsonObject:
    return task_json(task, await _login_of(session, task.assignee_id))


async def _find_task(session: AsyncSession, task_id: int, *, lock: bool) -> Task:
    query = select(Task).where(Task.id == task_id, Task.deleted.is_(False))
    if lock:
        query = query.with_for_update()
    task = (await session.scalars(query)).first()
    if task is None:
        raise not_found(f"there is no task {task_id}")
    return task


def _page(rows: list[Any], limit: int) -> tuple[list[Any], bool]:
    return rows[:limit], len(rows) > limit


# Tasks.


@routes.get("/tasks", name="api.listTasks")
async def list_tasks(request: web.Request) -> web.Response:
    async with _services(request).sessions() as session:
        await auth.caller(request, session)
        query = read_query(request, "/tasks", "get")
        limit = int(query.get("limit", 50))
        after = decode_cursor(query.get("cursor"), 1)
        statement = _task_listing(query)
        if after is not None:
            statement = statement.where(Task.id > _int(after[0]))
        rows = (await session.execute(statement.limit(limit + 1))).all()
    items, more = _page(list(rows), limit)
    return web.json_response(
        {
            "items": [task_json(task, login) for task, login in items],
            "next": encode_cursor(items[-1][0].id) if more else None,
        }
    )


def _task_listing(query: JsonObject) -> Select[Task, str]:
    assignee = aliased(User)
    statement = (
        select(Task, assignee.login)
        .outerjoin(assignee, assignee.id == Task.assignee_id)
        .where(Task.deleted.is_(False))
        .order_by(Task.id)
    )
    if "status" in query:
        statement = statement.where(Task.status == Status(query["status"]))
    if "type" in query:
        statement = statement.where(Task.type == TaskType(query["type"]))
    if "assignee" in query:
        statement = statement.where(
            func.lower(assignee.login) == query["assignee"].lower()
        )
    if "repository" in query:
        statement = statement.where(
            func.lower(Task.repository_full_name) == query["repository"].lower()
        )
    return statement


@routes.get("/tasks/{id}", name="api.getTask")
async def get_task(request: web.Request) -> web.Response:
    task_id = _task_id(request)
    async with _services(request).sessions() as session:
        await auth.caller(request, session)
        task = await _find_task(session, task_id, lock=False)
        reviewer = aliased(User)
        rows = await session.execute(
            select(Review, reviewer.login)
            .outerjoin(reviewer, reviewer.id == Review.reviewer_id)
            .where(Review.task_id == task.id)
            .order_by(Review.id)
        )
        reviews = [review_json(review, login) for review, login in rows.all()]
        answer = task_json(task, await _login_of(session, task.assignee_id), reviews)
    return web.json_response(answer)


@routes.post("/tasks", name="api.createTask")
async def create_task(request: web.Request) -> web.Response:
    services = _services(request)

    async def perform(session: AsyncSession, actor: Actor, body: JsonObject) -> Answer:
        actor = await auth.in_scope(request, session, actor, str(body["repository"]))
        require(rbac.may(actor, Action.CREATE))
        issue = await _open_issue(services, session, body)
        task = await Workflow(session, source=SOURCE).create_task(
            issue, TaskType(body.get("type", "FEATURE")), actor
        )
        return 201, task_json(task, None)

    return await write(request, "/tasks", "post", perform)


async def _open_issue(
    services: Services, session: AsyncSession, body: JsonObject
) -> IssueRef:
    """The GitHub issue behind a new task, opened as the covering installation."""
    repository_id, installation_id = await _repository(
        services, session, body["repository"]
    )
    gh = services.github.client(installation_id)
    try:
        issue = await gh.post(
            "/repos/{owner}/{repo}/issues",
            url_vars=split(body["repository"]),
            data={"title": body["title"], "body": body.get("body") or ""},
        )
    except GITHUB_FAILURES as exc:
        raise _github_failure(exc, body["repository"]) from None
    full_name = str(issue.get("repository_url", "")).partition("/repos/")[2]
    return IssueRef(
        installation_id=installation_id,
        repository_id=repository_id,
        repository_full_name=full_name or body["repository"],
        number=int(issue["number"]),
        node_id=issue.get("node_id"),
        title=str(issue.get("title") or body["title"]),
        url=issue.get("html_url"),
    )


async def _repository(
    services: Services, session: AsyncSession, name: str
) -> tuple[int, int]:
    """(repository id, installation id): from our table, else asked of GitHub."""
    row = (
        await session.scalars(
            select(Repository).where(
                func.lower(Repository.full_name) == name.lower(),
                Repository.active.is_(True),
                Repository.installation_id.is_not(None),
            )
        )
    ).first()
    if row is not None and row.installation_id is not None:
        return row.id, row.installation_id
    github = services.github
    try:
        installation = await github.app_api().getitem(
            "/repos/{owner}/{repo}/installation",
            url_vars=split(name),
            jwt=github.app_jwt(),
        )
        found = await github.client(int(installation["id"])).getitem(
            "/repos/{owner}/{repo}", url_vars=split(name)
        )
    except GITHUB_FAILURES as exc:
        raise _github_failure(exc, name) from None
    return int(found["id"]), int(installation["id"])


def _github_failure(exc: Exception, repository: str) -> ApiError:
    status = int(exc.status_code) if isinstance(exc, BadRequest) else 0
    if status in (404, 410):
        return not_found(f"the App is not installed on {repository}, or it is gone")
    if status == 403:
        return forbidden(f"GitHub refused the App access to {repository}")
    log.warning(
        "github call failed", extra={"repository": repository, "error": str(exc)}
    )
    return ApiError(502, "github_failed", f"GitHub failed on {repository}: {exc}")


@routes.patch("/tasks/{id}/status", name="api.moveTask")
async def move_task(request: web.Request) -> web.Response:
    task_id = _task_id(request)

    async def perform(session: AsyncSession, actor: Actor, body: JsonObject) -> Answer:
        task = await _find_task(session, task_id, lock=True)
        actor = await auth.in_scope(request, session, actor, task.repository_full_name)
        target = Status(body["status"])
        if target in (Status.APPROVED, Status.REJECTED):
            await _review(session, task, actor, Outcome(target.value), body.get("note"))
        elif target != task.status:
            _require_transition(task, target)
            await Workflow(session, source=SOURCE).move(
                task, target, actor, body.get("note")
            )
        return 200, await _task_answer(session, task)

    return await write(request, "/tasks/{id}/status", "patch", perform)


def _require_transition(task: Task, target: Status) -> None:
    if (task.status, target) not in rbac.TRANSITIONS:
        raise ApiError(
            409,
            "invalid_transition",
            f"a task cannot move from {task.status} to {target}",
            who_may="SUPER_ADMIN with /override on the issue",
        )


@routes.post("/tasks/{id}/submit", name="api.submitTask")
async def submit_task(request: web.Request) -> web.Response:
    task_id = _task_id(request)

    async def perform(session: AsyncSession, actor: Actor, body: JsonObject) -> Answer:
        task = await _find_task(session, task_id, lock=True)
        actor = await auth.in_scope(request, session, actor, task.repository_full_name)
        _require_transition(task, Status.SUBMITTED)
        await Workflow(session, source=SOURCE).submit(task, actor)
        return 200, await _task_answer(session, task)

    return await write(request, "/tasks/{id}/submit", "post", perform)


# Reviews and the queue.


@routes.post("/reviews", name="api.createReview")
async def create_review(request: web.Request) -> web.Response:
    async def perform(session: AsyncSession, actor: Actor, body: JsonObject) -> Answer:
        task = await _find_task(session, int(body["task_id"]), lock=True)
        actor = await auth.in_scope(request, session, actor, task.repository_full_name)
        outcome = Outcome(body["outcome"])
        review = await _review(session, task, actor, outcome, body["comment"])
        return 201, review_json(review, actor.login)

    return await write(request, "/reviews", "post", perform)


async def _review(
    session: AsyncSession,
    task: Task,
    actor: Actor,
    outcome: Outcome,
    comment: str | None,
) -> Review:
    """Record the review and say so on the issue, as `/approve` would."""
    require(rbac.may(actor, Action.REVIEW))
    if task.status != Status.SUBMITTED:
        raise ApiError(
            409,
            "not_submitted",
            f"the task is {task.status}; only a SUBMITTED task is reviewed",
        )
    review = await Workflow(session, source=SOURCE).review(
        task, actor, outcome, comment
    )
    if task.installation_id is not None:
        await replies.reply_on_task(
            session,
            task,
            marker=f"api-review:{review.id}",
            template="api_review.md.j2",
            reviewer=actor.login,
            outcome=str(outcome),
            comment=comment or "",
        )
    return review


@routes.get("/queue/reviewer", name="api.reviewerQueue")
async def reviewer_queue(request: web.Request) -> web.Response:
    async with _services(request).sessions() as session:
        actor = await auth.caller(request, session)
        require_role(actor, rbac.REVIEWERS, "the reviewer queue")
        query = read_query(request, "/queue/reviewer", "get")
        limit = int(query.get("limit", 50))
        after = decode_cursor(query.get("cursor"), 2)
        statement = _queue(after)
        rows = (await session.execute(statement.limit(limit + 1))).all()
    items, more = _page(list(rows), limit)
    last = items[-1][0] if items else None
    return web.json_response(
        {
            "items": [task_json(task, login) for task, login in items],
            "next": encode_cursor(last.submitted_at.isoformat(), last.id)
            if more and last is not None and last.submitted_at
            else None,
        }
    )


def _queue(after: list[Any] | None) -> Select[Task, str]:
    """Oldest submission first; ties broken by id, so pages never overlap."""
    assignee = aliased(User)
    statement = (
        select(Task, assignee.login)
        .outerjoin(assignee, assignee.id == Task.assignee_id)
        .where(
            Task.status == Status.SUBMITTED,
            Task.deleted.is_(False),
            Task.submitted_at.is_not(None),
        )
        .order_by(Task.submitted_at, Task.id)
    )
    if after is not None:
        try:
            when = datetime.fromisoformat(str(after[0]))
            last_id = _int(after[1])
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise bad_request("query.cursor: not a cursor this API gave out")
        statement = statement.where(
            (Task.submitted_at > when)
            | ((Task.submitted_at == when) & (Task.id > last_id))
        )
    return statement


# Academy, impersonation, users, audit.


@routes.post("/academy/enroll", name="api.enroll")
async def enroll(request: web.Request) -> web.Response:
    services = _services(request)

    async def perform(session: AsyncSession, actor: Actor, body: JsonObject) -> Answer:
        if actor.role not in (None, Role.STUDENT):
            raise forbidden(
                f"@{actor.login} already holds {actor.role}; "
                "enrolment is for people without another role",
                "anyone without a role",
            )
        hub = body["academy"]
        _, installation_id = await _repository(services, session, hub)
        user = await session.get(User, actor.id)
        if user is None:  # the token's subject was checked a moment ago
            raise ApiError(401, "unauthorized", "the token names no known user")
        try:
            result = await academy.enroll(
                session, services, user, hub, installation_id, source=SOURCE
            )
        except Refused as refusal:
            raise ApiError(
                409, "enrolment_refused", refusal.reason, who_may=refusal.who_may
            ) from None
        answer: JsonObject = result.as_dict()
        return (201 if result.newly_enrolled else 200), answer

    return await write(request, "/academy/enroll", "post", perform)


@routes.post("/admin/impersonate", name="api.impersonate")
async def impersonate(request: web.Request) -> web.Response:
    settings = _services(request).settings

    async def perform(session: AsyncSession, actor: Actor, body: JsonObject) -> Answer:
        require_role(actor, rbac.ADMINS, "impersonation")
        target = await auth.user_by_login(session, body["login"])
        if target is None:
            raise not_found(f"there is no known user @{body['login']}")
        impersonator = actor.impersonator_id or actor.id
        issued = auth.issue(
            settings,
            target.id,
            lifetime=auth.IMPERSONATION_LIFETIME,
            impersonator_id=impersonator,
        )
        note = f"@{actor.login} acts as @{target.login} until {issued.expires_at}"
        await Workflow(session, source=SOURCE).audit("impersonate", actor, note)
        return 201, {
            "token": issued.token,
            "expires_at": issued.expires_at.isoformat(),
            "login": target.login,
            "acting_as": actor.login,
        }

    return await write(request, "/admin/impersonate", "post", perform)


@routes.get("/users/{login}", name="api.getUser")
async def get_user(request: web.Request) -> web.Response:
    login = request.match_info["login"]
    settings = _services(request).settings
    async with _services(request).sessions() as session:
        await auth.caller(request, session)
        user = await auth.user_by_login(session, login)
        if user is None:
            raise not_found(f"there is no known user @{login}")
        role = await auth.role_of(settings, user)
        progress = await _progress(session, user.id)
    return web.json_response(
        {
            "id": user.id,
            "login": user.login,
            "role": str(role) if role else None,
            "xp": user.xp,
            "level": user.xp // LEVEL_XP + 1,
            "progress": progress,
        }
    )


async def _progress(session: AsyncSession, user_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Task.status, func.count())
        .where(Task.assignee_id == user_id, Task.deleted.is_(False))
        .group_by(Task.status)
    )
    by_status = {str(status): int(count) for status, count in rows.all()}
    reviews = await session.scalar(
        select(func.count()).select_from(Review).where(Review.reviewer_id == user_id)
    )
    return {
        "assigned": sum(by_status.values()),
        "submitted": by_status.get(Status.SUBMITTED, 0),
        "approved": by_status.get(Status.APPROVED, 0),
        "reviews_given": int(reviews or 0),
    }


@routes.get("/audit", name="api.listAudit")
async def list_audit(request: web.Request) -> web.Response:
    async with _services(request).sessions() as session:
        actor = await auth.caller(request, session)
        require_role(actor, rbac.ADMINS, "the audit trail")
        query = read_query(request, "/audit", "get")
        limit = int(query.get("limit", 50))
        before = decode_cursor(query.get("cursor"), 1)
        statement = _audit_listing(query)
        if before is not None:
            statement = statement.where(AuditEntry.id < _int(before[0]))
        rows = list((await session.scalars(statement.limit(limit + 1))).all())
    items, more = _page(rows, limit)
    return web.json_response(
        {
            "items": [audit_json(row) for row in items],
            "next": encode_cursor(items[-1].id) if more else None,
        }
    )


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("query.cursor: not a cursor this API gave out")
    return value


def _audit_listing(query: JsonObject) -> Select[AuditEntry]:
    statement = select(AuditEntry).order_by(AuditEntry.id.desc())
    if "task_id" in query:
        statement = statement.where(AuditEntry.task_id == query["task_id"])
    if "actor" in query:
        statement = statement.where(
            func.lower(AuditEntry.actor_login) == query["actor"].lower()
        )
    if "action" in query:
        statement = statement.where(AuditEntry.action == query["action"])
    if "source" in query:
        statement = statement.where(AuditEntry.source == query["source"])
    return statement


# The document and its page.


@routes.get("/openapi.json", name="api.openapi")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(api_spec.document())


@routes.get("/docs", name="api.docs")
async def docs(request: web.Request) -> web.Response:
    """The document as plain HTML, rendered here: no CDN, works offline."""
    document = api_spec.document()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "operation": operation,
            "body": _schema_name(operation.get("requestBody")),
            "responses": {
                status: _schema_name(answer)
                for status, answer in operation["responses"].items()
            },
        }
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    page = _pages.get_template("api_docs.html.j2").render(
        info=document["info"],
        operations=operations,
        schemas={k: _pretty(v) for k, v in document["components"]["schemas"].items()},
    )
    return web.Response(text=page, content_type="text/html")


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2) if value else ""


def _schema_name(part: dict[str, Any] | None) -> str:
    """The component a request or response body refers to; "" for none."""
    content = (part or {}).get("content") or {}
    schema = (content.get("application/json") or {}).get("schema") or {}
    ref = schema.get("$ref")
    return str(ref).rsplit("/", 1)[1] if ref else ""
