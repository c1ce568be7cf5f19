"""The coding academy: enrolment, the curriculum, XP gates and the next exercise."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import events, outbox, replies
from bot.config import Academy, Exercise, Redirect, RepoConfig
from bot.roles import effective_role
from bot.workflow import XP_ADJUSTED, Refused
from storage.db import SessionFactory
from storage.models import (
    AuditEntry,
    Provisioning,
    ProvisionState,
    ProvisionStep,
    Repository,
    Role,
    Status,
    Task,
    TaskType,
    User,
)

if TYPE_CHECKING:
    from bot.effects import Effects
    from bot.services import Services

log = logging.getLogger(__name__)

# Outbox topics: set up one exercise repository; react to an approved exercise.
PROVISION = "academy.provision"
ADVANCE = "academy.advance"


@dataclass(frozen=True)
class ExerciseProgress:
    """Where a student stands on one exercise of the curriculum.

    `state`: locked (not given yet), preparing (being set up), ready (the
    exercise issue is open; `status` is its task's), taken (the repository
    name belongs to someone else), failed (set-up gave up; `error` says why).
    """

    id: str
    title: str
    xp_required: int
    state: str
    status: str | None = None
    repository: str | None = None
    issue_url: str | None = None
    error: str | None = None

    @property
    def approved(self) -> bool:
        return self.status == Status.APPROVED


@dataclass(frozen=True)
class EnrolmentResult:
    """A student's place in one academy, as answered to `/enroll` or the API."""

    student_id: int
    login: str
    hub: str
    newly_enrolled: bool
    role: str | None
    xp: int
    exercises: tuple[ExerciseProgress, ...]

    @property
    def current(self) -> ExerciseProgress | None:
        """The newest exercise given to the student, if any."""
        given = [e for e in self.exercises if e.state != "locked"]
        return given[-1] if given else None

    @property
    def completed(self) -> bool:
        return bool(self.exercises) and all(e.approved for e in self.exercises)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["completed"] = self.completed
        return data


def repository_name(org: str, exercise: Exercise, login: str) -> str:
    return f"{org}/{exercise.id}-{login}"


def next_exercise(academy: Academy, given: set[str]) -> Exercise | None:
    """The first exercise of the curriculum the student has not been given."""
    return next((e for e in academy.exercises if e.id not in given), None)


def require_academy(config: RepoConfig, hub: str) -> Academy:
    if config.errors:
        raise Refused(
            f"the configuration of {hub} has errors: " + "; ".join(config.errors[:3]),
            "a maintainer of the hub, by fixing `.github/workflow-bot.yml`",
        )
    if config.academy is None:
        raise Refused(
            f"{hub} has no `academy:` configuration",
            "an academy's hub repository",
        )
    ids = [exercise.id.lower() for exercise in config.academy.exercises]
    if len(set(ids)) != len(ids):
        # Repository names are made from the ids: two alike would collide.
        raise Refused(
            f"the academy of {hub} lists an exercise id twice",
            "a maintainer of the hub, by fixing `.github/workflow-bot.yml`",
        )
    return config.academy


async def enroll(
    session: AsyncSession,
    services: Services,
    user: User,
    hub_full_name: str,
    installation_id: int,
    *,
    announce_issue: int | None = None,
    source: str = "api",
    delivery_id: str | None = None,
) -> EnrolmentResult:
    """Make `user` a student of the hub's academy and give the first exercise.

    Enrolling again gives nothing twice: it answers with the progress so far,
    and retries an exercise whose set-up was refused or failed. Raises
    Refused when the hub has no usable `academy:` configuration. The work on
    GitHub happens after the caller commits, through the outbox.
    """
    hub = await hub_of(session, hub_full_name) or hub_full_name
    gh = services.github.client(installation_id)
    config = await services.configs.load(gh, hub)
    academy = require_academy(config, hub)
    role = await effective_role(services.settings, user, config, gh)
    if role is None:
        user.role = Role.STUDENT
        user.role_source = f"academy:{hub}"
        role = Role.STUDENT
        _audit(session, user, "role", f"@{user.login}: none -> STUDENT", source)

    rows = await provisionings(session, user.id, hub)
    newly_enrolled = not rows
    if newly_enrolled:
        if not academy.exercises:
            raise Refused(f"the academy of {hub} has no exercises yet")
        first = academy.exercises[0]
        announce = (hub_full_name, announce_issue) if announce_issue else None
        await start(session, user, hub, installation_id, academy, first, announce)
        _audit(session, user, "enroll", f"@{user.login} enrolled in {hub}", source)
        log.info("student enrolled", extra={"student": user.login, "hub": hub})
    else:
        await _retry_stalled(session, rows, delivery_id)

    result = await result_for(
        session, academy, user, hub, newly_enrolled=newly_enrolled
    )
    # A role from the config (not stored) is the one the student acts with.
    return replace(result, role=str(role))


