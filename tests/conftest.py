"""Shared fixtures: one fake GitHub per session, a fresh bot and database per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text

from bot.settings import Settings
from storage import migrate
from storage.db import create_engine
from storage.models import Base
from tests.fakegithub import FakeGitHub
from tests.harness import SECRET, Bot, start_bot, stop_bot

APP_ID = 4242
PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def app_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )
    return private, public


@pytest_asyncio.fixture(scope="session")
async def fake_server(app_key: tuple[str, str]) -> AsyncIterator[FakeGitHub]:
    fake = FakeGitHub(app_id=APP_ID, app_public_key_pem=app_key[1])
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def gh(fake_server: FakeGitHub) -> Iterator[FakeGitHub]:
    """The shared fake, emptied for this test; no request may break the spec."""
    fake_server.reset()
    yield fake_server
    assert fake_server.violations == [], "requests outside GitHub's API description"
    assert fake_server.unsupported == [], "requests the fake does not model"


@pytest_asyncio.fixture(scope="session")
async def pg_ready() -> bool:
    """Migrate the PostgreSQL test database once per session."""
    if not PG_URL:
        return False
    engine = create_engine(PG_URL)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await migrate.upgrade(engine)
    await engine.dispose()
    return True


async def _truncate(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_ready: bool
) -> str:
    """Each storage test runs on SQLite, and on PostgreSQL when configured."""
    if request.param == "sqlite":
        return _sqlite_url(tmp_path)
    if not pg_ready or not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL run skipped")
    await _truncate(PG_URL)
    return PG_URL


def make_settings(fake: FakeGitHub, private_key: str, database_url: str) -> Settings:
    return Settings(
        webhook_secret=SECRET,
        app_id=str(APP_ID),
        private_key=private_key,
        database_url=database_url,
        github_api_url=fake.url,
        github_graphql_url=fake.url + "/graphql",
        app_slug=fake.app_slug,
        super_admins=frozenset({"root-admin"}),
        api_secret="test-api-secret",
        retry_base_seconds=0.0,
        max_attempts=4,
    )


@pytest_asyncio.fixture
async def bot(
    gh: FakeGitHub, app_key: tuple[str, str], tmp_path: Path
) -> AsyncIterator[Bot]:
    """The app on SQLite, its worker driven by the test through `drain()`."""
    running = await start_bot(
        make_settings(gh, app_key[0], _sqlite_url(tmp_path)), tmp_path / ".env"
    )
    yield running
    await stop_bot(running)


@pytest_asyncio.fixture
async def bot_any_db(
    gh: FakeGitHub, app_key: tuple[str, str], database_url: str
) -> AsyncIterator[Bot]:
    """The app on each configured database."""
    running = await start_bot(make_settings(gh, app_key[0], database_url))
    yield running
    await stop_bot(running)
