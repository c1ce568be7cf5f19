"""REST handlers: issues, labels, assignees, comments and reactions."""

from __future__ import annotations

from typing import Any

from .rest import Call, Reply, error, paginate, route
from .state import Comment, Invalid, Issue, Label, Reaction, Repo, World, node_id, now


def issue_reply(call: Call, issue: Issue, status: int = 200) -> Reply:
    return Reply(status, call.fake.shapes.issue(call.repo, issue))


@route("issues/get")
def get_issue(call: Call) -> Reply:
    return issue_reply(call, call.repo.issue(call.number("issue_number")))


@route("issues/list-for-repo")
def list_issues(call: Call) -> Reply:
    repo = call.repo
    state = call.query.get("state", "open")
    wanted = {n.lower() for n in call.query.get("labels", "").split(",") if n}
    issues = [
        i
        for i in sorted(repo.issues.values(), key=lambda i: -i.number)
        if state in ("all", i.state) and wanted <= {n.lower() for n in i.labels}
    ]
    return paginate(call, [call.fake.shapes.issue(repo, i) for i in issues])


@route("issues/create")
def create_issue(call: Call) -> Reply:
    body = call.body
    issue = call.fake.new_issue(
        call.repo,
        title=str(body["title"]),
        body=body.get("body"),
        author=call.actor,
        labels=label_names(body.get("labels", [])),
        assignees=assignees_of(body),
    )
    return issue_reply(call, issue, 201)


@route("issues/update")
def update_issue(call: Call) -> Reply:
    repo, body = call.repo, call.body
    issue = repo.issue(call.number("issue_number"))
    for key in ("title", "body"):
        if key in body:
            setattr(issue, key, body[key])
    if "state" in body:
        set_state(issue, body["state"], body.get("state_reason"))
    if "labels" in body:
        issue.labels = apply_labels(
            call.fake.world, repo, [], label_names(body["labels"])
        )
    if "assignees" in body or "assignee" in body:
        issue.assignees = assignees_of(body)
    issue.updated_at = now()
    return issue_reply(call, issue)


def set_state(issue: Issue, state: str, reason: str | None) -> None:
    if state == issue.state:
        return
    issue.state = state
    issue.closed_at = now() if state == "closed" else None
    issue.state_reason = reason or ("completed" if state == "closed" else "reopened")


def assignees_of(body: dict[str, Any]) -> list[str]:
    logins = list(body.get("assignees") or [])
    if body.get("assignee"):
        logins.insert(0, body["assignee"])
    return list(dict.fromkeys(logins))


# labels


def label_names(given: Any) -> list[str]:
    """Every request-body form of labels GitHub accepts, as a list of names."""
    if isinstance(given, dict):
        given = given.get("labels", [])
    if isinstance(given, str):
        given = [given]
    return [item["name"] if isinstance(item, dict) else str(item) for item in given]


def ensure_label(world: World, repo: Repo, name: str) -> Label:
    """Adding an unknown label to an issue creates it on the repository too."""
    if name.lower() not in repo.labels:
        label_id = world.new_id()
        repo.labels[name.lower()] = Label(label_id, node_id("LA", label_id), name)
    return repo.labels[name.lower()]


def apply_labels(
    world: World, repo: Repo, current: list[str], names: list[str]
) -> list[str]:
    """Current labels plus `names`, spelled as the repository does, no duplicates."""
    result = list(current)
    for name in names:
        label = ensure_label(world, repo, name)
        if label.name.lower() not in {n.lower() for n in result}:
            result.append(label.name)
    return result


def issue_labels_reply(call: Call, issue: Issue) -> Reply:
    shapes = call.fake.shapes
    return Reply(
        200, [shapes.label(call.repo, call.repo.label(n)) for n in issue.labels]
    )


@route("issues/add-labels")
def add_labels(call: Call) -> Reply:
    repo = call.repo
    issue = repo.issue(call.number("issue_number"))
    issue.labels = apply_labels(
        call.fake.world, repo, issue.labels, label_names(call.body)
    )
    issue.updated_at = now()
    return issue_labels_reply(call, issue)


@route("issues/set-labels")
def set_labels(call: Call) -> Reply:
    repo = call.repo
    issue = repo.issue(call.number("issue_number"))
    names = label_names(call.body if call.body is not None else [])
    issue.labels = apply_labels(call.fake.world, repo, [], names)
    issue.updated_at = now()
    return issue_labels_reply(call, issue)


@route("issues/list-labels-on-issue")
def list_issue_labels(call: Call) -> Reply:
    issue = call.repo.issue(call.number("issue_number"))
    reply = issue_labels_reply(call, issue)
    return paginate(call, reply.body)


