"""Settings read once from the environment and validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./workflow-bot.db"
DEFAULT_API_URL = "https://api.github.com"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    webhook_secret: str
    app_id: str | None = None
    private_key: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    github_api_url: str = DEFAULT_API_URL
    github_graphql_url: str = DEFAULT_API_URL + "/graphql"
    host: str = "0.0.0.0"
    port: int = 3000
    super_admins: frozenset[str] = field(default_factory=frozenset)
    app_slug: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_secret: str | None = None
    # GitHub's web host (OAuth pages); None derives it from the API URL.
    github_web_url: str | None = None
    amqp_url: str | None = None
    public_url: str | None = None
    worker_concurrency: int = 8
    max_attempts: int = 8
    retry_base_seconds: float = 2.0
    reconcile_interval_seconds: float = 0.0
    log_level: str = "INFO"

    @property
    def can_call_github(self) -> bool:
        return self.app_id is not None and self.private_key is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def require_github(self) -> None:
        """Stop start-up when the App identity the worker needs is missing."""
        if self.app_id is None:
            raise SettingsError("APP_ID is not set: the GitHub App id is required")
        if self.private_key is None:
            raise SettingsError(
                "PRIVATE_KEY or PRIVATE_KEY_PATH is not set: "
                "the GitHub App private key is required"
            )


def graphql_url_for(api_url: str) -> str:
    """GitHub Enterprise Server serves GraphQL beside /api/v3, not below it."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base.removesuffix("/v3") + "/graphql"
    return base + "/graphql"


def load_environment(env_file: str | Path = ".env") -> dict[str, str]:
    """The process environment over the values of a `.env` file, if present."""
    merged = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    merged.update(os.environ)
    return merged


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


def _checked(settings: Settings) -> Settings:
    if settings.log_level not in LOG_LEVELS:
        raise SettingsError(
            f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, "
            f"got {settings.log_level!r}"
        )
    if not settings.database_url.startswith(DATABASE_SCHEMES):
        raise SettingsError(
            "DATABASE_URL must start with sqlite+aiosqlite:// or "
            f"postgresql+asyncpg://, got {settings.database_url.split(':')[0]!r}"
        )
    if settings.max_attempts < 1:
        raise SettingsError("MAX_ATTEMPTS must be at least 1")
    return settings


def from_env(env: Mapping[str, str]) -> Settings:
    """Build the one settings object; raise SettingsError naming a bad variable."""
    secret = _text(env, "WEBHOOK_SECRET")
    if secret is None:
        raise SettingsError(
            "WEBHOOK_SECRET is not set: deliveries cannot be verified without it"
        )
    api_url = (_text(env, "GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    return _checked(
        Settings(
            webhook_secret=secret,
            app_id=_text(env, "APP_ID"),
            private_key=_private_key(env),
            database_url=_text(env, "DATABASE_URL") or DEFAULT_DATABASE_URL,
            github_api_url=api_url,
            github_graphql_url=_text(env, "GITHUB_GRAPHQL_URL")
            or graphql_url_for(api_url),
            host=_text(env, "HOST") or "0.0.0.0",
            port=_integer(env, "PORT", 3000),
            super_admins=_logins(env.get("SUPER_ADMINS", "")),
            app_slug=_text(env, "APP_SLUG"),
            client_id=_text(env, "GITHUB_CLIENT_ID"),
            client_secret=_text(env, "GITHUB_CLIENT_SECRET"),
            api_secret=_text(env, "API_SECRET"),
            github_web_url=_web_url(env),
            amqp_url=_text(env, "AMQP_URL"),
            public_url=_text(env, "PUBLIC_URL"),
            worker_concurrency=_integer(env, "WORKER_CONCURRENCY", 8),
            max_attempts=_integer(env, "MAX_ATTEMPTS", 8),
            retry_base_seconds=_number(env, "RETRY_BASE_SECONDS", 2.0),
            reconcile_interval_seconds=_number(env, "RECONCILE_INTERVAL_SECONDS", 0.0),
            log_level=(_text(env, "LOG_LEVEL") or "INFO").upper(),
        )
    )


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {raw!r}")
    return value


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def _web_url(env: Mapping[str, str]) -> str | None:
    value = _text(env, "GITHUB_WEB_URL")
    return value.rstrip("/") if value else None


def _logins(raw: str) -> frozenset[str]:
    return frozenset(p.strip().lstrip("@").lower() for p in raw.split(",") if p.strip())


def _private_key(env: Mapping[str, str]) -> str | None:
    inline = _text(env, "PRIVATE_KEY")
    if inline is not None:
        # One-line deploy settings often carry the PEM with literal "\n".
        return inline.replace("\\n", "\n")
    path = _text(env, "PRIVATE_KEY_PATH")
    if path is None:
        return None
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise SettingsError(
            f"PRIVATE_KEY_PATH cannot be read: {path} ({exc.strerror})"
        ) from None
