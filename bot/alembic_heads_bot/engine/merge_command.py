"""The `/merge-heads` comment command: reading it, and the replies the bot writes. Pure.

The arguments are split like a shell would split them (quotes group words) but nothing is ever
run: they only fill a FixRequest. Anything unknown is refused with the usage.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from alembic_heads_bot.engine.fix.plan import STRATEGIES, FileChange, FixRequest
from alembic_heads_bot.engine.report.escape import (
    code_block,
    code_list,
    cut,
    inline_code,
    plain,
    shell_command,
)

COMMAND = "/merge-heads"
USAGE = f'`{COMMAND} [-m "message"] [--strategy merge|rebase] [--env NAME]`'
# Marks the bot's own fix commits: auto-fix never fixes its own fix.
TRAILER = "Alembic-Heads-Bot-Fix"
_OPTIONS = {"-m": "message", "--message": "message", "--strategy": "strategy", "--env": "env"}


class CommandError(ValueError):
    """The command cannot be read; the message says why (the reply adds the usage)."""


def is_command(body: str) -> bool:
    """Whether the comment's first line is the command (not merely mentions it)."""
    first = body.lstrip().split("\n", 1)[0].strip()
    return first == COMMAND or first.startswith(COMMAND + " ")


def parse_command(body: str) -> FixRequest:
    """The request the first line of the comment makes. Raises CommandError."""
    first = body.lstrip().split("\n", 1)[0].strip()
    try:
        words = shlex.split(first.removeprefix(COMMAND))
    except ValueError as exc:  # an unclosed quote
        raise CommandError(f"cannot read the arguments: {exc}") from None
    values: dict[str, str] = {}
    while words:
        option, value, words = _next_option(words)
        name = _OPTIONS.get(option)
        if name is None:
            raise CommandError(f"unknown argument {_shown(option)}")
        if name in values:
            raise CommandError(f"{option} is given twice")
        values[name] = value
    wanted = values.get("strategy", "merge")
    strategy = next((s for s in STRATEGIES if s == wanted), None)
    if strategy is None:
        raise CommandError(f"--strategy is merge or rebase, not {_shown(wanted)}")
    return FixRequest(message=values.get("message"), env=values.get("env"), strategy=strategy)


def _next_option(words: list[str]) -> tuple[str, str, list[str]]:
    option, rest = words[0], words[1:]
    if option.startswith("--") and "=" in option:
        name, _, value = option.partition("=")
        return name, value, rest
    if option not in _OPTIONS:
        return option, "", rest
    if not rest:
        raise CommandError(f"{option} needs a value")
    return option, rest[0], rest[1:]


def _shown(text: str) -> str:
    return inline_code(cut(text, 60))


# --- replies ---------------------------------------------------------------------------------


def usage_reply(error: CommandError) -> str:
    return f"Cannot read this command: {error}.\n\nUsage: {USAGE}"


def commit_message(
    changes: Sequence[FileChange], base_branch: str, merges_base: bool, fixed_head: str
) -> str:
    """The fix commit's message: what it adds, whether it also merges the base branch, and
    the trailer that names the head it fixes."""
    what = ", ".join(_change_summary(c) for c in changes)
    title = f"Merge {base_branch} and {what}" if merges_base else what[0].upper() + what[1:]
    body = [
        f"{COMMAND}: the pull request and {base_branch} each added a migration on the same "
        "parent, so merged together they had two heads.",
    ]
    if merges_base:
        body.append(
            f"{base_branch} is merged in because the migration names heads that only "
            f"{base_branch} has."
        )
    notes = [f"- {note}" for change in changes for note in change.notes]
    return "\n\n".join([title, " ".join(body), *(["\n".join(notes)] if notes else [])]) + (
        f"\n\n{TRAILER}: {fixed_head}\n"
    )


def _change_summary(change: FileChange) -> str:
    if change.created:
        return f"add merge migration {change.revision}"
    return f"re-parent revision {change.revision}"


# The remote that names this repository in a fork's clone, in the commands of a fork reply.
UPSTREAM = "upstream"


def fork_reply(changes: Sequence[FileChange], base_branch: str, merges_base: bool) -> str:
    """For a fork's pull request, which the bot cannot push to: the files, ready to commit.
    Every command is quoted, ready to paste; the files' text sits in fences it cannot close."""
    commands = [f"{shell_command(['git', 'fetch', UPSTREAM])}    # {UPSTREAM}: this repository"]
    if merges_base:
        commands.append(shell_command(["git", "merge", f"{UPSTREAM}/{base_branch}"]))
    lines = [
        "This pull request comes from a fork, so the bot cannot push to its branch. "
        "Here is the fix to commit yourself:",
        "",
        code_block("\n".join(commands), "sh"),
        "",
    ]
    for change in changes:
        text = change.content.decode("utf-8", errors="replace")
        verb = "New file" if change.created else "Replace"
        lines += [f"{verb} {inline_code(change.path)}:", "", code_block(text, "python"), ""]
    lines.append("Then commit and push, or run `alembic-heads-bot merge` in your clone.")
    return "\n".join(lines)


def conflict_reply(conflicts: Sequence[str], base_branch: str) -> str:
    commands = [
        shell_command(["git", "fetch", "origin"]),
        shell_command(["git", "merge", f"origin/{base_branch}"])
        + "    # resolve the conflicts, commit",
        shell_command(["alembic-heads-bot", "merge", "-m", "merge heads"]),
    ]
    return (
        f"Git cannot merge {plain(base_branch)} into this branch cleanly "
        f"({code_list(conflicts)}), so the bot committed nothing. Resolve it locally:\n\n"
        + code_block("\n".join(commands), "sh")
    )