async def start(
    session: AsyncSession,
    student: User,
    hub: str,
    installation_id: int,
    academy: Academy,
    exercise: Exercise,
    announce: tuple[str, int] | None,
) -> Provisioning:
    """Record that `exercise` is to be set up for `student`, and queue the work."""
    row = Provisioning(
        student_id=student.id,
        hub_repository=hub,
        installation_id=installation_id,
        exercise_id=exercise.id,
        repo_full_name=repository_name(academy.org, exercise, student.login),
        step=ProvisionStep.GENERATE,
        state=ProvisionState.PENDING,
        announce_repository=announce[0] if announce else None,
        announce_issue_number=announce[1] if announce else None,
    )
    session.add(row)
    await session.flush()
    await queue(session, row.id)
    return row


async def queue(session: AsyncSession, provisioning_id: int) -> None:
    await outbox.enqueue(
        session,
        PROVISION,
        {"provisioning_id": provisioning_id, "subject": f"provision:{provisioning_id}"},
        dedup_key=f"provision:{provisioning_id}",
    )


async def _retry_stalled(
    session: AsyncSession, rows: list[Provisioning], delivery_id: str | None
) -> None:
    """A refused, failed or stuck set-up is tried again when the student asks."""
    for row in rows:
        stuck = row.state == ProvisionState.PENDING and row.last_error is not None
        if row.state in (ProvisionState.TAKEN, ProvisionState.FAILED) or stuck:
            log.info(
                "provisioning retried",
                extra={"provisioning": row.id, "delivery": delivery_id},
            )
            if row.state == ProvisionState.TAKEN:
                row.generate_requested = False  # what we may adopt is looked at anew
            row.state = ProvisionState.PENDING
            await queue(session, row.id)


async def provisionings(
    session: AsyncSession, student_id: int, hub: str
) -> list[Provisioning]:
    query = (
        select(Provisioning)
        .where(Provisioning.student_id == student_id)
        .where(func.lower(Provisioning.hub_repository) == hub.lower())
        .order_by(Provisioning.id)
    )
    return list((await session.scalars(query)).all())


async def progress(
    session: AsyncSession, academy: Academy, rows: list[Provisioning]
) -> tuple[ExerciseProgress, ...]:
    by_exercise = {row.exercise_id: row for row in rows}
    found = []
    for exercise in academy.exercises:
        row = by_exercise.get(exercise.id)
        task = await session.get(Task, row.task_id) if row and row.task_id else None
        found.append(_exercise_progress(exercise, row, task))
    return tuple(found)


def _exercise_progress(
    exercise: Exercise, row: Provisioning | None, task: Task | None
) -> ExerciseProgress:
    locked = ExerciseProgress(
        id=exercise.id,
        title=exercise.title,
        xp_required=exercise.xp_required,
        state="locked",
    )
    if row is None:
        return locked
    states = {
        ProvisionState.PENDING: "preparing",
        ProvisionState.DONE: "ready",
        ProvisionState.TAKEN: "taken",
        ProvisionState.FAILED: "failed",
    }
    return replace(
        locked,
        state=states[row.state],
        status=str(task.status) if task else None,
        repository=row.repo_full_name,
        issue_url=task.repository_url if task else None,
        error=row.last_error if row.state != ProvisionState.DONE else None,
    )


