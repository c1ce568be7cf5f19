"""REST handlers: pull requests, reviews, review requests."""

from __future__ import annotations

from .rest import Call, Reply, error, paginate, route
from .state import Invalid, Issue, Review, node_id, now

REVIEW_STATES = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


@route("pulls/get")
def get_pull(call: Call) -> Reply:
    repo = call.repo
    issue, _ = repo.pull(call.number("pull_number"))
    return Reply(200, call.fake.shapes.pull_request(repo, issue))


@route("pulls/list")
def list_pulls(call: Call) -> Reply:
    repo = call.repo
    state = call.query.get("state", "open")
    head, base = call.query.get("head"), call.query.get("base")
    pulls = []
    for issue in sorted(repo.issues.values(), key=lambda i: -i.number):
        if issue.pull is None or state not in ("all", issue.state):
            continue
        shape = call.fake.shapes.pull_request_simple(repo, issue)
        if head is not None and shape["head"]["label"] != head:
            continue
        if base is not None and issue.pull.base_ref != base:
            continue
        pulls.append(shape)
    return paginate(call, pulls)


@route("repos/list-pull-requests-associated-with-commit")
def pulls_for_commit(call: Call) -> Reply:
    """Any PR whose commits include the SHA, forks too (heads live in refs/pull)."""
    repo = call.repo
    sha = call.params["commit_sha"]
    shapes = [
        call.fake.shapes.pull_request_simple(repo, issue)
        for issue in repo.issues.values()
        if issue.pull is not None
        and (sha in issue.pull.commits or sha == issue.pull.head_sha)
    ]
    return paginate(call, shapes)


@route("pulls/list-reviews")
def list_reviews(call: Call) -> Reply:
    repo = call.repo
    issue, pull = repo.pull(call.number("pull_number"))
    shapes = [call.fake.shapes.review(repo, issue.number, r) for r in pull.reviews]
    return paginate(call, shapes)


@route("pulls/create-review")
def create_review(call: Call) -> Reply:
    repo, body = call.repo, call.body or {}
    issue, pull = repo.pull(call.number("pull_number"))
    event = body.get("event")
    check_review(call, issue, event, body.get("body"))
    review_id = call.fake.world.new_id()
    review = Review(
        id=review_id,
        node_id=node_id("PRR", review_id),
        user=call.actor,
        body=body.get("body", ""),
        state=REVIEW_STATES.get(event or "", "PENDING"),
        commit_id=body.get("commit_id") or pull.head_sha,
        submitted_at=now() if event else None,
    )
    pull.reviews.append(review)
    return Reply(200, call.fake.shapes.review(repo, issue.number, review))


def check_review(call: Call, issue: Issue, event: str | None, text: str | None) -> None:
    """GitHub's refusals: comments and change requests need a body; no self-review."""
    if event in ("REQUEST_CHANGES", "COMMENT") and not text:
        raise Invalid(
            "Unprocessable Entity",
            [{"message": f"Body is required when using {event} event"}],
        )
    if event in ("APPROVE", "REQUEST_CHANGES") and issue.user == call.actor:
        verb = "approve" if event == "APPROVE" else "request changes on"
        raise Invalid(
            "Unprocessable Entity",
            [{"message": f"Can not {verb} your own pull request"}],
        )


@route("pulls/request-reviewers")
def request_reviewers(call: Call) -> Reply:
    repo, body = call.repo, call.body or {}
    issue, pull = repo.pull(call.number("pull_number"))
    reviewers = body.get("reviewers", [])
    if issue.user.lower() in {r.lower() for r in reviewers}:
        return error(422, "Review cannot be requested from pull request author.")
    pull.requested_reviewers = list(
        dict.fromkeys([*pull.requested_reviewers, *reviewers])
    )
    teams = body.get("team_reviewers", [])
    pull.requested_teams = list(dict.fromkeys([*pull.requested_teams, *teams]))
    return Reply(201, call.fake.shapes.pull_request_simple(repo, issue))
