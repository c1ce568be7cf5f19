"""The fake's world: users, installations, repositories and what they hold."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class NotFound(Exception):
    """The thing asked for does not exist (or the caller may not see it)."""


class Invalid(Exception):
    """GitHub would answer 422 Validation Failed."""

    def __init__(
        self, message: str, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(prefix: str, number: int) -> str:
    """A GitHub-like global node id, e.g. I_kwDOAAAAAQ for issue 1."""
    encoded = base64.urlsafe_b64encode(number.to_bytes(8, "big")).decode().rstrip("=")
    return f"{prefix}_kwDO{encoded}"


@dataclass
class User:
    login: str
    id: int
    node_id: str
    type: str = "User"  # User, Bot or Organization
    name: str | None = None
    created_at: datetime = field(default_factory=now)


@dataclass
class Installation:
    id: int
    account: str
    account_type: str  # Organization or User
    app_id: int
    app_slug: str
    repository_selection: str = "all"  # all or selected
    permissions: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)


@dataclass
class Label:
    id: int
    node_id: str
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Reaction:
    id: int
    node_id: str
    user: str
    content: str
    created_at: datetime = field(default_factory=now)


@dataclass
class Comment:
    id: int
    node_id: str
    issue_number: int
    body: str
    user: str
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Review:
    id: int
    node_id: str
    user: str
    body: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, PENDING, DISMISSED
    commit_id: str
    submitted_at: datetime | None = field(default_factory=now)


@dataclass
class Pull:
    """The pull-request half of an issue that is a pull request."""

    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    fork: bool = False
    head_owner: str | None = None  # the fork's owner, when `fork`
    draft: bool = False
    merged: bool = False
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    linked_issues: list[int] = field(
        default_factory=list
    )  # linked by hand, not by keyword
    commits: list[str] = field(default_factory=list)  # every head sha, oldest first


@dataclass
class Issue:
    number: int
    id: int
    node_id: str
    title: str
    body: str | None
    user: str
    labels: list[str] = field(
        default_factory=list
    )  # label names as the repository spells them
    assignees: list[str] = field(default_factory=list)
    state: str = "open"
    state_reason: str | None = None
    locked: bool = False
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    closed_at: datetime | None = None
    reactions: list[Reaction] = field(default_factory=list)
    pull: Pull | None = None


@dataclass
class CheckRun:
    id: int
    node_id: str
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    app_id: int
    app_slug: str
    check_suite_id: int
    details_url: str | None = None
    external_id: str | None = None
    started_at: datetime | None = field(default_factory=now)
    completed_at: datetime | None = None
    output: dict[str, Any] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CommitStatus:
    id: int
    node_id: str
    sha: str
    state: str
    context: str
    creator: str
    description: str | None = None
    target_url: str | None = None
    created_at: datetime = field(default_factory=now)


@dataclass
class Dispatch:
    event_type: str
    client_payload: dict[str, Any]
    sender: str | None
    received_at: datetime = field(default_factory=now)


@dataclass
class Repo:
    id: int
    node_id: str
    owner: str
    name: str
    private: bool = False
    default_branch: str = "main"
    is_template: bool = False
    installation_id: int | None = None
    description: str | None = None
    template_of: str | None = None  # full name of the template it was generated from
    branch_404s_left: int = 0  # a generated repository is filled asynchronously
    created_at: datetime = field(default_factory=now)
    labels: dict[str, Label] = field(default_factory=dict)  # key: lower-case name
    issues: dict[int, Issue] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)  # name -> head sha
    files: dict[str, str] = field(
        default_factory=dict
    )  # path on the default branch -> text
    check_runs: list[CheckRun] = field(default_factory=list)
    statuses: list[CommitStatus] = field(default_factory=list)
    dispatches: list[Dispatch] = field(default_factory=list)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> permission

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def label(self, name: str) -> Label:
        """Label names are case-insensitive on GitHub."""
        try:
            return self.labels[name.lower()]
        except KeyError:
            raise NotFound(f"label {name}") from None

    def issue(self, number: int) -> Issue:
        try:
            return self.issues[number]
        except KeyError:
            raise NotFound(f"issue {self.full_name}#{number}") from None

    def pull(self, number: int) -> tuple[Issue, Pull]:
        issue = self.issue(number)
        if issue.pull is None:
            raise NotFound(f"pull {self.full_name}#{number}")
        return issue, issue.pull

    def comment(self, comment_id: int) -> Comment:
        try:
            return self.comments[comment_id]
        except KeyError:
            raise NotFound(f"comment {comment_id}") from None

    def comments_on(self, number: int) -> list[Comment]:
        return [c for c in self.comments.values() if c.issue_number == number]

    def next_number(self) -> int:
        return max(self.issues, default=0) + 1


@dataclass
class Team:
    id: int
    node_id: str
    org: str
    slug: str
    name: str
    members: dict[str, str] = field(default_factory=dict)  # login -> member|maintainer


@dataclass
class ProjectOption:
    id: str
    name: str
    color: str = "GRAY"
    description: str = ""


@dataclass
class ProjectField:
    id: str
    database_id: int
    name: str
    data_type: str  # TITLE, SINGLE_SELECT, TEXT, ...
    options: list[ProjectOption] = field(default_factory=list)

    def option(self, option_id: str) -> ProjectOption | None:
        return next((o for o in self.options if o.id == option_id), None)

    def option_named(self, name: str) -> ProjectOption | None:
        return next((o for o in self.options if o.name == name), None)


@dataclass
class ProjectItem:
    id: str
    database_id: int
    content_id: str  # node id of the issue or pull request
    values: dict[str, Any] = field(
        default_factory=dict
    )  # field id -> option id / text / number
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    archived: bool = False


@dataclass
class Project:
    id: str
    database_id: int
    owner: str
    number: int
    title: str
    fields: list[ProjectField] = field(default_factory=list)
    items: list[ProjectItem] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)

    def field_named(self, name: str) -> ProjectField | None:
        return next((f for f in self.fields if f.name == name), None)

    def field_by_id(self, field_id: str) -> ProjectField | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def item(self, item_id: str) -> ProjectItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    def item_for(self, content_id: str) -> ProjectItem | None:
        return next((i for i in self.items if i.content_id == content_id), None)


@dataclass
class Token:
    token: str
    installation_id: int
    expires_at: datetime
    permissions: dict[str, str]
    repository_ids: list[int] | None = None


@dataclass
class World:
    """Everything the fake knows. `reset` replaces it with a fresh one."""

    users: dict[str, User] = field(default_factory=dict)  # key: lower-case login
    installations: dict[int, Installation] = field(default_factory=dict)
    repos: dict[str, Repo] = field(default_factory=dict)  # key: lower-case full name
    teams: dict[tuple[str, str], Team] = field(
        default_factory=dict
    )  # (org, slug), lower-case
    org_members: dict[str, dict[str, str]] = field(
        default_factory=dict
    )  # org -> login -> role
    projects: dict[tuple[str, int], Project] = field(
        default_factory=dict
    )  # (owner, number)
    tokens: dict[str, Token] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))

    def new_id(self) -> int:
        return next(self.ids)

    def user(self, login: str) -> User:
        try:
            return self.users[login.lower()]
        except KeyError:
            raise NotFound(f"user {login}") from None

    def ensure_user(self, login: str, kind: str = "User") -> User:
        """Users appear on first mention, so tests need not declare every login."""
        if login.lower() not in self.users:
            number = self.new_id()
            prefix = {"User": "U", "Bot": "BOT", "Organization": "O"}[kind]
            self.users[login.lower()] = User(
                login, number, node_id(prefix, number), kind
            )
        return self.users[login.lower()]

    def repo(self, full_name: str) -> Repo:
        try:
            return self.repos[full_name.lower()]
        except KeyError:
            raise NotFound(f"repository {full_name}") from None

    def installation(self, installation_id: int) -> Installation:
        try:
            return self.installations[installation_id]
        except KeyError:
            raise NotFound(f"installation {installation_id}") from None

    def installation_for(self, account: str) -> Installation | None:
        return next(
            (
                i
                for i in self.installations.values()
                if i.account.lower() == account.lower()
            ),
            None,
        )

    def project(self, owner: str, number: int) -> Project:
        try:
            return self.projects[(owner.lower(), number)]
        except KeyError:
            raise NotFound(f"project {owner}/{number}") from None

    def find_issue_by_node(self, node: str) -> tuple[Repo, Issue] | None:
        for repo in self.repos.values():
            for issue in repo.issues.values():
                if issue.node_id == node:
                    return repo, issue
        return None

    def find_project_item(self, item_id: str) -> tuple[Project, ProjectItem] | None:
        for project in self.projects.values():
            item = project.item(item_id)
            if item is not None:
                return project, item
        return None
