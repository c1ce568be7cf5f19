"""Setting up one exercise repository, as resumable, recorded steps.

generate (from the template) -> wait for the default branch -> add the
student as a collaborator -> open the exercise issue -> the exercise task
and the announcement. Each step is saved once done, so a fault or a restart
resumes at the step that did not finish; each step is also safe to repeat.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

from gidgethub import BadRequest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import replies
from bot.academy import result_for
from bot.config import Academy, Exercise
from bot.github import InstallationAPI, PermanentError, TransientError, classify
from bot.mirror import split
from bot.rbac import SYSTEM
from bot.services import Services
from bot.workflow import IssueRef, Policy, Workflow, task_for_issue
from storage.models import (
    Provisioning,
    ProvisionState,
    ProvisionStep,
    TaskType,
    User,
    utcnow,
)

log = logging.getLogger(__name__)

# GitHub fills a generated repository asynchronously: poll its default branch
# this many times, doubling the wait, then leave the rest to the outbox retry.
BRANCH_POLLS = 6
BRANCH_WAIT_CAP_SECONDS = 30.0


@dataclass(frozen=True)
class Job:
    """A snapshot of one provisioning row and what its steps need."""

    id: int
    step: ProvisionStep
    state: ProvisionState
    repository: str
    installation_id: int
    student_id: int
    login: str
    hub: str
    generate_requested: bool
    created_repo_id: int | None
    default_branch: str | None
    issue_number: int | None
    announce_repository: str | None
    announce_issue_number: int | None
    exercise_id: str


class Provisioner:
    """The `academy.provision` effect."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def run(self, payload: dict[str, Any]) -> None:
        row_id = int(payload["provisioning_id"])
        try:
            await self._resume(row_id)
        except Exception as exc:
            kind = classify(exc)
            if isinstance(kind, PermanentError):
                # Retrying cannot help (template gone, no permission): say so.
                await self._give_up(row_id, ProvisionState.FAILED, str(kind))
                return
            await self._save(row_id, last_error=str(kind or exc)[:4000])
            raise

    async def _resume(self, row_id: int) -> None:
        # Each pass finishes one step; a step that does not move on ends it.
        for _ in ProvisionStep:
            job = await self._job(row_id)
            if job is None or job.state != ProvisionState.PENDING:
                return
            gh = self.services.github.client(job.installation_id)
            academy, exercise = await self._exercise(gh, job)
            log.info(
                "provisioning step",
                extra={"provisioning": job.id, "step": str(job.step)},
            )
            if job.step == ProvisionStep.GENERATE:
                await self._generate(gh, job, exercise)
            elif job.step == ProvisionStep.WAIT_BRANCH:
                await self._wait_for_branch(gh, job)
            elif job.step == ProvisionStep.COLLABORATOR:
                await self._add_collaborator(gh, job)
            elif job.step == ProvisionStep.ISSUE:
                await self._open_issue(gh, job, exercise)
            elif job.step == ProvisionStep.TASK:
                await self._create_task(gh, job, academy)
            else:
                return

    async def _job(self, row_id: int) -> Job | None:
        async with self.services.sessions() as session:
            row = await session.get(Provisioning, row_id)
            student = await session.get(User, row.student_id) if row else None
        if row is None or student is None:
            return None
        return Job(
            id=row.id,
            step=row.step,
            state=row.state,
            repository=row.repo_full_name,
            installation_id=row.installation_id,
            student_id=student.id,
            login=student.login,
            hub=row.hub_repository,
            generate_requested=row.generate_requested,
            created_repo_id=row.created_repo_id,
            default_branch=row.default_branch,
            issue_number=row.issue_number,
            announce_repository=row.announce_repository,
            announce_issue_number=row.announce_issue_number,
            exercise_id=row.exercise_id,
        )

    async def _exercise(
        self, gh: InstallationAPI, job: Job
    ) -> tuple[Academy, Exercise]:
        academy = (await self.services.configs.load(gh, job.hub)).academy
        exercises = academy.exercises if academy is not None else ()
        found = next((e for e in exercises if e.id == job.exercise_id), None)
        if academy is None or found is None:
            raise PermanentError(
                f"exercise {job.exercise_id} is no longer in {job.hub}'s curriculum"
            )
        return academy, found

    # the steps ---------------------------------------------------------------

    async def _generate(
        self, gh: InstallationAPI, job: Job, exercise: Exercise
    ) -> None:
        existing = await _repository(gh, job.repository)
        if existing is None:
            await self._save(job.id, generate_requested=True)
            created = await self._post_generate(gh, job, exercise)
            if created is not None:
                await self._generated(job, created)
                return
            # The name was taken between our look and our request.
            existing = await _repository(gh, job.repository)
            job = replace(job, generate_requested=True)
        if existing is not None and made_by_us(existing, job, exercise):
            await self._generated(job, existing)
            return
        await self._give_up(
            job.id, ProvisionState.TAKEN, f"{job.repository} already exists"
        )

    async def _post_generate(
        self, gh: InstallationAPI, job: Job, exercise: Exercise
    ) -> dict[str, Any] | None:
        """The new repository; None when its name was taken meanwhile."""
        owner, name = job.repository.split("/", 1)
        template = split(exercise.template)
        try:
            created: dict[str, Any] = await gh.post(
                "/repos/{template_owner}/{template_repo}/generate",
                url_vars={
                    "template_owner": template["owner"],
                    "template_repo": template["repo"],
                },
                data={
                    "owner": owner,
                    "name": name,
                    "private": True,
                    "description": f"{exercise.title}, for @{job.login}",
                },
            )
        except BadRequest as exc:
            errors = str(getattr(exc, "errors", None) or exc)
            if int(exc.status_code) == 422 and "already exists" in errors:
                return None
            raise
        return created

    async def _generated(self, job: Job, repository: dict[str, Any]) -> None:
        await self._save(
            job.id,
            created_repo_id=int(repository["id"]),
            default_branch=repository.get("default_branch"),
            step=ProvisionStep.WAIT_BRANCH,
        )

    async def _wait_for_branch(self, gh: InstallationAPI, job: Job) -> None:
        branch = job.default_branch
        if branch is None:
            found = await _repository(gh, job.repository)
            branch = str((found or {}).get("default_branch") or "main")
        base = self.services.settings.retry_base_seconds / 2
        for poll in range(BRANCH_POLLS):
            if poll:
                await asyncio.sleep(
                    min(base * 2 ** (poll - 1), BRANCH_WAIT_CAP_SECONDS)
                )
            if await _branch_exists(gh, job.repository, branch):
                await self._save(
                    job.id, default_branch=branch, step=ProvisionStep.COLLABORATOR
                )
                return
        raise TransientError(f"{job.repository} has no branch {branch} yet")

    async def _add_collaborator(self, gh: InstallationAPI, job: Job) -> None:
        # PUT is idempotent: an existing collaborator answers 204.
        await gh.put(
            "/repos/{owner}/{repo}/collaborators/{username}",
            url_vars={**split(job.repository), "username": job.login},
            data={"permission": "push"},
        )
        await self._save(job.id, step=ProvisionStep.ISSUE)

    async def _open_issue(
        self, gh: InstallationAPI, job: Job, exercise: Exercise
    ) -> None:
        marker = f"exercise:{job.id}"
        number = await _marked_issue(gh, job.repository, marker)
        if number is None:
            body = replies.render(
                "academy_exercise.md.j2", exercise=exercise, login=job.login
            )
            created = await gh.post(
                "/repos/{owner}/{repo}/issues",
                url_vars=split(job.repository),
                data={
                    "title": exercise.title,
                    "body": replies.with_marker(marker, body),
                    "assignees": [job.login],
                },
            )
            number = int(created["number"])
        await self._save(job.id, issue_number=number, step=ProvisionStep.TASK)

    async def _create_task(
        self, gh: InstallationAPI, job: Job, academy: Academy
    ) -> None:
        if job.issue_number is None or job.created_repo_id is None:
            raise PermanentError("provisioning lost its issue or repository")
        issue = await gh.getitem(
            "/repos/{owner}/{repo}/issues/{issue_number}",
            url_vars={**split(job.repository), "issue_number": str(job.issue_number)},
        )
        ref = IssueRef(
            installation_id=job.installation_id,
            repository_id=job.created_repo_id,
            repository_full_name=job.repository,
            number=job.issue_number,
            node_id=issue.get("node_id"),
            title=str(issue.get("title") or job.exercise_id),
            url=issue.get("html_url"),
        )
        async with self.services.sessions.begin() as session:
            row = await session.get(Provisioning, job.id, with_for_update=True)
            if row is None or row.step != ProvisionStep.TASK:
                return  # another run finished it
            task = await task_for_issue(session, ref.repository_id, ref.number)
            if task is None:
                workflow = Workflow(
                    session,
                    source="academy",
                    policy=Policy(xp_per_approval=academy.xp_per_approval),
                )
                task = await workflow.create_task(
                    ref, TaskType.ACADEMY_EXERCISE, SYSTEM
                )
                # The exercise waits in TODO, assigned: the student's pull
                # request (or `/claim`) starts it, and passing CI submits it.
                student = await session.get(User, job.student_id)
                await workflow.assign(task, student, SYSTEM, start=False)
            row.task_id = task.id
            row.step = ProvisionStep.DONE
            row.state = ProvisionState.DONE
            row.last_error = None
            await self._announce(session, row, academy, "academy_ready.md.j2")
        log.info("exercise ready", extra={"provisioning": job.id, "task": task.id})

    # outcomes ----------------------------------------------------------------

    async def _give_up(self, row_id: int, state: ProvisionState, error: str) -> None:
        log.warning(
            "provisioning stopped",
            extra={"provisioning": row_id, "state": str(state), "error": error},
        )
        job = await self._job(row_id)
        if job is None:
            return
        gh = self.services.github.client(job.installation_id)
        academy = (await self.services.configs.load(gh, job.hub)).academy
        async with self.services.sessions.begin() as session:
            row = await session.get(Provisioning, row_id, with_for_update=True)
            if row is None:
                return
            row.state = state
            row.last_error = error[:4000]
            if academy is not None:
                await self._announce(session, row, academy, f"academy_{state}.md.j2")

    async def _announce(
        self,
        session: AsyncSession,
        row: Provisioning,
        academy: Academy,
        template: str,
    ) -> None:
        """Tell the student, where they asked, how the set-up went."""
        if row.announce_repository is None or row.announce_issue_number is None:
            return
        student = await session.get(User, row.student_id)
        if student is None:
            return
        result = await result_for(session, academy, student, row.hub_repository)
        exercise = next(e for e in result.exercises if e.id == row.exercise_id)
        await replies.reply(
            session,
            installation_id=row.installation_id,
            repository=row.announce_repository,
            issue_number=row.announce_issue_number,
            marker=f"academy:provision:{row.id}",
            body=replies.render(
                template, result=result, exercise=exercise, row=row, org=academy.org
            ),
        )

    async def _save(self, row_id: int, **values: Any) -> None:
        async with self.services.sessions.begin() as session:
            await session.execute(
                update(Provisioning)
                .where(Provisioning.id == row_id)
                .values(updated_at=utcnow(), **values)
            )


