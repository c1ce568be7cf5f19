"""Registering the App from `app.yml` through GitHub's manifest flow."""

from __future__ import annotations

import html
import json
import logging
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from aiohttp import web
from gidgethub.aiohttp import GitHubAPI

from bot.appkeys import SERVICES, SETTINGS
from bot.settings import Settings

log = logging.getLogger(__name__)

MANIFEST_FILE = Path(__file__).resolve().parent.parent / "app.yml"
ENV_FILE = web.AppKey("env_file", Path)
STATE = web.AppKey("setup_state", dict[str, str])


def web_url(api_url: str) -> str:
    """github.com for api.github.com; the host itself for GitHub Enterprise."""
    parts = urlsplit(api_url)
    if parts.netloc == "api.github.com":
        return "https://github.com"
    return f"{parts.scheme}://{parts.netloc}"


def manifest(public_url: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST_FILE.read_text())
    base = public_url.rstrip("/")
    data["hook_attributes"] = {"url": f"{base}/webhooks", "active": True}
    data["redirect_url"] = f"{base}/setup/callback"
    data["callback_urls"] = [f"{base}/login/callback"]
    return data


def _page(settings: Settings, public_url: str, state: str) -> str:
    site = web_url(settings.github_api_url)
    payload = html.escape(json.dumps(manifest(public_url)))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Register workflow-bot</title>
<style>body{{font:16px system-ui;max-width:40rem;margin:3rem auto}}</style></head>
<body><h1>Register workflow-bot as a GitHub App</h1>
<p>This server has no App id yet. Register the App from its manifest; GitHub
sends you back here and the App id, key and secrets are written to <code>.env</code>.
Restart the server afterwards.</p>
<form id="f" method="post" action="{site}/settings/apps/new?state={state}">
<label>Organisation (empty for your own account)
<input name="org" id="org" placeholder="acme"></label>
<input type="hidden" name="manifest" value="{payload}">
<button type="submit">Register on GitHub</button></form>
<script>
document.getElementById("f").addEventListener("submit", function () {{
  var org = document.getElementById("org").value.trim();
  if (org) this.action = "{site}/organizations/" + encodeURIComponent(org)
    + "/settings/apps/new?state={state}";
}});
</script></body></html>"""


async def setup_page(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    public_url = settings.public_url or f"{request.scheme}://{request.host}"
    return web.Response(
        text=_page(settings, public_url, request.app[STATE]["value"]),
        content_type="text/html",
    )


async def setup_callback(request: web.Request) -> web.Response:
    if request.query.get("state") != request.app[STATE]["value"]:
        raise web.HTTPBadRequest(text="setup state does not match; start again")
    code = request.query.get("code")
    if not code:
        raise web.HTTPBadRequest(text="GitHub sent no code")
    services = request.app[SERVICES]
    client = GitHubAPI(
        services.http, "workflow-bot", base_url=services.settings.github_api_url
    )
    answer = await client.post(
        "/app-manifests/{code}/conversions", url_vars={"code": code}, data={}
    )
    write_env(request.app[ENV_FILE], credentials(answer))
    # The state is good for one registration only.
    request.app[STATE]["value"] = secrets.token_urlsafe(16)
    log.info("app registered", extra={"app_id": answer.get("id")})
    return web.Response(
        text=f"Registered App {answer.get('slug')!s}. Restart the server.",
    )


def credentials(answer: dict[str, Any]) -> dict[str, str]:
    return {
        "APP_ID": str(answer["id"]),
        "APP_SLUG": str(answer.get("slug") or ""),
        "PRIVATE_KEY": str(answer["pem"]).replace("\n", "\\n"),
        "WEBHOOK_SECRET": str(answer.get("webhook_secret") or ""),
        "GITHUB_CLIENT_ID": str(answer.get("client_id") or ""),
        "GITHUB_CLIENT_SECRET": str(answer.get("client_secret") or ""),
    }


def write_env(path: Path, values: dict[str, str]) -> None:
    """Replace the given keys in `.env`, keeping every other line as it was."""
    kept = []
    if path.exists():
        for line in path.read_text().splitlines():
            key = line.split("=", 1)[0].strip()
            if key not in values:
                kept.append(line)
    kept += [f'{key}="{value}"' for key, value in values.items()]
    path.write_text("\n".join(kept) + "\n")
    path.chmod(0o600)


def add_routes(app: web.Application, env_file: Path = Path(".env")) -> None:
    app[ENV_FILE] = env_file
    app[STATE] = {"value": secrets.token_urlsafe(16)}
    app.router.add_get("/", setup_page)
    app.router.add_get("/setup", setup_page)
    app.router.add_get("/setup/callback", setup_callback)
