"""Acting as the GitHub App: JWT, cached installation tokens, REST and GraphQL."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import jwt
from cachetools import TLRUCache
from gidgethub import (
    BadGraphQLRequest,
    BadRequest,
    GitHubBroken,
    GitHubException,
    GraphQLException,
    GraphQLResponseTypeError,
    HTTPException,
    QueryError,
    RateLimitExceeded,
)
from gidgethub.aiohttp import GitHubAPI

from bot.settings import Settings

log = logging.getLogger(__name__)

USER_AGENT = "workflow-bot"
# Refresh installation tokens this long before GitHub expires them (1 h).
TOKEN_MARGIN_SECONDS = 5 * 60
# GitHub rejects App JWTs living longer than 10 minutes; clocks drift.
JWT_BACKDATE_SECONDS = 60
JWT_LIFETIME_SECONDS = 9 * 60
SECONDARY_LIMIT_FALLBACK_SECONDS = 60.0
# gidgethub's GraphQL errors carry no headers; the answer's are kept here, per task.
_answer_headers: ContextVar[Mapping[str, str]] = ContextVar("answer_headers")


class TransientError(Exception):
    """Worth retrying later: 5xx, timeouts, rate limits."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Retrying will not help: missing permission, not found, invalid request."""


def classify(exc: BaseException) -> TransientError | PermanentError | None:
    """Map a GitHub or network failure to how the caller should treat it."""
    if isinstance(exc, (TransientError, PermanentError)):
        return exc
    if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError)):
        return TransientError(f"network: {type(exc).__name__}: {exc}")
    if isinstance(exc, RateLimitExceeded):
        wait = max(exc.rate_limit.reset_datetime.timestamp() - time.time(), 1.0)
        return TransientError("primary rate limit exhausted", retry_after=wait)
    if isinstance(exc, GitHubBroken):
        return TransientError(f"github {exc.status_code}: {exc}")
    if isinstance(exc, BadRequest):
        return _classify_bad_request(exc)
    if isinstance(exc, QueryError):
        return _classify_graphql(exc)
    if isinstance(exc, GraphQLResponseTypeError):
        return TransientError(f"graphql answered with non-JSON: {exc}")
    if isinstance(exc, (GraphQLException, GitHubException)):
        return PermanentError(f"github: {exc}")
    return None


def _classify_bad_request(exc: BadRequest) -> TransientError | PermanentError:
    status = int(exc.status_code)
    headers = exc.headers or {}
    retry_after = headers.get("retry-after")
    if status in (403, 429) and (
        retry_after is not None or "rate limit" in str(exc).lower() or status == 429
    ):
        wait = retry_after_seconds(retry_after)
        return TransientError(f"secondary rate limit ({status})", retry_after=wait)
    return PermanentError(f"github {status}: {exc}")


def retry_after_seconds(value: str | None) -> float:
    """`Retry-After` is seconds or an HTTP date; anything else means a minute."""
    if not value:
        return SECONDARY_LIMIT_FALLBACK_SECONDS
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return SECONDARY_LIMIT_FALLBACK_SECONDS
    if when.tzinfo is None:
        return SECONDARY_LIMIT_FALLBACK_SECONDS
    return max(when.timestamp() - time.time(), 0.0)


# GraphQL error types that say the request itself is wrong; others (no type,
# "Something went wrong ... may be the result of a timeout") are worth a retry.
PERMANENT_GRAPHQL_ERRORS = frozenset(
    {
        "NOT_FOUND",
        "FORBIDDEN",
        "UNPROCESSABLE",
        "INSUFFICIENT_SCOPES",
        "MISSING_PAGINATION_BOUNDARIES",
        "EXCESSIVE_PAGINATION",
        "BAD_REQUEST",
    }
)


def _classify_graphql(exc: QueryError) -> TransientError | PermanentError:
    kinds = graphql_error_types(exc)
    if "RATE_LIMITED" in kinds:
        return TransientError("graphql rate limited", SECONDARY_LIMIT_FALLBACK_SECONDS)
    if kinds and kinds <= PERMANENT_GRAPHQL_ERRORS:
        return PermanentError(f"graphql: {exc}")
    return TransientError(f"graphql: {exc}")


def graphql_error_types(exc: QueryError) -> set[str]:
    errors = exc.response.get("errors") if isinstance(exc.response, dict) else None
    return {str(e.get("type")) for e in errors or [] if isinstance(e, dict)}


class InstallationAPI(GitHubAPI):
    """A gidgethub client that asks the App for a live token on every request."""

    def __init__(
        self,
        app: GitHubApp,
        installation_id: int,
        *,
        graphql_url: str,
        dry_run: bool = False,
    ) -> None:
        super().__init__(app.session, USER_AGENT, base_url=app.settings.github_api_url)
        self.app = app
        self.installation_id = installation_id
        self.graphql_url = graphql_url
        self.dry_run = dry_run

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        if self.dry_run and not _is_read(method, url, self.graphql_url, body):
            return _print_intended_write(method, url, body)
        token = await self.app.installation_token(self.installation_id)
        authorised = {**headers, "authorization": f"token {token}"}
        status, response_headers, data = await super()._request(
            method, url, authorised, body
        )
        if status == 401:
            # The token was revoked early (app re-installed): fetch one anew.
            self.app.forget_token(self.installation_id)
            token = await self.app.installation_token(self.installation_id)
            authorised["authorization"] = f"token {token}"
            status, response_headers, data = await super()._request(
                method, url, authorised, body
            )
        _log_headroom(response_headers, self.installation_id)
        _answer_headers.set(response_headers)
        return status, response_headers, data

    async def query(self, document: str, **variables: Any) -> Any:
        """GraphQL; an `errors` array is a failure even with HTTP 200."""
        try:
            return await self.graphql(document, endpoint=self.graphql_url, **variables)
        except BadGraphQLRequest as exc:
            limited = _graphql_rate_limit(exc, _answer_headers.get({}))
            if limited is not None:
                raise limited from exc
            raise


