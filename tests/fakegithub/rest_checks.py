"""REST handlers: check runs, check suites and commit statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .rest import Call, Reply, paginate, route
from .shapes import fake_sha
from .state import CheckRun, CommitStatus, NotFound, Repo, node_id, now


def parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def suite_id(repo: Repo, head_sha: str, app_id: int) -> int:
    """One check suite per (commit, app), as GitHub makes them."""
    return int(fake_sha("suite", repo.id, head_sha, app_id)[:8], 16)


def apply_run_fields(run: CheckRun, body: dict[str, Any]) -> None:
    """Fields a create or update may set; a conclusion implies `completed`."""
    for key in ("name", "details_url", "external_id", "status"):
        if key in body:
            setattr(run, key, body[key])
    if "started_at" in body:
        run.started_at = parse_time(body["started_at"])
    if "output" in body:
        run.output = {**run.output, **body["output"]}
    if "actions" in body:
        run.actions = body["actions"]
    if body.get("conclusion"):
        run.conclusion = body["conclusion"]
        run.status = "completed"
    if run.status == "completed":
        run.completed_at = (
            parse_time(body.get("completed_at")) or run.completed_at or now()
        )
    if run.status != "completed":
        run.conclusion = None


@route("checks/create")
def create_check_run(call: Call) -> Reply:
    repo, body = call.repo, call.body
    app = call.fake.app
    run_id = call.fake.world.new_id()
    run = CheckRun(
        id=run_id,
        node_id=node_id("CR", run_id),
        name=body["name"],
        head_sha=body["head_sha"],
        status="queued",
        conclusion=None,
        app_id=app.id,
        app_slug=app.slug,
        check_suite_id=suite_id(repo, body["head_sha"], app.id),
    )
    apply_run_fields(run, body)
    repo.check_runs.append(run)
    return Reply(201, call.fake.shapes.check_run(repo, run))


def find_run(call: Call) -> CheckRun:
    wanted = call.number("check_run_id")
    for run in call.repo.check_runs:
        if run.id == wanted:
            return run
    raise NotFound(f"check run {wanted}")


@route("checks/update")
def update_check_run(call: Call) -> Reply:
    run = find_run(call)
    apply_run_fields(run, call.body or {})
    return Reply(200, call.fake.shapes.check_run(call.repo, run))


@route("checks/get")
def get_check_run(call: Call) -> Reply:
    return Reply(200, call.fake.shapes.check_run(call.repo, find_run(call)))


def sha_of(repo: Repo, ref: str) -> str:
    """A ref may be a SHA, a branch name or heads/<branch>."""
    branch = ref.removeprefix("heads/")
    if branch in repo.branches:
        return repo.branches[branch]
    for issue in repo.issues.values():
        if issue.pull is not None and issue.pull.head_ref == branch:
            return issue.pull.head_sha
    return ref


def latest_runs(runs: list[CheckRun]) -> list[CheckRun]:
    """`filter=latest`: only the newest run of each name from each app."""
    newest: dict[tuple[int, str], CheckRun] = {}
    for run in runs:
        newest[(run.app_id, run.name)] = run
    return list(newest.values())


@route("checks/list-for-ref")
def list_check_runs(call: Call) -> Reply:
    repo, query = call.repo, call.query
    sha = sha_of(repo, call.params["ref"])
    runs = [r for r in repo.check_runs if r.head_sha == sha]
    if "check_name" in query:
        runs = [r for r in runs if r.name == query["check_name"]]
    if "status" in query:
        runs = [r for r in runs if r.status == query["status"]]
    if "app_id" in query:
        runs = [r for r in runs if r.app_id == int(query["app_id"])]
    if query.get("filter", "latest") == "latest":
        runs = latest_runs(runs)
    runs.sort(key=lambda r: -r.id)
    return paginate(
        call, [call.fake.shapes.check_run(repo, r) for r in runs], key="check_runs"
    )


@route("checks/list-suites-for-ref")
def list_check_suites(call: Call) -> Reply:
    repo = call.repo
    sha = sha_of(repo, call.params["ref"])
    suites: dict[int, list[CheckRun]] = {}
    for run in repo.check_runs:
        if run.head_sha == sha:
            suites.setdefault(run.check_suite_id, []).append(run)
    shapes = [
        call.fake.shapes.check_suite(repo, sid, runs) for sid, runs in suites.items()
    ]
    return paginate(call, shapes, key="check_suites")


@route("repos/get-combined-status-for-ref")
def combined_status(call: Call) -> Reply:
    repo = call.repo
    sha = sha_of(repo, call.params["ref"])
    return Reply(200, call.fake.shapes.combined_status(repo, sha))


@route("repos/create-commit-status")
def create_status(call: Call) -> Reply:
    repo, body = call.repo, call.body
    status_id = call.fake.world.new_id()
    status = CommitStatus(
        id=status_id,
        node_id=node_id("SC", status_id),
        sha=call.params["sha"],
        state=body["state"],
        context=body.get("context", "default"),
        creator=call.actor,
        description=body.get("description"),
        target_url=body.get("target_url"),
    )
    repo.statuses.append(status)
    return Reply(201, call.fake.shapes.status(repo, status))


@route("checks/list-for-suite")
def list_suite_check_runs(call: Call) -> Reply:
    repo, query = call.repo, call.query
    wanted = call.number("check_suite_id")
    runs = [r for r in repo.check_runs if r.check_suite_id == wanted]
    if "check_name" in query:
        runs = [r for r in runs if r.name == query["check_name"]]
    if query.get("filter", "latest") == "latest":
        runs = latest_runs(runs)
    runs.sort(key=lambda r: -r.id)
    return paginate(
        call, [call.fake.shapes.check_run(repo, r) for r in runs], key="check_runs"
    )
