"""The domain operations: the only way a task's state changes.

Each operation checks the role matrix, changes state, and writes one audit
row plus its outbox events in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import events, outbox, rbac
from bot.effects import PUBLISH
from bot.rbac import Action, Actor, Decision
from storage.models import (
    AuditEntry,
    Outcome,
    Review,
    Role,
    Status,
    Task,
    TaskType,
    User,
    utcnow,
)

SYNC = "github.sync"
# After-commit work on approval (metrics, deploy dispatch): see bot/approval.py.
APPROVED_EFFECT = "task.approved"


class Refused(Exception):
    """The role matrix or the transition table says no; tell the person why."""

    def __init__(self, reason: str, who_may: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.who_may = who_may

    @classmethod
    def from_decision(cls, decision: Decision) -> Refused:
        return cls(decision.reason, decision.who_may)


@dataclass(frozen=True)
class IssueRef:
    """Where a task lives on GitHub."""

    installation_id: int | None
    repository_id: int
    repository_full_name: str
    number: int
    node_id: str | None
    title: str
    url: str | None = None


@dataclass(frozen=True)
class Policy:
    """Per-repository choices the operations need (from its config)."""

    xp_per_approval: int = 10


STATUS_EVENTS = {
    Status.SUBMITTED: events.TASK_SUBMITTED,
    Status.APPROVED: events.TASK_APPROVED,
    Status.REJECTED: events.TASK_REJECTED,
}


def view(task: Task) -> rbac.TaskView:
    return rbac.TaskView(task.status, task.type, task.assignee_id, task.pr_author_id)


def task_data(task: Task) -> dict[str, Any]:
    return {
        "taskId": task.id,
        "repository": task.repository_full_name,
        "issueNumber": task.issue_number,
        "type": str(task.type),
        "status": str(task.status),
        "assigneeId": task.assignee_id,
    }


async def remember_user(session: AsyncSession, github_user: dict[str, Any]) -> User:
    """The user row for a GitHub user object, its login refreshed."""
    user = await session.get(User, github_user["id"])
    if user is None:
        user = User(id=github_user["id"], login=github_user["login"], xp=0)
        session.add(user)
        await session.flush()
    elif user.login != github_user["login"]:
        user.login = github_user["login"]
    return user


async def task_for_issue(
    session: AsyncSession, repository_id: int, number: int, *, lock: bool = True
) -> Task | None:
    query = select(Task).where(
        Task.repository_id == repository_id, Task.issue_number == number
    )
    if lock:
        # Events keyed differently (a check run by commit) may touch one task.
        query = query.with_for_update()
    return (await session.scalars(query)).first()


# After-commit work when an admin changes someone's XP (the academy's gates).
XP_ADJUSTED = "xp.adjusted"


class Workflow:
    def __init__(
        self,
        session: AsyncSession,
        *,
        source: str,
        delivery_id: str | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.session = session
        self.source = source
        self.delivery_id = delivery_id
        self.policy = policy or Policy()

    async def create_task(
        self, issue: IssueRef, task_type: TaskType, actor: Actor
    ) -> Task:
        if not actor.is_system:
            self._require(rbac.may(actor, Action.CREATE))
        task = Task(
            installation_id=issue.installation_id,
            repository_id=issue.repository_id,
            repository_full_name=issue.repository_full_name,
            issue_number=issue.number,
            issue_node_id=issue.node_id,
            title=issue.title[:1024],
            type=task_type,
            status=Status.TODO,
            repository_url=issue.url,
            creator_id=actor.id,
        )
        self.session.add(task)
        await self.session.flush()
        await self._audit(task, "create", None, Status.TODO, actor)
        await self._publish(events.TASK_CREATED, task_data(task))
        await self.sync(task)
        return task

    async def claim(self, task: Task, actor: Actor) -> None:
        self._require(rbac.may_claim(actor, view(task)))
        task.assignee_id = actor.id
        if task.status == Status.IN_PROGRESS:
            await self._audit(task, "claim", task.status, task.status, actor)
            await self.sync(task)
            return
        await self._change(task, Status.IN_PROGRESS, actor, action="claim")

    async def unclaim(self, task: Task, actor: Actor) -> None:
        if actor.id != task.assignee_id and actor.role != Role.SUPER_ADMIN:
            raise Refused("only the assignee may unclaim", "the assignee, SUPER_ADMIN")
        task.assignee_id = None
        if task.status == Status.IN_PROGRESS:
            await self._change(task, Status.TODO, actor, action="unclaim")
        else:
            await self._audit(task, "unclaim", task.status, task.status, actor)
            await self.sync(task)

    async def assign(
        self, task: Task, assignee: User | None, actor: Actor, *, start: bool = True
    ) -> None:
        """Record who works on it; being assigned a TODO task starts it,
        unless `start` is False (an exercise waits for its student)."""
        previous = task.assignee_id
        task.assignee_id = assignee.id if assignee else None
        if assignee is None or previous == assignee.id:
            await self._audit(task, "assign", task.status, task.status, actor)
            return
        may_start = (
            actor.is_system or actor.id == assignee.id or actor.role in (rbac.CREATORS)
        )
        if start and task.status == Status.TODO and may_start:
            await self._change(task, Status.IN_PROGRESS, actor, action="assign")
        else:
            await self._audit(task, "assign", task.status, task.status, actor)

    async def move(
        self, task: Task, target: Status, actor: Actor, note: str | None = None
    ) -> None:
        """A requested status change (command, label, board, API)."""
        if target == task.status:
            return
        if target in (Status.APPROVED, Status.REJECTED) and not actor.is_system:
            outcome = (
                Outcome.APPROVED if target == Status.APPROVED else Outcome.REJECTED
            )
            await self.review(task, actor, outcome, note)
            return
        self._require(rbac.may_transition(actor, view(task), target))
        await self._change(task, target, actor, note=note)

    async def submit(self, task: Task, actor: Actor) -> None:
        self._require(rbac.may_transition(actor, view(task), Status.SUBMITTED))
        await self._change(task, Status.SUBMITTED, actor, action="submit")

    async def review(
        self,
        task: Task,
        actor: Actor,
        outcome: Outcome,
        comment: str | None,
        *,
        github_review_id: int | None = None,
        head_sha: str | None = None,
    ) -> Review:
        target = Status(outcome.value)
        if not actor.is_system:
            self._require(rbac.may(actor, Action.REVIEW))
            if await self._worked_on(task, actor):
                raise Refused("nobody reviews their own work", "another reviewer")
        self._require(rbac.may_transition(actor, view(task), target))
        review = Review(
            task_id=task.id,
            reviewer_id=actor.id,
            outcome=outcome,
            comment=comment,
            source=self.source,
            head_sha=head_sha or task.head_sha,
            github_review_id=github_review_id,
        )
        self.session.add(review)
        await self.session.flush()
        task.first_review_at = task.first_review_at or utcnow()
        await self._publish(events.REVIEW_CREATED, _review_data(task, review, actor))
        await self._change(task, target, actor, action="review", note=comment)
        return review

    async def override(
        self, task: Task, target: Status, actor: Actor, reason: str
    ) -> None:
        self._require(rbac.may(actor, Action.OVERRIDE))
        await self._change(task, target, actor, action="override", note=reason)

    async def retarget(self, task: Task, issue: IssueRef) -> None:
        """The issue moved (transferred): the task follows, history kept."""
        note = f"{task.repository_full_name}#{task.issue_number} -> "
        note += f"{issue.repository_full_name}#{issue.number}"
        task.repository_id = issue.repository_id
        task.repository_full_name = issue.repository_full_name
        task.issue_number = issue.number
        task.issue_node_id = issue.node_id
        task.installation_id = issue.installation_id or task.installation_id
        task.repository_url = issue.url
        await self._audit(task, "transfer", task.status, task.status, rbac.SYSTEM, note)
        await self.sync(task)

    async def record(self, task: Task, action: str, actor: Actor, note: str) -> None:
        """An audit row for something that changed no status."""
        await self._audit(task, action, task.status, task.status, actor, note)

    async def audit(self, action: str, actor: Actor, note: str) -> None:
        """An audit row that concerns no task (impersonation, say)."""
        await self._audit(None, action, None, None, actor, note)

    async def set_role(self, target: User, role: Role | None, actor: Actor) -> None:
        self._require(rbac.may(actor, Action.SET_ROLE))
        before = target.role
        target.role = role
        target.role_source = "command"
        note = f"@{target.login}: {before or 'none'} -> {role or 'none'}"
        await self._audit(None, "role", None, None, actor, note)

    async def adjust_xp(
        self, user: User, delta: int, actor: Actor, reason: str
    ) -> None:
        self._require(rbac.may(actor, Action.ADJUST_XP))
        user.xp = max(user.xp + delta, 0)
        note = f"@{user.login} {delta:+d} XP: {reason}"
        await self._audit(None, "xp", None, None, actor, note)
        await outbox.enqueue(
            self.session,
            XP_ADJUSTED,
            {"user_id": user.id, "subject": f"user:{user.id}"},
            dedup_key=f"xp:{user.id}",
        )

    async def sync(self, task: Task) -> None:
        """Ask for GitHub (labels, board, check run) to be brought in step."""
        await outbox.enqueue(
            self.session,
            SYNC,
            {"task_id": task.id, "subject": f"task:{task.id}"},
            dedup_key=f"sync:{task.id}",
        )

    async def _change(
        self,
        task: Task,
        target: Status,
        actor: Actor,
        *,
        action: str = "transition",
        note: str | None = None,
    ) -> None:
        before = task.status
        task.status = target
        task.updated_at = utcnow()
        if target == Status.SUBMITTED:
            task.submitted_at = utcnow()
        if target == Status.APPROVED:
            task.approved_at = utcnow()
            await self._grant_xp(task)
            await outbox.enqueue(
                self.session,
                APPROVED_EFFECT,
                {
                    "task_id": task.id,
                    "head_sha": task.head_sha,
                    "subject": f"task:{task.id}",
                },
                dedup_key=f"approved:{task.id}:{task.head_sha}",
            )
        await self._audit(task, action, before, target, actor, note)
        if target in STATUS_EVENTS and target != before:
            await self._publish(STATUS_EVENTS[target], task_data(task))
        await self.sync(task)

    async def _grant_xp(self, task: Task) -> None:
        # Once per task, however many approvals reach it.
        if task.type != TaskType.ACADEMY_EXERCISE or task.xp_granted:
            return
        if task.assignee_id is None:
            return
        student = await self.session.get(User, task.assignee_id)
        if student is None:
            return
        task.xp_granted = True
        student.xp += self.policy.xp_per_approval
        note = f"@{student.login} +{self.policy.xp_per_approval} XP"
        await self._audit(task, "xp", None, None, rbac.SYSTEM, note)

    async def _audit(
        self,
        task: Task | None,
        action: str,
        before: Status | None,
        after: Status | None,
        actor: Actor,
        note: str | None = None,
    ) -> None:
        self.session.add(
            AuditEntry(
                task_id=task.id if task else None,
                action=action,
                from_status=str(before) if before else None,
                to_status=str(after) if after else None,
                actor_id=actor.id,
                actor_login=actor.login,
                acting_as_id=actor.impersonator_id,
                source=self.source,
                delivery_id=self.delivery_id,
                note=note,
            )
        )

    async def _publish(self, name: str, data: dict[str, Any]) -> None:
        subject = f"task:{data['taskId']}" if "taskId" in data else "events"
        await outbox.enqueue(
            self.session, PUBLISH, {"name": name, "data": data, "subject": subject}
        )

    async def _worked_on(self, task: Task, actor: Actor) -> bool:
        """Claimed or submitted it once: unclaiming does not make a reviewer."""
        found = await self.session.scalar(
            select(AuditEntry.id)
            .where(
                AuditEntry.task_id == task.id,
                AuditEntry.actor_id == actor.id,
                AuditEntry.action.in_(("claim", "submit")),
            )
            .limit(1)
        )
        return found is not None

    @staticmethod
    def _require(decision: Decision) -> None:
        if not decision:
            raise Refused.from_decision(decision)


def _review_data(task: Task, review: Review, actor: Actor) -> dict[str, Any]:
    return {
        "taskId": task.id,
        "reviewId": review.id,
        "reviewerId": actor.id,
        "reviewer": actor.login,
        "outcome": str(review.outcome),
        "comment": review.comment,
        "source": review.source,
    }
