"""The App's OAuth web flow ("Sign in with GitHub"): codes and user tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from .auth import credentials
from .rest import Reply

if TYPE_CHECKING:
    from .fake import FakeGitHub

# Served on GitHub's web host, not the API: it is not in the OpenAPI description.
ACCESS_TOKEN_PATH = "/login/oauth/access_token"
CLIENT_ID = "Iv1.fakeoauthclient"
CLIENT_SECRET = "fake-oauth-client-secret"


@dataclass
class OAuth:
    """Codes GitHub handed to browsers and the user tokens they became."""

    codes: dict[str, str] = field(default_factory=dict)  # code -> login
    user_tokens: dict[str, str] = field(default_factory=dict)  # token -> login

    def authorize(self, login: str) -> str:
        """The user approved the App on GitHub's page: the code for the callback."""
        code = secrets.token_hex(10)
        self.codes[code] = login
        return code


def exchange(fake: FakeGitHub, raw: bytes) -> Reply:
    """POST /login/oauth/access_token: a code (once) for a user token."""
    form = dict(parse_qsl(raw.decode(errors="replace")))
    if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
        # GitHub answers 200 with an error body here, not an HTTP error.
        return Reply(200, {"error": "incorrect_client_credentials",
                           "error_description": "The client_id and/or "
                           "client_secret passed are incorrect."})  # fmt: skip
    login = fake.oauth.codes.pop(form.get("code", ""), None)
    if login is None:
        return Reply(200, {"error": "bad_verification_code",
                           "error_description": "The code passed is incorrect "
                           "or expired."})  # fmt: skip
    token = "ghu_" + secrets.token_hex(18)
    fake.oauth.user_tokens[token] = login
    return Reply(200, {"access_token": token, "token_type": "bearer", "scope": ""})


def answer_as_user(
    fake: FakeGitHub, operation_id: str, headers: dict[str, str]
) -> Reply | None:
    """GET /user with a user token: who signed in. Other calls: not ours."""
    if operation_id != "users/get-authenticated":
        return None
    header = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    found = credentials(header)
    login = fake.oauth.user_tokens.get(found[1]) if found else None
    if login is None:
        return None
    return Reply(200, fake.shapes.public_user(login))
