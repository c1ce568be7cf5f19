"""CI verdicts from the check results on one commit, table-driven."""

from __future__ import annotations

import pytest

from bot.ci import CheckState, Outcome, replaces, status_as_check, verdict

OWN_APP = 4242


def done(name: str, conclusion: str, app: int = 1) -> CheckState:
    return CheckState(name, f"app:{app}", "completed", conclusion, f"https://ci/{name}")


def running(name: str, app: int = 1) -> CheckState:
    return CheckState(name, f"app:{app}", "in_progress")


CASES = [
    # (checks, required, outcome, failing names, waiting names)
    pytest.param([], None, Outcome.PENDING, [], [], id="no_checks_yet"),
    pytest.param(
        [done("tests", "success")], None, Outcome.PASSED, [], [], id="one_green"
    ),
    pytest.param(
        [done("tests", "success"), running("lint")],
        None,
        Outcome.PENDING,
        [],
        ["lint"],
        id="waits_for_every_check_without_required",
    ),
    pytest.param(
        [done("tests", "failure"), running("lint")],
        None,
        Outcome.PENDING,
        [],
        ["lint"],
        id="a_failure_still_waits_for_the_rest",
    ),
    pytest.param(
        [done("tests", "failure"), done("lint", "success")],
        None,
        Outcome.FAILED,
        ["tests"],
        [],
        id="failure",
    ),
    *[
        pytest.param(
            [done("tests", conclusion)],
            None,
            Outcome.FAILED,
            ["tests"],
            [],
            id=f"{conclusion}_fails",
        )
        for conclusion in ("failure", "timed_out", "cancelled", "action_required")
    ],
    pytest.param(
        [done("tests", "success"), done("docs", "skipped")],
        None,
        Outcome.PASSED,
        [],
        [],
        id="skipped_neither_passes_nor_fails",
    ),
    pytest.param(
        [done("tests", "success"), done("docs", "neutral")],
        None,
        Outcome.PASSED,
        [],
        [],
        id="neutral_neither_passes_nor_fails",
    ),
    pytest.param(
        [done("tests", "success")],
        ("tests", "lint"),
        Outcome.PENDING,
        [],
        ["lint"],
        id="required_check_not_reported_yet",
    ),
    pytest.param(
        [done("tests", "success"), done("lint", "success"), done("extra", "failure")],
        ("tests", "lint"),
        Outcome.PASSED,
        [],
        [],
        id="unrequired_check_does_not_count",
    ),
    pytest.param(
        [done("tests", "success"), done("lint", "failure")],
        ("tests", "lint"),
        Outcome.FAILED,
        ["lint"],
        [],
        id="required_failure",
    ),
    pytest.param(
        [done("Tests", "success")],
        ("tests",),
        Outcome.PASSED,
        [],
        [],
        id="required_names_any_case",
    ),
    pytest.param(
        [done("tests", "success"), CheckState("workflow-bot", "app:9", "in_progress")],
        None,
        Outcome.PASSED,
        [],
        [],
        id="own_check_by_name_never_counts",
    ),
    pytest.param(
        [done("tests", "success"), running("anything", app=OWN_APP)],
        None,
        Outcome.PASSED,
        [],
        [],
        id="own_app_never_counts",
    ),
    pytest.param(
        [done("tests", "success"), done("tests", "failure", app=2)],
        ("tests",),
        Outcome.FAILED,
        ["tests"],
        [],
        id="same_name_from_two_apps_both_count",
    ),
]


@pytest.mark.parametrize(("checks", "required", "outcome", "failing", "waiting"), CASES)
def test_verdict(
    checks: list[CheckState],
    required: tuple[str, ...] | None,
    outcome: Outcome,
    failing: list[str],
    waiting: list[str],
) -> None:
    result = verdict(checks, required, OWN_APP)

    assert result.outcome == outcome
    assert [check.name for check in result.failing] == failing
    assert list(result.waiting_for) == waiting


def test_failed_verdict_links_to_the_first_failing_logs() -> None:
    result = verdict([done("lint", "failure"), done("tests", "failure")], None)

    assert result.logs_url == "https://ci/lint"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("pending", ("in_progress", None)),
        ("success", ("completed", "success")),
        ("failure", ("completed", "failure")),
        ("error", ("completed", "failure")),
    ],
)
def test_commit_status_states(state: str, expected: tuple[str, str | None]) -> None:
    assert status_as_check(state) == expected


@pytest.mark.parametrize(
    ("stored", "incoming", "expected"),
    [
        (None, 5, True),
        (5, 5, True),  # the same run, updated
        (5, 9, True),  # a re-run
        (9, 5, False),  # late news of the older run
    ],
)
def test_newest_run_wins(stored: int | None, incoming: int, expected: bool) -> None:
    assert replaces(stored, incoming) is expected
