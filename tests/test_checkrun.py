"""What the bot's own `workflow-bot` check run shows for each task status."""

from __future__ import annotations

import pytest

from bot.checkrun import Desired, Facts, desired_check
from storage.models import Status

FACTS = Facts(
    assignee="fred",
    reviewers=("@quinn", "@rita"),
    approvers=("quinn",),
    rejected_by="@rita",
    ci_waiting=("lint",),
)


@pytest.mark.parametrize(
    ("status", "conclusion", "mentions"),
    [
        (Status.APPROVED, "success", ["@quinn"]),
        (Status.REJECTED, "failure", ["@fred", "@rita"]),
        (Status.SUBMITTED, None, ["@quinn", "@rita"]),
        (Status.IN_PROGRESS, None, ["lint", "@fred"]),
        (Status.TODO, None, ["claimed"]),
    ],
)
def test_check_is_green_only_when_approved_and_says_what_it_waits_for(
    status: Status, conclusion: str | None, mentions: list[str]
) -> None:
    desired = desired_check(status, FACTS)

    assert desired.conclusion == conclusion
    assert desired.status == ("completed" if conclusion else "in_progress")
    for mention in mentions:
        assert mention in desired.summary


def test_submitted_without_configured_reviewers_names_the_roles() -> None:
    facts = Facts(None, (), (), None, ())

    summary = desired_check(Status.SUBMITTED, facts).summary

    assert "QA" in summary and "REVIEWER" in summary and "SUPER_ADMIN" in summary


def test_unchanged_run_needs_no_update() -> None:
    desired = Desired("in_progress", None, "Waiting for review", "by @quinn")
    run = {
        "status": "in_progress",
        "conclusion": None,
        "output": {"title": "Waiting for review", "summary": "by @quinn"},
    }

    assert desired.matches(run)
    assert not desired.matches({**run, "status": "completed"})
