"""CI results: check runs, check suites and commit statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gidgethub import sansio
from gidgethub.routing import Router

from bot import ci, ciflow
from bot.context import DeliveryContext
from bot.mirror import split
from handlers.scope import config_of

router = Router()


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def check_of(run: dict[str, Any]) -> ci.CheckState:
    app = run.get("app") or {}
    return ci.CheckState(
        name=str(run["name"]),
        app_key=ci.app_key(app.get("id")),
        status=str(run.get("status") or "queued"),
        conclusion=run.get("conclusion"),
        details_url=run.get("details_url") or run.get("html_url"),
    )


async def _record_run(ctx: DeliveryContext, run: dict[str, Any]) -> None:
    await ciflow.record_result(
        ctx.session,
        int(ctx.repository["id"]),
        str(run["head_sha"]),
        check_of(run),
        int(run["id"]),
        _when(run.get("started_at")),
    )


async def _judge(
    ctx: DeliveryContext, head_sha: str, pulls: list[dict[str, Any]]
) -> None:
    """Decide for the task whose PR has this commit; older heads only record."""
    task = await ciflow.task_for_commit(ctx, head_sha, pulls)
    if task is None or task.head_sha != head_sha:
        return
    await ciflow.evaluate(ctx, task, await config_of(ctx))


def _is_own(ctx: DeliveryContext, app: dict[str, Any] | None, name: str) -> bool:
    check = ci.CheckState(name, ci.app_key((app or {}).get("id")), "completed")
    return ci.is_own(check, ctx.services.settings.app_id)


@router.register("check_run", action="created")
@router.register("check_run", action="completed")
async def check_run_changed(event: sansio.Event, ctx: DeliveryContext) -> None:
    run = event.data["check_run"]
    if _is_own(ctx, run.get("app"), str(run["name"])):
        return
    await _record_run(ctx, run)
    await _judge(ctx, str(run["head_sha"]), run.get("pull_requests") or [])


@router.register("check_suite", action="completed")
async def check_suite_completed(event: sansio.Event, ctx: DeliveryContext) -> None:
    """A suite's runs may not all have reached us yet: read them from GitHub."""
    suite = event.data["check_suite"]
    if _is_own(ctx, suite.get("app"), "") or ctx.installation_id is None:
        return
    head_sha = str(suite["head_sha"])
    task = await ciflow.task_for_commit(ctx, head_sha, suite.get("pull_requests") or [])
    if task is None or task.head_sha != head_sha:
        return  # its runs arrive as check_run events too; only the head needs them now
    where = {**split(ctx.repository["full_name"]), "check_suite_id": str(suite["id"])}
    async for run in ctx.gh.getiter(
        "/repos/{owner}/{repo}/check-suites/{check_suite_id}/check-runs",
        url_vars=where,
        iterable_key="check_runs",
    ):
        if not _is_own(ctx, run.get("app"), str(run["name"])):
            await _record_run(ctx, run)
    await ciflow.evaluate(ctx, task, await config_of(ctx))


@router.register("status")
async def commit_status(event: sansio.Event, ctx: DeliveryContext) -> None:
    """The older commit status API: one result per context, no app."""
    data = event.data
    status, conclusion = ci.status_as_check(str(data["state"]))
    check = ci.CheckState(
        name=str(data["context"]),
        app_key=ci.STATUS_APP_KEY,
        status=status,
        conclusion=conclusion,
        details_url=data.get("target_url"),
    )
    await ciflow.record_result(
        ctx.session,
        int(ctx.repository["id"]),
        str(data["sha"]),
        check,
        int(data["id"]),
        _when(data.get("created_at")),
    )
    await _judge(ctx, str(data["sha"]), [])
