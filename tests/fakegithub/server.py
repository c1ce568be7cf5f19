"""The HTTP face of the fake: every request is recorded, checked, then answered."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web
from graphql import GraphQLError
from graphql.execution import ExecutionContext

from . import openapi, rest_apps, rest_checks, rest_issues, rest_pulls, rest_repos  # noqa: F401
from .auth import (
    JWT_OPERATIONS,
    OPEN_OPERATIONS,
    Unauthorized,
    installation_token,
    verify_app_jwt,
)
from .faults import Fault
from .gql import is_mutation, load_schema, parse_and_validate, run
from .gql_views import GraphQLViews
from .oauth import ACCESS_TOKEN_PATH, answer_as_user, exchange
from .rest import HANDLERS, Call, Reply, error, invalid
from .state import Invalid, NotFound, Token

if TYPE_CHECKING:
    from .fake import FakeGitHub

FAKE: web.AppKey[FakeGitHub] = web.AppKey("fake")
GHES_PREFIX = "/api/v3"
GRAPHQL_PATHS = ("/graphql", "/api/graphql")


@dataclass
class RecordedRequest:
    """One request as the fake received it (path without the query string)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    operation_id: str | None = None  # "graphql" for GraphQL
    mutation: bool = False  # a GraphQL mutation
    status: int | None = None  # what the fake answered
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_write(self) -> bool:
        """Changes state: not a GET, not a GraphQL query, not minting a token."""
        if self.operation_id == "graphql":
            return self.mutation
        return (
            self.method != "GET"
            and self.operation_id != "apps/create-installation-access-token"
        )


def create_app(fake: FakeGitHub) -> web.Application:
    app = web.Application(client_max_size=32 * 1024**2)
    app[FAKE] = fake
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def handle(request: web.Request) -> web.StreamResponse:
    fake = request.app[FAKE]
    raw = await request.read()
    path = request.rel_url.raw_path
    if path.startswith(GHES_PREFIX + "/"):
        path = path[len(GHES_PREFIX) :]
    recorded = RecordedRequest(
        method=request.method,
        path=unquote(path),
        query=dict(request.query),
        json=parse_json(raw),
        headers=dict(request.headers),
    )
    fake.requests.append(recorded)
    try:
        if path == ACCESS_TOKEN_PATH:
            # GitHub serves this on its web host and leaves it out of the
            # OpenAPI description, so it alone skips the spec check.
            reply = exchange(fake, raw)
        elif path in GRAPHQL_PATHS:
            reply = await answer_graphql(fake, recorded, raw)
        else:
            reply = await answer_rest(fake, recorded, path, raw)
    except Exception as crash:  # a bug in the fake, not in the caller
        fake.unsupported.append(
            f"{recorded.method} {recorded.path}: fake crashed: {crash!r}"
        )
        reply = error(500, f"The fake GitHub crashed: {crash!r}")
    recorded.status = reply.status
    return respond(fake, recorded, reply)


def parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def respond(
    fake: FakeGitHub, recorded: RecordedRequest, reply: Reply
) -> web.StreamResponse:
    resource = "graphql" if recorded.operation_id == "graphql" else "core"
    headers = {**fake.rate_limit_headers(resource), **reply.headers}
    headers["X-GitHub-Request-Id"] = uuid.uuid4().hex[:20].upper()
    headers["X-GitHub-Api-Version-Selected"] = "2022-11-28"
    if reply.status == 204 or (
        reply.body is None and reply.status >= 200 and reply.status < 300
    ):
        return web.Response(status=reply.status, headers=headers)
    return web.json_response(reply.body, status=reply.status, headers=headers)


# REST


async def answer_rest(
    fake: FakeGitHub, recorded: RecordedRequest, raw_path: str, raw: bytes
) -> Reply:
    found = openapi.find_operation(recorded.method, raw_path)
    if found is None:
        fake.violation(
            f"{recorded.method} {recorded.path}: no such operation in GitHub's REST API"
        )
        return error(404, "Not Found")
    operation, raw_params = found
    recorded.operation_id = operation.operation_id
    params = {k: unquote(v) for k, v in raw_params.items()}
    problem = check_request(fake, recorded, operation, raw)
    if problem is not None:
        return problem
    fault = fake.faults.take(recorded.method, recorded.path, operation.template)
    if fault is not None:
        faulty = await apply_fault(fault)
        if faulty is not None:
            return faulty
    try:
        as_user = answer_as_user(fake, operation.operation_id, recorded.headers)
        if as_user is not None:
            return as_user
        token = authenticate(fake, operation.operation_id, recorded.headers)
        call = Call(
            fake,
            recorded.method,
            recorded.path,
            operation.operation_id,
            params,
            recorded.query,
            recorded.json,
            token,
        )
        return dispatch(fake, call)
    except Unauthorized as refused:
        return error(401, str(refused))
    except NotFound:
        return error(404, "Not Found")
    except Invalid as refusal:
        return invalid(refusal)