@route("issues/remove-label")
def remove_label(call: Call) -> Reply:
    repo = call.repo
    issue = repo.issue(call.number("issue_number"))
    name = call.params["name"].lower()
    if name not in {n.lower() for n in issue.labels}:
        return error(404, "Label does not exist")
    issue.labels = [n for n in issue.labels if n.lower() != name]
    issue.updated_at = now()
    return issue_labels_reply(call, issue)


@route("issues/create-label")
def create_label(call: Call) -> Reply:
    repo, body = call.repo, call.body
    name = body["name"]
    if name.lower() in repo.labels:
        raise Invalid(
            "Validation Failed",
            [{"resource": "Label", "code": "already_exists", "field": "name"}],
        )
    label_id = call.fake.world.new_id()
    label = Label(
        id=label_id,
        node_id=node_id("LA", label_id),
        name=name,
        color=body.get("color", "ededed").lstrip("#").lower(),
        description=body.get("description"),
    )
    repo.labels[name.lower()] = label
    return Reply(201, call.fake.shapes.label(repo, label))


@route("issues/list-labels-for-repo")
def list_repo_labels(call: Call) -> Reply:
    repo = call.repo
    return paginate(
        call, [call.fake.shapes.label(repo, label) for label in repo.labels.values()]
    )


@route("issues/get-label")
def get_label(call: Call) -> Reply:
    repo = call.repo
    return Reply(200, call.fake.shapes.label(repo, repo.label(call.params["name"])))


# assignees


@route("issues/add-assignees")
def add_assignees(call: Call) -> Reply:
    issue = call.repo.issue(call.number("issue_number"))
    logins = (call.body or {}).get("assignees", [])
    issue.assignees = list(dict.fromkeys([*issue.assignees, *logins]))
    issue.updated_at = now()
    return issue_reply(call, issue, 201)


@route("issues/remove-assignees")
def remove_assignees(call: Call) -> Reply:
    issue = call.repo.issue(call.number("issue_number"))
    gone = {login.lower() for login in (call.body or {}).get("assignees", [])}
    issue.assignees = [a for a in issue.assignees if a.lower() not in gone]
    issue.updated_at = now()
    return issue_reply(call, issue)


# comments


def comment_reply(call: Call, comment: Comment, status: int = 200) -> Reply:
    return Reply(status, call.fake.shapes.issue_comment(call.repo, comment))


@route("issues/create-comment")
def create_comment(call: Call) -> Reply:
    repo = call.repo
    issue = repo.issue(call.number("issue_number"))
    comment = call.fake.new_comment(repo, issue.number, call.body["body"], call.actor)
    return comment_reply(call, comment, 201)


@route("issues/list-comments")
def list_comments(call: Call) -> Reply:
    repo = call.repo
    number = repo.issue(call.number("issue_number")).number
    since = call.query.get("since")
    comments = [
        call.fake.shapes.issue_comment(repo, c)
        for c in repo.comments_on(number)
        if since is None or c.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ") >= since
    ]
    return paginate(call, comments)


@route("issues/get-comment")
def get_comment(call: Call) -> Reply:
    return comment_reply(call, call.repo.comment(call.number("comment_id")))


@route("issues/update-comment")
def update_comment(call: Call) -> Reply:
    comment = call.repo.comment(call.number("comment_id"))
    comment.body = call.body["body"]
    comment.updated_at = now()
    return comment_reply(call, comment)


@route("issues/delete-comment")
def delete_comment(call: Call) -> Reply:
    repo = call.repo
    repo.comment(call.number("comment_id"))
    del repo.comments[call.number("comment_id")]
    return Reply(204)


# reactions


def react(call: Call, reactions: list[Reaction]) -> Reply:
    """201 for a new reaction; 200 and the existing one if the user already did."""
    content, user = call.body["content"], call.actor
    for reaction in reactions:
        if reaction.user == user and reaction.content == content:
            return Reply(200, call.fake.shapes.reaction(reaction))
    reaction_id = call.fake.world.new_id()
    reaction = Reaction(reaction_id, node_id("REA", reaction_id), user, content)
    reactions.append(reaction)
    return Reply(201, call.fake.shapes.reaction(reaction))


@route("reactions/create-for-issue-comment")
def react_to_comment(call: Call) -> Reply:
    return react(call, call.repo.comment(call.number("comment_id")).reactions)


@route("reactions/create-for-issue")
def react_to_issue(call: Call) -> Reply:
    return react(call, call.repo.issue(call.number("issue_number")).reactions)


@route("reactions/list-for-issue-comment")
def list_comment_reactions(call: Call) -> Reply:
    reactions = call.repo.comment(call.number("comment_id")).reactions
    wanted = call.query.get("content")
    shapes = [
        call.fake.shapes.reaction(r) for r in reactions if wanted in (None, r.content)
    ]
    return paginate(call, shapes)
