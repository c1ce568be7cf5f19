"""How GitHub authenticates an App: a JWT for the App, tokens for installations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from .state import Token, World, now


class Unauthorized(Exception):
    """GitHub answers 401 with a message."""


# Operations that take the App's JWT rather than an installation token.
JWT_OPERATIONS = frozenset(
    {
        "apps/get-authenticated",
        "apps/create-installation-access-token",
        "apps/list-installations",
        "apps/get-installation",
        "apps/get-repo-installation",
        "apps/get-org-installation",
        "apps/get-user-installation",
        "apps/list-webhook-deliveries",
        "apps/get-webhook-delivery",
        "apps/redeliver-webhook-delivery",
    }
)
# Operations that need no credentials (the manifest code is the credential)
# or use OAuth client credentials the fake does not model.
OPEN_OPERATIONS = frozenset(
    {
        "apps/create-from-manifest",
        "apps/check-token",
        "apps/reset-token",
        "apps/delete-token",
        "rate-limit/get",
    }
)


@dataclass
class AppKey:
    app_id: int
    public_key_pem: str


def credentials(header: str | None) -> tuple[str, str] | None:
    """('token'|'bearer', value) from an Authorization header."""
    if not header or " " not in header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme not in ("token", "bearer"):
        return None
    return scheme, value.strip()


def verify_app_jwt(key: AppKey, header: str | None) -> None:
    """Check an App JWT as GitHub does: RS256, `iss` = App id, at most 10 minutes."""
    found = credentials(header)
    if found is None or found[0] != "bearer" or found[1].startswith("ghs_"):
        raise Unauthorized("A JSON web token could not be decoded")
    try:
        claims = jwt.decode(
            found[1],
            key.public_key_pem,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"]},
            leeway=60,  # GitHub tolerates a little clock drift
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized(
            "'Expiration time' claim ('exp') must be a numeric value "
            "representing the future time at which the assertion expires"
        ) from None
    except jwt.PyJWTError as error:
        raise Unauthorized(f"A JSON web token could not be decoded ({error})") from None
    if str(claims["iss"]) != str(key.app_id):
        raise Unauthorized("'Issuer' claim ('iss') must be an Integer")
    if int(claims["exp"]) - int(claims["iat"]) > 600:
        raise Unauthorized("'Expiration time' claim ('exp') is too far in the future")


def issue_token(
    world: World,
    installation_id: int,
    lifetime: timedelta,
    permissions: dict[str, str] | None = None,
    repository_ids: list[int] | None = None,
) -> Token:
    installation = world.installation(installation_id)
    token = Token(
        token="ghs_"
        + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36],
        installation_id=installation.id,
        expires_at=now() + lifetime,
        permissions=permissions or dict(installation.permissions),
        repository_ids=repository_ids,
    )
    world.tokens[token.token] = token
    return token


def installation_token(
    world: World, header: str | None, at: datetime | None = None
) -> Token:
    """The live installation token this request carries, or Unauthorized."""
    found = credentials(header)
    if found is None:
        raise Unauthorized("Requires authentication")
    token = world.tokens.get(found[1])
    if token is None or token.expires_at <= (at or now()):
        raise Unauthorized("Bad credentials")
    return token
