"""FakeGitHub: the object tests hold. Builds the world, serves it, injects faults."""

from __future__ import annotations

import socket
import time
import zlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web

from .auth import AppKey, issue_token
from .faults import Fault, Faults, GraphQLFault, secondary_rate_limit
from .gql import load_schema
from .gql_views import new_item, project_node_id
from .oauth import OAuth
from .openapi import load_spec
from .rest_checks import suite_id
from .rest_issues import apply_labels
from .server import RecordedRequest, create_app
from .shapes import App, Shapes, fake_sha
from .state import (
    CheckRun,
    Comment,
    CommitStatus,
    Installation,
    Issue,
    Label,
    Project,
    ProjectField,
    ProjectOption,
    Pull,
    Repo,
    Review,
    Team,
    Token,
    World,
    node_id,
    now,
)

Json = dict[str, Any]
DEFAULT_LABELS = {
    "bug": ("d73a4a", "Something isn't working"),
    "documentation": ("0075ca", "Improvements or additions to documentation"),
    "duplicate": ("cfd3d7", "This issue or pull request already exists"),
    "enhancement": ("a2eeef", "New feature or request"),
    "good first issue": ("7057ff", "Good for newcomers"),
    "help wanted": ("008672", "Extra attention is needed"),
    "invalid": ("e4e669", "This doesn't seem right"),
    "question": ("d876e3", "Further information is requested"),
    "wontfix": ("ffffff", "This will not be worked on"),
}
DEFAULT_COLUMNS = ("Todo", "In Progress", "Submitted", "Approved", "Rejected")
DEFAULT_PERMISSIONS = {
    "issues": "write",
    "pull_requests": "write",
    "checks": "write",
    "contents": "write",
    "metadata": "read",
    "members": "read",
    "organization_projects": "write",
    "statuses": "write",
    "administration": "write",
}


def app_id_of(slug: str) -> int:
    """A stable App id for another App (a CI system) named by its slug."""
    return 100_000 + zlib.crc32(slug.encode()) % 900_000


