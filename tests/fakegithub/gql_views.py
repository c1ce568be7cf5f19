"""The world as GraphQL objects: dicts whose callables resolve fields with arguments.

graphql-core's default resolver reads a dict key and, when the value is callable,
calls it with (info, **arguments); `__typename` picks the member of a union or
interface. Only what the bot asks for is modelled; a selection of something not
modelled comes back null or as an error, and is listed in `unsupported`."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from typing import Any

from .gql import GitHubError
from .shapes import HTML, Shapes
from .state import (
    Issue,
    NotFound,
    Project,
    ProjectField,
    ProjectItem,
    ProjectOption,
    Repo,
    iso,
    now,
)

View = dict[str, Any]
PAGE_LIMIT = 100
CLOSING_KEYWORDS = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+(?:([\w.-]+/[\w.-]+))?#(\d+)",
    re.IGNORECASE,
)


def cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def index_of(value: str) -> int:
    try:
        return int(base64.b64decode(value).decode().rsplit(":", 1)[-1])
    except (ValueError, UnicodeDecodeError) as error:
        message = f"`{value}` does not appear to be a valid cursor."
        raise GitHubError(message, "INVALID_CURSOR_ARGUMENTS") from error


class Connections:
    """Relay connections with GitHub's pagination rules."""

    def __init__(self, violation: Callable[[str], None]) -> None:
        self.violation = violation

    def __call__(self, name: str, views: Sequence[Any], **arguments: Any) -> View:
        first, last = arguments.get("first"), arguments.get("last")
        if first is None and last is None:
            message = (
                "You must provide a `first` or `last` value to properly paginate "
                f"the `{name}` connection."
            )
            self.violation(f"GraphQL: {message}")
            raise GitHubError(message, "MISSING_PAGINATION_BOUNDARIES")
        for key, limit in (("first", first), ("last", last)):
            if limit is not None and not 0 <= limit <= PAGE_LIMIT:
                message = (
                    f"Requesting {limit} records on the `{name}` connection exceeds "
                    f"the `{key}` limit of {PAGE_LIMIT} records."
                )
                self.violation(f"GraphQL: {message}")
                raise GitHubError(message, "EXCESSIVE_PAGINATION")
        return page(views, first, last, arguments.get("after"), arguments.get("before"))


def page(
    views: Sequence[Any],
    first: int | None,
    last: int | None,
    after: str | None,
    before: str | None,
) -> View:
    start = index_of(after) + 1 if after else 0
    stop = index_of(before) if before else len(views)
    indexes = list(range(start, min(stop, len(views))))
    if first is not None:
        indexes = indexes[:first]
    if last is not None:
        indexes = indexes[-last:] if last else []
    edges = [{"node": views[i], "cursor": cursor(i)} for i in indexes]
    return {
        "nodes": [views[i] for i in indexes],
        "edges": edges,
        "totalCount": len(views),
        "pageInfo": {
            "hasNextPage": bool(indexes) and indexes[-1] < len(views) - 1,
            "hasPreviousPage": bool(indexes) and indexes[0] > 0,
            "startCursor": cursor(indexes[0]) if indexes else None,
            "endCursor": cursor(indexes[-1]) if indexes else None,
        },
    }


def not_found(message: str) -> GitHubError:
    return GitHubError(message, "NOT_FOUND")


