"""REST handlers: the App, installations, tokens, users, organisations, teams."""

from __future__ import annotations

import functools
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .auth import issue_token
from .rest import Call, Reply, error, not_found, paginate, route
from .state import iso


@route("apps/get-authenticated")
def get_app(call: Call) -> Reply:
    return Reply(200, call.fake.shapes.authenticated_app())


@route("apps/create-installation-access-token")
def create_token(call: Call) -> Reply:
    world = call.fake.world
    installation = world.installation(call.number("installation_id"))
    body = call.body or {}
    repo_ids = body.get("repository_ids")
    if body.get("repositories"):
        names = [f"{installation.account}/{name}" for name in body["repositories"]]
        repo_ids = [world.repo(name).id for name in names]
    token = issue_token(
        world,
        installation.id,
        call.fake.token_lifetime,
        body.get("permissions"),
        repo_ids,
    )
    call.fake.tokens_issued += 1
    shape = {
        "token": token.token,
        "expires_at": iso(token.expires_at),
        "permissions": token.permissions,
        "repository_selection": "selected"
        if repo_ids
        else installation.repository_selection,
    }
    return Reply(201, shape)


@route("apps/list-installations")
def list_installations(call: Call) -> Reply:
    shapes = call.fake.shapes
    items = [shapes.installation(i) for i in call.fake.world.installations.values()]
    return paginate(call, items)


@route("apps/get-installation")
def get_installation(call: Call) -> Reply:
    installation = call.fake.world.installation(call.number("installation_id"))
    return Reply(200, call.fake.shapes.installation(installation))


@route("apps/get-repo-installation")
def get_repo_installation(call: Call) -> Reply:
    repo = call.repo
    installation = call.fake.installation_of(repo)
    if installation is None:
        return not_found()
    return Reply(200, call.fake.shapes.installation(installation))


@route("apps/get-org-installation")
def get_org_installation(call: Call) -> Reply:
    return account_installation(call, call.params["org"])


@route("apps/get-user-installation")
def get_user_installation(call: Call) -> Reply:
    return account_installation(call, call.params["username"])


def account_installation(call: Call, account: str) -> Reply:
    installation = call.fake.world.installation_for(account)
    if installation is None:
        return not_found()
    return Reply(200, call.fake.shapes.installation(installation))


@route("apps/list-repos-accessible-to-installation")
def list_installation_repos(call: Call) -> Reply:
    assert call.token is not None
    repos = [
        call.fake.shapes.repository(r)
        for r in call.fake.world.repos.values()
        if call.fake.token_sees(call.token, r)
    ]
    reply = paginate(call, repos, key="repositories")
    installation = call.fake.world.installation(call.token.installation_id)
    reply.body["repository_selection"] = installation.repository_selection
    return reply


@route("apps/list-webhook-deliveries")
def list_deliveries(call: Call) -> Reply:
    return paginate(call, [summary(d) for d in call.fake.hook_deliveries])


@route("apps/get-webhook-delivery")
def get_delivery(call: Call) -> Reply:
    wanted = call.number("delivery_id")
    for delivery in call.fake.hook_deliveries:
        if delivery["id"] == wanted:
            return Reply(200, delivery)
    return not_found()


@route("apps/redeliver-webhook-delivery")
def redeliver(call: Call) -> Reply:
    wanted = call.number("delivery_id")
    if not any(d["id"] == wanted for d in call.fake.hook_deliveries):
        return not_found()
    call.fake.redeliveries.append(wanted)
    return Reply(202, {})


def summary(delivery: dict[str, Any]) -> dict[str, Any]:
    """A delivery as listed: without its request and response."""
    return {k: v for k, v in delivery.items() if k not in ("request", "response")}


@functools.cache
def manifest_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@route("apps/create-from-manifest")
def convert_manifest(call: Call) -> Reply:
    """Any code is accepted once; `fake.manifest_codes` (if set) limits which."""
    code = call.params["code"]
    allowed = call.fake.manifest_codes
    if allowed is not None and code not in allowed:
        return not_found()
    if allowed is not None:
        allowed.discard(code)
    shape = {
        **call.fake.shapes.integration(),
        "client_id": "Iv1.8a61f9b3a7aba766",
        "client_secret": secrets.token_hex(20),
        "webhook_secret": secrets.token_hex(20),
        "pem": manifest_pem(),
    }
    return Reply(201, shape)


@route("rate-limit/get")
def get_rate_limit(call: Call) -> Reply:
    core = call.fake.rate_limit_state("core")
    graphql = call.fake.rate_limit_state("graphql")
    resources = {
        "core": core,
        "graphql": graphql,
        "search": dict(core, limit=30, remaining=30, used=0),
    }
    return Reply(200, {"resources": resources, "rate": core})


@route("users/get-by-username")
def get_user(call: Call) -> Reply:
    login = call.params["username"]
    if login.lower() not in call.fake.world.users:
        return not_found()
    return Reply(200, call.fake.shapes.public_user(login))


@route("users/get-authenticated")
def get_authenticated_user(call: Call) -> Reply:
    # Installation tokens may not call GET /user on GitHub.
    return error(403, "Resource not accessible by integration")


@route("orgs/get-membership-for-user")
def get_org_membership(call: Call) -> Reply:
    org, login = call.params["org"], call.params["username"]
    role = call.fake.world.org_members.get(org.lower(), {}).get(login.lower())
    if role is None:
        return not_found()
    shapes = call.fake.shapes
    org_user = shapes.user_shape(call.fake.world.ensure_user(org, "Organization"))
    url = f"{call.fake.url}/orgs/{org}"
    organization = {
        "login": org_user["login"],
        "id": org_user["id"],
        "node_id": org_user["node_id"],
        "url": url,
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues",
        "members_url": f"{url}/members{{/member}}",
        "public_members_url": f"{url}/public_members{{/member}}",
        "avatar_url": org_user["avatar_url"],
        "description": None,
    }
    shape = {
        "url": f"{url}/memberships/{login}",
        "state": "active",
        "role": role,
        "organization_url": url,
        "organization": organization,
        "user": shapes.simple_user(login),
    }
    return Reply(200, shape)


@route("teams/get-membership-for-user-in-org")
def get_team_membership(call: Call) -> Reply:
    org, slug, login = (
        call.params["org"],
        call.params["team_slug"],
        call.params["username"],
    )
    team = call.fake.world.teams.get((org.lower(), slug.lower()))
    if team is None:
        return not_found()
    role = team.members.get(login.lower())
    if role is None:
        return not_found()
    url = f"{call.fake.url}/organizations/{org}/team/{team.id}/memberships/{login}"
    return Reply(200, {"url": url, "role": role, "state": "active"})
