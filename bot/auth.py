"""Bearer tokens for the REST API, and "Sign in with GitHub" that hands one out.

A token says who (GitHub user id as `sub`) and, for impersonation, who acts
(`act`). It never says what they may do: the role is read from the database
on every request, so a demoted user's old token carries no old power.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt
from aiohttp import web
from gidgethub import BadRequest, GitHubException
from gidgethub.aiohttp import GitHubAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import setup
from bot.apierrors import ApiError, forbidden, unauthorized, unavailable
from bot.appkeys import SERVICES
from bot.config import RepoConfig
from bot.rbac import Actor
from bot.roles import effective_role
from bot.services import Services
from bot.settings import Settings
from bot.workflow import remember_user
from storage.models import Installation, Role, User

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
ISSUER = "workflow-bot"
SIGN_IN_LIFETIME = timedelta(hours=12)
IMPERSONATION_LIFETIME = timedelta(hours=1)
STATE_LIFETIME = timedelta(minutes=10)
# Tokens and OAuth states share a key, so each says what it is for.
PURPOSE_API = "api"
PURPOSE_STATE = "oauth-state"


@dataclass(frozen=True)
class Claims:
    user_id: int
    impersonator_id: int | None
    expires_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


def _secret(settings: Settings) -> bytes:
    if not settings.api_secret:
        raise unavailable("API_SECRET is not set: the API cannot sign or check tokens")
    # HS256 wants a 32-byte key; hashing gives one whatever form the secret has.
    return hashlib.sha256(b"workflow-bot:api:" + settings.api_secret.encode()).digest()


def issue(
    settings: Settings,
    user_id: int,
    *,
    lifetime: timedelta = SIGN_IN_LIFETIME,
    impersonator_id: int | None = None,
) -> IssuedToken:
    now = datetime.now(UTC)
    expires = now + lifetime
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "purpose": PURPOSE_API,
    }
    if impersonator_id is not None:
        claims["act"] = {"sub": str(impersonator_id)}
    token = jwt.encode(claims, _secret(settings), algorithm=ALGORITHM)
    return IssuedToken(token, expires.replace(microsecond=0))


def verify(settings: Settings, token: str) -> Claims:
    """The claims of a token this app signed; anything else is a 401."""
    data = _decode(settings, token, PURPOSE_API)
    try:
        user_id = int(data["sub"])
        act = data.get("act")
        impersonator = int(act["sub"]) if act is not None else None
    except (KeyError, TypeError, ValueError):
        raise unauthorized("the token's subject is malformed") from None
    expires = datetime.fromtimestamp(int(data["exp"]), UTC)
    return Claims(user_id, impersonator, expires)


def _decode(settings: Settings, token: str, purpose: str) -> dict[str, Any]:
    try:
        # Only HS256: `alg: none` and algorithm confusion are refused here.
        data: dict[str, Any] = jwt.decode(
            token,
            _secret(settings),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("the token has expired; sign in again") from None
    except jwt.InvalidTokenError as exc:
        raise unauthorized(f"the token is not valid: {exc}") from None
    if data.get("purpose") != purpose:
        raise unauthorized("the token is not meant for this")
    return data


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized(
            "send `Authorization: Bearer <token>`; get a token by signing in "
            "at /login or from an operator (`python -m bot token <login>`)"
        )
    return token.strip()


async def caller(request: web.Request, session: AsyncSession) -> Actor:
    """Who is asking, with the role the database gives them now."""
    settings = request.app[SERVICES].settings
    claims = verify(settings, bearer(request))
    user = await session.get(User, claims.user_id)
    if user is None:
        raise unauthorized("the token names a user this app does not know")
    role = await role_of(settings, user)
    if claims.impersonator_id is not None:
        await _require_impersonator(session, settings, claims.impersonator_id)
    return Actor(user.id, user.login, role, claims.impersonator_id)


async def role_of(
    settings: Settings, user: User, scope: str | None = None
) -> Role | None:
    # Only SUPER_ADMINS and stored roles count; a role from a repository's
    # file counts only for that file's account when a repository is in view.
    return await effective_role(settings, user, RepoConfig(), None, scope=scope)


async def in_scope(
    request: web.Request, session: AsyncSession, actor: Actor, repository: str
) -> Actor:
    """The caller with the role they hold on `repository`'s account."""
    user = await session.get(User, actor.id)
    if user is None:
        raise unauthorized("the token names a user this app does not know")
    role = await role_of(request.app[SERVICES].settings, user, repository)
    return Actor(actor.id, actor.login, role, actor.impersonator_id)


async def _require_impersonator(
    session: AsyncSession, settings: Settings, impersonator_id: int
) -> None:
    """An impersonation token dies with its issuer's SUPER_ADMIN role."""
    impersonator = await session.get(User, impersonator_id)
    if impersonator is None:
        raise unauthorized("the token's impersonator is unknown")
    if await role_of(settings, impersonator) != Role.SUPER_ADMIN:
        raise forbidden("the impersonator no longer holds SUPER_ADMIN", "SUPER_ADMIN")


