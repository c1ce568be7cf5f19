"""REST handlers: repositories, contents, branches, collaborators, dispatches."""

from __future__ import annotations

from .rest import Call, Reply, error, not_found, route
from .shapes import fake_sha
from .state import Dispatch, Invalid, Repo, node_id, now

# collaborator permission as granted -> (permission as reported, role name)
PERMISSIONS = {
    "admin": ("admin", "admin"),
    "maintain": ("write", "maintain"),
    "push": ("write", "write"),
    "triage": ("read", "triage"),
    "pull": ("read", "read"),
}


@route("repos/get")
def get_repo(call: Call) -> Reply:
    return Reply(200, call.fake.shapes.full_repository(call.repo))


@route("repos/create-using-template")
def generate_repo(call: Call) -> Reply:
    """Generate a repository; its branch 404s for a while (`fake.template_delay`)."""
    template, body = call.repo, call.body
    if not template.is_template:
        return error(422, f"{template.full_name} is not a template repository")
    owner = body.get("owner") or template.owner
    full_name = f"{owner}/{body['name']}"
    if full_name.lower() in call.fake.world.repos:
        raise Invalid(
            "Repository creation failed.",
            [
                {
                    "resource": "Repository",
                    "code": "custom",
                    "field": "name",
                    "message": "name already exists on this account",
                }
            ],
        )
    repo = call.fake.generate_repo(template, full_name, body)
    return Reply(201, call.fake.shapes.full_repository(repo))


@route("repos/get-branch")
def get_branch(call: Call) -> Reply:
    repo, name = call.repo, call.params["branch"]
    if repo.branch_404s_left > 0:
        repo.branch_404s_left -= 1
        return error(404, "Branch not found")
    if name not in repo.branches:
        return error(404, "Branch not found")
    return Reply(200, call.fake.shapes.branch(repo, name, repo.branches[name]))


@route("repos/get-content")
def get_content(call: Call) -> Reply:
    repo, path = call.repo, call.params["path"].strip("/")
    ref = call.query.get("ref", repo.default_branch)
    if ref not in (
        repo.default_branch,
        f"heads/{repo.default_branch}",
        repo.branches.get(repo.default_branch),
    ):
        return not_found()  # the fake keeps files on the default branch only
    if path not in repo.files:
        return not_found()
    return Reply(200, call.fake.shapes.content_file(repo, path, repo.files[path]))


@route("repos/add-collaborator")
def add_collaborator(call: Call) -> Reply:
    """A new collaborator gets an invitation (201); the fake accepts it at once."""
    repo, login = call.repo, call.params["username"]
    permission = (call.body or {}).get("permission", "push")
    if login in repo.collaborators:
        repo.collaborators[login] = permission
        return Reply(204)
    repo.collaborators[login] = permission
    return Reply(201, invitation(call, repo, login, permission))


def invitation(
    call: Call, repo: Repo, login: str, permission: str
) -> dict[str, object]:
    shapes = call.fake.shapes
    invitation_id = call.fake.world.new_id()
    names = {"push": "write", "pull": "read"}
    return {
        "id": invitation_id,
        "node_id": node_id("RI", invitation_id),
        "repository": shapes.minimal_repository(repo),
        "invitee": shapes.simple_user(login),
        "inviter": shapes.simple_user(call.actor),
        "permissions": names.get(permission, permission),
        "created_at": now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expired": False,
        "url": f"{call.fake.url}/user/repository_invitations/{invitation_id}",
        "html_url": f"https://github.com/{repo.full_name}/invitations",
    }


@route("repos/check-collaborator")
def check_collaborator(call: Call) -> Reply:
    login = call.params["username"]
    return (
        Reply(204) if permission_of(call, call.repo, login) != "none" else not_found()
    )


@route("repos/get-collaborator-permission-level")
def get_permission(call: Call) -> Reply:
    repo, login = call.repo, call.params["username"]
    if login.lower() not in call.fake.world.users:
        return not_found()
    granted = permission_of(call, repo, login)
    permission, role = PERMISSIONS.get(granted, ("none", "none"))
    user = {
        **call.fake.shapes.simple_user(login),
        "permissions": {
            "admin": permission == "admin",
            "maintain": role in ("admin", "maintain"),
            "push": permission in ("admin", "write"),
            "triage": permission != "none",
            "pull": permission != "none",
        },
        "role_name": role,
    }
    return Reply(200, {"permission": permission, "role_name": role, "user": user})


def permission_of(call: Call, repo: Repo, login: str) -> str:
    """Explicit collaborator permission, else what organisation membership gives."""
    if login in repo.collaborators:
        return repo.collaborators[login]
    if login.lower() == repo.owner.lower():
        return "admin"
    role = call.fake.world.org_members.get(repo.owner.lower(), {}).get(login.lower())
    return {"admin": "admin", "member": "pull"}.get(role or "", "none")


@route("repos/create-dispatch-event")
def dispatch(call: Call) -> Reply:
    body = call.body
    event = Dispatch(body["event_type"], body.get("client_payload") or {}, call.actor)
    call.repo.dispatches.append(event)
    return Reply(204)


def new_head_sha(repo: Repo) -> str:
    return fake_sha("head", repo.full_name, now().isoformat())