def made_by_us(repository: dict[str, Any], job: Job, exercise: Exercise) -> bool:
    """Whether an existing repository of that name is the one the bot made.

    Ours if its id is the one recorded, or if we asked GitHub for it before
    (the answer was lost) and it was generated from the exercise's template;
    a repository made by hand has no `template_repository` and is never ours.
    """
    if job.created_repo_id is not None:
        return int(repository["id"]) == job.created_repo_id
    if not job.generate_requested:
        return False
    template = (repository.get("template_repository") or {}).get("full_name")
    return template is not None and str(template).lower() == exercise.template.lower()


async def _repository(gh: InstallationAPI, full_name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await gh.getitem(
            "/repos/{owner}/{repo}", url_vars=split(full_name)
        )
    except BadRequest as exc:
        if int(exc.status_code) == 404:
            return None
        raise
    return found


async def _branch_exists(gh: InstallationAPI, full_name: str, branch: str) -> bool:
    try:
        await gh.getitem(
            "/repos/{owner}/{repo}/branches/{branch}",
            url_vars={**split(full_name), "branch": branch},
        )
    except BadRequest as exc:
        if int(exc.status_code) == 404:
            return False
        raise
    return True


async def _marked_issue(gh: InstallationAPI, full_name: str, marker: str) -> int | None:
    """The exercise issue an interrupted earlier run already opened, if any."""
    line = replies.marker_line(marker)
    async for issue in gh.getiter(
        "/repos/{owner}/{repo}/issues{?state}",
        url_vars={**split(full_name), "state": "all"},
    ):
        if (issue.get("body") or "").startswith(line):
            return int(issue["number"])
    return None
