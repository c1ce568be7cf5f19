"""Slash-command grammar for workflow-bot.

Pure functions only: no I/O, no GitHub calls.  A comment body goes in, a list
of typed commands (or :class:`CommandError` values) comes out.

What counts as a command
------------------------
A command is a line of Markdown *paragraph* text that starts with ``/name``
(up to three leading spaces are allowed, as in CommonMark).  The name is a run
of ASCII letters, digits, ``-`` and ``_`` starting with a letter, and it must be
followed by whitespace or the end of the line: ``/approved.`` and ``/usr/bin``
are not commands, and neither is ``/ 2``.  Names are case-insensitive; the rest
of the line is the argument text.

Block structure is decided by a real CommonMark tokenizer (markdown-it-py,
with GFM tables and strikethrough enabled), so these lines are never commands:

* lines in fenced code (```` ``` ```` or ``~~~``; an unclosed fence runs to the
  end of the comment) and in indented code blocks;
* lines in block quotes, nested quotes included, and *lazy continuation*
  lines (``> quote`` followed directly by ``/approve`` renders as part of the
  quote on GitHub, so it is not a command);
* lines in HTML blocks and HTML comments (``<!-- ... -->``, single- or
  multi-line, e.g. from issue templates), and lines that start inside an
  inline HTML tag or comment;
* lines that start inside an inline code span (a span opened on a previous
  line of the same paragraph);
* table rows.

Known gap, kept for speed: links and images are not parsed inline, so a line
inside a multi-line image alt text or link title still counts as a command.

A list bullet line such as ``- /claim`` is not a command (the line does not
start with ``/``); a continuation line inside a list item that itself starts
with ``/name`` is.  A ``/name`` line directly followed by ``---`` or ``===``
(a setext heading on GitHub) still counts.

Limits for hostile input
------------------------
* Only the first :data:`MAX_BODY_CHARS` characters are read (GitHub rejects
  longer comment bodies anyway); a command-looking line after that yields one
  ``body_too_long`` error.
* At most :data:`MAX_COMMANDS` results are returned per comment; the excess is
  reported as one ``too_many_commands`` error.
* Argument text longer than :data:`MAX_ARG_CHARS` yields a ``too_long`` error.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal, TypeAlias

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType

__all__ = [
    "COMMAND_NAMES",
    "DESCRIPTIONS",
    "MAX_ARG_CHARS",
    "MAX_BODY_CHARS",
    "MAX_COMMANDS",
    "ROLES",
    "STATUSES",
    "TASK_TYPES",
    "USAGE",
    "AdjustXp",
    "Approve",
    "Assign",
    "Claim",
    "Command",
    "CommandBase",
    "CommandError",
    "Enroll",
    "ErrorCode",
    "Help",
    "History",
    "NewTask",
    "Override",
    "ParseResult",
    "ParsedCommand",
    "Reject",
    "RoleName",
    "SetRole",
    "SetStatus",
    "ShowXp",
    "StatusName",
    "Submit",
    "TaskType",
    "Unclaim",
    "Why",
    "extract",
    "help_text",
    "new_commands",
    "parse",
    "validate",
]

# --------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------

MAX_COMMANDS = 10
"""Maximum number of results (commands or errors) returned for one comment."""

MAX_ARG_CHARS = 1000
"""Maximum length of the argument text of one command."""

MAX_BODY_CHARS = 65_536
"""Only this many characters of a body are read (GitHub's own body limit)."""

# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

TaskType: TypeAlias = Literal["feature", "bug", "research"]
StatusName: TypeAlias = Literal[
    "todo", "in_progress", "submitted", "approved", "rejected"
]
RoleName: TypeAlias = Literal[
    "SUPER_ADMIN", "DESIGNER", "FE_DEV", "BE_DEV", "QA", "REVIEWER", "STUDENT"
]
ErrorCode: TypeAlias = Literal[
    "unknown_command",
    "bad_arguments",
    "too_long",
    "too_many_commands",
    "body_too_long",
]

TASK_TYPES: tuple[TaskType, ...] = ("feature", "bug", "research")
STATUSES: tuple[StatusName, ...] = (
    "todo",
    "in_progress",
    "submitted",
    "approved",
    "rejected",
)
ROLES: tuple[RoleName, ...] = (
    "SUPER_ADMIN",
    "DESIGNER",
    "FE_DEV",
    "BE_DEV",
    "QA",
    "REVIEWER",
    "STUDENT",
)

_TASK_TYPE_BY_NAME: dict[str, TaskType] = {t: t for t in TASK_TYPES}
_STATUS_BY_NAME: dict[str, StatusName] = {s: s for s in STATUSES}
_STATUS_BY_NAME.update({"to_do": "todo", "inprogress": "in_progress"})
_ROLE_BY_NAME: dict[str, RoleName] = {r: r for r in ROLES}

USAGE: dict[str, str] = {
    "help": "/help [command]",
    "task": "/task <feature|bug|research>",
    "claim": "/claim",
    "unclaim": "/unclaim",
    "submit": "/submit",
    "why": "/why",
    "history": "/history",
    "enroll": "/enroll",
    "assign": "/assign @user",
    "status": "/status <todo|in_progress|submitted|approved|rejected>",
    "approve": "/approve [note...]",
    "reject": "/reject <reason...>",
    "role": "/role @user <" + "|".join(ROLES) + "|none>",
    "override": "/override <status> <reason...>",
    "xp": "/xp [@user]  or  /xp @user <+N|-N> <reason...>",
}
"""One usage line per command name (without the slash), in /help order."""

DESCRIPTIONS: dict[str, str] = {
    "help": "show this list, or the usage of one command",
    "task": "turn this issue into a task of the given type",
    "claim": "claim this task",
    "unclaim": "release your claim on this task",
    "submit": "submit your work for review",
    "why": "explain the task's current state",
    "history": "show the task's history",
    "enroll": "enroll yourself in the program",
    "assign": "assign this task to a user",
    "status": "set the task's status",
    "approve": "approve the submitted work, with an optional note",
    "reject": "reject the submitted work (a reason is required)",
    "role": "give a user a role, or `none` to remove it",
    "override": "force the task's status (a reason is required)",
    "xp": "show XP, or adjust a user's XP (a reason is required)",
}

COMMAND_NAMES: tuple[str, ...] = tuple(USAGE)


def help_text() -> str:
    """Markdown list of every command with its usage and description."""
    return "\n".join(f"- `{USAGE[n]}`: {DESCRIPTIONS[n]}" for n in COMMAND_NAMES)


# --------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """A command line found in a body, before its arguments are checked."""

    name: str  # lower-cased, without the slash
    args: tuple[str, ...]  # argument text split on whitespace
    text: str  # argument text as written (stripped)
    raw: str  # the whole source line, stripped
    line: int  # 1-based line number in the body (CRLF counts as one break)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandBase:
    """Fields shared by every validated command."""

    name: ClassVar[str]
    line: int
    raw: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Help(CommandBase):
    name: ClassVar[str] = "help"
    topic: str | None = None  # a known command name, without the slash


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTask(CommandBase):
    name: ClassVar[str] = "task"
    kind: TaskType


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim(CommandBase):
    name: ClassVar[str] = "claim"


@dataclass(frozen=True, slots=True, kw_only=True)
class Unclaim(CommandBase):
    name: ClassVar[str] = "unclaim"


@dataclass(frozen=True, slots=True, kw_only=True)
class Submit(CommandBase):
    name: ClassVar[str] = "submit"


@dataclass(frozen=True, slots=True, kw_only=True)
class Why(CommandBase):
    name: ClassVar[str] = "why"


@dataclass(frozen=True, slots=True, kw_only=True)
class History(CommandBase):
    name: ClassVar[str] = "history"


@dataclass(frozen=True, slots=True, kw_only=True)
class Enroll(CommandBase):
    name: ClassVar[str] = "enroll"


@dataclass(frozen=True, slots=True, kw_only=True)
class Assign(CommandBase):
    name: ClassVar[str] = "assign"
    user: str  # GitHub login, without "@"


@dataclass(frozen=True, slots=True, kw_only=True)
class SetStatus(CommandBase):
    name: ClassVar[str] = "status"
    status: StatusName


@dataclass(frozen=True, slots=True, kw_only=True)
class Approve(CommandBase):
    name: ClassVar[str] = "approve"
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject(CommandBase):
    name: ClassVar[str] = "reject"
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRole(CommandBase):
    name: ClassVar[str] = "role"
    user: str  # GitHub login, without "@"
    role: RoleName | None  # None removes the user's role


@dataclass(frozen=True, slots=True, kw_only=True)
class Override(CommandBase):
    name: ClassVar[str] = "override"
    status: StatusName
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowXp(CommandBase):
    name: ClassVar[str] = "xp"
    user: str | None = None  # None: the commenter


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustXp(CommandBase):
    name: ClassVar[str] = "xp"
    user: str
    delta: int  # non-zero
    reason: str


ParsedCommand: TypeAlias = (
    Help
    | NewTask
    | Claim
    | Unclaim
    | Submit
    | Why
    | History
    | Enroll
    | Assign
    | SetStatus
    | Approve
    | Reject
    | SetRole
    | Override
    | ShowXp
    | AdjustXp
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandError:
    """A command-looking line that cannot be run, with a message for the user.

    ``message`` is Markdown, safe to post back: user-supplied values are
    quoted in code spans (so they cannot @mention anyone) and truncated.
    """

    message: str
    code: ErrorCode
    line: int
    raw: str
    name: str | None = None  # the command name as typed (lower-cased)
    usage: str | None = None  # USAGE line of that command, if it is known
    suggestion: str | None = None  # closest known command name, if any


ParseResult: TypeAlias = ParsedCommand | CommandError

# --------------------------------------------------------------------------
# Finding command lines
# --------------------------------------------------------------------------

# A line that looks like a command: up to 3 spaces, "/", a name, then
# whitespace or end of line.  re.M so that it also scans whole texts.
_CANDIDATE_RE = re.compile(r"^( {0,3})/([A-Za-z][A-Za-z0-9_-]*)(?=\s|$)(.*)$", re.M)
_NEWLINE_RE = re.compile(r"\r\n?")

# Each candidate line is tagged with a marker made of private-use characters
# that encodes its line index; after inline parsing, the token a marker ends
# up in tells whether the line starts in plain text or inside a code span /
# HTML.  Private-use characters already in the body are replaced first so
# that a body cannot forge markers.
_MARK_OPEN = "\ue000"
_MARK_CLOSE = "\ue001"
_DIGIT_BASE = 0xE010
_PRIVATE_RE = re.compile("[\ue000-\ue01f]")
_MARK_RE = re.compile("\ue000([\ue010-\ue019]+)\ue001")


def _marker(index: int) -> str:
    digits = "".join(chr(_DIGIT_BASE + int(d)) for d in str(index))
    return _MARK_OPEN + digits + _MARK_CLOSE


def _marker_index(digits: str) -> int:
    return int("".join(str(ord(c) - _DIGIT_BASE) for c in digits))


def _make_block_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    # Block structure only; inline parsing is done on demand (see below) for
    # the few paragraphs that contain candidate lines.
    md.disable("inline")
    return md


def _make_inline_parser() -> MarkdownIt:
    # Only the inline rules that can hide the start of a line: code spans,
    # inline HTML (tags and comments), autolinks, plus escapes and entities
    # so that those are read correctly.  Emphasis, links and images never hide
    # text and are the slow part of markdown-it-py on hostile input (about
    # 15 us per character), so they are left out.  Consequence: a line inside
    # a multi-line image alt text or link title still counts as a command.
    md = MarkdownIt("commonmark")
    md.disable(["link", "image", "emphasis"])
    return md


_BLOCK_MD = _make_block_parser()
_INLINE_MD = _make_inline_parser()

# Block tokens whose inline content may hold commands.
_TEXT_BLOCKS = frozenset({"paragraph_open", "heading_open"})


def _split_body(body: str) -> tuple[list[str], tuple[int, str] | None]:
    """Normalize line breaks, apply MAX_BODY_CHARS.

    Returns the lines that are read and, if a command-looking line was cut
    off, its 1-based line number and stripped text.
    """
    text = _NEWLINE_RE.sub("\n", body)
    if len(text) <= MAX_BODY_CHARS:
        return text.split("\n"), None
    cut = text.rfind("\n", 0, MAX_BODY_CHARS + 1)
    lines = text[:cut].split("\n") if cut >= 0 else []
    tail = text[cut + 1 :]
    m = _CANDIDATE_RE.search(tail)
    if m is None:
        return lines, None
    return lines, (len(lines) + 1 + tail.count("\n", 0, m.start()), m.group(0).strip())


def _markers_in(tokens: Iterable[Token]) -> Iterable[tuple[int, bool]]:
    """Yield (line index, starts in plain text?) for markers in inline tokens."""
    for tok in tokens:
        for m in _MARK_RE.finditer(tok.content):
            yield _marker_index(m.group(1)), tok.type == "text"
        for value in tok.attrs.values():
            for m in _MARK_RE.finditer(str(value)):
                yield _marker_index(m.group(1)), False
        if tok.children:
            yield from _markers_in(tok.children)


def _command_line_indexes(lines: list[str], candidates: dict[int, int]) -> list[int]:
    """Indexes of candidate lines that are plain paragraph text.

    ``candidates`` maps line index -> indentation (0-3).
    """
    marked = [_PRIVATE_RE.sub("\ufffd", line) for line in lines]
    for index, indent in candidates.items():
        line = marked[index]
        marked[index] = line[:indent] + _marker(index) + line[indent:]
    env: EnvType = {}
    tokens = _BLOCK_MD.parse("\n".join(marked), env)

    good: set[int] = set()
    bad: set[int] = set()
    quote_depth = 0
    for i, tok in enumerate(tokens):
        if tok.type == "blockquote_open":
            quote_depth += 1
        elif tok.type == "blockquote_close":
            quote_depth -= 1
        elif (
            tok.type == "inline"
            and quote_depth == 0
            and i > 0
            and tokens[i - 1].type in _TEXT_BLOCKS
            and tok.map is not None
            and _MARK_OPEN in tok.content
        ):
            start, end = tok.map
            children: list[Token] = []
            _INLINE_MD.inline.parse(tok.content, _INLINE_MD, env, children)
            for index, plain in _markers_in(children):
                if not start <= index < end:
                    bad.add(index)
                elif plain:
                    good.add(index)
                else:
                    bad.add(index)
    return sorted(good - bad)


def _extract(lines: list[str]) -> list[Command]:
    candidates: dict[int, int] = {}
    for index, line in enumerate(lines):
        if "/" in line[:4]:
            m = _CANDIDATE_RE.match(line)
            if m is not None:
                candidates[index] = len(m.group(1))
    if not candidates:
        return []
    found: list[Command] = []
    for index in _command_line_indexes(lines, candidates):
        m = _CANDIDATE_RE.match(lines[index])
        if m is None:  # pragma: no cover - it was a candidate
            continue
        text = m.group(3).strip()
        found.append(
            Command(
                name=m.group(2).lower(),
                args=tuple(text.split()),
                text=text,
                raw=lines[index].strip(),
                line=index + 1,
            )
        )
    return found


def extract(body: str) -> list[Command]:
    """All command lines of ``body`` in order, unvalidated and uncapped.

    Only the first :data:`MAX_BODY_CHARS` characters are read.
    """
    lines, _ = _split_body(body)
    return _extract(lines)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

_Validator: TypeAlias = Callable[[Command], ParseResult]

_LOGIN_RE = re.compile(r"@([A-Za-z0-9][A-Za-z0-9-]{0,38})")
_DELTA_RE = re.compile(r"[+-][0-9]{1,7}")
_SEPARATORS_RE = re.compile(r"[\s-]+")


def _quote(value: str, limit: int = 40) -> str:
    """Show a user-supplied value in a message without Markdown effects."""
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return "`" + value.replace("`", "'") + "`"


def _usage_error(cmd: Command, problem: str) -> CommandError:
    usage = USAGE[cmd.name]
    return CommandError(
        message=f"{problem[:1].upper()}{problem[1:]}. Usage: `{usage}`",
        code="bad_arguments",
        line=cmd.line,
        raw=cmd.raw,
        name=cmd.name,
        usage=usage,
    )


def _login(value: str) -> str | None:
    m = _LOGIN_RE.fullmatch(value)
    return m.group(1) if m else None


def _status(value: str) -> StatusName | None:
    return _STATUS_BY_NAME.get(_SEPARATORS_RE.sub("_", value.strip()).lower())


def _no_args(
    cls: type[Claim | Unclaim | Submit | Why | History | Enroll],
) -> _Validator:
    def validate_no_args(cmd: Command) -> ParseResult:
        if cmd.args:
            return _usage_error(cmd, f"`/{cmd.name}` takes no arguments")
        return cls(line=cmd.line, raw=cmd.raw)

    return validate_no_args


def _help(cmd: Command) -> ParseResult:
    if not cmd.args:
        return Help(line=cmd.line, raw=cmd.raw)
    if len(cmd.args) > 1:
        return _usage_error(cmd, "`/help` takes at most one command name")
    topic = cmd.args[0].lstrip("/").lower()
    if topic not in USAGE:
        return _usage_error(cmd, f"there is no command {_quote(cmd.args[0])}")
    return Help(line=cmd.line, raw=cmd.raw, topic=topic)


def _task(cmd: Command) -> ParseResult:
    if len(cmd.args) != 1:
        return _usage_error(cmd, "`/task` needs exactly one task type")
    kind = _TASK_TYPE_BY_NAME.get(cmd.args[0].lower())
    if kind is None:
        return _usage_error(cmd, f"unknown task type {_quote(cmd.args[0])}")
    return NewTask(line=cmd.line, raw=cmd.raw, kind=kind)


def _assign(cmd: Command) -> ParseResult:
    if len(cmd.args) != 1:
        return _usage_error(cmd, "`/assign` needs exactly one @user")
    user = _login(cmd.args[0])
    if user is None:
        return _usage_error(cmd, f"{_quote(cmd.args[0])} is not an @user")
    return Assign(line=cmd.line, raw=cmd.raw, user=user)


def _set_status(cmd: Command) -> ParseResult:
    if not cmd.args:
        return _usage_error(cmd, "`/status` needs a status")
    status = _status(cmd.text)
    if status is None:
        return _usage_error(cmd, f"unknown status {_quote(cmd.text)}")
    return SetStatus(line=cmd.line, raw=cmd.raw, status=status)


def _approve(cmd: Command) -> ParseResult:
    return Approve(line=cmd.line, raw=cmd.raw, note=cmd.text or None)


def _reject(cmd: Command) -> ParseResult:
    if not cmd.text:
        return _usage_error(cmd, "`/reject` needs a reason")
    return Reject(line=cmd.line, raw=cmd.raw, reason=cmd.text)


def _role(cmd: Command) -> ParseResult:
    if len(cmd.args) < 2:
        return _usage_error(cmd, "`/role` needs an @user and a role")
    user = _login(cmd.args[0])
    if user is None:
        return _usage_error(cmd, f"{_quote(cmd.args[0])} is not an @user")
    wanted = _SEPARATORS_RE.sub("_", " ".join(cmd.args[1:])).upper()
    if wanted == "NONE":
        return SetRole(line=cmd.line, raw=cmd.raw, user=user, role=None)
    role = _ROLE_BY_NAME.get(wanted)
    if role is None:
        return _usage_error(cmd, f"unknown role {_quote(' '.join(cmd.args[1:]))}")
    return SetRole(line=cmd.line, raw=cmd.raw, user=user, role=role)


def _override(cmd: Command) -> ParseResult:
    if not cmd.args:
        return _usage_error(cmd, "`/override` needs a status and a reason")
    # A status may be written as two words ("in progress").
    taken = 0
    status: StatusName | None = None
    if len(cmd.args) >= 2:
        status = _status(" ".join(cmd.args[:2]))
        taken = 2 if status is not None else 0
    if status is None:
        status = _status(cmd.args[0])
        taken = 1
    if status is None:
        return _usage_error(cmd, f"unknown status {_quote(cmd.args[0])}")
    parts = cmd.text.split(None, taken)
    reason = parts[taken].strip() if len(parts) > taken else ""
    if not reason:
        return _usage_error(cmd, "`/override` needs a reason")
    return Override(line=cmd.line, raw=cmd.raw, status=status, reason=reason)


def _xp(cmd: Command) -> ParseResult:
    if not cmd.args:
        return ShowXp(line=cmd.line, raw=cmd.raw)
    user = _login(cmd.args[0])
    if user is None:
        return _usage_error(cmd, f"{_quote(cmd.args[0])} is not an @user")
    if len(cmd.args) == 1:
        return ShowXp(line=cmd.line, raw=cmd.raw, user=user)
    amount = cmd.args[1]
    if not _DELTA_RE.fullmatch(amount):
        return _usage_error(cmd, f"{_quote(amount)} is not an XP change like +10 or -5")
    delta = int(amount)
    if delta == 0:
        return _usage_error(cmd, "the XP change must not be zero")
    parts = cmd.text.split(None, 2)
    reason = parts[2].strip() if len(parts) > 2 else ""
    if not reason:
        return _usage_error(cmd, "an XP change needs a reason")
    return AdjustXp(line=cmd.line, raw=cmd.raw, user=user, delta=delta, reason=reason)


_VALIDATORS: dict[str, _Validator] = {
    "help": _help,
    "task": _task,
    "claim": _no_args(Claim),
    "unclaim": _no_args(Unclaim),
    "submit": _no_args(Submit),
    "why": _no_args(Why),
    "history": _no_args(History),
    "enroll": _no_args(Enroll),
    "assign": _assign,
    "status": _set_status,
    "approve": _approve,
    "reject": _reject,
    "role": _role,
    "override": _override,
    "xp": _xp,
}


def validate(cmd: Command) -> ParseResult:
    """Turn a :class:`Command` into a typed command or a :class:`CommandError`."""
    validator = _VALIDATORS.get(cmd.name)
    if validator is None:
        close = difflib.get_close_matches(cmd.name, COMMAND_NAMES, n=1)
        suggestion = close[0] if close else None
        hint = f"Did you mean `/{suggestion}`?" if suggestion else "Try `/help`."
        return CommandError(
            message=f"Unknown command {_quote('/' + cmd.name)}. {hint}",
            code="unknown_command",
            line=cmd.line,
            raw=cmd.raw,
            name=cmd.name,
            suggestion=suggestion,
        )
    if len(cmd.text) > MAX_ARG_CHARS:
        return CommandError(
            message=(
                f"The arguments of `/{cmd.name}` are too long "
                f"({len(cmd.text)} characters, at most {MAX_ARG_CHARS})."
            ),
            code="too_long",
            line=cmd.line,
            raw=cmd.raw,
            name=cmd.name,
            usage=USAGE[cmd.name],
        )
    return validator(cmd)


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def _parse_uncapped(body: str) -> list[ParseResult]:
    lines, cut = _split_body(body)
    results = [validate(cmd) for cmd in _extract(lines)]
    if cut is not None:
        cut_line, cut_raw = cut
        results.append(
            CommandError(
                message=(
                    f"This comment is longer than {MAX_BODY_CHARS} characters; "
                    f"commands from line {cut_line} on were not read."
                ),
                code="body_too_long",
                line=cut_line,
                raw=cut_raw,
            )
        )
    return results


def _cap(results: list[ParseResult]) -> list[ParseResult]:
    if len(results) <= MAX_COMMANDS:
        return results
    first_dropped = results[MAX_COMMANDS]
    dropped = len(results) - MAX_COMMANDS
    return [
        *results[:MAX_COMMANDS],
        CommandError(
            message=(
                f"Too many commands in one comment: only the first {MAX_COMMANDS} "
                f"are run, {dropped} more were ignored."
            ),
            code="too_many_commands",
            line=first_dropped.line,
            raw=first_dropped.raw,
        ),
    ]


def parse(body: str) -> list[ParseResult]:
    """Commands of a comment body, in order of appearance.

    Each result is a typed command or a :class:`CommandError`.  At most
    :data:`MAX_COMMANDS` results are returned, plus one ``too_many_commands``
    error for the excess.  Never raises on any ``str``.
    """
    return _cap(_parse_uncapped(body))


def _key(result: ParseResult) -> str:
    """The normalized raw line that identifies a command across edits."""
    return " ".join(result.raw.split()).casefold()


def new_commands(old_body: str, new_body: str) -> list[ParseResult]:
    """Commands of an edited comment that were not in its previous body.

    Commands are matched by their normalized line text (whitespace collapsed,
    case-folded), counting multiplicity: if the old body had one ``/claim``
    and the new body has two, one ``/claim`` is returned.  The
    :data:`MAX_COMMANDS` cap applies to what is returned.
    """
    seen = Counter(_key(r) for r in _parse_uncapped(old_body))
    fresh: list[ParseResult] = []
    for result in _parse_uncapped(new_body):
        key = _key(result)
        if seen[key] > 0:
            seen[key] -= 1
        else:
            fresh.append(result)
    return _cap(fresh)