class GraphQLViews:
    """Builds the root value (queries and mutations) for one GraphQL request."""

    def __init__(
        self,
        shapes: Shapes,
        violation: Callable[[str], None],
        permissions: dict[str, str] | None = None,
    ) -> None:
        self.shapes = shapes
        self.world = shapes.world
        self.connection = Connections(violation)
        # None: not checked. Projects need the organization_projects permission.
        self.permissions = permissions

    def require_projects(self, write: bool = False) -> None:
        if self.permissions is None:
            return
        granted = self.permissions.get("organization_projects")
        if granted in ("write", "admin") or (granted == "read" and not write):
            return
        raise GitHubError("Resource not accessible by integration", "FORBIDDEN")

    def root(self, viewer: str) -> View:
        return {
            "organization": lambda info, login: self.organization(login),
            "user": lambda info, login: self.owner_or_none(login, "User"),
            "repository": lambda info, owner, name, **_: self.repository_named(
                owner, name
            ),
            "node": lambda info, id: self.node(id),
            "nodes": lambda info, ids: [self.node(i, missing_ok=True) for i in ids],
            "viewer": lambda info: self.actor(viewer),
            "rateLimit": lambda info, **_: rate_limit(),
            "addProjectV2ItemById": lambda info, input: self.add_item(input),
            "updateProjectV2ItemFieldValue": lambda info, input: self.update_item(
                input
            ),
            "clearProjectV2ItemFieldValue": lambda info, input: self.clear_item(input),
            "deleteProjectV2Item": lambda info, input: self.delete_item(input),
            "archiveProjectV2Item": lambda info, input: self.archive_item(input, True),
            "unarchiveProjectV2Item": lambda info, input: self.archive_item(
                input, False
            ),
        }

    # owners and actors

    def organization(self, login: str) -> View:
        if not self.shapes.is_org(login):
            raise not_found(
                f"Could not resolve to an Organization with the login of '{login}'."
            )
        return self.owner(login, "Organization")

    def owner_or_none(self, login: str, kind: str) -> View:
        if login.lower() not in self.world.users or self.shapes.is_org(login):
            raise not_found(
                f"Could not resolve to a {kind} with the login of '{login}'."
            )
        return self.owner(login, kind)

    def owner(self, login: str, kind: str) -> View:
        user = self.world.ensure_user(login, kind)
        view = self.actor(login)
        projects = [
            p for (owner, _), p in self.world.projects.items() if owner == login.lower()
        ]
        view.update(
            __typename=kind,
            name=user.name,
            projectV2=lambda info, number: self.project(login, number),
            projectsV2=lambda info, **args: self.connection(
                "projectsV2", [self.project_view(p) for p in projects], **args
            ),
        )
        return view

    def actor(self, login: str) -> View:
        user = self.world.ensure_user(login)
        return {
            "__typename": "Bot" if user.type == "Bot" else user.type,
            "id": user.node_id,
            "databaseId": user.id,
            "login": user.login,
            "url": f"{HTML}/{user.login}",
            "avatarUrl": f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
            "resourcePath": f"/{user.login}",
        }

    # repositories, issues, pull requests

    def repository_named(self, owner: str, name: str) -> View:
        try:
            return self.repository(self.world.repo(f"{owner}/{name}"))
        except NotFound:
            raise not_found(
                f"Could not resolve to a Repository with the name '{owner}/{name}'."
            ) from None

    def repository(self, repo: Repo) -> View:
        kind = "Organization" if self.shapes.is_org(repo.owner) else "User"
        return {
            "__typename": "Repository",
            "id": repo.node_id,
            "databaseId": repo.id,
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "url": f"{HTML}/{repo.full_name}",
            "isPrivate": repo.private,
            "isTemplate": repo.is_template,
            "owner": lambda info: self.owner(repo.owner, kind),
            "defaultBranchRef": {"name": repo.default_branch, "prefix": "refs/heads/"},
            "issue": lambda info, number: self.issue_in(repo, number, pull=False),
            "pullRequest": lambda info, number: self.issue_in(repo, number, pull=True),
            "issueOrPullRequest": lambda info, number: self.issue_in(
                repo, number, pull=None
            ),
        }

    def issue_in(self, repo: Repo, number: int, pull: bool | None) -> View:
        issue = repo.issues.get(number)
        kind = {True: "PullRequest", False: "Issue", None: "Issue"}[pull]
        if issue is None or (pull is not None and (issue.pull is not None) != pull):
            raise not_found(
                f"Could not resolve to an {kind} with the number of {number}."
            )
        return self.issue(repo, issue)

    def issue(self, repo: Repo, issue: Issue) -> View:
        is_pull = issue.pull is not None
        kind = "pull" if is_pull else "issues"
        view: View = {
            "__typename": "PullRequest" if is_pull else "Issue",
            "id": issue.node_id,
            "databaseId": issue.id,
            "number": issue.number,
            "title": issue.title,
            "body": issue.body or "",
            "state": self.issue_state(issue),
            "stateReason": (issue.state_reason or "").upper() or None,
            "closed": issue.state == "closed",
            "url": f"{HTML}/{repo.full_name}/{kind}/{issue.number}",
            "createdAt": iso(issue.created_at),
            "updatedAt": iso(issue.updated_at),
            "closedAt": iso(issue.closed_at),
            "author": lambda info: self.actor(issue.user),
            "repository": lambda info: self.repository(repo),
            "labels": lambda info, **args: self.connection(
                "labels", [self.label(repo, name) for name in issue.labels], **args
            ),
            "assignees": lambda info, **args: self.connection(
                "assignees", [self.actor(login) for login in issue.assignees], **args
            ),
            "projectItems": lambda info, **args: self.connection(
                "projectItems",
                self.items_of(issue.node_id, args.get("includeArchived", True)),
                **args,
            ),
        }
        if issue.pull is not None:
            view.update(self.pull_fields(repo, issue))
        return view

    def issue_state(self, issue: Issue) -> str:
        if issue.pull is not None and issue.pull.merged:
            return "MERGED"
        return issue.state.upper()

    def pull_fields(self, repo: Repo, issue: Issue) -> View:
        pull = issue.pull
        assert pull is not None
        return {
            "headRefName": pull.head_ref,
            "headRefOid": pull.head_sha,
            "baseRefName": pull.base_ref,
            "baseRefOid": pull.base_sha,
            "isDraft": pull.draft,
            "merged": pull.merged,
            "isCrossRepository": pull.fork,
            "closingIssuesReferences": lambda info, **args: self.connection(
                "closingIssuesReferences", self.closing_issues(repo, issue), **args
            ),
        }

    def closing_issues(self, repo: Repo, issue: Issue) -> list[View]:
        """Issues the PR closes: linked by hand, or by a closing keyword in its body."""
        assert issue.pull is not None
        found: list[tuple[Repo, Issue]] = []
        references = [(repo.full_name, n) for n in issue.pull.linked_issues]
        for other, number in CLOSING_KEYWORDS.findall(issue.body or ""):
            references.append((other or repo.full_name, int(number)))
        for full_name, number in references:
            target_repo = self.world.repos.get(full_name.lower())
            target = target_repo.issues.get(number) if target_repo else None
            if (
                target_repo
                and target
                and target.pull is None
                and (target_repo, target) not in found
            ):
                found.append((target_repo, target))
        return [self.issue(r, i) for r, i in found]

    def label(self, repo: Repo, name: str) -> View:
        label = repo.label(name)
        return {
            "__typename": "Label",
            "id": label.node_id,
            "name": label.name,
            "color": label.color,
            "description": label.description,
        }

    # projects

    def project(self, owner: str, number: int) -> View:
        self.require_projects()
        try:
            return self.project_view(self.world.project(owner, number))
        except NotFound:
            raise not_found(
                f"Could not resolve to a ProjectV2 with the number {number}."
            ) from None

    def project_view(self, project: Project) -> View:
        return {
            "__typename": "ProjectV2",
            "id": project.id,
            "databaseId": project.database_id,
            "number": project.number,
            "title": project.title,
            "closed": False,
            "public": False,
            "template": False,
            "shortDescription": None,
            "readme": None,
            "url": f"{HTML}/orgs/{project.owner}/projects/{project.number}",
            "resourcePath": f"/orgs/{project.owner}/projects/{project.number}",
            "createdAt": iso(project.created_at),
            "updatedAt": iso(project.created_at),
            "owner": lambda info: self.owner(project.owner, "Organization"),
            "field": lambda info, name: self.field_or_none(project, name),
            "fields": lambda info, **args: self.connection(
                "fields", [self.field(project, f) for f in project.fields], **args
            ),
            "items": lambda info, **args: self.connection(
                "items", [self.item(project, i) for i in project.items], **args
            ),
        }

    def field_or_none(self, project: Project, name: str) -> View | None:
        found = project.field_named(name)
        return None if found is None else self.field(project, found)

    def field(self, project: Project, field: ProjectField) -> View:
        view: View = {
            "__typename": "ProjectV2Field",
            "id": field.id,
            "databaseId": field.database_id,
            "name": field.name,
            "dataType": field.data_type,
            "createdAt": iso(project.created_at),
            "updatedAt": iso(project.created_at),
            "project": lambda info: self.project_view(project),
        }
        if field.data_type == "SINGLE_SELECT":
            view["__typename"] = "ProjectV2SingleSelectField"
            view["options"] = lambda info, names=None: [
                option_view(o)
                for o in field.options
                if names is None or o.name in names
            ]
        return view

    def items_of(self, content_id: str, include_archived: bool) -> list[View]:
        return [
            self.item(project, item)
            for project in self.world.projects.values()
            for item in project.items
            if item.content_id == content_id and (include_archived or not item.archived)
        ]

    def item(self, project: Project, item: ProjectItem) -> View:
        content = self.content(item.content_id)
        return {
            "__typename": "ProjectV2Item",
            "id": item.id,
            "databaseId": item.database_id,
            "isArchived": item.archived,
            "type": "PULL_REQUEST"
            if content["__typename"] == "PullRequest"
            else "ISSUE",
            "createdAt": iso(item.created_at),
            "updatedAt": iso(item.updated_at),
            "content": lambda info: content,
            "project": lambda info: self.project_view(project),
            "fieldValueByName": lambda info, name: self.value_named(
                project, item, name
            ),
            "fieldValues": lambda info, **args: self.connection(
                "fieldValues", self.values(project, item), **args
            ),
        }

    def content(self, content_id: str) -> View:
        found = self.world.find_issue_by_node(content_id)
        if found is None:
            raise not_found(
                f"Could not resolve to a node with the global id of '{content_id}'"
            )
        return self.issue(*found)

    def values(self, project: Project, item: ProjectItem) -> list[View]:
        views = [self.value(project, item, f) for f in project.fields]
        return [v for v in views if v is not None]

    def value_named(
        self, project: Project, item: ProjectItem, name: str
    ) -> View | None:
        found = project.field_named(name)
        return None if found is None else self.value(project, item, found)

    def value(
        self, project: Project, item: ProjectItem, field: ProjectField
    ) -> View | None:
        base: View = {
            "id": f"PVTFSV_{item.id[5:]}{field.database_id}",
            "databaseId": field.database_id,
            "createdAt": iso(item.created_at),
            "updatedAt": iso(item.updated_at),
            "field": lambda info: self.field(project, field),
            "item": lambda info: self.item(project, item),
        }
        if field.data_type == "TITLE":
            title = self.content(item.content_id)["title"]
            return {**base, "__typename": "ProjectV2ItemFieldTextValue", "text": title}
        raw = item.values.get(field.id)
        if raw is None:
            return None
        if field.data_type == "SINGLE_SELECT":
            option = field.option(raw)
            assert option is not None
            return {
                **base,
                "__typename": "ProjectV2ItemFieldSingleSelectValue",
                "optionId": option.id,
                "name": option.name,
                "nameHTML": option.name,
                "color": option.color,
                "description": option.description,
                "descriptionHTML": option.description,
            }
        typename, key = {
            "TEXT": ("ProjectV2ItemFieldTextValue", "text"),
            "NUMBER": ("ProjectV2ItemFieldNumberValue", "number"),
            "DATE": ("ProjectV2ItemFieldDateValue", "date"),
        }[field.data_type]
        return {**base, "__typename": typename, key: raw}

    # nodes

    def node(self, node: str, missing_ok: bool = False) -> View | None:
        found = self.find_node(node)
        if found is None and not missing_ok:
            raise not_found(
                f"Could not resolve to a node with the global id of '{node}'"
            )
        return found

    def find_node(self, node: str) -> View | None:
        issue = self.world.find_issue_by_node(node)
        if issue is not None:
            return self.issue(*issue)
        item = self.world.find_project_item(node)
        if item is not None:
            self.require_projects()
            return self.item(*item)
        for project in self.world.projects.values():
            if project.id == node:
                return self.project_view(project)
            for field in project.fields:
                if field.id == node:
                    return self.field(project, field)
        for repo in self.world.repos.values():
            if repo.node_id == node:
                return self.repository(repo)
        for user in self.world.users.values():
            if user.node_id == node:
                return self.actor(user.login)
        return None

    # mutations

    def project_by_id(self, project_id: str) -> Project:
        self.require_projects(write=True)
        for project in self.world.projects.values():
            if project.id == project_id:
                return project
        raise not_found(
            f"Could not resolve to a node with the global id of '{project_id}'"
        )

    def item_by_id(self, project: Project, item_id: str) -> ProjectItem:
        item = project.item(item_id)
        if item is None:
            raise not_found(
                f"Could not resolve to a node with the global id of '{item_id}'"
            )
        return item

    def add_item(self, input: dict[str, Any]) -> View:
        """Content already on the board gets its existing item back, as on GitHub."""
        project = self.project_by_id(input["projectId"])
        content_id = input["contentId"]
        self.content(content_id)
        item = project.item_for(content_id)
        if item is None:
            item = new_item(self.world.new_id(), content_id)
            project.items.append(item)
        return {
            "clientMutationId": input.get("clientMutationId"),
            "item": self.item(project, item),
        }

    def update_item(self, input: dict[str, Any]) -> View:
        project = self.project_by_id(input["projectId"])
        item = self.item_by_id(project, input["itemId"])
        field = project.field_by_id(input["fieldId"])
        if field is None:
            raise not_found(
                "Could not resolve to a node with the global id of "
                f"'{input['fieldId']}'"
            )
        item.values[field.id] = field_value(field, input["value"])
        item.updated_at = now()
        return {
            "clientMutationId": input.get("clientMutationId"),
            "projectV2Item": self.item(project, item),
        }

    def clear_item(self, input: dict[str, Any]) -> View:
        project = self.project_by_id(input["projectId"])
        item = self.item_by_id(project, input["itemId"])
        item.values.pop(input["fieldId"], None)
        return {
            "clientMutationId": input.get("clientMutationId"),
            "projectV2Item": self.item(project, item),
        }

    def delete_item(self, input: dict[str, Any]) -> View:
        project = self.project_by_id(input["projectId"])
        item = self.item_by_id(project, input["itemId"])
        project.items.remove(item)
        return {
            "clientMutationId": input.get("clientMutationId"),
            "deletedItemId": item.id,
        }

    def archive_item(self, input: dict[str, Any], archived: bool) -> View:
        project = self.project_by_id(input["projectId"])
        item = self.item_by_id(project, input["itemId"])
        item.archived = archived
        return {
            "clientMutationId": input.get("clientMutationId"),
            "item": self.item(project, item),
        }


