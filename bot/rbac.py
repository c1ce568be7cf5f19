"""The role matrix, as data, and the one function that answers "may they?"."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from storage.models import Role, Status, TaskType

CREATORS = frozenset({Role.DESIGNER, Role.FE_DEV, Role.BE_DEV, Role.SUPER_ADMIN})
REVIEWERS = frozenset({Role.QA, Role.REVIEWER, Role.SUPER_ADMIN})
# Roles that do the work of a task and so may claim one.
WORKERS = frozenset(
    {Role.DESIGNER, Role.FE_DEV, Role.BE_DEV, Role.QA, Role.STUDENT, Role.SUPER_ADMIN}
)
ADMINS = frozenset({Role.SUPER_ADMIN})


class Action(enum.StrEnum):
    CREATE = "create"
    CLAIM = "claim"
    UNCLAIM = "unclaim"
    ASSIGN = "assign"
    MOVE = "move"
    SUBMIT = "submit"
    REVIEW = "review"
    OVERRIDE = "override"
    SET_ROLE = "set_role"
    ADJUST_XP = "adjust_xp"
    SEE_OTHERS_XP = "see_others_xp"
    ENROLL = "enroll"


class Party(enum.StrEnum):
    """Who, besides holders of a role, may make a move."""

    ASSIGNEE = "the assignee"
    SYSTEM = "CI"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    parties: frozenset[Party] = frozenset()
    # Reviews: the person whose work it is never judges it.
    not_own_work: bool = False


_ASSIGNEE_OR_ADMIN = Rule(ADMINS, frozenset({Party.ASSIGNEE}))
_REVIEW = Rule(REVIEWERS, frozenset(), not_own_work=True)

# The transition table of DESIGN.md section 3. Override is outside it.
TRANSITIONS: dict[tuple[Status, Status], Rule] = {
    (Status.TODO, Status.IN_PROGRESS): _ASSIGNEE_OR_ADMIN,
    (Status.IN_PROGRESS, Status.TODO): _ASSIGNEE_OR_ADMIN,
    (Status.IN_PROGRESS, Status.SUBMITTED): Rule(
        ADMINS, frozenset({Party.ASSIGNEE, Party.SYSTEM})
    ),
    (Status.SUBMITTED, Status.APPROVED): _REVIEW,
    (Status.SUBMITTED, Status.REJECTED): Rule(
        REVIEWERS, frozenset({Party.SYSTEM}), not_own_work=True
    ),
    (Status.IN_PROGRESS, Status.REJECTED): Rule(frozenset(), frozenset({Party.SYSTEM})),
    (Status.REJECTED, Status.IN_PROGRESS): _ASSIGNEE_OR_ADMIN,
    # A stale approval (new commits after it) sends the task back for review.
    (Status.APPROVED, Status.SUBMITTED): Rule(frozenset(), frozenset({Party.SYSTEM})),
    (Status.SUBMITTED, Status.IN_PROGRESS): Rule(ADMINS, frozenset({Party.SYSTEM})),
}

ACTIONS: dict[Action, frozenset[Role]] = {
    Action.CREATE: CREATORS,
    Action.CLAIM: WORKERS,
    Action.ASSIGN: CREATORS,
    Action.OVERRIDE: ADMINS,
    Action.SET_ROLE: ADMINS,
    Action.ADJUST_XP: ADMINS,
    Action.SEE_OTHERS_XP: frozenset({Role.REVIEWER, Role.QA, Role.SUPER_ADMIN}),
    Action.REVIEW: REVIEWERS,
}


@dataclass(frozen=True)
class Actor:
    """Someone acting on a task; `id` None means the system (CI)."""

    id: int | None
    login: str
    role: Role | None
    impersonator_id: int | None = None

    @property
    def is_system(self) -> bool:
        return self.id is None


SYSTEM = Actor(id=None, login="workflow-bot", role=None)


@dataclass(frozen=True)
class TaskView:
    """The facts about a task that permission depends on."""

    status: Status
    type: TaskType
    assignee_id: int | None
    pr_author_id: int | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    who_may: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def describe(roles: frozenset[Role], parties: frozenset[Party] = frozenset()) -> str:
    names = sorted(str(role) for role in roles) + sorted(str(p) for p in parties)
    return ", ".join(names) or "nobody"


def may(actor: Actor, action: Action) -> Decision:
    """A permission that does not depend on any task."""
    roles = ACTIONS[action]
    if actor.role in roles:
        return Decision(True)
    held = actor.role or "no role"
    return Decision(
        False,
        f"@{actor.login} holds {held}; {action} needs {describe(roles)}",
        describe(roles),
    )


def may_transition(actor: Actor, task: TaskView, target: Status) -> Decision:
    """May `actor` move `task` to `target` through the transition table?"""
    rule = TRANSITIONS.get((task.status, target))
    if rule is None:
        return Decision(
            False,
            f"a task cannot move from {task.status} to {target}",
            "SUPER_ADMIN with /override",
        )
    who = describe(rule.roles, rule.parties)
    if rule.not_own_work and _is_own_work(actor, task):
        return Decision(False, "nobody reviews their own work", who)
    if _qualifies(actor, task, rule):
        return Decision(True)
    held = actor.role or "no role"
    return Decision(
        False,
        f"@{actor.login} ({held}) may not move it from {task.status} to {target}",
        who,
    )


def _is_own_work(actor: Actor, task: TaskView) -> bool:
    return actor.id is not None and actor.id in (task.assignee_id, task.pr_author_id)


def _qualifies(actor: Actor, task: TaskView, rule: Rule) -> bool:
    if actor.is_system:
        return Party.SYSTEM in rule.parties
    if Party.ASSIGNEE in rule.parties and _acts_as_assignee(actor, task):
        return True
    return actor.role in rule.roles


def _acts_as_assignee(actor: Actor, task: TaskView) -> bool:
    if actor.id is None or actor.id != task.assignee_id or actor.role is None:
        return False
    # Students work on their exercises, not on the product team's tasks.
    if actor.role == Role.STUDENT:
        return task.type == TaskType.ACADEMY_EXERCISE
    return actor.role in WORKERS


def may_claim(actor: Actor, task: TaskView) -> Decision:
    """Claiming makes the actor the assignee and starts the work."""
    allowed = may(actor, Action.CLAIM)
    if not allowed:
        return allowed
    if actor.role == Role.STUDENT and task.type != TaskType.ACADEMY_EXERCISE:
        return Decision(False, "students claim academy exercises only", "team roles")
    if task.assignee_id not in (None, actor.id) and actor.role != Role.SUPER_ADMIN:
        return Decision(False, "the task is assigned to someone else", "SUPER_ADMIN")
    if task.status not in (Status.TODO, Status.REJECTED, Status.IN_PROGRESS):
        return Decision(False, f"a {task.status} task cannot be claimed", "nobody")
    return Decision(True)
