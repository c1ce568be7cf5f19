"""CI verdicts, decided without I/O from the check results on one commit."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The name of the check run this app keeps on each pull request's head.
OWN_CHECK_NAME = "workflow-bot"
# Commit statuses (the older API) have no app; they share one key.
STATUS_APP_KEY = "status"

PASSING = frozenset({"success"})
FAILING = frozenset({"failure", "timed_out", "cancelled", "action_required"})
# Neither pass nor fail, but final: the check has nothing more to say.
INDIFFERENT = frozenset({"neutral", "skipped", "stale"})


class Outcome(enum.StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True)
class CheckState:
    """The newest known result of one check (app, name) on one commit.

    `status` is GitHub's queued/in_progress/completed; `conclusion` is set
    once completed.
    """

    name: str
    app_key: str
    status: str
    conclusion: str | None = None
    details_url: str | None = None

    @property
    def final(self) -> bool:
        return self.status == "completed" and self.conclusion is not None

    @property
    def failed(self) -> bool:
        return self.final and self.conclusion in FAILING

    @property
    def passed(self) -> bool:
        return self.final and self.conclusion in PASSING


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    failing: tuple[CheckState, ...] = ()
    waiting_for: tuple[str, ...] = ()

    @property
    def reached(self) -> bool:
        return self.outcome != Outcome.PENDING

    @property
    def passed(self) -> bool:
        return self.outcome == Outcome.PASSED

    @property
    def logs_url(self) -> str | None:
        urls = [check.details_url for check in self.failing if check.details_url]
        return urls[0] if urls else None


def app_key(app_id: int | None) -> str:
    return f"app:{app_id}" if app_id is not None else STATUS_APP_KEY


def is_own(check: CheckState, own_app_id: str | int | None) -> bool:
    """The bot's own check never judges the work it reports on."""
    if check.name == OWN_CHECK_NAME:
        return True
    return own_app_id is not None and check.app_key == app_key(int(own_app_id))


def status_as_check(state: str) -> tuple[str, str | None]:
    """A commit status state as (status, conclusion) of a check run."""
    if state == "pending":
        return "in_progress", None
    if state == "success":
        return "completed", "success"
    return "completed", "failure"  # failure and error


def replaces(stored_run_id: int | None, incoming_run_id: int | None) -> bool:
    """A re-run is a new check run with a larger id; late news of an older
    run must not overwrite it. Updates of the same run always apply."""
    if stored_run_id is None or incoming_run_id is None:
        return True
    return incoming_run_id >= stored_run_id


def verdict(
    checks: Iterable[CheckState],
    required: Sequence[str] | None,
    own_app_id: str | int | None = None,
) -> Verdict:
    """Passed or failed once every counted check is final; else pending.

    With `required` only those names count, and each must have reported;
    without it every check on the commit counts, and at least one must exist.
    """
    counted = [check for check in checks if not is_own(check, own_app_id)]
    if required is not None:
        wanted = {name.lower() for name in required}
        counted = [check for check in counted if check.name.lower() in wanted]
        seen = {check.name.lower() for check in counted}
        missing = [name for name in required if name.lower() not in seen]
    else:
        missing = []
    waiting = sorted({c.name for c in counted if not c.final} | set(missing))
    if waiting or not counted:
        return Verdict(Outcome.PENDING, waiting_for=tuple(waiting))
    failing = tuple(sorted((c for c in counted if c.failed), key=lambda c: c.name))
    if failing:
        return Verdict(Outcome.FAILED, failing=failing)
    return Verdict(Outcome.PASSED)
