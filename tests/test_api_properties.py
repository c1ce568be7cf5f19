"""The API run from its own OpenAPI document: no 5xx, no answer outside it.

Requests are drawn from the document's schemas (hypothesis-jsonschema), mixed
with broken bodies, odd query strings and bad tokens; every answer's status
must be one the operation documents and its body must match that schema.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from bot import api_spec
from tests.apihelp import Api, make_api
from tests.conftest import make_settings
from tests.fakegithub import FakeGitHub, oauth
from tests.harness import Bot, start_bot, stop_bot

OPERATIONS = [
    pytest.param(path, method, id=operation["operationId"])
    for path, methods in api_spec.PATHS.items()
    for method, operation in methods.items()
]
PEOPLE = ["ada", "rita", "quinn", "fred", "dana", "sam", "eve", None, "garbage"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
KNOWN_IDS = st.integers(1, 4)
KNOWN_LOGINS = st.sampled_from(["fred", "rita", "nobody"])
KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)


@dataclass
class Drawn:
    who: str | None
    path: str
    query: dict[str, str]
    body: Any
    key: str | None


@pytest.fixture
async def sign_in_bot(
    gh: FakeGitHub, app_key: tuple[str, str], tmp_path: Path
) -> AsyncIterator[Bot]:
    """A bot with sign-in configured, so /login and its callback do real work."""
    settings = replace(
        make_settings(gh, app_key[0], f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"),
        client_id=oauth.CLIENT_ID,
        client_secret=oauth.CLIENT_SECRET,
        github_web_url=gh.url,
    )
    running = await start_bot(settings)
    yield running
    await stop_bot(running)


@pytest.fixture
async def api(sign_in_bot: Bot, gh: FakeGitHub) -> Api:
    api = await make_api(sign_in_bot, gh)
    await api.submitted_task()
    await api.new_task(title="Waiting")
    return api


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@st.composite
def requests(draw: st.DrawFn, path: str, method: str) -> Drawn:
    url = path
    for name, schema in api_spec.parameters(path, method, "path").items():
        known = KNOWN_IDS if name == "id" else KNOWN_LOGINS
        value = draw(known | from_schema(schema))
        url = url.replace("{" + name + "}", quote(str(value), safe=""))
    query: dict[str, str] = {}
    # One request in five carries junk in its query string; the rest are valid.
    junk_query = draw(st.integers(0, 4)) == 4
    for name, schema in api_spec.parameters(path, method, "query").items():
        kinds = ["absent"] * 3 if name == "cursor" else ["absent", "valid"]
        kind = draw(st.sampled_from([*kinds, "junk"] if junk_query else kinds))
        if kind == "valid":
            query[name] = draw(from_schema(schema).map(_as_text))
        elif kind == "junk":
            query[name] = draw(st.text(max_size=6))
    body: Any = None
    if "requestBody" in api_spec.operation(path, method):
        schema = api_spec.request_schema(path, method)
        # Hypothesis leans towards 0: make 0 the common, well-formed case.
        junk = draw(st.integers(0, 4)) == 4
        body = draw(JSON_VALUES if junk else from_schema(schema))
        if isinstance(body, dict) and draw(st.integers(0, 3)) < 3:
            body = _towards_the_world(body, draw)
    key = draw(st.none() | KEYS)
    return Drawn(draw(st.sampled_from(PEOPLE)), url, query, body, key)


def _towards_the_world(body: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """Point a drawn body at things that exist, so writes also succeed."""
    known = {
        "task_id": KNOWN_IDS,
        "login": KNOWN_LOGINS,
        "repository": st.just("acme/widgets"),
        "academy": st.just("acme/widgets"),
    }
    return {
        name: draw(known[name]) if name in known else value
        for name, value in body.items()
    }


async def send(api: Api, method: str, drawn: Drawn) -> tuple[int, Any, str]:
    headers = {"Idempotency-Key": drawn.key} if drawn.key else {}
    if drawn.who == "garbage":
        headers["Authorization"] = "Bearer garbage.token.here"
    elif drawn.who is not None:
        headers["Authorization"] = f"Bearer {api.token(drawn.who)}"
    url = api.bot.url + drawn.path
    if drawn.query:
        url += "?" + urlencode(drawn.query)
    data = None if drawn.body is None else json.dumps(drawn.body).encode()
    async with api.bot.client.request(
        method.upper(), url, data=data, headers=headers, allow_redirects=False
    ) as response:
        text = await response.text()
        return response.status, text, response.content_type


def check_answer(
    path: str, method: str, status: int, text: str, content_type: str
) -> None:
    responses = api_spec.operation(path, method)["responses"]
    assert status < 500 or str(status) in responses, (status, text)
    assert status != 500, text
    assert str(status) in responses, f"{status} is not documented: {text}"
    content = responses[str(status)].get("content") or {}
    if "application/json" not in content:
        return
    assert content_type == "application/json", content_type
    schema = api_spec.inline(content["application/json"]["schema"])
    errors = list(Draft202012Validator(schema).iter_errors(json.loads(text)))
    assert not errors, (status, text, errors[0].message if errors else "")


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
async def test_operation_answers_only_as_documented(
    api: Api, path: str, method: str, data: st.DataObject
) -> None:
    drawn = data.draw(requests(path, method))

    status, text, content_type = await send(api, method, drawn)
    await api.bot.drain()

    check_answer(path, method, status, text, content_type)
