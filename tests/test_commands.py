"""Tests for the slash-command grammar in bot.commands."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import (
    COMMAND_NAMES,
    DESCRIPTIONS,
    MAX_ARG_CHARS,
    MAX_BODY_CHARS,
    MAX_COMMANDS,
    USAGE,
    AdjustXp,
    Approve,
    Assign,
    Claim,
    Command,
    CommandError,
    Enroll,
    Help,
    History,
    NewTask,
    Override,
    ParseResult,
    Reject,
    SetRole,
    SetStatus,
    ShowXp,
    Submit,
    Unclaim,
    Why,
    extract,
    help_text,
    new_commands,
    parse,
    validate,
)


def summary(results: list[ParseResult]) -> list[tuple[int, str]]:
    """(line, command name) per result; errors as (line, "!code")."""
    return [
        (r.line, f"!{r.code}" if isinstance(r, CommandError) else r.name)
        for r in results
    ]


# ---------------------------------------------------------------------------
# Which lines are commands: a corpus of comment bodies
# ---------------------------------------------------------------------------

ISSUE_TEMPLATE = """\
<!--
Thanks for contributing! Use these commands in a comment:
/claim to take the task
/submit when done
-->

## Description

Login is broken.
<!-- /approve is for reviewers only -->
"""

CORPUS = [
    # plain commands
    pytest.param("/claim", [(1, "claim")], id="bare_command"),
    pytest.param("/CLAIM", [(1, "claim")], id="name_is_case_insensitive"),
    pytest.param("   /claim", [(1, "claim")], id="up_to_three_leading_spaces"),
    pytest.param("/claim   ", [(1, "claim")], id="trailing_spaces_ignored"),
    pytest.param(
        "I'll take it.\n/claim\nthanks", [(2, "claim")], id="command_inside_paragraph"
    ),
    pytest.param(
        "/claim\n/task bug\n\n/enroll",
        [(1, "claim"), (2, "task"), (4, "enroll")],
        id="several_commands_in_order",
    ),
    pytest.param(
        "hi\r\n/claim\r\n/task bug\r\n",
        [(2, "claim"), (3, "task")],
        id="crlf_line_endings",
    ),
    pytest.param("a\r/claim", [(2, "claim")], id="lone_cr_is_a_line_break"),
    pytest.param("/assign @octo-cat", [(1, "assign")], id="argument_with_mention"),
    pytest.param("# Title\n/claim", [(2, "claim")], id="command_after_heading"),
    pytest.param("/approve\n---", [(1, "approve")], id="setext_underline_kept"),
    # not commands at all: text that merely contains a slash
    pytest.param("/ 2", [], id="slash_then_space_is_not_a_command"),
    pytest.param("/usr/bin/env python", [], id="path_is_not_a_command"),
    pytest.param("/approved.", [], id="punctuation_after_name_is_not_a_command"),
    pytest.param("/approve, thanks", [], id="comma_after_name_is_not_a_command"),
    pytest.param("/2fa", [], id="name_must_start_with_letter"),
    pytest.param("and/or /claim", [], id="slash_in_middle_of_line"),
    pytest.param("please /claim", [], id="command_not_at_line_start"),
    pytest.param("\\/claim", [], id="escaped_slash"),
    # code
    pytest.param("```\n/approve\n```\n/claim", [(4, "claim")], id="closed_fence"),
    pytest.param("```\n/approve\n\n/claim", [], id="unclosed_fence_runs_to_end"),
    pytest.param("~~~\n/approve\n~~~\n/claim", [(4, "claim")], id="tilde_fence"),
    pytest.param("~~~\n/approve\n```\n/claim", [], id="backticks_do_not_close_tilde"),
    pytest.param("```python\n/approve\n```", [], id="fence_with_info_string_hides"),
    pytest.param("   ```\n   /approve\n   ```", [], id="indented_fence_hides"),
    pytest.param("    /approve", [], id="indented_code_at_start"),
    pytest.param("text\n\n    /approve", [], id="indented_code_after_blank_line"),
    pytest.param("\t/approve", [], id="tab_indented_code"),
    pytest.param(
        "text\n    /approve",
        [],
        id="four_spaces_continuing_paragraph_is_not_a_command",
    ),
    pytest.param("`/approve`", [], id="inline_code"),
    pytest.param(
        "see `/approve` here\n/claim", [(2, "claim")], id="inline_code_mid_line"
    ),
    pytest.param(
        "run `foo\n/approve` now", [], id="line_starting_inside_multiline_code_span"
    ),
    pytest.param(
        "run ``foo ` \n/approve`` now",
        [],
        id="double_backtick_span_across_lines",
    ),
    pytest.param(
        "unmatched ` backtick\n/claim",
        [(2, "claim")],
        id="unmatched_backtick_does_not_hide",
    ),
    pytest.param(
        "escaped \\` tick\n/claim\n` end",
        [(2, "claim")],
        id="escaped_backtick_opens_no_span",
    ),
    # quotes
    pytest.param("> /approve", [], id="quoted_command"),
    pytest.param(
        "> /approve\n\nAgreed.\n/claim",
        [(4, "claim")],
        id="reply_quoting_a_command_does_nothing",
    ),
    pytest.param("> > /approve\n> >\n> /claim", [], id="nested_quotes"),
    pytest.param(">/approve", [], id="quote_without_space"),
    pytest.param("> quoted text\n/approve", [], id="lazy_continuation_of_quote"),
    pytest.param(
        "> quoted text\n\n/approve", [(3, "approve")], id="blank_line_ends_quote"
    ),
    pytest.param("- item\n  > /approve", [], id="quote_inside_list"),
    pytest.param(
        ">" * 200 + " /approve\n\n/claim", [(3, "claim")], id="very_deep_quote"
    ),
    # HTML
    pytest.param(
        "<!-- /approve -->\n/claim", [(2, "claim")], id="one_line_html_comment"
    ),
    pytest.param(
        "<!--\n/approve\n-->\n/claim", [(4, "claim")], id="multi_line_html_comment"
    ),
    pytest.param(
        "<!--\n/approve\n\n/claim", [], id="unclosed_html_comment_runs_to_end"
    ),
    pytest.param(
        "Text <!--\n/approve\n--> more\n/claim",
        [(4, "claim")],
        id="inline_html_comment_across_lines",
    ),
    pytest.param(ISSUE_TEMPLATE, [], id="issue_template_comments_hide_commands"),
    pytest.param(
        ISSUE_TEMPLATE + "\n/claim",
        [(12, "claim")],
        id="command_after_issue_template",
    ),
    pytest.param("<details>\n/approve\n</details>", [], id="html_block_hides"),
    pytest.param(
        "<details>\n<summary>log</summary>\n\n/claim\n\n</details>",
        [(4, "claim")],
        id="markdown_paragraph_inside_details",
    ),
    pytest.param(
        'text <span title="\n/approve">x</span>', [], id="line_inside_inline_html_tag"
    ),
    # lists and tables
    pytest.param("- /claim", [], id="list_bullet_line_is_not_a_command"),
    pytest.param("1. /claim", [], id="ordered_list_line_is_not_a_command"),
    pytest.param(
        "- did a\n- did b\n/submit", [(3, "submit")], id="command_right_after_list"
    ),
    pytest.param(
        "1. step\n   /claim", [(2, "claim")], id="continuation_line_in_list_item"
    ),
    pytest.param("| /approve | x |\n|---|---|", [], id="table_cell"),
    # errors are reported in place
    pytest.param(
        "/claim\n/aprove\n/submit",
        [(1, "claim"), (2, "!unknown_command"), (3, "submit")],
        id="unknown_command_between_commands",
    ),
    pytest.param("/task", [(1, "!bad_arguments")], id="bad_arguments_reported"),
    # forged markers (the parser's internal private-use characters)
    pytest.param(
        "\ue000\ue010\ue001 `\n/claim`\n\ue000\ue011\ue001",
        [],
        id="private_use_characters_cannot_forge_commands",
    ),
    pytest.param(
        "`\ue000\ue011\ue001`\n/claim",
        [(2, "claim")],
        id="private_use_characters_cannot_hide_commands",
    ),
]


@pytest.mark.parametrize(("body", "expected"), CORPUS)
def test_corpus_finds_exactly_the_expected_commands(
    body: str, expected: list[tuple[int, str]]
) -> None:
    assert summary(parse(body)) == expected


def test_results_carry_raw_line_and_line_number() -> None:
    [result] = parse("Looks good!\r\n\r\n   /Approve  ship it  \r\n")
    assert result == Approve(line=3, raw="/Approve  ship it", note="ship it")


def test_empty_body_has_no_commands() -> None:
    assert parse("") == []


def test_extract_returns_unvalidated_commands() -> None:
    assert extract("x\n/Foo  a   b ") == [
        Command(name="foo", args=("a", "b"), text="a   b", raw="/Foo  a   b", line=2)
    ]


# ---------------------------------------------------------------------------
# Arguments of each known command
# ---------------------------------------------------------------------------

VALID = [
    pytest.param("/help", Help(line=1, raw="/help"), id="help"),
    pytest.param(
        "/help /approve",
        Help(line=1, raw="/help /approve", topic="approve"),
        id="help_with_topic",
    ),
    pytest.param(
        "/task bug", NewTask(line=1, raw="/task bug", kind="bug"), id="task_bug"
    ),
    pytest.param(
        "/task Feature",
        NewTask(line=1, raw="/task Feature", kind="feature"),
        id="task_type_case_insensitive",
    ),
    pytest.param(
        "/task research",
        NewTask(line=1, raw="/task research", kind="research"),
        id="task_research",
    ),
    pytest.param("/claim", Claim(line=1, raw="/claim"), id="claim"),
    pytest.param("/unclaim", Unclaim(line=1, raw="/unclaim"), id="unclaim"),
    pytest.param("/submit", Submit(line=1, raw="/submit"), id="submit"),
    pytest.param("/why", Why(line=1, raw="/why"), id="why"),
    pytest.param("/history", History(line=1, raw="/history"), id="history"),
    pytest.param("/enroll", Enroll(line=1, raw="/enroll"), id="enroll"),
    pytest.param(
        "/assign @Octo-Cat",
        Assign(line=1, raw="/assign @Octo-Cat", user="Octo-Cat"),
        id="assign_keeps_login_without_at",
    ),
    pytest.param(
        "/status todo",
        SetStatus(line=1, raw="/status todo", status="todo"),
        id="status",
    ),
    pytest.param(
        "/status in progress",
        SetStatus(line=1, raw="/status in progress", status="in_progress"),
        id="status_in_progress_with_space",
    ),
    pytest.param(
        "/status in-progress",
        SetStatus(line=1, raw="/status in-progress", status="in_progress"),
        id="status_in_progress_with_hyphen",
    ),
    pytest.param(
        "/status IN_PROGRESS",
        SetStatus(line=1, raw="/status IN_PROGRESS", status="in_progress"),
        id="status_upper_case",
    ),
    pytest.param(
        "/status Submitted",
        SetStatus(line=1, raw="/status Submitted", status="submitted"),
        id="status_submitted",
    ),
    pytest.param(
        "/approve", Approve(line=1, raw="/approve"), id="approve_without_note"
    ),
    pytest.param(
        "/approve great  work",
        Approve(line=1, raw="/approve great  work", note="great  work"),
        id="approve_note_keeps_spacing",
    ),
    pytest.param(
        "/reject tests fail",
        Reject(line=1, raw="/reject tests fail", reason="tests fail"),
        id="reject_with_reason",
    ),
    pytest.param(
        "/role @ann FE_DEV",
        SetRole(line=1, raw="/role @ann FE_DEV", user="ann", role="FE_DEV"),
        id="role",
    ),
    pytest.param(
        "/role @ann fe-dev",
        SetRole(line=1, raw="/role @ann fe-dev", user="ann", role="FE_DEV"),
        id="role_lower_case_with_hyphen",
    ),
    pytest.param(
        "/role @ann super admin",
        SetRole(line=1, raw="/role @ann super admin", user="ann", role="SUPER_ADMIN"),
        id="role_with_space",
    ),
    pytest.param(
        "/role @ann None",
        SetRole(line=1, raw="/role @ann None", user="ann", role=None),
        id="role_none_removes_role",
    ),
    pytest.param(
        "/override approved reviewer is away",
        Override(
            line=1,
            raw="/override approved reviewer is away",
            status="approved",
            reason="reviewer is away",
        ),
        id="override",
    ),
    pytest.param(
        "/override in progress reopened by PM",
        Override(
            line=1,
            raw="/override in progress reopened by PM",
            status="in_progress",
            reason="reopened by PM",
        ),
        id="override_two_word_status",
    ),
    pytest.param("/xp", ShowXp(line=1, raw="/xp"), id="xp_own"),
    pytest.param("/xp @bo", ShowXp(line=1, raw="/xp @bo", user="bo"), id="xp_of_user"),
    pytest.param(
        "/xp @bo +25 great demo",
        AdjustXp(
            line=1,
            raw="/xp @bo +25 great demo",
            user="bo",
            delta=25,
            reason="great demo",
        ),
        id="xp_add",
    ),
    pytest.param(
        "/xp @bo -5 late",
        AdjustXp(line=1, raw="/xp @bo -5 late", user="bo", delta=-5, reason="late"),
        id="xp_subtract",
    ),
]


@pytest.mark.parametrize(("line", "expected"), VALID)
def test_valid_arguments_give_typed_command(line: str, expected: ParseResult) -> None:
    assert parse(line) == [expected]


INVALID = [
    pytest.param("/help nope", "help", id="help_unknown_topic"),
    pytest.param("/help a b", "help", id="help_two_topics"),
    pytest.param("/task", "task", id="task_type_missing"),
    pytest.param("/task chore", "task", id="task_type_unknown"),
    pytest.param("/task bug extra", "task", id="task_extra_words"),
    pytest.param("/claim now please", "claim", id="claim_takes_no_arguments"),
    pytest.param("/submit #12", "submit", id="submit_takes_no_arguments"),
    pytest.param("/assign", "assign", id="assign_user_missing"),
    pytest.param("/assign bob", "assign", id="assign_needs_mention"),
    pytest.param("/assign @bob @ann", "assign", id="assign_two_users"),
    pytest.param("/assign @-bob", "assign", id="assign_invalid_login"),
    pytest.param("/status", "status", id="status_missing"),
    pytest.param("/status done", "status", id="status_unknown"),
    pytest.param("/reject", "reject", id="reject_reason_missing"),
    pytest.param("/role", "role", id="role_arguments_missing"),
    pytest.param("/role @ann", "role", id="role_missing"),
    pytest.param("/role ann QA", "role", id="role_needs_mention"),
    pytest.param("/role @ann CEO", "role", id="role_unknown"),
    pytest.param("/override", "override", id="override_arguments_missing"),
    pytest.param("/override approved", "override", id="override_reason_missing"),
    pytest.param("/override shipped because", "override", id="override_status_unknown"),
    pytest.param("/xp bob", "xp", id="xp_needs_mention"),
    pytest.param("/xp +5 nice", "xp", id="xp_adjust_needs_user"),
    pytest.param("/xp @bo 5 nice", "xp", id="xp_change_needs_sign"),
    pytest.param("/xp @bo +five nice", "xp", id="xp_change_not_a_number"),
    pytest.param("/xp @bo +0 nothing", "xp", id="xp_change_zero"),
    pytest.param("/xp @bo +99999999 x", "xp", id="xp_change_too_many_digits"),
    pytest.param("/xp @bo +5", "xp", id="xp_change_reason_missing"),
]


@pytest.mark.parametrize(("line", "name"), INVALID)
def test_bad_arguments_give_error_with_usage(line: str, name: str) -> None:
    [error] = parse(line)
    assert isinstance(error, CommandError)
    assert error.code == "bad_arguments"
    assert error.name == name
    assert error.usage == USAGE[name]
    assert USAGE[name] in error.message
    assert (error.line, error.raw) == (1, line)


def test_unknown_command_suggests_closest_known_one() -> None:
    [error] = parse("/aprove")
    assert isinstance(error, CommandError)
    assert error.code == "unknown_command"
    assert error.suggestion == "approve"
    assert "did you mean `/approve`?" in error.message.lower()


def test_unknown_command_without_close_match_points_to_help() -> None:
    [error] = parse("/frobnicate")
    assert isinstance(error, CommandError)
    assert error.suggestion is None
    assert "/help" in error.message


def test_error_messages_do_not_echo_mentions_outside_code() -> None:
    [error] = parse("/task @everyone`x`")
    assert isinstance(error, CommandError)
    assert "`@everyone'x'`" in error.message


def test_every_command_has_usage_description_and_validator() -> None:
    assert set(USAGE) == set(DESCRIPTIONS) == set(COMMAND_NAMES)
    for name, usage in USAGE.items():
        assert usage.startswith(f"/{name}")
        assert "\n" not in usage
        result = validate(Command(name=name, args=(), text="", raw=f"/{name}", line=1))
        assert not (
            isinstance(result, CommandError) and result.code == "unknown_command"
        )


def test_help_text_lists_every_command() -> None:
    text = help_text()
    assert len(text.splitlines()) == len(USAGE)
    for usage in USAGE.values():
        assert usage in text


# ---------------------------------------------------------------------------
# Limits for hostile input
# ---------------------------------------------------------------------------


def test_excess_commands_are_reported_as_one_error() -> None:
    body = "\n".join(["/claim"] * (MAX_COMMANDS + 5))
    results = parse(body)
    assert len(results) == MAX_COMMANDS + 1
    assert all(isinstance(r, Claim) for r in results[:MAX_COMMANDS])
    last = results[-1]
    assert isinstance(last, CommandError)
    assert last.code == "too_many_commands"
    assert last.line == MAX_COMMANDS + 1
    assert "5" in last.message


def test_exactly_max_commands_is_not_an_error() -> None:
    assert len(parse("\n".join(["/claim"] * MAX_COMMANDS))) == MAX_COMMANDS


def test_overlong_arguments_are_an_error() -> None:
    [error] = parse("/reject " + "x" * (MAX_ARG_CHARS + 1))
    assert isinstance(error, CommandError)
    assert error.code == "too_long"
    assert error.name == "reject"


def test_arguments_at_the_limit_are_accepted() -> None:
    [result] = parse("/reject " + "x" * MAX_ARG_CHARS)
    assert isinstance(result, Reject)


def test_command_beyond_body_limit_is_reported_not_run() -> None:
    filler = "filler text\n" * (MAX_BODY_CHARS // 12 + 10)
    results = parse("/claim\n" + filler + "/approve")
    assert summary(results)[0] == (1, "claim")
    assert len(results) == 2
    error = results[1]
    assert isinstance(error, CommandError)
    assert error.code == "body_too_long"
    assert error.raw == "/approve"


def test_long_body_without_late_commands_has_no_error() -> None:
    assert parse("/claim\n" + "x" * (2 * MAX_BODY_CHARS)) == [
        Claim(line=1, raw="/claim")
    ]


def test_huge_hostile_body_is_handled() -> None:
    body = ("> " * 50 + "`" * 7 + "\n/claim `\n<!--\n") * 20_000
    assert isinstance(parse(body), list)


# ---------------------------------------------------------------------------
# Edited comments
# ---------------------------------------------------------------------------

EDITS = [
    pytest.param(
        "/claim", "/claim\n/submit", [(2, "submit")], id="edit_adds_a_command"
    ),
    pytest.param("/claim", "/claim\n\nThanks!", [], id="edit_adds_only_text"),
    pytest.param(
        "/claim", "Typo fixed.\n\n/claim", [], id="command_moved_down_not_rerun"
    ),
    pytest.param(
        "/claim", "/claim\n/claim", [(2, "claim")], id="second_copy_runs_once"
    ),
    pytest.param("/claim\n/claim", "/claim", [], id="edit_removes_a_copy"),
    pytest.param(
        "/approve LGTM",
        "  /APPROVE   lgtm",
        [],
        id="whitespace_and_case_changes_ignored",
    ),
    pytest.param("/claim", "/unclaim", [(1, "unclaim")], id="edit_replaces_command"),
    pytest.param(
        "```\n/approve\n```",
        "/approve",
        [(1, "approve")],
        id="command_taken_out_of_fence",
    ),
    pytest.param("/approve", "> /approve", [], id="command_quoted_by_edit"),
    pytest.param("/aprove", "/aprove\nfixed", [], id="unchanged_error_not_repeated"),
    pytest.param("/aprove", "/approve", [(1, "approve")], id="typo_fixed_runs_command"),
    pytest.param("", "/claim", [(1, "claim")], id="empty_old_body"),
    pytest.param(
        "/claim\r\n", "/claim\n/submit\n", [(2, "submit")], id="line_endings_changed"
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), EDITS)
def test_new_commands_of_edited_comment(
    old: str, new: str, expected: list[tuple[int, str]]
) -> None:
    assert summary(new_commands(old, new)) == expected


def test_new_commands_caps_after_comparing() -> None:
    old = "\n".join(["/claim"] * MAX_COMMANDS)
    new = "\n".join(["/claim"] * (MAX_COMMANDS + 2))
    assert summary(new_commands(old, new)) == [
        (MAX_COMMANDS + 1, "claim"),
        (MAX_COMMANDS + 2, "claim"),
    ]


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

MARKDOWNISH = st.lists(
    st.sampled_from(
        [
            "/claim",
            "/approve ok",
            "/xp @a +1 r",
            "/aprove",
            "/",
            "`",
            "```",
            "~~~",
            "> ",
            ">",
            "<!--",
            "-->",
            "<a href='",
            "    ",
            "   ",
            "\t",
            "- ",
            "1. ",
            "\n",
            "\r\n",
            "\r",
            "\\",
            "---",
            "|",
            "[",
            "](",
            "*",
            "@",
            "x",
            " ",
            "\ue000",
            "\ue010",
            "\ue001",
        ]
    ),
    max_size=60,
).map("".join)


def _normalized_lines(body: str) -> list[str]:
    return body.replace("\r\n", "\n").replace("\r", "\n").split("\n")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises_on_arbitrary_text(body: str) -> None:
    results = parse(body)
    assert len(results) <= MAX_COMMANDS + 1


@settings(max_examples=500, deadline=None)
@given(MARKDOWNISH)
def test_results_point_at_real_command_lines_in_order(body: str) -> None:
    results = parse(body)
    lines = _normalized_lines(body)
    assert len(results) <= MAX_COMMANDS + 1
    numbers = [r.line for r in results]
    assert numbers == sorted(numbers)
    for r in results:
        if not (isinstance(r, CommandError) and r.code == "too_many_commands"):
            assert r.raw == lines[r.line - 1].strip()
            assert r.raw.startswith("/")


@settings(max_examples=200, deadline=None)
@given(MARKDOWNISH)
def test_unedited_body_has_no_new_commands(body: str) -> None:
    assert new_commands(body, body) == []
    assert new_commands("", body) == parse(body)
