"""Which issue a pull request works on: closing keywords and branch names."""

from __future__ import annotations

import pytest

from bot.links import closing_references, issue_from_branch

REPO = "acme/widgets"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("Closes #12", [12], id="closes"),
        pytest.param("fixes #3 and resolves #4", [3, 4], id="several_in_order"),
        pytest.param("FIXED: #7", [7], id="colon_and_upper_case"),
        pytest.param("Resolved #7, also closes #7", [7], id="duplicates_once"),
        pytest.param("closes acme/widgets#12", [12], id="same_repo_by_name"),
        pytest.param("closes ACME/Widgets#12", [12], id="repo_name_any_case"),
        pytest.param("closes acme/gadgets#12", [], id="other_repo_is_not_ours"),
        pytest.param(
            "fixes https://github.com/acme/widgets/issues/9", [9], id="issue_url"
        ),
        pytest.param(
            "fixes https://github.com/acme/other/issues/9", [], id="url_elsewhere"
        ),
        pytest.param("see #12", [], id="mention_without_keyword"),
        pytest.param("prefixes #12", [], id="keyword_inside_word"),
        pytest.param("closes#12", [], id="keyword_needs_space"),
        pytest.param("`closes #12`", [], id="inline_code_quotes_it"),
        pytest.param("```\ncloses #12\n```\nfixes #13", [13], id="fenced_code"),
        pytest.param("<!-- closes #12 -->", [], id="html_comment_template"),
        pytest.param("", [], id="empty_body"),
        pytest.param(None, [], id="null_body"),
    ],
)
def test_closing_references(body: str | None, expected: list[int]) -> None:
    assert closing_references(body, REPO) == expected


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        pytest.param("12-login-form", 12, id="number_first"),
        pytest.param("12_login", 12, id="underscore"),
        pytest.param("12", 12, id="bare_number"),
        pytest.param("task-12", 12, id="task_prefix"),
        pytest.param("Task_12-login", 12, id="task_prefix_any_case"),
        pytest.param("issue-5", 5, id="issue_prefix"),
        pytest.param("feature/12-login-form", 12, id="below_a_folder"),
        pytest.param("refs/heads/task-3", 3, id="full_ref"),
        pytest.param("login-12", None, id="number_at_end_is_not_a_link"),
        pytest.param("v2-release", None, id="no_number"),
        pytest.param("main", None, id="plain_branch"),
        pytest.param("12abc", None, id="number_glued_to_word"),
        pytest.param(None, None, id="no_ref"),
    ],
)
def test_issue_from_branch(ref: str | None, expected: int | None) -> None:
    assert issue_from_branch(ref) == expected