def check_request(
    fake: FakeGitHub,
    recorded: RecordedRequest,
    operation: openapi.Operation,
    raw: bytes,
) -> Reply | None:
    """Check against the description; a mismatch is a violation and GitHub's refusal."""
    where = f"{recorded.method} {recorded.path} ({operation.operation_id})"
    if "user-agent" not in {k.lower() for k in recorded.headers}:
        fake.violation(f"{where}: no User-Agent header (GitHub refuses such requests)")
        return error(
            403,
            "Request forbidden by administrative rules. "
            "Please make sure your request has a User-Agent header",
        )
    if raw and isinstance(recorded.json, str):
        fake.violation(f"{where}: body is not JSON")
        return error(400, "Problems parsing JSON")
    problems = openapi.body_errors(operation, recorded.json, bool(raw))
    problems += openapi.query_errors(operation, recorded.query)
    if not problems:
        return None
    for problem in problems:
        fake.violation(f"{where}: {problem}")
    return error(422, "Invalid request.\n\n" + "\n".join(problems))


async def apply_fault(fault: Fault) -> Reply | None:
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.status is None:
        return None
    return Reply(fault.status, fault.default_body(), dict(fault.headers))


def authenticate(
    fake: FakeGitHub, operation_id: str, headers: dict[str, str]
) -> Token | None:
    header = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if operation_id in OPEN_OPERATIONS:
        return None
    if operation_id in JWT_OPERATIONS:
        verify_app_jwt(fake.app_key, header)
        return None
    return installation_token(fake.world, header)


def dispatch(fake: FakeGitHub, call: Call) -> Reply:
    handler = HANDLERS.get(call.operation_id)
    if handler is None:
        fake.unsupported.append(f"{call.method} {call.path} ({call.operation_id})")
        return error(501, f"The fake GitHub does not implement {call.operation_id}")
    if (
        "owner" in call.params or "template_owner" in call.params
    ) and call.token is not None:
        refused = check_access(fake, call)
        if refused is not None:
            return refused
    return handler(call)


def check_access(fake: FakeGitHub, call: Call) -> Reply | None:
    """An installation sees its own repositories; others only if public, read-only."""
    assert call.token is not None
    repo = call.repo  # NotFound -> 404
    if fake.token_sees(call.token, repo):
        return None
    if repo.private:
        return error(404, "Not Found")
    if call.method != "GET":
        return error(403, "Resource not accessible by integration")
    return None


# GraphQL


async def answer_graphql(
    fake: FakeGitHub, recorded: RecordedRequest, raw: bytes
) -> Reply:
    recorded.operation_id = "graphql"
    body = recorded.json if isinstance(recorded.json, dict) else {}
    query, variables = body.get("query"), body.get("variables") or {}
    operation_name = body.get("operationName")
    if recorded.method != "POST" or not isinstance(query, str):
        fake.violation(
            f"{recorded.method} {recorded.path}: GraphQL takes a POST with a `query`"
        )
        return error(400, "A query attribute must be specified and must be a string.")
    fake.graphql_calls.append((query, variables))
    document, problems = parse_and_validate(query)
    if document is not None:
        recorded.mutation = is_mutation(document, operation_name)
        problems = variable_problems(document, variables, operation_name)
    if problems:
        for problem in problems:
            fake.violation(f"GraphQL: {problem}")
        return Reply(200, {"errors": [{"message": p} for p in problems]})
    assert document is not None
    fault = fake.faults.take(recorded.method, recorded.path, "/graphql")
    if fault is not None:
        faulty = await apply_fault(fault)
        if faulty is not None:
            return faulty
    graphql_fault = fake.faults.take_graphql()
    if graphql_fault is not None:
        return Reply(200, graphql_fault.body())
    try:
        token = installation_token(
            fake.world,
            recorded.headers.get("Authorization")
            or recorded.headers.get("authorization"),
        )
    except Unauthorized as refused:
        return error(401, str(refused))
    views = GraphQLViews(fake.shapes, fake.violation, token.permissions)
    result = run(
        document, views.root(fake.app_bot_user["login"]), variables, operation_name
    )
    note_unsupported(fake, result)
    return Reply(200, result)


def variable_problems(
    document: Any, variables: dict[str, Any], operation_name: str | None
) -> list[str]:
    """Variables that do not fit the declared types (GitHub refuses those)."""
    built = ExecutionContext.build(
        load_schema(), document, {}, None, variables, operation_name
    )
    if isinstance(built, list):
        return [e.message for e in built if isinstance(e, GraphQLError)]
    return []


def note_unsupported(fake: FakeGitHub, result: dict[str, Any]) -> None:
    """Errors without a GitHub `type` come from selections the fake does not model."""
    for problem in result.get("errors", []):
        if "type" not in problem:
            fake.unsupported.append(
                f"GraphQL: {problem['message']} at {problem.get('path')}"
            )
