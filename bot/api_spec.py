"""The REST API's OpenAPI 3.1 document: the contract that requests are checked by.

Request bodies and query parameters are validated against these same
schemas, and a test matches every operation here to one aiohttp route.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from storage.models import Outcome, Role, Status, TaskType

Schema = dict[str, Any]

# Ids are stored as 64-bit integers; keep to what JSON numbers carry exactly.
MAX_ID = 2**53 - 1
LOGIN_PATTERN = "^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\\[bot\\])?$"
# An owner is a login; a name never starts with a dot here ("." and ".." are
# path segments, not repositories).
REPOSITORY_PATTERN = "^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"
NAME_PATTERN = "^[a-z_.:-]{1,64}$"

ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TIME: Schema = {"type": "string", "format": "date-time"}
MAYBE_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
MAYBE_TEXT: Schema = {"type": ["string", "null"]}
CURSOR: Schema = {"type": ["string", "null"], "description": "pass as `cursor`"}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Schema], *optional: str) -> Schema:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [name for name in properties if name not in optional],
        "properties": properties,
    }


def _page(item: str) -> Schema:
    return _object({"items": {"type": "array", "items": _ref(item)}, "next": CURSOR})


SCHEMAS: dict[str, Schema] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "who_may": {"type": "string"},
                },
                "who_may",
            )
        }
    ),
    "Review": _object(
        {
            "id": ID,
            "task_id": ID,
            "outcome": {"enum": [o.value for o in Outcome]},
            "comment": MAYBE_TEXT,
            "reviewer": MAYBE_TEXT,
            "source": {"type": "string"},
            "created_at": TIME,
        }
    ),
    "Task": _object(
        {
            "id": ID,
            "repository": {"type": "string"},
            "issue_number": {"type": "integer"},
            "title": {"type": "string"},
            "type": {"enum": [t.value for t in TaskType]},
            "status": {"enum": [s.value for s in Status]},
            "assignee": MAYBE_TEXT,
            "url": MAYBE_TEXT,
            "created_at": TIME,
            "updated_at": TIME,
            "submitted_at": MAYBE_TIME,
            "reviews": {"type": "array", "items": _ref("Review")},
        },
        "reviews",
    ),
    "TaskPage": _page("Task"),
    "NewTask": _object(
        {
            "repository": {"type": "string", "pattern": REPOSITORY_PATTERN},
            "title": {"type": "string", "minLength": 1, "maxLength": 256},
            "body": {"type": "string", "maxLength": 65536},
            "type": {"enum": ["FEATURE", "BUG", "RESEARCH"]},
        },
        "body",
        "type",
    ),
    "StatusChange": _object(
        {
            "status": {"enum": [s.value for s in Status]},
            "note": {"type": "string", "maxLength": 4000},
        },
        "note",
    ),
    "NewReview": _object(
        {
            "task_id": ID,
            "outcome": {"enum": [o.value for o in Outcome]},
            "comment": {"type": "string", "minLength": 1, "maxLength": 65536},
        }
    ),
    "Impersonation": _object(
        {"login": {"type": "string", "pattern": LOGIN_PATTERN}},
    ),
    "Token": _object(
        {
            "token": {"type": "string"},
            "expires_at": TIME,
            "login": {"type": "string"},
            "acting_as": {"type": "string", "description": "the impersonator"},
        },
        "acting_as",
    ),
    "NewEnrolment": _object(
        {
            "academy": {
                "type": "string",
                "pattern": REPOSITORY_PATTERN,
                "description": "the academy's hub repository (its config has "
                "`academy:`)",
            }
        }
    ),
    "Enrolment": {"type": "object", "description": "as bot/academy.py reports it"},
    "Empty": _object({}),
    "User": _object(
        {
            "id": ID,
            "login": {"type": "string"},
            "role": {"enum": [*(r.value for r in Role), None]},
            "xp": {"type": "integer", "minimum": 0},
            "level": {"type": "integer", "minimum": 1},
            "progress": _object(
                {
                    name: {"type": "integer", "minimum": 0}
                    for name in ("assigned", "submitted", "approved", "reviews_given")
                }
            ),
        }
    ),
    "AuditEntry": _object(
        {
            "id": ID,
            "task_id": {"type": ["integer", "null"]},
            "action": {"type": "string"},
            "from_status": MAYBE_TEXT,
            "to_status": MAYBE_TEXT,
            "actor_id": {"type": ["integer", "null"]},
            "actor": MAYBE_TEXT,
            "acting_as_id": {"type": ["integer", "null"]},
            "source": {"type": "string"},
            "delivery_id": MAYBE_TEXT,
            "note": MAYBE_TEXT,
            "created_at": TIME,
        }
    ),
    "AuditPage": _page("AuditEntry"),
}

ERROR_TEXT = {
    400: "The request breaks the schema; the message says where",
    401: "No token, or one that is forged, expired or names an unknown user",
    403: "The caller's role does not allow this; `who_may` says whose does",
    404: "No such thing",
    409: "The task's status (or the academy) does not allow this",
    422: "The Idempotency-Key was used before with another request",
    501: "Not built yet",
    502: "GitHub did not do what was asked",
    503: "The server lacks a setting this needs",
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": ERROR_TEXT[status],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for status in statuses
    }


def _json(status: int, schema: str, text: str) -> dict[str, Any]:
    content = {"application/json": {"schema": _ref(schema)}}
    return {str(status): {"description": text, "content": content}}


def _body(schema: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": _ref(schema)}},
    }


def _query(name: str, schema: Schema, text: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": text,
    }


def _path(name: str, schema: Schema) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "A retry with the same key and body returns the first answer",
}
LIMIT = _query(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    "page size",
)
PAGE_CURSOR = _query(
    "cursor", {"type": "string", "maxLength": 200}, "`next` of the page before"
)
TASK_ID = _path("id", ID)
SECURED = (401, 403, 503)
WRITE = (400, 401, 403, 422, 503)


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
    public: bool = False,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = _body(body)
        operation["parameters"] = [*(parameters or []), IDEMPOTENCY]
    if public:
        operation["security"] = []
    return operation


PATHS: dict[str, dict[str, Any]] = {
    "/tasks": {
        "post": _operation(
            "createTask",
            "Open a GitHub issue in the repository and track it as a TODO task "
            "(DESIGNER, FE_DEV, BE_DEV, SUPER_ADMIN)",
            {
                **_json(201, "Task", "The new task"),
                **_errors(*WRITE, 404, 502),
            },
            body="NewTask",
        ),
        "get": _operation(
            "listTasks",
            "Tasks, oldest first, filtered (any signed-in user)",
            {**_json(200, "TaskPage", "One page of tasks"), **_errors(400, *SECURED)},
            parameters=[
                _query("status", {"enum": [s.value for s in Status]}, "status"),
                _query("type", {"enum": [t.value for t in TaskType]}, "task type"),
                _query(
                    "assignee", {"type": "string", "pattern": LOGIN_PATTERN}, "login"
                ),
                _query(
                    "repository",
                    {"type": "string", "pattern": REPOSITORY_PATTERN},
                    "owner/name",
                ),
                LIMIT,
                PAGE_CURSOR,
            ],
        ),
    },
    "/tasks/{id}": {
        "get": _operation(
            "getTask",
            "One task with its reviews (any signed-in user)",
            {**_json(200, "Task", "The task"), **_errors(*SECURED, 404)},
            parameters=[TASK_ID],
        ),
    },
    "/tasks/{id}/status": {
        "patch": _operation(
            "moveTask",
            "Move the task through the transition table (the assignee, SUPER_ADMIN; "
            "APPROVED and REJECTED are reviews)",
            {
                **_json(200, "Task", "The task as it is now"),
                **_errors(*WRITE, 404, 409),
            },
            parameters=[TASK_ID],
            body="StatusChange",
        ),
    },
    "/tasks/{id}/submit": {
        "post": _operation(
            "submitTask",
            "Submit the task for review; emits Task.SUBMITTED (the assignee)",
            {**_json(200, "Task", "The submitted task"), **_errors(*WRITE, 404, 409)},
            parameters=[TASK_ID],
            body="Empty",
        ),
    },
    "/reviews": {
        "post": _operation(
            "createReview",
            "Approve or reject a submitted task; the comment goes on the issue "
            "(QA, REVIEWER, SUPER_ADMIN; never on one's own work)",
            {**_json(201, "Review", "The review"), **_errors(*WRITE, 404, 409)},
            body="NewReview",
        ),
    },
    "/queue/reviewer": {
        "get": _operation(
            "reviewerQueue",
            "Submitted tasks waiting for review, oldest submission first "
            "(QA, REVIEWER, SUPER_ADMIN)",
            {
                **_json(200, "TaskPage", "One page of the queue"),
                **_errors(400, *SECURED),
            },
            parameters=[LIMIT, PAGE_CURSOR],
        ),
    },
    "/academy/enroll": {
        "post": _operation(
            "enroll",
            "Enrol the caller as a STUDENT and provision the first exercise "
            "(anyone without another role)",
            {
                **_json(201, "Enrolment", "Enrolled, the first exercise on its way"),
                **_json(200, "Enrolment", "Enrolled before: the progress so far"),
                **_errors(*WRITE, 404, 409, 501),
            },
            body="NewEnrolment",
        ),
    },
    "/admin/impersonate": {
        "post": _operation(
            "impersonate",
            "A token acting as another user; every audit row it writes names the "
            "impersonator (SUPER_ADMIN)",
            {**_json(201, "Token", "The token"), **_errors(*WRITE, 404)},
            body="Impersonation",
        ),
    },
    "/users/{login}": {
        "get": _operation(
            "getUser",
            "A user's role, XP and progress (any signed-in user)",
            {**_json(200, "User", "The user"), **_errors(*SECURED, 404)},
            parameters=[_path("login", {"type": "string", "pattern": LOGIN_PATTERN})],
        ),
    },
    "/audit": {
        "get": _operation(
            "listAudit",
            "The audit trail, newest first (SUPER_ADMIN)",
            {
                **_json(200, "AuditPage", "One page of audit rows"),
                **_errors(400, *SECURED),
            },
            parameters=[
                _query("task_id", ID, "only this task"),
                _query("actor", {"type": "string", "pattern": LOGIN_PATTERN}, "login"),
                _query("action", {"type": "string", "pattern": NAME_PATTERN}, "action"),
                _query("source", {"type": "string", "pattern": NAME_PATTERN}, "door"),
                LIMIT,
                PAGE_CURSOR,
            ],
        ),
    },
    "/login": {
        "get": _operation(
            "signIn",
            "Sign in with GitHub: redirects to GitHub's authorisation page",
            {"302": {"description": "To GitHub"}, **_errors(503)},
            public=True,
        ),
    },
    "/login/callback": {
        "get": _operation(
            "signInCallback",
            "Where GitHub sends the browser back; answers with an API token",
            {**_json(200, "Token", "Signed in"), **_errors(400, 502, 503)},
            parameters=[
                _query("code", {"type": "string"}, "from GitHub"),
                _query("state", {"type": "string"}, "from /login"),
            ],
            public=True,
        ),
    },
    "/openapi.json": {
        "get": _operation(
            "openapi",
            "This document",
            {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
            public=True,
        ),
    },
    "/docs": {
        "get": _operation(
            "docs",
            "This document as a page",
            {"200": {"description": "HTML", "content": {"text/html": {}}}},
            public=True,
        ),
    },
}


@functools.cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "workflow-bot API",
            "version": "1.0.0",
            "description": "Tasks, reviews, the reviewer queue, enrolment and the "
            "audit trail. Writes go through the same workflow as the GitHub "
            'commands. Errors are `{"error": {"code", "message"}}`.',
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "security": [{"bearer": []}],
        "paths": PATHS,
    }


def document() -> dict[str, Any]:
    """A copy of the document, safe for the caller to change."""
    return copy.deepcopy(_document())


def inline(schema: Any) -> Any:
    """`schema` with every `#/components/schemas/...` reference replaced."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return inline(SCHEMAS[ref.rsplit("/", 1)[1]])
        return {key: inline(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [inline(item) for item in schema]
    return schema


def operation(path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = PATHS[path][method]
    return found


@functools.cache
def request_schema(path: str, method: str) -> Schema:
    """Inlined once per operation; callers must not change it."""
    content = operation(path, method)["requestBody"]["content"]
    found: Schema = inline(content["application/json"]["schema"])
    return found


@functools.cache
def parameters(path: str, method: str, where: str) -> dict[str, Schema]:
    return {
        p["name"]: inline(p["schema"])
        for p in operation(path, method).get("parameters", [])
        if p["in"] == where
    }