class FakeGitHub:
    """A GitHub on 127.0.0.1 for tests; see the package docstring for the tour."""

    def __init__(
        self,
        app_id: int = 1,
        app_public_key_pem: str | bytes = "",
        *,
        app_slug: str = "workflow-bot",
        app_name: str = "Workflow Bot",
        app_owner: str = "workflow-bot-dev",
    ) -> None:
        pem = (
            app_public_key_pem.decode()
            if isinstance(app_public_key_pem, bytes)
            else app_public_key_pem
        )
        self.app_key = AppKey(app_id, pem)
        self.app = App(id=app_id, slug=app_slug, name=app_name, owner=app_owner)
        self._runner: web.AppRunner | None = None
        self._port = 0
        self.reset()

    # lifetime

    async def start(self) -> None:
        """Serve on 127.0.0.1 on a free port.

        Loads GitHub's REST description and GraphQL schema first (about 1.3 s, once
        per process) so that no request of a test pays for it."""
        load_spec()
        load_schema()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        self._port = listener.getsockname()[1]
        self._runner = web.AppRunner(create_app(self), access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()
        self.shapes.api = self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        """The bot's GITHUB_API_URL; GraphQL is at url + "/graphql"."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def app_id(self) -> int:
        return self.app.id

    @property
    def app_slug(self) -> str:
        return self.app.slug

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def reset(self) -> None:
        """Forget the world, tokens, faults, recorded requests and violations."""
        self.world = World()
        self.shapes = Shapes(self.world, self.url, self.app)
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.unsupported: list[str] = []  # valid GitHub calls the fake does not model
        self.graphql_calls: list[tuple[str, dict[str, Any]]] = []
        self.tokens_issued = 0
        self.token_lifetime = timedelta(hours=1)
        self.hook_deliveries: list[Json] = []
        self.redeliveries: list[int] = []
        self.manifest_codes: set[str] | None = None
        self.oauth = OAuth()
        self._template_delay = 0
        self._rate_used = {"core": 0, "graphql": 0}
        self._rate_reset = int(time.time()) + 3600
        self.world.ensure_user(f"{self.app.slug}[bot]", "Bot")

    def violation(self, message: str) -> None:
        self.violations.append(message)

    def writes(self) -> list[RecordedRequest]:
        """Requests that change state: not GETs, GraphQL queries or token requests."""
        return [r for r in self.requests if r.is_write]

    # the App and its installations

    @property
    def app_bot_user(self) -> Json:
        """The App's bot user, "<slug>[bot]" of type Bot: author of the bot's writes."""
        return self.user_json(f"{self.app.slug}[bot]")

    def add_installation(
        self,
        account: str,
        account_type: str = "Organization",
        *,
        repository_selection: str = "all",
        permissions: dict[str, str] | None = None,
        events: list[str] | None = None,
    ) -> Json:
        self.world.ensure_user(account, account_type)
        installation = Installation(
            id=self.world.new_id(),
            account=account,
            account_type=account_type,
            app_id=self.app.id,
            app_slug=self.app.slug,
            repository_selection=repository_selection,
            permissions=dict(permissions or DEFAULT_PERMISSIONS),
            events=list(
                events or ["issues", "issue_comment", "pull_request", "check_run"]
            ),
        )
        self.world.installations[installation.id] = installation
        return self.installation_json(installation.id)

    def installation_of(self, repo: Repo) -> Installation | None:
        if repo.installation_id is not None:
            return self.world.installations.get(repo.installation_id)
        found = self.world.installation_for(repo.owner)
        return found if found and found.repository_selection == "all" else None

    def token_sees(self, token: Token, repo: Repo) -> bool:
        installation = self.installation_of(repo)
        if installation is None or installation.id != token.installation_id:
            return False
        return token.repository_ids is None or repo.id in token.repository_ids

    def issue_token(self, installation_id: int) -> str:
        """A live installation token, for tests that call the fake themselves."""
        return issue_token(self.world, installation_id, self.token_lifetime).token

    # people

    def add_user(self, login: str, *, name: str | None = None) -> Json:
        user = self.world.ensure_user(login)
        user.name = name
        return self.user_json(login)

    def add_org_member(self, org: str, login: str, role: str = "member") -> None:
        self.world.ensure_user(org, "Organization")
        self.world.ensure_user(login)
        self.world.org_members.setdefault(org.lower(), {})[login.lower()] = role

    def add_team(
        self,
        org: str,
        slug: str,
        members: Sequence[str] = (),
        maintainers: Sequence[str] = (),
    ) -> Json:
        team_id = self.world.new_id()
        team = Team(
            team_id, node_id("T", team_id), org, slug, slug.replace("-", " ").title()
        )
        for login in members:
            self.add_org_member(org, login)
            team.members[login.lower()] = "member"
        for login in maintainers:
            self.add_org_member(org, login)
            team.members[login.lower()] = "maintainer"
        self.world.teams[(org.lower(), slug.lower())] = team
        return self.shapes.team_simple(org, slug)

    def add_collaborator(self, repo: str, login: str, permission: str = "push") -> None:
        self.world.ensure_user(login)
        self.world.repo(repo).collaborators[login] = permission

    # repositories

    def add_repo(
        self,
        full_name: str,
        installation_id: int | None = None,
        *,
        private: bool = False,
        default_branch: str = "main",
        is_template: bool = False,
        description: str | None = None,
        default_labels: bool = False,
    ) -> Json:
        owner, name = full_name.split("/")
        if self.world.installation_for(owner) is None:
            self.world.ensure_user(owner, "Organization")
        repo_id = self.world.new_id()
        repo = Repo(
            id=repo_id,
            node_id=node_id("R", repo_id),
            owner=owner,
            name=name,
            private=private,
            default_branch=default_branch,
            is_template=is_template,
            installation_id=installation_id,
            description=description,
        )
        repo.branches[default_branch] = fake_sha("branch", full_name, default_branch)
        if default_labels:
            for label_name, (color, text) in DEFAULT_LABELS.items():
                self.add_label(repo, label_name, color, text, default=True)
        self.world.repos[full_name.lower()] = repo
        return self.repo_json(full_name)

    def add_label(
        self,
        repo: Repo | str,
        name: str,
        color: str = "ededed",
        description: str | None = None,
        *,
        default: bool = False,
    ) -> Json:
        target = self.world.repo(repo) if isinstance(repo, str) else repo
        label_id = self.world.new_id()
        label = Label(
            label_id, node_id("LA", label_id), name, color, description, default
        )
        target.labels[name.lower()] = label
        return self.shapes.label(target, label)

    def set_file(self, repo: str, path: str, text: str | None) -> None:
        """A file on the default branch (None removes it), for the contents API."""
        files = self.world.repo(repo).files
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text

    def template_delay(self, n: int) -> None:
        """Repositories generated from now on 404 on their first `n` branch GETs."""
        self._template_delay = n

    def generate_repo(self, template: Repo, full_name: str, body: Json) -> Repo:
        """POST /repos/{template}/generate: a copy of the default branch's files."""
        owner, _ = full_name.split("/")
        self.add_repo(
            full_name,
            private=bool(body.get("private", False)),
            default_branch=template.default_branch,
            description=body.get("description"),
        )
        repo = self.world.repo(full_name)
        repo.files = dict(template.files)
        repo.template_of = template.full_name
        repo.branch_404s_left = self._template_delay
        installation = self.world.installation_for(owner)
        if installation is not None and installation.repository_selection == "all":
            repo.installation_id = installation.id
        return repo

    # issues, comments, pull requests

    def new_issue(
        self,
        repo: Repo,
        *,
        title: str,
        body: str | None,
        author: str,
        labels: Sequence[str] = (),
        assignees: Sequence[str] = (),
        pull: Pull | None = None,
    ) -> Issue:
        self.world.ensure_user(author)
        for login in assignees:
            self.world.ensure_user(login)
        issue_id = self.world.new_id()
        issue = Issue(
            number=repo.next_number(),
            id=issue_id,
            node_id=node_id("PR" if pull else "I", issue_id),
            title=title,
            body=body,
            user=author,
            labels=apply_labels(self.world, repo, [], list(labels)),
            assignees=list(assignees),
            pull=pull,
        )
        repo.issues[issue.number] = issue
        return issue

    def add_issue(
        self,
        repo: str,
        title: str = "A task",
        body: str | None = "",
        author: str = "alice",
        labels: Sequence[str] = (),
        assignees: Sequence[str] = (),
        *,
        state: str = "open",
    ) -> Json:
        target = self.world.repo(repo)
        issue = self.new_issue(
            target,
            title=title,
            body=body,
            author=author,
            labels=labels,
            assignees=assignees,
        )
        if state == "closed":
            issue.state, issue.closed_at, issue.state_reason = (
                "closed",
                now(),
                "completed",
            )
        return self.issue_json(repo, issue.number)

    def new_comment(self, repo: Repo, number: int, body: str, author: str) -> Comment:
        self.world.ensure_user(author)
        comment_id = self.world.new_id()
        comment = Comment(comment_id, node_id("IC", comment_id), number, body, author)
        repo.comments[comment_id] = comment
        repo.issue(number).updated_at = now()
        return comment

    def add_comment(
        self, repo: str, issue_number: int, body: str = "", author: str = "bob"
    ) -> Json:
        target = self.world.repo(repo)
        target.issue(issue_number)
        comment = self.new_comment(target, issue_number, body, author)
        return self.shapes.issue_comment(target, comment)

    def add_pull(
        self,
        repo: str,
        title: str = "A change",
        body: str | None = "",
        author: str = "alice",
        head_ref: str = "feature",
        head_sha: str | None = None,
        base_ref: str | None = None,
        fork: bool = False,
        *,
        draft: bool = False,
        labels: Sequence[str] = (),
        assignees: Sequence[str] = (),
    ) -> Json:
        target = self.world.repo(repo)
        base = base_ref or target.default_branch
        sha = head_sha or fake_sha("head", repo, head_ref, target.next_number())
        pull = Pull(
            head_ref=head_ref,
            head_sha=sha,
            base_ref=base,
            base_sha=target.branches.get(base, fake_sha("base", repo, base)),
            fork=fork,
            head_owner=author if fork else None,
            draft=draft,
            commits=[sha],
        )
        issue = self.new_issue(
            target,
            title=title,
            body=body,
            author=author,
            labels=labels,
            assignees=assignees,
            pull=pull,
        )
        if not fork:
            target.branches[head_ref] = sha
        return self.pull_json(repo, issue.number)

    def push(self, repo: str, pr_number: int, new_sha: str) -> Json:
        """Move a pull request's head, as a push to its branch does."""
        target = self.world.repo(repo)
        _, pull = target.pull(pr_number)
        pull.head_sha = new_sha
        pull.commits.append(new_sha)
        if not pull.fork:
            target.branches[pull.head_ref] = new_sha
        return self.pull_json(repo, pr_number)

    def link_issue(self, repo: str, pr_number: int, issue_number: int) -> None:
        """Link an issue to a PR by hand (the sidebar), besides closing keywords."""
        _, pull = self.world.repo(repo).pull(pr_number)
        pull.linked_issues.append(issue_number)

    def close_issue(self, repo: str, number: int, *, merged: bool = False) -> Json:
        issue = self.world.repo(repo).issue(number)
        issue.state, issue.closed_at = "closed", now()
        issue.state_reason = None if issue.pull else "completed"
        if issue.pull is not None:
            issue.pull.merged = merged
        return self.issue_json(repo, number)

    def add_review(
        self,
        repo: str,
        pr_number: int,
        user: str,
        state: str = "APPROVED",
        body: str = "",
    ) -> Json:
        """A review by a person (APPROVED, CHANGES_REQUESTED, COMMENTED)."""
        target = self.world.repo(repo)
        _, pull = target.pull(pr_number)
        self.world.ensure_user(user)
        review_id = self.world.new_id()
        review = Review(
            review_id, node_id("PRR", review_id), user, body, state, pull.head_sha
        )
        pull.reviews.append(review)
        return self.shapes.review(target, pr_number, review)

    # checks and statuses

    def add_check_run(
        self,
        repo: str,
        head_sha: str,
        name: str = "tests",
        status: str = "completed",
        conclusion: str | None = "success",
        app_slug: str = "ci-app",
        *,
        app_id: int | None = None,
        details_url: str | None = None,
        output: Json | None = None,
    ) -> Json:
        target = self.world.repo(repo)
        app = app_id or (
            self.app.id if app_slug == self.app.slug else app_id_of(app_slug)
        )
        run_id = self.world.new_id()
        run = CheckRun(
            id=run_id,
            node_id=node_id("CR", run_id),
            name=name,
            head_sha=head_sha,
            status=status,
            conclusion=conclusion if status == "completed" else None,
            app_id=app,
            app_slug=app_slug,
            check_suite_id=suite_id(target, head_sha, app),
            details_url=details_url,
            completed_at=now() if status == "completed" else None,
            output=dict(output or {}),
        )
        target.check_runs.append(run)
        return self.shapes.check_run(target, run)

    def add_status(
        self, repo: str, sha: str, context: str, state: str, creator: str = "ci-bot"
    ) -> Json:
        target = self.world.repo(repo)
        self.world.ensure_user(creator)
        status_id = self.world.new_id()
        status = CommitStatus(
            status_id, node_id("SC", status_id), sha, state, context, creator
        )
        target.statuses.append(status)
        return self.shapes.status(target, status)

    # projects

    def add_project(
        self,
        owner: str,
        number: int = 1,
        title: str = "Board",
        field: str = "Status",
        options: Sequence[str] = DEFAULT_COLUMNS,
    ) -> Json:
        """An organisation's Projects v2 board: a Title and one single-select field."""
        self.world.ensure_user(owner, "Organization")
        database_id = self.world.new_id()
        title_field = ProjectField(
            project_node_id("PVTF", self.world.new_id()),
            self.world.new_id(),
            "Title",
            "TITLE",
        )
        select = ProjectField(
            id=project_node_id("PVTSSF", self.world.new_id()),
            database_id=self.world.new_id(),
            name=field,
            data_type="SINGLE_SELECT",
            options=[
                ProjectOption(fake_sha("option", owner, number, o)[:8], o)
                for o in options
            ],
        )
        project = Project(
            id=node_id("PVT", database_id),
            database_id=database_id,
            owner=owner,
            number=number,
            title=title,
            fields=[title_field, select],
        )
        self.world.projects[(owner.lower(), number)] = project
        return self.project_json(owner, number)

    def project_json(self, owner: str, number: int) -> Json:
        project = self.world.project(owner, number)
        fields = {
            f.name: {
                "id": f.id,
                "database_id": f.database_id,
                "options": {o.name: o.id for o in f.options},
            }
            for f in project.fields
        }
        single = next(f for f in project.fields if f.data_type == "SINGLE_SELECT")
        return {
            "id": project.id,
            "database_id": project.database_id,
            "number": project.number,
            "title": project.title,
            "owner": project.owner,
            "field": {"id": single.id, "name": single.name, **fields[single.name]},
            "fields": fields,
            "items": [
                {"id": i.id, "content_node_id": i.content_id, "archived": i.archived}
                for i in project.items
            ],
        }

    def add_project_item(self, owner: str, number: int, content_node_id: str) -> Json:
        """Put an issue or pull request on the board (no status yet)."""
        project = self.world.project(owner, number)
        item = project.item_for(content_node_id)
        if item is None:
            item = new_item(self.world.new_id(), content_node_id)
            project.items.append(item)
        return {
            "id": item.id,
            "database_id": item.database_id,
            "content_node_id": content_node_id,
        }

    def project_item_status(
        self, owner: str, number: int, content_node_id: str, field: str | None = None
    ) -> str | None:
        """The single-select option name of the content's item, or None."""
        project = self.world.project(owner, number)
        item = project.item_for(content_node_id)
        select = self._select_field(project, field)
        if item is None or select.id not in item.values:
            return None
        option = select.option(item.values[select.id])
        return None if option is None else option.name

    def set_project_item_status(
        self,
        owner: str,
        number: int,
        content_node_id: str,
        option: str | None,
        field: str | None = None,
    ) -> Json:
        """A person moves a card; returns what a projects_v2_item.edited needs."""
        project = self.world.project(owner, number)
        select = self._select_field(project, field)
        item_info = self.add_project_item(owner, number, content_node_id)
        item = project.item_for(content_node_id)
        assert item is not None
        previous = item.values.get(select.id)
        if option is None:
            item.values.pop(select.id, None)
            option_id = None
        else:
            found = select.option_named(option)
            if found is None:
                raise KeyError(f"no option {option!r} on {select.name}")
            option_id = item.values[select.id] = found.id
        item.updated_at = now()
        return {
            "project_node_id": project.id,
            "project_number": project.number,
            "item_id": item.id,
            "item_database_id": item_info["database_id"],
            "content_node_id": content_node_id,
            "field_id": select.id,
            "field_name": select.name,
            "option_id": option_id,
            "previous_option_id": previous,
        }

    def _select_field(self, project: Project, name: str | None) -> ProjectField:
        for found in project.fields:
            if found.data_type == "SINGLE_SELECT" and name in (None, found.name):
                return found
        raise KeyError(f"no single-select field {name!r} on project {project.number}")

    # reading state

    def issue(self, repo: str, number: int) -> Json:
        """Plain facts for assertions: label names, assignee logins, comments..."""
        target = self.world.repo(repo)
        issue = target.issue(number)
        return {
            "number": issue.number,
            "node_id": issue.node_id,
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "labels": list(issue.labels),
            "assignees": list(issue.assignees),
            "comments": [
                {
                    "id": c.id,
                    "body": c.body,
                    "user": c.user,
                    "reactions": [
                        {"user": r.user, "content": r.content} for r in c.reactions
                    ],
                }
                for c in target.comments_on(number)
            ],
            "reactions": [
                {"user": r.user, "content": r.content} for r in issue.reactions
            ],
            "requested_reviewers": list(issue.pull.requested_reviewers)
            if issue.pull
            else [],
            "reviews": [
                {"user": r.user, "state": r.state, "body": r.body}
                for r in issue.pull.reviews
            ]
            if issue.pull
            else [],
        }

    def labels(self, repo: str) -> dict[str, Json]:
        return {
            label.name: {"color": label.color, "description": label.description}
            for label in self.world.repo(repo).labels.values()
        }

    def check_runs(self, repo: str, sha: str) -> list[Json]:
        target = self.world.repo(repo)
        return [
            self.shapes.check_run(target, r)
            for r in target.check_runs
            if r.head_sha == sha
        ]

    def statuses(self, repo: str, sha: str) -> list[Json]:
        target = self.world.repo(repo)
        return [self.shapes.status(target, s) for s in target.statuses if s.sha == sha]

    def dispatches(self, repo: str) -> list[Json]:
        return [
            {
                "event_type": d.event_type,
                "client_payload": d.client_payload,
                "sender": d.sender,
            }
            for d in self.world.repo(repo).dispatches
        ]

    def collaborators(self, repo: str) -> dict[str, str]:
        return dict(self.world.repo(repo).collaborators)

    def repo_exists(self, full_name: str) -> bool:
        return full_name.lower() in self.world.repos

    # serialisers in GitHub's REST shapes (for webhook payload builders)

    def issue_json(self, repo: str, number: int) -> Json:
        target = self.world.repo(repo)
        return self.shapes.issue(target, target.issue(number))

    def pull_json(self, repo: str, number: int) -> Json:
        target = self.world.repo(repo)
        issue, _ = target.pull(number)
        return self.shapes.pull_request(target, issue)

    def repo_json(self, repo: str) -> Json:
        return self.shapes.repository(self.world.repo(repo))

    def user_json(self, login: str) -> Json:
        return self.shapes.simple_user(login)

    def installation_json(self, installation_id: int) -> Json:
        return self.shapes.installation(self.world.installation(installation_id))

    def comment_json(self, repo: str, comment_id: int) -> Json:
        target = self.world.repo(repo)
        return self.shapes.issue_comment(target, target.comment(comment_id))

    def check_run_json(
        self, repo: str, check_run_id: int, *, webhook: bool = False
    ) -> Json:
        """The REST shape, or (webhook=True) the check_run event's, whose
        `check_suite` is a whole suite rather than just its id."""
        target = self.world.repo(repo)
        run = next(r for r in target.check_runs if r.id == check_run_id)
        if webhook:
            return self.shapes.check_run_event(target, run)
        return self.shapes.check_run(target, run)

    def label_json(self, repo: str, name: str) -> Json:
        target = self.world.repo(repo)
        return self.shapes.label(target, target.label(name))

    # faults

    def fail(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = 502,
        times: int = 1,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
    ) -> Fault:
        """Answer matching requests with `status` (after `delay`), `times` times.

        `path` is a template ("/repos/{owner}/{repo}/issues/{issue_number}/comments")
        or a concrete path; "/graphql" for GraphQL. status=None with a delay: answer
        normally, late."""
        fault = Fault(method, path, status, times, dict(headers or {}), body, delay)
        self.faults.rest.append(fault)
        return fault

    def rate_limit_secondary(self, times: int = 1, retry_after: int = 1) -> Fault:
        """The next request(s), of any kind, get GitHub's secondary-rate-limit 403."""
        fault = secondary_rate_limit(times, retry_after)
        self.faults.rest.append(fault)
        return fault

    def graphql_error(
        self,
        times: int = 1,
        message: str = "Something went wrong",
        type: str = "NOT_FOUND",
    ) -> GraphQLFault:
        fault = GraphQLFault(message, type, times)
        self.faults.graphql.append(fault)
        return fault

    # rate limit headers

    def rate_limit_state(self, resource: str) -> Json:
        used = self._rate_used.get(resource, 0)
        limit = 5000
        return {
            "limit": limit,
            "remaining": max(limit - used, 0),
            "reset": self._rate_reset,
            "used": used,
        }

    def rate_limit_headers(self, resource: str) -> dict[str, str]:
        self._rate_used[resource] = self._rate_used.get(resource, 0) + 1
        state = self.rate_limit_state(resource)
        return {
            "x-ratelimit-limit": str(state["limit"]),
            "x-ratelimit-remaining": str(state["remaining"]),
            "x-ratelimit-used": str(state["used"]),
            "x-ratelimit-reset": str(state["reset"]),
            "x-ratelimit-resource": resource,
        }
