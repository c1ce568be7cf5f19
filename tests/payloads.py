"""Webhook payload builders over the fake's state, with sensible defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakegithub import FakeGitHub

TEAM_CONFIG = """\
roles:
  DESIGNER: [dana]
  FE_DEV: [fred]
  BE_DEV: [bea]
  QA: [quinn]
  REVIEWER: [rita]
  STUDENT: [sam]
"""


@dataclass
class World:
    """One organisation with the App installed on one repository."""

    gh: FakeGitHub
    installation_id: int
    repo: str = "acme/widgets"

    def envelope(self, sender: str, **objects: Any) -> dict[str, Any]:
        return {
            **objects,
            "repository": self.gh.repo_json(self.repo),
            "installation": {"id": self.installation_id, "node_id": "MDIz"},
            "sender": self.gh.user_json(sender),
        }

    def issue_event(
        self, action: str, number: int, sender: str, **extra: Any
    ) -> dict[str, Any]:
        issue = self.gh.issue_json(self.repo, number)
        return {"action": action, **self.envelope(sender, issue=issue), **extra}

    def open_issue(
        self, author: str, title: str = "Build the login page", **kw: Any
    ) -> tuple[int, dict[str, Any]]:
        issue = self.gh.add_issue(self.repo, title=title, author=author, **kw)
        return issue["number"], self.issue_event("opened", issue["number"], author)

    def comment(
        self, number: int, author: str, body: str
    ) -> tuple[int, dict[str, Any]]:
        comment = self.gh.add_comment(self.repo, number, body=body, author=author)
        payload = {
            "action": "created",
            **self.envelope(
                author, issue=self.gh.issue_json(self.repo, number), comment=comment
            ),
        }
        return comment["id"], payload

    def labels_event(
        self, action: str, number: int, sender: str, label: str
    ) -> dict[str, Any]:
        return self.issue_event(
            action, number, sender, label={"name": label, "color": "ededed"}
        )


def make_world(gh: FakeGitHub, config: str | None = TEAM_CONFIG) -> World:
    installation = gh.add_installation("acme")
    gh.add_repo("acme/widgets", installation_id=installation["id"])
    for login in ("dana", "fred", "bea", "quinn", "rita", "sam", "root-admin", "eve"):
        gh.add_user(login)
    if config is not None:
        gh.set_file("acme/widgets", ".github/workflow-bot.yml", config)
    return World(gh, installation["id"])
