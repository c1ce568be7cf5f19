"""Per-repository `.github/workflow-bot.yml`, validated and cached."""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from dataclasses import field as default
from typing import Any

import yaml
from cachetools import TTLCache
from gidgethub import BadRequest
from jsonschema import Draft202012Validator

from bot.github import InstallationAPI
from storage.models import Role, Status, TaskType

log = logging.getLogger(__name__)

CONFIG_PATH = ".github/workflow-bot.yml"
CACHE_SECONDS = 300

DEFAULT_LABELS: dict[str, str] = {
    Status.TODO: "status: todo",
    Status.IN_PROGRESS: "status: in progress",
    Status.SUBMITTED: "status: submitted",
    Status.APPROVED: "status: approved",
    Status.REJECTED: "status: rejected",
    TaskType.FEATURE: "type: feature",
    TaskType.BUG: "type: bug",
    TaskType.RESEARCH: "type: research",
    TaskType.ACADEMY_EXERCISE: "type: academy exercise",
}
DEFAULT_COLUMNS: dict[str, str] = {
    Status.TODO: "Todo",
    Status.IN_PROGRESS: "In Progress",
    Status.SUBMITTED: "Submitted",
    Status.APPROVED: "Approved",
    Status.REJECTED: "Rejected",
}

_STATUS_NAMES = [s.value for s in Status]
_LOGINS = {"type": "array", "items": {"type": "string", "minLength": 1}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "roles": {
            "type": "object",
            "additionalProperties": False,
            # SUPER_ADMIN comes from SUPER_ADMINS or `/role`, never from a file
            # that anyone with push access to one repository can write.
            "properties": {
                role.value: _LOGINS for role in Role if role != Role.SUPER_ADMIN
            },
        },
        "labels": {
            "type": "object",
            "additionalProperties": False,
            "properties": {key: {"type": "string"} for key in DEFAULT_LABELS},
        },
        "board": {
            "type": "object",
            "additionalProperties": False,
            "required": ["owner", "number"],
            "properties": {
                "owner": {"type": "string"},
                "number": {"type": "integer", "minimum": 1},
                "field": {"type": "string"},
                "columns": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {s: {"type": "string"} for s in _STATUS_NAMES},
                },
            },
        },
        "ci": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"required": {"type": "array", "items": {"type": "string"}}},
        },
        "deploy": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"dispatch_event": {"type": "string", "minLength": 1}},
        },
        "academy": {
            "type": "object",
            "additionalProperties": False,
            "required": ["org", "exercises"],
            "properties": {
                "org": {"type": "string"},
                "xp_per_approval": {"type": "integer", "minimum": 0},
                "exercises": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["id", "title", "template"],
                        "properties": {
                            "id": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
                            "title": {"type": "string"},
                            "template": {"type": "string", "pattern": "^[^/]+/[^/]+$"},
                            "xp_required": {"type": "integer", "minimum": 0},
                            "body": {"type": "string"},
                        },
                    },
                },
            },
        },
    },
}
_VALIDATOR = Draft202012Validator(SCHEMA)


@dataclass(frozen=True)
class Board:
    owner: str
    number: int
    field: str = "Status"
    columns: dict[str, str] = default(default_factory=lambda: dict(DEFAULT_COLUMNS))


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    template: str
    xp_required: int = 0
    body: str | None = None


@dataclass(frozen=True)
class Academy:
    org: str
    exercises: tuple[Exercise, ...]
    xp_per_approval: int = 10


@dataclass(frozen=True)
class RepoConfig:
    roles: dict[Role, tuple[str, ...]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LABELS))
    board: Board | None = None
    ci_required: tuple[str, ...] | None = None
    dispatch_event: str | None = None
    academy: Academy | None = None
    errors: tuple[str, ...] = ()
    source: str | None = None

    def label(self, key: str) -> str:
        return self.labels.get(key, DEFAULT_LABELS[key])


def parse(text: str, source: str | None = None) -> RepoConfig:
    """Validate YAML text; an invalid file yields defaults plus its errors."""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        return RepoConfig(errors=(f"not valid YAML: {exc}",), source=source)
    data = data or {}
    errors = sorted(
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in _VALIDATOR.iter_errors(data)
    )
    if errors:
        return RepoConfig(errors=tuple(errors), source=source)
    return _build(data, source)


def _build(data: dict[str, Any], source: str | None) -> RepoConfig:
    roles = {
        Role(name): tuple(logins) for name, logins in data.get("roles", {}).items()
    }
    board = data.get("board")
    academy = data.get("academy")
    return RepoConfig(
        roles=roles,
        labels={**DEFAULT_LABELS, **data.get("labels", {})},
        board=_board(board) if board else None,
        ci_required=tuple(data["ci"]["required"])
        if "required" in data.get("ci", {})
        else None,
        dispatch_event=data.get("deploy", {}).get("dispatch_event"),
        academy=_academy(academy) if academy else None,
        source=source,
    )


def _board(data: dict[str, Any]) -> Board:
    return Board(
        owner=data["owner"],
        number=data["number"],
        field=data.get("field", "Status"),
        columns={**DEFAULT_COLUMNS, **data.get("columns", {})},
    )


def _academy(data: dict[str, Any]) -> Academy:
    return Academy(
        org=data["org"],
        xp_per_approval=data.get("xp_per_approval", 10),
        exercises=tuple(Exercise(**item) for item in data["exercises"]),
    )


# Names the repository whose config governs another one, or None: an academy
# exercise repository has no config of its own and follows its hub's.
Redirect = Callable[[str], Awaitable[str | None]]


class ConfigLoader:
    """Reads the repository's file, else the organisation's `.github` default."""

    def __init__(self) -> None:
        self._cache: TTLCache[str, RepoConfig] = TTLCache(4096, CACHE_SECONDS)
        self.redirects: list[Redirect] = []
        # Config sources whose roles this process has written to the database.
        self.synced: set[str] = set()

    def forget(self, full_name: str) -> None:
        self._cache.pop(full_name, None)
        self.synced.discard(full_name)

    def forget_owner(self, owner: str) -> None:
        for key in [k for k in self._cache if k.split("/")[0] == owner]:
            self._cache.pop(key, None)
        self.synced = {s for s in self.synced if s.split("/")[0] != owner}

    async def load(self, gh: InstallationAPI, full_name: str) -> RepoConfig:
        cached = self._cache.get(full_name)
        if cached is not None:
            return cached
        for redirect in self.redirects:
            governing = await redirect(full_name)
            if governing is not None and governing != full_name:
                # Not cached under this name: forgetting the governing
                # repository's config must reach the ones it governs.
                return await self.load(gh, governing)
        owner = full_name.split("/")[0]
        text = await _read_file(gh, full_name)
        source = full_name
        if text is None:
            text = await _read_file(gh, f"{owner}/.github")
            source = f"{owner}/.github"
        config = parse(text, source) if text is not None else RepoConfig()
        if config.errors:
            log.warning(
                "config invalid", extra={"repo": source, "errors": config.errors}
            )
        self._cache[full_name] = config
        return config


async def _read_file(gh: InstallationAPI, full_name: str) -> str | None:
    owner, _, name = full_name.partition("/")
    try:
        answer = await gh.getitem(
            "/repos/{owner}/{repo}/contents/{+path}",
            url_vars={"owner": owner, "repo": name, "path": CONFIG_PATH},
        )
    except BadRequest as exc:
        if int(exc.status_code) == 404:
            return None
        raise
    if not isinstance(answer, dict) or answer.get("type") != "file":
        return None
    return base64.b64decode(answer.get("content") or "").decode("utf-8", "replace")