async def user_by_login(session: AsyncSession, login: str) -> User | None:
    """Logins are display data; the most recently seen holder wins."""
    query = (
        select(User)
        .where(func.lower(User.login) == login.lower())
        .order_by(User.updated_at.desc(), User.id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


# "Sign in with GitHub": the App's OAuth web flow.


def web_host(settings: Settings) -> str:
    return settings.github_web_url or setup.web_url(settings.github_api_url)


def _client_id(settings: Settings) -> str:
    if not settings.client_id or not settings.client_secret:
        raise unavailable(
            "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET are not set: "
            "sign-in with GitHub is off"
        )
    return settings.client_id


def _callback_url(request: web.Request, settings: Settings) -> str:
    base = settings.public_url or f"{request.scheme}://{request.host}"
    return base.rstrip("/") + "/login/callback"


def new_state(settings: Settings) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": secrets.token_urlsafe(12),
        "iat": int(now.timestamp()),
        "exp": int((now + STATE_LIFETIME).timestamp()),
        "purpose": PURPOSE_STATE,
    }
    return jwt.encode(claims, _secret(settings), algorithm=ALGORITHM)


async def login(request: web.Request) -> web.Response:
    """Send the browser to GitHub to authorise this App."""
    settings = request.app[SERVICES].settings
    query = urlencode(
        {
            "client_id": _client_id(settings),
            "redirect_uri": _callback_url(request, settings),
            "state": new_state(settings),
        }
    )
    raise web.HTTPFound(f"{web_host(settings)}/login/oauth/authorize?{query}")


async def login_callback(request: web.Request) -> web.Response:
    """GitHub sends the browser back with a code: trade it for our token."""
    services = request.app[SERVICES]
    settings = services.settings
    _client_id(settings)
    code = request.query.get("code")
    state = request.query.get("state")
    if not code or not state:
        raise ApiError(400, "bad_request", "GitHub sent no code or state; start again")
    try:
        _decode(settings, state, PURPOSE_STATE)
    except ApiError:
        raise ApiError(
            400, "bad_state", "the sign-in state is stale or forged"
        ) from None
    access_token = await _exchange_code(request, settings, code)
    github_user = await _github_user(request, settings, access_token)
    async with services.sessions.begin() as session:
        user = await remember_user(session, github_user)
        user_id, user_login = user.id, user.login
    issued = issue(settings, user_id)
    log.info("api sign-in", extra={"user": user_login})
    return web.json_response(
        {
            "token": issued.token,
            "expires_at": issued.expires_at.isoformat(),
            "login": user_login,
        }
    )


async def _exchange_code(request: web.Request, settings: Settings, code: str) -> str:
    try:
        answer, status = await _post_code(request, settings, code)
    except (TimeoutError, aiohttp.ClientError, ValueError):
        answer, status = None, 0
    if status != 200 or not isinstance(answer, dict):
        raise ApiError(502, "github_unavailable", "GitHub did not answer the sign-in")
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        reason = answer.get("error_description") or answer.get("error") or "no token"
        raise ApiError(400, "sign_in_refused", f"GitHub refused the sign-in: {reason}")
    return token


async def _post_code(
    request: web.Request, settings: Settings, code: str
) -> tuple[Any, int]:
    http = request.app[SERVICES].http
    async with http.post(
        f"{web_host(settings)}/login/oauth/access_token",
        data={
            "client_id": settings.client_id or "",
            "client_secret": settings.client_secret or "",
            "code": code,
            "redirect_uri": _callback_url(request, settings),
        },
        headers={"Accept": "application/json"},
    ) as response:
        return await response.json(content_type=None), response.status


async def _github_user(
    request: web.Request, settings: Settings, access_token: str
) -> dict[str, Any]:
    client = GitHubAPI(
        request.app[SERVICES].http,
        "workflow-bot",
        oauth_token=access_token,
        base_url=settings.github_api_url,
    )
    try:
        user: dict[str, Any] = await client.getitem("/user")
    except BadRequest:
        raise ApiError(
            400, "sign_in_refused", "GitHub refused the user token"
        ) from None
    except (GitHubException, aiohttp.ClientError, TimeoutError):
        raise ApiError(
            502, "github_unavailable", "GitHub did not say who signed in"
        ) from None
    return user


# Tokens for operators: `python -m bot token <login>`.


async def token_for_login(
    services: Services, login: str, lifetime: timedelta = SIGN_IN_LIFETIME
) -> IssuedToken:
    """A token for a known user, or one GitHub knows by that login."""
    async with services.sessions.begin() as session:
        user = await user_by_login(session, login)
        if user is None:
            user = await remember_user(
                session, await _github_user_named(services, login)
            )
        user_id = user.id
    return issue(services.settings, user_id, lifetime=lifetime)


async def _github_user_named(services: Services, login: str) -> dict[str, Any]:
    client = await _any_client(services)
    try:
        found: dict[str, Any] = await client.getitem(
            "/users/{username}", url_vars={"username": login}
        )
    except BadRequest as exc:
        if int(exc.status_code) == 404:
            raise LookupError(f"there is no GitHub user @{login}") from None
        raise
    return found


async def _any_client(services: Services) -> GitHubAPI:
    """An installation's client when there is one; users are public data."""
    if services.settings.can_call_github:
        async with services.sessions() as session:
            installation = await session.scalar(
                select(Installation.id)
                .where(Installation.deleted_at.is_(None))
                .order_by(Installation.id)
                .limit(1)
            )
        if installation is not None:
            return services.github.client(int(installation))
    return GitHubAPI(
        services.http, "workflow-bot", base_url=services.settings.github_api_url
    )
