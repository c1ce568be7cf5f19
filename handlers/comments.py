"""Slash commands in issue and pull-request comments."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gidgethub import BadRequest, sansio
from gidgethub.routing import Router
from sqlalchemy import select

from bot import academy, rbac, replies
from bot import commands as grammar
from bot.config import RepoConfig
from bot.context import DeliveryContext
from bot.rbac import Action, Actor
from bot.workflow import Refused, Workflow, remember_user, task_for_issue
from bot.workflow import view as workflow_view
from handlers.scope import actor_of, config_of, issue_ref, workflow_for
from storage.models import (
    AnsweredComment,
    AuditEntry,
    Outcome,
    Role,
    Status,
    Task,
    TaskType,
    User,
)

router = Router()

LEVEL_XP = 100  # XP per level shown by /xp


@dataclass
class Turn:
    """One comment being answered: who wrote it, where, and what to say back."""

    ctx: DeliveryContext
    config: RepoConfig
    actor: Actor
    task: Task | None
    comment_id: int
    answers: list[str] = field(default_factory=list)
    accepted: int = 0

    @property
    def workflow(self) -> Workflow:
        return workflow_for(self.ctx, "command", self.config)

    def need_task(self) -> Task:
        if self.task is None:
            raise Refused(
                "this issue is not a task yet",
                "a creator (" + rbac.describe(rbac.CREATORS) + ") with `/task <type>`",
            )
        return self.task


Runner = Callable[[Turn, Any], Awaitable[str | None]]
RUNNERS: dict[type, Runner] = {}


def runs(kind: type) -> Callable[[Runner], Runner]:
    def register(function: Runner) -> Runner:
        RUNNERS[kind] = function
        return function

    return register


@router.register("issue_comment", action="created")
async def comment_created(event: sansio.Event, ctx: DeliveryContext) -> None:
    await _answer(ctx, grammar.parse(event.data["comment"].get("body") or ""))


@router.register("issue_comment", action="edited")
async def comment_edited(event: sansio.Event, ctx: DeliveryContext) -> None:
    if (ctx.sender.get("id") or 0) != (event.data["comment"].get("user") or {}).get(
        "id"
    ):
        # Someone with write access edited another person's comment: its
        # commands would run in the author's name, so none run at all.
        return
    before = ((event.data.get("changes") or {}).get("body") or {}).get("from") or ""
    after = event.data["comment"].get("body") or ""
    await _answer(ctx, grammar.new_commands(before, after))


async def _answer(ctx: DeliveryContext, parsed: list[grammar.ParseResult]) -> None:
    if not parsed or ctx.sender.get("type") == "Bot":
        return  # other bots' comments are never parsed
    if await _already_answered(ctx):
        return
    config = await config_of(ctx)
    turn = Turn(
        ctx=ctx,
        config=config,
        actor=await actor_of(ctx, ctx.payload["comment"]["user"], config),
        task=await _task_of(ctx),
        comment_id=int(ctx.payload["comment"]["id"]),
    )
    for item in parsed:
        await _run_one(turn, item)
    await _respond(turn)


async def _already_answered(ctx: DeliveryContext) -> bool:
    """True when this very body of this comment has had its commands run."""
    comment = ctx.payload["comment"]
    digest = hashlib.sha256((comment.get("body") or "").encode()).hexdigest()
    row = await ctx.session.get(AnsweredComment, int(comment["id"]))
    if row is not None and row.body_sha == digest:
        return True
    if row is None:
        ctx.session.add(AnsweredComment(comment_id=int(comment["id"]), body_sha=digest))
    else:
        row.body_sha = digest
    return False


async def _task_of(ctx: DeliveryContext) -> Task | None:
    issue = ctx.payload["issue"]
    repository_id = ctx.repository["id"]
    if "pull_request" in issue:
        # A PR comment acts on the task the pull request submits.
        query = select(Task).where(
            Task.repository_id == repository_id, Task.pr_number == issue["number"]
        )
        task = (await ctx.session.scalars(query)).first()
    else:
        task = await task_for_issue(ctx.session, repository_id, issue["number"])
    return None if task is None or task.deleted else task


async def _run_one(turn: Turn, item: grammar.ParseResult) -> None:
    if isinstance(item, grammar.CommandError):
        turn.answers.append(
            replies.render(
                "unknown_command.md.j2", login=turn.actor.login, message=item.message
            )
        )
        return
    runner = RUNNERS[type(item)]
    try:
        async with turn.ctx.session.begin_nested():
            answer = await runner(turn, item)
    except Refused as refusal:
        turn.answers.append(
            replies.render(
                "refused.md.j2",
                login=turn.actor.login,
                command=f"/{item.name}",
                reason=refusal.reason,
                who_may=refusal.who_may,
            )
        )
        return
    turn.accepted += 1
    if answer:
        turn.answers.append(answer)


async def _respond(turn: Turn) -> None:
    ctx = turn.ctx
    repository = ctx.repository["full_name"]
    if turn.accepted:
        await replies.react(
            ctx.session,
            installation_id=ctx.installation_id,
            repository=repository,
            comment_id=turn.comment_id,
        )
    if turn.answers:
        await replies.reply(
            ctx.session,
            installation_id=ctx.installation_id,
            repository=repository,
            issue_number=int(ctx.payload["issue"]["number"]),
            marker=f"reply:{turn.comment_id}",
            body="\n\n".join(turn.answers),
        )


async def _user_named(turn: Turn, login: str) -> User:
    try:
        found = await turn.ctx.gh.getitem(
            "/users/{username}", url_vars={"username": login}
        )
    except BadRequest as exc:
        if int(exc.status_code) == 404:
            raise Refused(f"there is no GitHub user @{login}") from None
        raise
    return await remember_user(turn.ctx.session, found)


def _status(name: str) -> Status:
    return Status(name.upper())


@runs(grammar.Help)
async def run_help(turn: Turn, command: grammar.Help) -> str:
    names = [command.topic] if command.topic in grammar.USAGE else grammar.COMMAND_NAMES
    usages = [(grammar.DESCRIPTIONS[n], grammar.USAGE[n]) for n in names if n]
    return replies.render("help.md.j2", usages=usages)


@runs(grammar.NewTask)
async def run_new_task(turn: Turn, command: grammar.NewTask) -> None:
    if turn.task is not None:
        raise Refused("this issue is already a task")
    issue = turn.ctx.payload["issue"]
    if "pull_request" in issue:
        raise Refused("pull requests submit tasks; they are not tasks themselves")
    turn.task = await turn.workflow.create_task(
        issue_ref(turn.ctx, issue), TaskType(command.kind.upper()), turn.actor
    )


@runs(grammar.Claim)
async def run_claim(turn: Turn, _command: grammar.Claim) -> None:
    await turn.workflow.claim(turn.need_task(), turn.actor)


@runs(grammar.Unclaim)
async def run_unclaim(turn: Turn, _command: grammar.Unclaim) -> None:
    await turn.workflow.unclaim(turn.need_task(), turn.actor)


@runs(grammar.Assign)
async def run_assign(turn: Turn, command: grammar.Assign) -> None:
    task = turn.need_task()
    if command.user.lower() == turn.actor.login.lower():
        # Assigning yourself is claiming, with the same checks.
        decision = rbac.may_claim(turn.actor, workflow_view(task))
    else:
        decision = rbac.may(turn.actor, Action.ASSIGN)
    if not decision:
        raise Refused.from_decision(decision)
    user = await _user_named(turn, command.user)
    if task.assignee_id not in (None, user.id) and turn.actor.role != Role.SUPER_ADMIN:
        raise Refused("the task is assigned to someone else", "SUPER_ADMIN")
    await turn.workflow.assign(task, user, turn.actor)


@runs(grammar.SetStatus)
async def run_status(turn: Turn, command: grammar.SetStatus) -> None:
    await turn.workflow.move(turn.need_task(), _status(command.status), turn.actor)


@runs(grammar.Submit)
async def run_submit(turn: Turn, _command: grammar.Submit) -> None:
    await turn.workflow.submit(turn.need_task(), turn.actor)


@runs(grammar.Approve)
async def run_approve(turn: Turn, command: grammar.Approve) -> None:
    await turn.workflow.review(
        turn.need_task(), turn.actor, Outcome.APPROVED, command.note
    )


@runs(grammar.Reject)
async def run_reject(turn: Turn, command: grammar.Reject) -> None:
    await turn.workflow.review(
        turn.need_task(), turn.actor, Outcome.REJECTED, command.reason
    )


@runs(grammar.Override)
async def run_override(turn: Turn, command: grammar.Override) -> None:
    await turn.workflow.override(
        turn.need_task(), _status(command.status), turn.actor, command.reason
    )


@runs(grammar.SetRole)
async def run_role(turn: Turn, command: grammar.SetRole) -> str:
    decision = rbac.may(turn.actor, Action.SET_ROLE)
    if not decision:
        raise Refused.from_decision(decision)
    user = await _user_named(turn, command.user)
    role = Role(command.role) if command.role else None
    await turn.workflow.set_role(user, role, turn.actor)
    return f"@{user.login} is now {role or 'without a role'}."


@runs(grammar.ShowXp)
async def run_show_xp(turn: Turn, command: grammar.ShowXp) -> str:
    login = command.user or turn.actor.login
    if login.lower() != turn.actor.login.lower():
        decision = rbac.may(turn.actor, Action.SEE_OTHERS_XP)
        if not decision:
            raise Refused.from_decision(decision)
        user = await _user_named(turn, login)
    else:
        user = await remember_user(
            turn.ctx.session, turn.ctx.payload["comment"]["user"]
        )
    return await xp_summary(turn, user)


async def xp_summary(turn: Turn, user: User) -> str:
    return replies.render(
        "xp.md.j2",
        login=user.login,
        xp=user.xp,
        level=user.xp // LEVEL_XP + 1,
        role=user.role,
        progress=await progress_text(turn, user),
    )


async def progress_text(turn: Turn, user: User) -> str:
    """Curriculum progress in every academy the user is enrolled in."""
    return await academy.student_progress(turn.ctx.session, turn.ctx.services, user)


@runs(grammar.AdjustXp)
async def run_adjust_xp(turn: Turn, command: grammar.AdjustXp) -> str:
    decision = rbac.may(turn.actor, Action.ADJUST_XP)
    if not decision:
        raise Refused.from_decision(decision)
    user = await _user_named(turn, command.user)
    await turn.workflow.adjust_xp(user, command.delta, turn.actor, command.reason)
    return f"@{user.login} now has {user.xp} XP ({command.delta:+d}: {command.reason})."


@runs(grammar.Why)
async def run_why(turn: Turn, _command: grammar.Why) -> str:
    task = turn.need_task()
    assignee = (
        await turn.ctx.session.get(User, task.assignee_id) if task.assignee_id else None
    )
    return replies.render(
        "why.md.j2",
        status=task.status,
        assignee=assignee.login if assignee else None,
        waiting=waiting_for(task),
    )


def waiting_for(task: Task) -> str:
    """What the task waits for and who can move it next, in one sentence."""
    waits = {
        Status.TODO: "It waits to be claimed (`/claim`) by someone who will do it.",
        Status.IN_PROGRESS: "It waits for the assignee to `/submit` it "
        "(or for CI to pass on its pull request).",
        Status.SUBMITTED: "It waits for a review by "
        + rbac.describe(rbac.REVIEWERS)
        + ", who must not be the assignee or the PR author.",
        Status.APPROVED: "It is done. Only SUPER_ADMIN can `/override` it.",
        Status.REJECTED: "It waits for the assignee to push a fix or `/claim` it.",
    }
    return waits[task.status]


@runs(grammar.History)
async def run_history(turn: Turn, _command: grammar.History) -> str:
    task = turn.need_task()
    rows = (
        await turn.ctx.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.task_id == task.id)
            .order_by(AuditEntry.id)
            .limit(50)
        )
    ).all()
    return replies.render("history.md.j2", status=task.status, rows=rows)
