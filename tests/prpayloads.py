"""Pull-request, review and CI webhook payloads over the fake's state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import Task
from tests.harness import Bot
from tests.payloads import TEAM_CONFIG, World

DEPLOY_CONFIG = TEAM_CONFIG + "deploy:\n  dispatch_event: task-approved\n"


def pull_event(world: World, action: str, number: int, sender: str) -> dict[str, Any]:
    pull = world.gh.pull_json(world.repo, number)
    return {
        "action": action,
        "number": number,
        **world.envelope(sender, pull_request=pull),
    }


def open_pull(
    world: World,
    author: str,
    body: str = "",
    *,
    head_ref: str = "feature",
    fork: bool = False,
) -> tuple[int, dict[str, Any]]:
    pull = world.gh.add_pull(
        world.repo, body=body, author=author, head_ref=head_ref, fork=fork
    )
    number = int(pull["number"])
    return number, pull_event(world, "opened", number, author)


def push(world: World, number: int, sha: str, sender: str) -> dict[str, Any]:
    before = world.gh.pull_json(world.repo, number)["head"]["sha"]
    world.gh.push(world.repo, number, sha)
    payload = pull_event(world, "synchronize", number, sender)
    return {**payload, "before": before, "after": sha}


def head_of(world: World, number: int) -> str:
    return str(world.gh.pull_json(world.repo, number)["head"]["sha"])


def check_run(
    world: World,
    sha: str,
    name: str = "tests",
    conclusion: str | None = "success",
    *,
    status: str = "completed",
    app_slug: str = "ci-app",
) -> dict[str, Any]:
    """A CI app reports a check run; the delivery GitHub sends for it."""
    run = world.gh.add_check_run(
        world.repo,
        sha,
        name=name,
        status=status,
        conclusion=conclusion,
        app_slug=app_slug,
        details_url=f"https://ci.example/{name}/{sha[:7]}",
    )
    event = world.gh.check_run_json(world.repo, int(run["id"]), webhook=True)
    action = "completed" if status == "completed" else "created"
    return {"action": action, **world.envelope("fred", check_run=event)}


def review(
    world: World, number: int, user: str, state: str = "APPROVED", body: str = ""
) -> dict[str, Any]:
    shape = world.gh.add_review(world.repo, number, user, state=state, body=body)
    shape = {**shape, "state": state.lower()}  # webhooks spell states in lower case
    pull = world.gh.pull_json(world.repo, number)
    return {
        "action": "submitted",
        **world.envelope(user, review=shape, pull_request=pull),
    }


async def task_of(bot: Bot, number: int) -> Task:
    async with bot.services.sessions() as session:
        task = (
            await session.scalars(select(Task).where(Task.issue_number == number))
        ).one()
    return task


async def claimed_task_with_pull(
    bot: Bot, world: World, developer: str = "fred"
) -> tuple[int, int]:
    """A designer's issue, claimed by `developer`, who opens a PR closing it."""
    number, payload = world.open_issue("dana")
    await bot.handle("issues", payload)
    await bot.handle("issue_comment", world.comment(number, developer, "/claim")[1])
    pull, opened = open_pull(world, developer, f"Closes #{number}")
    await bot.handle("pull_request", opened)
    return number, pull


async def submitted_by_ci(bot: Bot, world: World) -> tuple[int, int]:
    """A task whose PR passed CI, so it waits for a review."""
    number, pull = await claimed_task_with_pull(bot, world)
    await bot.handle("check_run", check_run(world, head_of(world, pull)))
    return number, pull


def bot_comments(world: World, number: int) -> list[str]:
    comments = world.gh.issue(world.repo, number)["comments"]
    return [c["body"] for c in comments if c["user"].endswith("[bot]")]


def own_check(world: World, sha: str) -> dict[str, Any]:
    """The newest `workflow-bot` check run on a commit."""
    runs = [
        r for r in world.gh.check_runs(world.repo, sha) if r["name"] == "workflow-bot"
    ]
    return max(runs, key=lambda run: int(run["id"]))


def event_names(bot: Bot) -> list[str]:
    return [name for name, _ in bot.events]