def _graphql_rate_limit(
    exc: BadGraphQLRequest, headers: Mapping[str, str]
) -> TransientError | None:
    """A 403/429 GraphQL answer about rate limits means: wait, then retry."""
    status = int(exc.status_code)
    if status not in (403, 429) or (
        "rate limit" not in str(exc).lower() and "retry-after" not in headers
    ):
        return None
    retry_after = headers.get("retry-after")
    wait = float(retry_after) if retry_after else SECONDARY_LIMIT_FALLBACK_SECONDS
    return TransientError(f"graphql secondary rate limit ({status})", wait)


def _is_read(method: str, url: str, graphql_url: str, body: bytes) -> bool:
    if method == "GET":
        return True
    if url == graphql_url:
        return (
            not json.loads(body or b"{}")
            .get("query", "")
            .lstrip()
            .startswith("mutation")
        )
    return False


def _print_intended_write(
    method: str, url: str, body: bytes
) -> tuple[int, Mapping[str, str], bytes]:
    print(f"DRY-RUN {method} {url} {body.decode('utf-8', 'replace')}", flush=True)
    answer = {"id": 0, "node_id": "", "number": 0, "data": {}}
    return 200, {"content-type": "application/json"}, json.dumps(answer).encode()


def _log_headroom(headers: Mapping[str, str], installation_id: int) -> None:
    remaining = headers.get("x-ratelimit-remaining")
    limit = headers.get("x-ratelimit-limit")
    if remaining is None or limit is None:
        return
    extra = {
        "installation": installation_id,
        "remaining": remaining,
        "limit": limit,
        "resource": headers.get("x-ratelimit-resource"),
    }
    if int(remaining) < int(limit) // 10:
        log.warning("rate limit headroom low", extra=extra)
    else:
        log.debug("rate limit headroom", extra=extra)


class GitHubApp:
    """The App's identity and its per-installation token cache."""

    def __init__(
        self,
        settings: Settings,
        session: aiohttp.ClientSession,
        *,
        dry_run: bool = False,
    ) -> None:
        self.settings = settings
        self.session = session
        self.dry_run = dry_run
        self._tokens: TLRUCache[int, tuple[str, float]] = TLRUCache(
            maxsize=4096, ttu=_token_expiry, timer=time.time
        )
        self._locks: dict[int, asyncio.Lock] = {}
        self._clients: dict[int, InstallationAPI] = {}
        self.token_requests = 0

    def app_jwt(self) -> str:
        self.settings.require_github()
        now = int(time.time())
        claims = {
            "iat": now - JWT_BACKDATE_SECONDS,
            "exp": now + JWT_LIFETIME_SECONDS,
            "iss": str(self.settings.app_id),
        }
        return jwt.encode(claims, self.settings.private_key or "", algorithm="RS256")

    def app_api(self) -> GitHubAPI:
        """A client for App-level calls, authenticated by the App JWT."""
        client = GitHubAPI(
            self.session, USER_AGENT, base_url=self.settings.github_api_url
        )
        client.oauth_token = None
        return client

    def client(self, installation_id: int) -> InstallationAPI:
        found = self._clients.get(installation_id)
        if found is None:
            found = InstallationAPI(
                self,
                installation_id,
                graphql_url=self.settings.github_graphql_url,
                dry_run=self.dry_run,
            )
            self._clients[installation_id] = found
        return found

    async def installation_token(self, installation_id: int) -> str:
        cached = self._tokens.get(installation_id)
        if cached is not None:
            return cached[0]
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(installation_id)
            if cached is None:
                cached = await self._new_token(installation_id)
                self._tokens[installation_id] = cached
        return cached[0]

    def forget_token(self, installation_id: int) -> None:
        self._tokens.pop(installation_id, None)

    async def _new_token(self, installation_id: int) -> tuple[str, float]:
        self.token_requests += 1
        answer = await self.app_api().post(
            "/app/installations/{installation_id}/access_tokens",
            url_vars={"installation_id": str(installation_id)},
            data={},
            jwt=self.app_jwt(),
        )
        expires = datetime.fromisoformat(answer["expires_at"].replace("Z", "+00:00"))
        log.info("installation token issued", extra={"installation": installation_id})
        return answer["token"], expires.timestamp()

    async def bot_login(self) -> str | None:
        """The App's own bot user, `<slug>[bot]`, from settings or `GET /app`."""
        if self.settings.app_slug:
            return f"{self.settings.app_slug}[bot]"
        if not self.settings.can_call_github:
            return None
        answer = await self.app_api().getitem("/app", jwt=self.app_jwt())
        slug = str(answer.get("slug") or "")
        return f"{slug}[bot]" if slug else None


def _token_expiry(_key: int, value: tuple[str, float], now: float) -> float:
    return value[1] - TOKEN_MARGIN_SECONDS


__all__ = [
    "GitHubApp",
    "HTTPException",
    "InstallationAPI",
    "PermanentError",
    "QueryError",
    "TransientError",
    "classify",
    "graphql_error_types",
]
