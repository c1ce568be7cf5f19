"""The role matrix as a table: every role against every command."""

from __future__ import annotations

import pytest

from bot import rbac
from bot.rbac import Action, Actor, TaskView
from storage.models import Role, Status, TaskType

ME, OTHER = 1, 2
ROLES: list[Role | None] = [*Role, None]


def actor(role: Role | None, user_id: int = ME) -> Actor:
    return Actor(id=user_id, login=f"user{user_id}", role=role)


def feature(status: Status, assignee: int | None = OTHER) -> TaskView:
    return TaskView(status, TaskType.FEATURE, assignee)


def may_command(command: str, role: Role | None) -> bool:
    """Would `/command` by a non-assignee with `role` be accepted on a fitting task?"""
    who = actor(role)
    checks = {
        "task": lambda: rbac.may(who, Action.CREATE),
        "claim": lambda: rbac.may_claim(who, feature(Status.TODO, None)),
        "assign": lambda: rbac.may(who, Action.ASSIGN),
        "submit": lambda: rbac.may_transition(
            who, feature(Status.IN_PROGRESS), Status.SUBMITTED
        ),
        "approve": lambda: (
            rbac.may(who, Action.REVIEW)
            and rbac.may_transition(who, feature(Status.SUBMITTED), Status.APPROVED)
        ),
        "reject": lambda: (
            rbac.may(who, Action.REVIEW)
            and rbac.may_transition(who, feature(Status.SUBMITTED), Status.REJECTED)
        ),
        "override": lambda: rbac.may(who, Action.OVERRIDE),
        "role": lambda: rbac.may(who, Action.SET_ROLE),
        "xp-adjust": lambda: rbac.may(who, Action.ADJUST_XP),
        "xp-other": lambda: rbac.may(who, Action.SEE_OTHERS_XP),
    }
    return bool(checks[command]())


A, D, F, B, Q, R, S, N = (
    Role.SUPER_ADMIN,
    Role.DESIGNER,
    Role.FE_DEV,
    Role.BE_DEV,
    Role.QA,
    Role.REVIEWER,
    Role.STUDENT,
    None,
)
# command -> the roles that may run it (against someone else's task)
MATRIX: dict[str, set[Role | None]] = {
    "task": {A, D, F, B},
    "claim": {A, D, F, B, Q},
    "assign": {A, D, F, B},
    "submit": {A},
    "approve": {A, Q, R},
    "reject": {A, Q, R},
    "override": {A},
    "role": {A},
    "xp-adjust": {A},
    "xp-other": {A, Q, R},
}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: str(r or "no-role"))
@pytest.mark.parametrize("command", sorted(MATRIX))
def test_role_matrix(command: str, role: Role | None) -> None:
    assert may_command(command, role) == (role in MATRIX[command])


@pytest.mark.parametrize("role", [Role.DESIGNER, Role.FE_DEV, Role.BE_DEV, Role.QA])
def test_assignee_submits_own_task(role: Role) -> None:
    task = feature(Status.IN_PROGRESS, assignee=ME)
    assert rbac.may_transition(actor(role), task, Status.SUBMITTED)


@pytest.mark.parametrize("role", [Role.QA, Role.REVIEWER, Role.SUPER_ADMIN])
def test_nobody_approves_their_own_work(role: Role) -> None:
    assigned = feature(Status.SUBMITTED, assignee=ME)
    authored = TaskView(Status.SUBMITTED, TaskType.FEATURE, OTHER, pr_author_id=ME)
    assert not rbac.may_transition(actor(role), assigned, Status.APPROVED)
    assert not rbac.may_transition(actor(role), authored, Status.REJECTED)


def test_student_works_only_on_academy_exercises() -> None:
    student = actor(Role.STUDENT)
    exercise = TaskView(Status.IN_PROGRESS, TaskType.ACADEMY_EXERCISE, ME)
    product = feature(Status.IN_PROGRESS, assignee=ME)
    assert rbac.may_transition(student, exercise, Status.SUBMITTED)
    assert not rbac.may_transition(student, product, Status.SUBMITTED)
    assert not rbac.may_claim(student, feature(Status.TODO, None))


def test_ci_may_submit_and_reject_but_not_approve() -> None:
    task = feature(Status.IN_PROGRESS)
    assert rbac.may_transition(rbac.SYSTEM, task, Status.SUBMITTED)
    assert rbac.may_transition(rbac.SYSTEM, task, Status.REJECTED)
    submitted = feature(Status.SUBMITTED)
    assert not rbac.may_transition(rbac.SYSTEM, submitted, Status.APPROVED)


def test_moves_outside_the_table_are_refused_with_reason() -> None:
    decision = rbac.may_transition(actor(A), feature(Status.TODO), Status.APPROVED)
    assert not decision
    assert "cannot move from TODO to APPROVED" in decision.reason
    assert "override" in decision.who_may


def test_refusal_names_who_may() -> None:
    decision = rbac.may_transition(actor(S), feature(Status.SUBMITTED), Status.APPROVED)
    assert not decision
    assert decision.who_may == "QA, REVIEWER, SUPER_ADMIN"