async def result_for(
    session: AsyncSession,
    academy: Academy,
    student: User,
    hub: str,
    *,
    newly_enrolled: bool = False,
) -> EnrolmentResult:
    """The student's standing in the hub's academy, read afresh."""
    rows = await provisionings(session, student.id, hub)
    return EnrolmentResult(
        student_id=student.id,
        login=student.login,
        hub=hub,
        newly_enrolled=newly_enrolled,
        role=str(student.role) if student.role else None,
        xp=student.xp,
        exercises=await progress(session, academy, rows),
    )


async def hub_of(session: AsyncSession, repository: str) -> str | None:
    """The hub whose academy an exercise repository belongs to, if it is one."""
    found = await session.scalar(
        select(Provisioning.hub_repository)
        .where(func.lower(Provisioning.repo_full_name) == repository.lower())
        .limit(1)
    )
    return str(found) if found is not None else None


async def installation_of(session: AsyncSession, repository: str) -> int | None:
    """The installation that covers a repository, for callers with no delivery."""
    found = await session.scalar(
        select(Repository.installation_id)
        .where(func.lower(Repository.full_name) == repository.lower())
        .where(Repository.active.is_(True))
        .limit(1)
    )
    return int(found) if found is not None else None


def config_redirect(sessions: SessionFactory) -> Redirect:
    """Exercise repositories have no config: their hub's governs them."""

    async def academy_hub_of(full_name: str) -> str | None:
        async with sessions() as session:
            return await hub_of(session, full_name)

    return academy_hub_of


def _audit(
    session: AsyncSession, user: User, action: str, note: str, source: str
) -> None:
    session.add(
        AuditEntry(
            task_id=None,
            action=action,
            actor_id=user.id,
            actor_login=user.login,
            source=source,
            note=note,
        )
    )


# What the student reads -------------------------------------------------------


def progress_lines(result: EnrolmentResult) -> str:
    return replies.render("academy_progress.md.j2", result=result)


def enrolment_text(result: EnrolmentResult) -> str:
    return replies.render("academy_enrolled.md.j2", result=result)


async def student_progress(
    session: AsyncSession, services: Services, user: User
) -> str:
    """The curriculum of every academy the user is enrolled in, for `/xp`."""
    hubs: dict[str, int] = {}
    for row in await session.scalars(
        select(Provisioning).where(Provisioning.student_id == user.id)
    ):
        hubs.setdefault(row.hub_repository, row.installation_id)
    parts = []
    for hub, installation_id in hubs.items():
        result = await standing(session, services, user, hub, installation_id)
        if result is not None:
            parts.append(progress_lines(result))
    return "\n\n".join(parts)


async def standing(
    session: AsyncSession,
    services: Services,
    user: User,
    hub: str,
    installation_id: int,
) -> EnrolmentResult | None:
    """The student's progress in one academy, or None if it is gone."""
    gh = services.github.client(installation_id)
    config = await services.configs.load(gh, hub)
    if config.academy is None:
        return None
    return await result_for(session, config.academy, user, hub)


# After an approval ------------------------------------------------------------


async def advance(services: Services, payload: dict[str, Any]) -> None:
    """An approved exercise: announce the XP and unlock the next exercise.

    Idempotent: the next exercise is given once (a unique row per student and
    exercise) and the announcement is one marked comment, edited if repeated.
    """
    task_id = int(payload["task_id"])
    async with services.sessions() as session:
        row = await _provisioning_of_task(session, task_id)
    if row is None:
        return  # an exercise task the academy did not set up
    gh = services.github.client(row.installation_id)
    config = await services.configs.load(gh, row.hub_repository)
    if config.academy is None:
        return
    async with services.sessions.begin() as session:
        task = await session.get(Task, task_id)
        student = await session.get(User, row.student_id)
        if task is None or student is None or task.status != Status.APPROVED:
            return
        await _unlock_next(session, config.academy, row, task, student)


async def _provisioning_of_task(
    session: AsyncSession, task_id: int
) -> Provisioning | None:
    return await session.scalar(
        select(Provisioning).where(Provisioning.task_id == task_id).limit(1)
    )


