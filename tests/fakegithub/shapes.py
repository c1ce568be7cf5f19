"""GitHub's REST response shapes, built from the fake's world."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from .state import (
    CheckRun,
    Comment,
    CommitStatus,
    Installation,
    Issue,
    Label,
    Reaction,
    Repo,
    Review,
    User,
    World,
    iso,
    node_id,
)

Json = dict[str, Any]
HTML = "https://github.com"
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")

# (key, suffix after the repository's API url) of every `*_url` in a repository.
REPO_URLS = (
    ("archive_url", "/{archive_format}{/ref}"),
    ("assignees_url", "/assignees{/user}"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("branches_url", "/branches{/branch}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("comments_url", "/comments{/number}"),
    ("commits_url", "/commits{/sha}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("contents_url", "/contents/{+path}"),
    ("contributors_url", "/contributors"),
    ("deployments_url", "/deployments"),
    ("downloads_url", "/downloads"),
    ("events_url", "/events"),
    ("forks_url", "/forks"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("hooks_url", "/hooks"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("issue_events_url", "/issues/events{/number}"),
    ("issues_url", "/issues{/number}"),
    ("keys_url", "/keys{/key_id}"),
    ("labels_url", "/labels{/name}"),
    ("languages_url", "/languages"),
    ("merges_url", "/merges"),
    ("milestones_url", "/milestones{/number}"),
    ("notifications_url", "/notifications{?since,all,participating}"),
    ("pulls_url", "/pulls{/number}"),
    ("releases_url", "/releases{/id}"),
    ("stargazers_url", "/stargazers"),
    ("statuses_url", "/statuses/{sha}"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("tags_url", "/tags"),
    ("teams_url", "/teams"),
    ("trees_url", "/git/trees{/sha}"),
)


def fake_sha(*parts: object) -> str:
    """A stable 40-hex SHA for things the fake does not really store (trees, blobs)."""
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


@dataclass(frozen=True)
class App:
    """The GitHub App the bot is."""

    id: int
    slug: str
    name: str
    owner: str


@dataclass
class Shapes:
    """Serialisers: one method per GitHub schema, named after it."""

    world: World
    api: str  # base url of the fake, e.g. http://127.0.0.1:1234
    app: App

    # users and installations

    def simple_user(self, login: str) -> Json:
        return self.user_shape(self.world.ensure_user(login))

    def user_shape(self, user: User) -> Json:
        url = f"{self.api}/users/{user.login}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": user.node_id,
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{HTML}/{user.login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def public_user(self, login: str) -> Json:
        user = self.world.ensure_user(login)
        return {
            **self.user_shape(user),
            "name": user.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": sum(
                r.owner.lower() == login.lower() for r in self.world.repos.values()
            ),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": iso(user.created_at),
            "updated_at": iso(user.created_at),
        }

    def integration(self) -> Json:
        owner = self.world.ensure_user(self.app.owner, "Organization")
        return {
            "id": self.app.id,
            "slug": self.app.slug,
            "node_id": node_id("A", self.app.id),
            "owner": self.user_shape(owner),
            "name": self.app.name,
            "description": "",
            "external_url": f"{HTML}/{self.app.owner}",
            "html_url": f"{HTML}/apps/{self.app.slug}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "permissions": {
                "issues": "write",
                "pull_requests": "write",
                "checks": "write",
                "contents": "write",
                "metadata": "read",
                "members": "read",
                "organization_projects": "write",
            },
            "events": ["issues", "issue_comment", "pull_request", "check_run"],
        }

    def authenticated_app(self) -> Json:
        """GET /app: the App with what only it may see about itself."""
        return {
            **self.integration(),
            "client_id": f"Iv1.{fake_sha('client', self.app.id)[:16]}",
            "installations_count": len(self.world.installations),
        }

    def installation(self, installation: Installation) -> Json:
        account = self.world.ensure_user(
            installation.account, installation.account_type
        )
        app_url = f"{self.api}/app/installations/{installation.id}"
        return {
            "id": installation.id,
            "account": self.user_shape(account),
            "repository_selection": installation.repository_selection,
            "access_tokens_url": f"{app_url}/access_tokens",
            "repositories_url": f"{self.api}/installation/repositories",
            "html_url": f"{HTML}/organizations/{account.login}/settings/installations/"
            + str(installation.id),
            "app_id": installation.app_id,
            "app_slug": installation.app_slug,
            "target_id": account.id,
            "target_type": installation.account_type,
            "permissions": installation.permissions,
            "events": installation.events,
            "created_at": iso(installation.created_at),
            "updated_at": iso(installation.created_at),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    # repositories

    def repo_urls(self, repo: Repo) -> Json:
        url = f"{self.api}/repos/{repo.full_name}"
        urls = {key: url + suffix for key, suffix in REPO_URLS}
        return {"url": url, "html_url": f"{HTML}/{repo.full_name}", **urls}

    def minimal_repository(self, repo: Repo) -> Json:
        owner_type = "Organization" if self.is_org(repo.owner) else "User"
        return {
            "id": repo.id,
            "node_id": repo.node_id,
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.user_shape(self.world.ensure_user(repo.owner, owner_type)),
            "private": repo.private,
            "description": repo.description,
            "fork": False,
            **self.repo_urls(repo),
        }

    def repository(self, repo: Repo) -> Json:
        """The `repository` schema (also the shape of webhook `repository` objects)."""
        open_issues = sum(i.state == "open" for i in repo.issues.values())
        return {
            **self.minimal_repository(repo),
            "git_url": f"git://github.com/{repo.full_name}.git",
            "ssh_url": f"git@github.com:{repo.full_name}.git",
            "clone_url": f"{HTML}/{repo.full_name}.git",
            "svn_url": f"{HTML}/{repo.full_name}",
            "mirror_url": None,
            "homepage": None,
            "language": None,
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "watchers": 0,
            "size": 0,
            "default_branch": repo.default_branch,
            "open_issues": open_issues,
            "open_issues_count": open_issues,
            "is_template": repo.is_template,
            "topics": [],
            "has_issues": True,
            "has_projects": True,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "private" if repo.private else "public",
            "pushed_at": iso(repo.created_at),
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.created_at),
            "allow_forking": True,
            "web_commit_signoff_required": False,
            "license": None,
            "custom_properties": {},
        }

    def full_repository(self, repo: Repo) -> Json:
        shape = self.repository(repo)
        del shape["has_downloads"]
        shape.update(
            subscribers_count=0,
            network_count=0,
            permissions={
                "admin": False,
                "maintain": False,
                "push": True,
                "triage": True,
                "pull": True,
            },
        )
        if repo.template_of is not None:
            shape["template_repository"] = self.repository(
                self.world.repo(repo.template_of)
            )
        return shape

    def is_org(self, login: str) -> bool:
        user = self.world.users.get(login.lower())
        if user is not None:
            return user.type == "Organization"
        installation = self.world.installation_for(login)
        return installation is not None and installation.account_type == "Organization"

    # issues, labels, comments, reactions

    def label(self, repo: Repo, label: Label) -> Json:
        return {
            "id": label.id,
            "node_id": label.node_id,
            "url": f"{self.api}/repos/{repo.full_name}/labels/{label.name}",
            "name": label.name,
            "description": label.description,
            "color": label.color,
            "default": label.default,
        }

    def issue_labels(self, repo: Repo, issue: Issue) -> list[Json]:
        return [self.label(repo, repo.label(name)) for name in issue.labels]

    def reaction_rollup(self, url: str, reactions: list[Reaction]) -> Json:
        counts = {
            content: sum(r.content == content for r in reactions)
            for content in REACTIONS
        }
        return {"url": f"{url}/reactions", "total_count": len(reactions), **counts}

    def issue(self, repo: Repo, issue: Issue) -> Json:
        url = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        kind = "pull" if issue.pull else "issues"
        shape = {
            "id": issue.id,
            "node_id": issue.node_id,
            "url": url,
            "repository_url": f"{self.api}/repos/{repo.full_name}",
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{HTML}/{repo.full_name}/{kind}/{issue.number}",
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body,
            "user": self.simple_user(issue.user),
            "labels": self.issue_labels(repo, issue),
            "assignee": self.simple_user(issue.assignees[0])
            if issue.assignees
            else None,
            "assignees": [self.simple_user(login) for login in issue.assignees],
            "milestone": None,
            "locked": issue.locked,
            "active_lock_reason": None,
            "comments": len(repo.comments_on(issue.number)),
            "closed_at": iso(issue.closed_at),
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "author_association": self.author_association(repo, issue.user),
            "reactions": self.reaction_rollup(url, issue.reactions),
            "timeline_url": f"{url}/timeline",
            "performed_via_github_app": None,
        }
        if issue.pull is not None:
            shape["pull_request"] = {
                "url": f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}",
                "html_url": f"{HTML}/{repo.full_name}/pull/{issue.number}",
                "diff_url": f"{HTML}/{repo.full_name}/pull/{issue.number}.diff",
                "patch_url": f"{HTML}/{repo.full_name}/pull/{issue.number}.patch",
                "merged_at": None,
            }
        return shape

    def author_association(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "OWNER"
        if login in repo.collaborators:
            return "COLLABORATOR"
        if login.lower() in self.world.org_members.get(repo.owner.lower(), {}):
            return "MEMBER"
        return "NONE"

    def issue_comment(self, repo: Repo, comment: Comment) -> Json:
        url = f"{self.api}/repos/{repo.full_name}/issues/comments/{comment.id}"
        issue = repo.issue(comment.issue_number)
        kind = "pull" if issue.pull else "issues"
        return {
            "id": comment.id,
            "node_id": comment.node_id,
            "url": url,
            "html_url": f"{HTML}/{repo.full_name}/{kind}/{issue.number}"
            f"#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self.simple_user(comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "issue_url": f"{self.api}/repos/{repo.full_name}/issues/{issue.number}",
            "author_association": self.author_association(repo, comment.user),
            "performed_via_github_app": None,
            "reactions": self.reaction_rollup(url, comment.reactions),
        }

    def reaction(self, reaction: Reaction) -> Json:
        return {
            "id": reaction.id,
            "node_id": reaction.node_id,
            "user": self.simple_user(reaction.user),
            "content": reaction.content,
            "created_at": iso(reaction.created_at),
        }

    # pull requests and reviews

    def pull_request_simple(self, repo: Repo, issue: Issue) -> Json:
        pull = issue.pull
        assert pull is not None
        url = f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}"
        html = f"{HTML}/{repo.full_name}/pull/{issue.number}"
        issue_url = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        statuses_url = f"{self.api}/repos/{repo.full_name}/statuses/{pull.head_sha}"
        links = {
            "self": url,
            "html": html,
            "issue": issue_url,
            "comments": f"{issue_url}/comments",
            "review_comments": f"{url}/comments",
            "review_comment": f"{self.api}/repos/{repo.full_name}/pulls/comments"
            "{/number}",
            "commits": f"{url}/commits",
            "statuses": statuses_url,
        }
        return {
            "url": url,
            "id": issue.id + 500_000_000,
            "node_id": node_id("PR", issue.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "commits_url": links["commits"],
            "review_comments_url": links["review_comments"],
            "review_comment_url": links["review_comment"],
            "comments_url": links["comments"],
            "statuses_url": statuses_url,
            "number": issue.number,
            "state": issue.state,
            "locked": issue.locked,
            "title": issue.title,
            "user": self.simple_user(issue.user),
            "body": issue.body,
            "labels": self.issue_labels(repo, issue),
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at),
            "merged_at": iso(issue.closed_at) if pull.merged else None,
            "merge_commit_sha": fake_sha("merge", repo.id, issue.number, pull.head_sha),
            "assignee": self.simple_user(issue.assignees[0])
            if issue.assignees
            else None,
            "assignees": [self.simple_user(login) for login in issue.assignees],
            "requested_reviewers": [
                self.simple_user(login) for login in pull.requested_reviewers
            ],
            "requested_teams": [
                self.team_simple(repo.owner, slug) for slug in pull.requested_teams
            ],
            "head": self.pull_ref(repo, issue, head=True),
            "base": self.pull_ref(repo, issue, head=False),
            "_links": {key: {"href": href} for key, href in links.items()},
            "author_association": self.author_association(repo, issue.user),
            "auto_merge": None,
            "draft": pull.draft,
        }

    def pull_request(self, repo: Repo, issue: Issue) -> Json:
        pull = issue.pull
        assert pull is not None
        return {
            **self.pull_request_simple(repo, issue),
            "merged": pull.merged,
            "mergeable": True,
            "rebaseable": True,
            "mergeable_state": "clean",
            "merged_by": None,
            "comments": len(repo.comments_on(issue.number)),
            "review_comments": 0,
            "maintainer_can_modify": pull.fork,
            "commits": len(pull.commits),
            "additions": 1,
            "deletions": 0,
            "changed_files": 1,
        }

    def pull_ref(self, repo: Repo, issue: Issue, *, head: bool) -> Json:
        pull = issue.pull
        assert pull is not None
        if head:
            owner = pull.head_owner if pull.fork and pull.head_owner else repo.owner
            ref, sha = pull.head_ref, pull.head_sha
            source = self.fork_of(repo, owner) if pull.fork else self.repository(repo)
        else:
            owner, ref, sha = repo.owner, pull.base_ref, pull.base_sha
            source = self.repository(repo)
        return {
            "label": f"{owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.simple_user(owner),
            "repo": source,
        }

    def fork_of(self, repo: Repo, owner: str) -> Json:
        """A fork that exists only as a pull request's head."""
        fork = Repo(
            id=repo.id + 700_000_000,
            node_id=node_id("R", repo.id + 700_000_000),
            owner=owner,
            name=repo.name,
            created_at=repo.created_at,
        )
        return {**self.repository(fork), "fork": True}

    def team_simple(self, org: str, slug: str) -> Json:
        team = self.world.teams.get((org.lower(), slug.lower()))
        team_id = team.id if team else 0
        url = f"{self.api}/organizations/{org}/team/{team_id}"
        return {
            "id": team_id,
            "node_id": team.node_id if team else node_id("T", 0),
            "url": url,
            "members_url": f"{url}/members{{/member}}",
            "name": team.name if team else slug,
            "description": None,
            "permission": "pull",
            "privacy": "closed",
            "notification_setting": "notifications_enabled",
            "html_url": f"{HTML}/orgs/{org}/teams/{slug}",
            "repositories_url": f"{url}/repos",
            "slug": slug,
            "type": "organization",
            "parent": None,
        }

    def review(self, repo: Repo, number: int, review: Review) -> Json:
        html = f"{HTML}/{repo.full_name}/pull/{number}#pullrequestreview-{review.id}"
        pull_url = f"{self.api}/repos/{repo.full_name}/pulls/{number}"
        return {
            "id": review.id,
            "node_id": review.node_id,
            "user": self.simple_user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "submitted_at": iso(review.submitted_at),
            "commit_id": review.commit_id,
            "author_association": self.author_association(repo, review.user),
        }

    # checks and statuses

    def pull_request_minimal(self, repo: Repo, issue: Issue) -> Json:
        pull = issue.pull
        assert pull is not None
        summary = self.repository(repo)
        short = {"id": summary["id"], "url": summary["url"], "name": summary["name"]}
        return {
            "id": issue.id + 500_000_000,
            "number": issue.number,
            "url": f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}",
            "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": short},
            "base": {"ref": pull.base_ref, "sha": pull.base_sha, "repo": short},
        }

    def pulls_with_head(
        self, repo: Repo, sha: str, *, include_forks: bool
    ) -> list[Issue]:
        return [
            issue
            for issue in repo.issues.values()
            if issue.pull is not None
            and issue.pull.head_sha == sha
            and issue.state == "open"
            and (include_forks or not issue.pull.fork)
        ]

    def app_integration(self, app_id: int, slug: str) -> Json:
        if app_id == self.app.id:
            return self.integration()
        owner = self.world.ensure_user("github", "Organization")
        return {
            **self.integration(),
            "id": app_id,
            "slug": slug,
            "node_id": node_id("A", app_id),
            "name": slug,
            "owner": self.user_shape(owner),
            "html_url": f"{HTML}/apps/{slug}",
        }

    def check_run(self, repo: Repo, run: CheckRun) -> Json:
        url = f"{self.api}/repos/{repo.full_name}/check-runs/{run.id}"
        output = {
            "title": run.output.get("title"),
            "summary": run.output.get("summary"),
            "text": run.output.get("text"),
            "annotations_count": len(run.output.get("annotations", [])),
            "annotations_url": f"{url}/annotations",
        }
        # Check runs from forks carry no pull requests, as on GitHub.
        pulls = self.pulls_with_head(repo, run.head_sha, include_forks=False)
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": run.node_id,
            "external_id": run.external_id or "",
            "url": url,
            "html_url": f"{HTML}/{repo.full_name}/runs/{run.id}",
            "details_url": run.details_url or f"{HTML}/{repo.full_name}/runs/{run.id}",
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": iso(run.started_at),
            "completed_at": iso(run.completed_at),
            "output": output,
            "name": run.name,
            "check_suite": {"id": run.check_suite_id},
            "app": self.app_integration(run.app_id, run.app_slug),
            "pull_requests": [self.pull_request_minimal(repo, i) for i in pulls],
        }

    def check_run_event(self, repo: Repo, run: CheckRun) -> Json:
        """A check run as a check_run webhook carries it: with its suite spelled out."""
        runs = [r for r in repo.check_runs if r.check_suite_id == run.check_suite_id]
        suite = self.check_suite(repo, run.check_suite_id, runs)
        rest_only = ("repository", "head_commit", "latest_check_runs_count")
        for key in (
            *rest_only,
            "check_runs_url",
            "rerequestable",
            "runs_rerequestable",
        ):
            suite.pop(key)
        return {**self.check_run(repo, run), "check_suite": suite}

    def check_suite(self, repo: Repo, suite_id: int, runs: list[CheckRun]) -> Json:
        first = runs[0]
        completed = all(r.status == "completed" for r in runs)
        suite_url = f"{self.api}/repos/{repo.full_name}/check-suites/{suite_id}"
        pulls = self.pulls_with_head(repo, first.head_sha, include_forks=False)
        return {
            "id": suite_id,
            "node_id": node_id("CS", suite_id),
            "head_branch": self.branch_of(repo, first.head_sha),
            "head_sha": first.head_sha,
            "status": "completed" if completed else "in_progress",
            "conclusion": suite_conclusion(runs) if completed else None,
            "url": suite_url,
            "before": None,
            "after": first.head_sha,
            "pull_requests": [self.pull_request_minimal(repo, i) for i in pulls],
            "app": self.app_integration(first.app_id, first.app_slug),
            "repository": self.minimal_repository(repo),
            "created_at": iso(first.started_at),
            "updated_at": iso(first.completed_at or first.started_at),
            "head_commit": self.simple_commit(first.head_sha),
            "latest_check_runs_count": len(runs),
            "check_runs_url": f"{suite_url}/check-runs",
            "rerequestable": True,
            "runs_rerequestable": True,
        }

    def branch_of(self, repo: Repo, sha: str) -> str | None:
        for name, head in repo.branches.items():
            if head == sha:
                return name
        for issue in repo.issues.values():
            if issue.pull is not None and issue.pull.head_sha == sha:
                return issue.pull.head_ref
        return None

    def simple_commit(self, sha: str) -> Json:
        person = {"name": "Octo Cat", "email": "octocat@example.com"}
        return {
            "id": sha,
            "tree_id": fake_sha("tree", sha),
            "message": "Update",
            "timestamp": "2024-01-01T00:00:00Z",
            "author": person,
            "committer": person,
        }

    def status(self, repo: Repo, status: CommitStatus) -> Json:
        return {
            "url": f"{self.api}/repos/{repo.full_name}/statuses/{status.sha}",
            "avatar_url": self.simple_user(status.creator)["avatar_url"],
            "id": status.id,
            "node_id": status.node_id,
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": iso(status.created_at),
            "updated_at": iso(status.created_at),
            "creator": self.simple_user(status.creator),
        }

    def combined_status(self, repo: Repo, sha: str) -> Json:
        latest: dict[str, CommitStatus] = {}
        for status in repo.statuses:
            if status.sha == sha:
                latest[status.context] = status
        statuses = [self.status(repo, s) for s in latest.values()]
        for shape in statuses:
            del shape["creator"]
        return {
            "state": combined_state([s.state for s in latest.values()]),
            "statuses": statuses,
            "sha": sha,
            "total_count": len(statuses),
            "repository": self.minimal_repository(repo),
            "commit_url": f"{self.api}/repos/{repo.full_name}/commits/{sha}",
            "url": f"{self.api}/repos/{repo.full_name}/commits/{sha}/status",
        }

    # contents and branches

    def content_file(self, repo: Repo, path: str, text: str) -> Json:
        url = f"{self.api}/repos/{repo.full_name}/contents/{path}"
        raw = text.encode()
        sha = fake_sha("blob", raw.hex())
        html = f"{HTML}/{repo.full_name}/blob/{repo.default_branch}/{path}"
        git = f"{self.api}/repos/{repo.full_name}/git/blobs/{sha}"
        encoded = base64.encodebytes(
            raw
        ).decode()  # GitHub wraps lines at 60 characters
        return {
            "type": "file",
            "encoding": "base64",
            "size": len(raw),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": encoded,
            "sha": sha,
            "url": f"{url}?ref={repo.default_branch}",
            "git_url": git,
            "html_url": html,
            "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/{repo.default_branch}/{path}",
            "_links": {
                "self": f"{url}?ref={repo.default_branch}",
                "git": git,
                "html": html,
            },
        }

    def branch(self, repo: Repo, name: str, sha: str) -> Json:
        url = f"{self.api}/repos/{repo.full_name}"
        person = {
            "name": "Octo Cat",
            "email": "octocat@example.com",
            "date": "2024-01-01T00:00:00Z",
        }
        tree = fake_sha("tree", sha)
        commit: Json = {
            "url": f"{url}/commits/{sha}",
            "sha": sha,
            "node_id": node_id("C", int(sha[:12], 16) if is_hex(sha) else 0),
            "html_url": f"{HTML}/{repo.full_name}/commit/{sha}",
            "comments_url": f"{url}/commits/{sha}/comments",
            "commit": {
                "url": f"{url}/git/commits/{sha}",
                "author": person,
                "committer": person,
                "message": "Update",
                "comment_count": 0,
                "tree": {"sha": tree, "url": f"{url}/git/trees/{tree}"},
            },
            "author": None,
            "committer": None,
            "parents": [],
        }
        return {
            "name": name,
            "commit": commit,
            "_links": {
                "html": f"{HTML}/{repo.full_name}/tree/{name}",
                "self": f"{url}/branches/{name}",
            },
            "protected": False,
            "protection": {"enabled": False},
            "protection_url": f"{url}/branches/{name}/protection",
        }


def is_hex(text: str) -> bool:
    return len(text) >= 12 and all(c in "0123456789abcdef" for c in text[:12])


def suite_conclusion(runs: list[CheckRun]) -> str:
    conclusions = {r.conclusion for r in runs}
    for worst in ("action_required", "cancelled", "timed_out", "failure"):
        if worst in conclusions:
            return worst
    if conclusions <= {"neutral", "skipped"}:
        return "neutral"
    return "success"


def combined_state(states: list[str]) -> str:
    """GitHub: failure if any failed or errored, pending if any pending or none."""
    if any(s in ("failure", "error") for s in states):
        return "failure"
    if not states or "pending" in states:
        return "pending"
    return "success"
