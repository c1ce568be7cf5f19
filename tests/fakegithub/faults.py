"""Faults the fake injects: 5xx, slow answers, secondary rate limits, GraphQL errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before "
    "you try again. If you reach out to GitHub Support for help, please include "
    "the request ID."
)
SECONDARY_RATE_LIMIT_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)


@dataclass
class Fault:
    """Answer matching requests with `status` (after `delay` seconds), `times` times.

    `path` is a concrete path or a path template from the description; None matches all.
    `status` None with a delay answers normally, only late (a slow GitHub)."""

    method: str | None = None
    path: str | None = None
    status: int | None = 502
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    graphql: bool | None = None  # True: GraphQL requests only; False: REST only
    fired: int = 0

    @property
    def spent(self) -> bool:
        return self.fired >= self.times

    def matches(self, method: str, path: str, template: str | None) -> bool:
        if self.spent:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        is_graphql = path.endswith("/graphql")
        if self.graphql is not None and self.graphql != is_graphql:
            return False
        return self.path is None or self.path in (path, template)

    def default_body(self) -> Any:
        if self.body is not None:
            return self.body
        if self.status is not None and self.status >= 500:
            return {"message": "Server Error"}
        return {
            "message": "Injected fault",
            "documentation_url": "https://docs.github.com/rest",
        }


@dataclass
class GraphQLFault:
    """Answer the next GraphQL request(s) with HTTP 200 and an `errors` array."""

    message: str
    type: str
    times: int
    fired: int = 0

    @property
    def spent(self) -> bool:
        return self.fired >= self.times

    def body(self) -> dict[str, Any]:
        error = {
            "type": self.type,
            "path": [],
            "locations": [],
            "message": self.message,
        }
        return {"data": None, "errors": [error]}


@dataclass
class Faults:
    rest: list[Fault] = field(default_factory=list)
    graphql: list[GraphQLFault] = field(default_factory=list)

    def take(self, method: str, path: str, template: str | None) -> Fault | None:
        """The first live fault for this request, counted as fired."""
        for fault in self.rest:
            if fault.matches(method, path, template):
                fault.fired += 1
                return fault
        return None

    def take_graphql(self) -> GraphQLFault | None:
        for fault in self.graphql:
            if not fault.spent:
                fault.fired += 1
                return fault
        return None


def secondary_rate_limit(times: int, retry_after: int) -> Fault:
    return Fault(
        status=403,
        times=times,
        headers={"Retry-After": str(retry_after)},
        body={
            "message": SECONDARY_RATE_LIMIT_MESSAGE,
            "documentation_url": SECONDARY_RATE_LIMIT_DOCS,
        },
    )
