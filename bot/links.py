"""Which issue a pull request works on: closing keywords and branch names."""

from __future__ import annotations

import re

# GitHub's closing keywords: close, closes, closed, fix, fixes, fixed,
# resolve, resolves, resolved; an optional colon after the keyword.
_CLOSING = re.compile(
    r"(?<![\w/])(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\s+"
    r"(?:(?P<repo>[\w.-]+/[\w.-]+)#|#|https?://[^\s/]+/(?P<url_repo>[\w.-]+/[\w.-]+)"
    r"/issues/)(?P<number>\d+)\b",
    re.IGNORECASE,
)
# Code blocks and inline code quote keywords rather than use them.
_FENCED = re.compile(r"^ {0,3}(```|~~~).*?(^ {0,3}\1|\Z)", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"`[^`\n]*`")
_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.DOTALL)

# `12-login-form`, `12_login`, `task-12`, `issue-12`, also below a folder
# such as `feature/12-login-form`.
_BRANCH = re.compile(
    r"^(?:(?P<lead>\d+)(?:[-_].*)?|(?:task|issue|gh)[-_]?(?P<tagged>\d+)(?:[-_].*)?)$",
    re.IGNORECASE,
)


def closing_references(body: str | None, repository: str) -> list[int]:
    """Issue numbers in `repository` that the PR body says it closes, in order."""
    if not body:
        return []
    text = _INLINE.sub("", _FENCED.sub("", _COMMENT.sub("", body)))
    numbers: list[int] = []
    for found in _CLOSING.finditer(text):
        named = found.group("repo") or found.group("url_repo")
        if named is not None and named.lower() != repository.lower():
            continue  # closes an issue elsewhere: not one of this repo's tasks
        number = int(found.group("number"))
        if number not in numbers:
            numbers.append(number)
    return numbers


def issue_from_branch(ref: str | None) -> int | None:
    """The issue a branch is named after (`12-…`, `task-12`), if any."""
    if not ref:
        return None
    last = ref.removeprefix("refs/heads/").rsplit("/", 1)[-1]
    found = _BRANCH.match(last)
    if found is None:
        return None
    return int(found.group("lead") or found.group("tagged"))
