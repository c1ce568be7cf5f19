"""Start-up settings and the App's installation-token cache."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from bot.github import TOKEN_MARGIN_SECONDS
from bot.settings import SettingsError, from_env, graphql_url_for
from tests.fakegithub import FakeGitHub
from tests.harness import Bot
from tests.payloads import make_world

ROOT = Path(__file__).parent.parent


def test_missing_webhook_secret_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET"):
        from_env({})


def test_bad_number_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="PORT"):
        from_env({"WEBHOOK_SECRET": "s", "PORT": "eighty"})


def test_unreadable_key_path_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PRIVATE_KEY_PATH"):
        from_env({"WEBHOOK_SECRET": "s", "PRIVATE_KEY_PATH": str(tmp_path / "nope")})


def test_defaults_follow_the_outside_contract() -> None:
    settings = from_env({"WEBHOOK_SECRET": "s", "SUPER_ADMINS": "Alice, @bob"})
    assert settings.database_url == "sqlite+aiosqlite:///./workflow-bot.db"
    assert settings.github_api_url == "https://api.github.com"
    assert settings.github_graphql_url == "https://api.github.com/graphql"
    assert (settings.host, settings.port) == ("0.0.0.0", 3000)
    assert settings.super_admins == frozenset({"alice", "bob"})


def test_enterprise_graphql_url_is_derived() -> None:
    assert (
        graphql_url_for("https://ghe.example/api/v3")
        == "https://ghe.example/api/graphql"
    )


def run_cli(
    *args: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_worker_without_app_id_stops_with_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("worker", env={"WEBHOOK_SECRET": "s"}, cwd=tmp_path)

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "workflow-bot: APP_ID is not set: the GitHub App id is required"
    ]


def test_registered_serve_without_secret_stops_with_one_clear_line(
    tmp_path: Path,
) -> None:
    result = run_cli("serve", env={"APP_ID": "12"}, cwd=tmp_path)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "WEBHOOK_SECRET" in result.stderr.strip().splitlines()[-1]


async def test_one_token_serves_many_calls(bot: Bot, gh: FakeGitHub) -> None:
    world = make_world(gh)
    client = bot.services.github.client(world.installation_id)

    for _ in range(5):
        await client.getitem("/repos/acme/widgets")

    assert bot.services.github.token_requests == 1


async def test_token_near_expiry_is_replaced(bot: Bot, gh: FakeGitHub) -> None:
    from datetime import timedelta

    world = make_world(gh)
    gh.token_lifetime = timedelta(seconds=TOKEN_MARGIN_SECONDS + 1)
    client = bot.services.github.client(world.installation_id)
    await client.getitem("/repos/acme/widgets")

    time.sleep(1.1)
    await client.getitem("/repos/acme/widgets")

    assert bot.services.github.token_requests == 2


def test_app_jwt_is_short_lived_and_backdated(bot: Bot) -> None:
    token = bot.services.github.app_jwt()
    claims = jwt.decode(token, options={"verify_signature": False})
    now = time.time()
    assert claims["iss"] == bot.settings.app_id
    assert claims["iat"] <= now - 30
    assert claims["exp"] - claims["iat"] <= 600
