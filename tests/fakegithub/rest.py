"""Plumbing shared by the REST handlers: the call, the reply, routing, pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .state import Invalid, NotFound, Repo, Token

if TYPE_CHECKING:
    from .fake import FakeGitHub

DOCS = "https://docs.github.com/rest"


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One REST request after matching and checking: what a handler reads."""

    fake: FakeGitHub
    method: str
    path: str
    operation_id: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    token: Token | None

    @property
    def repo(self) -> Repo:
        owner = self.params.get("owner") or self.params["template_owner"]
        name = self.params.get("repo") or self.params["template_repo"]
        return self.fake.world.repo(f"{owner}/{name}")

    def number(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise NotFound(name) from None

    @property
    def actor(self) -> str:
        """Who GitHub says did it: the App's bot user for installation tokens."""
        return str(self.fake.app_bot_user["login"])


Handler = Callable[[Call], Reply]
HANDLERS: dict[str, Handler] = {}


def route(operation_id: str) -> Callable[[Handler], Handler]:
    """Register the handler of one operation of the REST description."""

    def register(handler: Handler) -> Handler:
        HANDLERS[operation_id] = handler
        return handler

    return register


def error(
    status: int, message: str, errors: list[dict[str, Any]] | None = None
) -> Reply:
    body: dict[str, Any] = {
        "message": message,
        "documentation_url": DOCS,
        "status": str(status),
    }
    if errors:
        body["errors"] = errors
    return Reply(status, body)


def not_found() -> Reply:
    return error(404, "Not Found")


def invalid(problem: Invalid) -> Reply:
    return error(422, problem.message, problem.errors)


def paginate(
    call: Call, items: list[Any], key: str | None = None, total: bool = False
) -> Reply:
    """One page of `items` with a Link header; `key` wraps it: {total_count, key}."""
    per_page = min(int(call.query.get("per_page", 30)), 100)
    page = max(int(call.query.get("page", 1)), 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    last = max((len(items) + per_page - 1) // per_page, 1)
    links = []
    for rel, number in (
        ("prev", page - 1),
        ("next", page + 1),
        ("first", 1),
        ("last", last),
    ):
        if (rel in ("prev", "first") and page > 1) or (
            rel in ("next", "last") and page < last
        ):
            query = urlencode({**call.query, "per_page": per_page, "page": number})
            links.append(f'<{call.fake.url}{call.path}?{query}>; rel="{rel}"')
    headers = {"Link": ", ".join(links)} if links else {}
    body: Any = chunk
    if key is not None:
        body = {"total_count": len(items), key: chunk}
    elif total:
        body = {"total_count": len(items), "items": chunk}
    return Reply(200, body, headers)