def new_item(number: int, content_id: str) -> ProjectItem:
    return ProjectItem(
        id=project_node_id("PVTI", number), database_id=number, content_id=content_id
    )


def project_node_id(prefix: str, number: int) -> str:
    """Project v2 ids look like PVTI_lADOBq0... on GitHub."""
    encoded = base64.urlsafe_b64encode(number.to_bytes(8, "big")).decode().rstrip("=")
    return f"{prefix}_lADO{encoded}"


def option_view(option: ProjectOption) -> View:
    return {
        "id": option.id,
        "name": option.name,
        "nameHTML": option.name,
        "color": option.color,
        "description": option.description,
        "descriptionHTML": option.description,
    }


def field_value(field: ProjectField, value: dict[str, Any]) -> Any:
    """The stored value for an update, refusing what GitHub refuses."""
    given = {k: v for k, v in value.items() if v is not None}
    expected = {
        "SINGLE_SELECT": "singleSelectOptionId",
        "TEXT": "text",
        "NUMBER": "number",
        "DATE": "date",
    }.get(field.data_type)
    if expected is None or list(given) != [expected]:
        raise GitHubError(
            f"Did not receive a {field.data_type.lower().replace('_', ' ')} value "
            f"to update a field of type {field.data_type.lower()}",
            "UNPROCESSABLE",
        )
    if field.data_type == "SINGLE_SELECT" and field.option(given[expected]) is None:
        raise GitHubError(
            "The single select option Id does not belong to the field", "UNPROCESSABLE"
        )
    return given[expected]


def rate_limit() -> View:
    return {
        "limit": 5000,
        "cost": 1,
        "remaining": 4999,
        "used": 1,
        "resetAt": iso(now()),
        "nodeCount": 0,
    }