async def give_next_if_due(
    session: AsyncSession,
    academy: Academy,
    student: User,
    hub: str,
    installation_id: int,
    announce: tuple[str, int] | None,
) -> tuple[Exercise | None, bool]:
    """The next exercise, and whether the student's XP unlocked it just now."""
    rows = await provisionings(session, student.id, hub)
    following = next_exercise(academy, {r.exercise_id for r in rows})
    if following is None or student.xp < following.xp_required:
        return following, False
    await start(session, student, hub, installation_id, academy, following, announce)
    log.info(
        "exercise unlocked",
        extra={"student": student.login, "exercise": following.id},
    )
    return following, True


async def _unlock_next(
    session: AsyncSession,
    academy: Academy,
    row: Provisioning,
    task: Task,
    student: User,
) -> None:
    following, unlocked = await give_next_if_due(
        session,
        academy,
        student,
        row.hub_repository,
        row.installation_id,
        (task.repository_full_name, task.issue_number),
    )
    result = await result_for(session, academy, student, row.hub_repository)
    body = replies.render(
        "academy_approved.md.j2",
        result=result,
        gained=academy.xp_per_approval,
        following=following,
        unlocked=unlocked,
        repository=repository_name(academy.org, following, student.login)
        if following
        else None,
    )
    await replies.reply(
        session,
        installation_id=task.installation_id,
        repository=task.repository_full_name,
        issue_number=task.issue_number,
        marker=f"academy:approved:{task.id}",
        body=body,
    )


async def xp_adjusted(services: Services, payload: dict[str, Any]) -> None:
    """An admin changed a student's XP: a gate it now meets opens."""
    user_id = int(payload["user_id"])
    async with services.sessions() as session:
        rows = await session.scalars(
            select(Provisioning).where(Provisioning.student_id == user_id)
        )
        hubs = {row.hub_repository: row.installation_id for row in rows}
    for hub, installation_id in hubs.items():
        gh = services.github.client(installation_id)
        academy = (await services.configs.load(gh, hub)).academy
        if academy is None:
            continue
        async with services.sessions.begin() as session:
            student = await session.get(User, user_id)
            if student is None:
                return
            where = await _where_student_works(session, student.id, hub)
            await give_next_if_due(
                session, academy, student, hub, installation_id, where
            )


async def _where_student_works(
    session: AsyncSession, student_id: int, hub: str
) -> tuple[str, int] | None:
    """The newest exercise issue, else where the student enrolled."""
    rows = await provisionings(session, student_id, hub)
    for row in reversed(rows):
        task = await session.get(Task, row.task_id) if row.task_id else None
        if task is not None:
            return task.repository_full_name, task.issue_number
    first = rows[0] if rows else None
    if first is None or first.announce_issue_number is None:
        return None
    return first.announce_repository or hub, first.announce_issue_number


def approval_listener(services: Services) -> events.Subscriber:
    """Task.APPROVED of an exercise queues `advance`, which may give the next."""

    async def on_event(name: str, data: dict[str, Any]) -> None:
        if (
            name != events.TASK_APPROVED
            or data.get("type") != TaskType.ACADEMY_EXERCISE
        ):
            return
        task_id = int(data["taskId"])
        async with services.sessions.begin() as session:
            await outbox.enqueue(
                session,
                ADVANCE,
                {"task_id": task_id, "subject": f"task:{task_id}"},
                dedup_key=f"advance:{task_id}",
            )

    return on_event


def install(services: Services, effects: Effects) -> None:
    """Wire the academy into a process: its effects, listener and config rule."""
    from bot.provisioning import Provisioner

    async def run_advance(payload: dict[str, Any]) -> None:
        await advance(services, payload)

    effects.register(PROVISION, Provisioner(services).run)

    async def run_xp_adjusted(payload: dict[str, Any]) -> None:
        await xp_adjusted(services, payload)

    effects.register(ADVANCE, run_advance)
    effects.register(XP_ADJUSTED, run_xp_adjusted)
    redirects = services.configs.redirects
    if not any(getattr(r, "__name__", "") == "academy_hub_of" for r in redirects):
        redirects.append(config_redirect(services.sessions))
        services.publisher.subscribe(approval_listener(services))
