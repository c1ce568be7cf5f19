"""SQLAlchemy 2 models for deliveries, the workflow domain and the outbox."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> Any:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# GitHub ids are 64-bit; SQLite only autoincrements a plain INTEGER key.
GitHubId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    DEAD = "dead"


class Status(enum.StrEnum):
    TODO = "TODO"
    IN_PROGRESS = "IN_PROGRESS"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class TaskType(enum.StrEnum):
    FEATURE = "FEATURE"
    BUG = "BUG"
    RESEARCH = "RESEARCH"
    ACADEMY_EXERCISE = "ACADEMY_EXERCISE"


class Role(enum.StrEnum):
    SUPER_ADMIN = "SUPER_ADMIN"
    DESIGNER = "DESIGNER"
    FE_DEV = "FE_DEV"
    BE_DEV = "BE_DEV"
    QA = "QA"
    REVIEWER = "REVIEWER"
    STUDENT = "STUDENT"


class Outcome(enum.StrEnum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings so adding a member needs no database type change.
    return Enum(
        kind,
        name=name,
        native_enum=False,
        length=32,
        values_callable=lambda k: [m.value for m in k],
    )


class Delivery(Base):
    """One webhook delivery as received: the inbox the worker drains."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_claim", "state", "next_attempt_at"),
        Index("ix_deliveries_subject", "subject_key", "id"),
    )

    id: Mapped[int] = mapped_column(GitHubId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    repository_id: Mapped[int | None] = mapped_column(BigInteger)
    subject_key: Mapped[str] = mapped_column(String(128))
    headers: Mapped[dict[str, Any]]
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[DeliveryState] = mapped_column(
        _enum(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_expires_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Installation(Base):
    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_login: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[int] = mapped_column(BigInteger)
    account_type: Mapped[str] = mapped_column(String(32))
    suspended_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Repository(Base):
    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    full_name: Mapped[str] = mapped_column(String(255), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(Base):
    """A GitHub user, keyed by GitHub's numeric id; the login is display data."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    login: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[Role | None] = mapped_column(_enum(Role, "role"))
    role_source: Mapped[str | None] = mapped_column(String(64))
    xp: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Task(Base):
    """An issue that the workflow tracks."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("repository_id", "issue_number", name="uq_task_issue"),
        Index("ix_tasks_status", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(GitHubId, primary_key=True, autoincrement=True)
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    repository_id: Mapped[int] = mapped_column(BigInteger)
    repository_full_name: Mapped[str] = mapped_column(String(255))
    issue_number: Mapped[int]
    issue_node_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(1024))
    type: Mapped[TaskType] = mapped_column(_enum(TaskType, "task_type"))
    status: Mapped[Status] = mapped_column(_enum(Status, "task_status"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    repository_url: Mapped[str | None] = mapped_column(String(1024))
    issue_state: Mapped[str] = mapped_column(String(16), default="open")
    deleted: Mapped[bool] = mapped_column(default=False)
    pr_number: Mapped[int | None]
    pr_author_id: Mapped[int | None] = mapped_column(BigInteger)
    head_sha: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    first_review_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    xp_granted: Mapped[bool] = mapped_column(default=False)
    board_item_id: Mapped[str | None] = mapped_column(String(64))

    assignee: Mapped[User | None] = relationship(
        foreign_keys=[assignee_id], lazy="raise"
    )
    reviews: Mapped[list[Review]] = relationship(
        back_populates="task", lazy="raise", order_by="Review.id"
    )


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(GitHubId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome, "review_outcome"))
    comment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))
    head_sha: Mapped[str | None] = mapped_column(String(64))
    github_review_id: Mapped[int | None] = mapped_column(BigInteger)
    counts: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    task: Mapped[Task] = relationship(back_populates="reviews", lazy="raise")


class AuditEntry(Base):
    """One row per change: who did what to which task, through which door."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_task", "task_id", "id"),)

    id: Mapped[int] = mapped_column(GitHubId, primary_key=True, autoincrement=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_login: Mapped[str | None] = mapped_column(String(255))
    acting_as_id: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class OutboxEvent(Base):
    """Work to do after a commit: published events and writes to GitHub."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_claim", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(GitHubId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    dedup_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    state: Mapped[OutboxState] = mapped_column(
        _enum(OutboxState, "outbox_state"), default=OutboxState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BotComment(Base):
    """Where the bot's own marked comment for (issue, marker) lives."""

    __tablename__ = "bot_comments"
    __table_args__ = (
        UniqueConstraint("repository", "issue_number", "marker", name="uq_bot_comment"),
    )

    id: Mapped[int] = mapped_column(GitHubId, primary_key=True, autoincrement=True)
    repository: Mapped[str] = mapped_column(String(255))
    issue_number: Mapped[int]
    marker: Mapped[str] = mapped_column(String(255))
    comment_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CheckResult(Base):
    """The newest result of one check (app, name) on one commit."""

    __tablename__ = "check_results"
    __table_args__ = (
        UniqueConstraint(
            "repository_id", "head_sha", "app_key", "name", name="uq_check_result"
        ),
    )

    id: Mapped[int] = mapped_column(GitHubId, primary_key=True, autoincrement=True)
    repository_id: Mapped[int] = mapped_column(BigInteger)
    head_sha: Mapped[str] = mapped_column(String(64))
    app_key: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32))
    conclusion: Mapped[str | None] = mapped_column(String(32))
    details_url: Mapped[str | None] = mapped_column(String(1024))
    external_id: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CIVerdict(Base):
    """One CI verdict per task and head commit, so CI.RESULT is emitted once."""

    __tablename__ = "ci_verdicts"
    __table_args__ = (UniqueConstraint("task_id", "head_sha", name="uq_ci_verdict"),)

    id: Mapped[int] = mapped_column(GitHubId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    head_sha: Mapped[str] = mapped_column(String(64))
    passed: Mapped[bool]
    logs_url: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProvisionStep(enum.StrEnum):
    """Where setting up one exercise repository has got to, in order."""

    GENERATE = "generate"
    WAIT_BRANCH = "wait_branch"
    COLLABORATOR = "collaborator"
    ISSUE = "issue"
    TASK = "task"
    DONE = "done"


class ProvisionState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    TAKEN = "taken"  # the name belongs to a repository the bot did not create
    FAILED = "failed"


class Provisioning(Base):
    """One academy exercise being set up for one student, step by step.

    Each step is recorded once done, so an interrupted set-up resumes where
    it stopped; `hub_repository` is where the academy config lives, which the
    exercise repository (with no config of its own) is governed by.
    """

    __tablename__ = "academy_provisionings"
    __table_args__ = (
        UniqueConstraint(
            "student_id", "hub_repository", "exercise_id", name="uq_provisioning"
        ),
    )

    id: Mapped[int] = mapped_column(GitHubId, primary_key=True, autoincrement=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    hub_repository: Mapped[str] = mapped_column(String(255))
    installation_id: Mapped[int] = mapped_column(BigInteger)
    exercise_id: Mapped[str] = mapped_column(String(100))
    repo_full_name: Mapped[str] = mapped_column(String(255), index=True)
    step: Mapped[ProvisionStep] = mapped_column(
        _enum(ProvisionStep, "provision_step"), default=ProvisionStep.GENERATE
    )
    state: Mapped[ProvisionState] = mapped_column(
        _enum(ProvisionState, "provision_state"), default=ProvisionState.PENDING
    )
    generate_requested: Mapped[bool] = mapped_column(default=False)
    created_repo_id: Mapped[int | None] = mapped_column(BigInteger)
    default_branch: Mapped[str | None] = mapped_column(String(255))
    issue_number: Mapped[int | None]
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), index=True)
    # Where the student hears that the exercise is ready (or what went wrong).
    announce_repository: Mapped[str | None] = mapped_column(String(255))
    announce_issue_number: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IdempotentRequest(Base):
    """The first answer to an API write sent with an `Idempotency-Key`."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_key"),)

    id: Mapped[int] = mapped_column(GitHubId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(255))
    # sha256 of method, path and canonical JSON body: same key, other body → 422.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = [
    "AuditEntry",
    "Base",
    "BotComment",
    "CIVerdict",
    "CheckResult",
    "Delivery",
    "DeliveryState",
    "IdempotentRequest",
    "Installation",
    "OutboxEvent",
    "OutboxState",
    "Outcome",
    "ProvisionState",
    "ProvisionStep",
    "Provisioning",
    "Repository",
    "Review",
    "Role",
    "Status",
    "Task",
    "TaskType",
    "User",
    "func",
    "utcnow",
]


class ReconcileProgress(Base):
    """Where an interrupted reconcile pass resumes: the last task it finished."""

    __tablename__ = "reconcile_progress"

    scope: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_task_id: Mapped[int] = mapped_column(BigInteger, default=0)
    lease_expires_at: Mapped[datetime | None]  # set while a pass works on it
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AnsweredComment(Base):
    """The body of a comment whose commands already ran.

    GitHub can deliver one comment twice under different delivery ids (an App
    and a repository webhook, or a `replay`): its commands run once per body.
    """

    __tablename__ = "answered_comments"

    comment_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False
    )
    body_sha: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
