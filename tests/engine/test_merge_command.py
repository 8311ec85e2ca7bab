"""Reading the /merge-heads command: what it asks for, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic_heads_bot.engine.fix.plan import FileChange, FixRequest
from alembic_heads_bot.engine.merge_command import (
    CommandError,
    conflict_reply,
    fork_reply,
    is_command,
    parse_command,
)
from hostile import Shell
from rendered import Rendered


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/merge-heads", FixRequest()),
        ("  /merge-heads\nthanks!", FixRequest()),
        ('/merge-heads -m "join the heads"', FixRequest(message="join the heads")),
        ("/merge-heads --message='a; b'", FixRequest(message="a; b")),
        ("/merge-heads --strategy rebase --env db2", FixRequest(env="db2", strategy="rebase")),
    ],
)
def test_the_arguments_fill_the_request(body: str, expected: FixRequest) -> None:
    assert is_command(body)
    assert parse_command(body) == expected


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("/merge-heads --force", "unknown argument `--force`"),
        ("/merge-heads $(reboot)", "unknown argument `$(reboot)`"),
        ("/merge-heads --strategy squash", "--strategy is merge or rebase, not `squash`"),
        ("/merge-heads -m", "-m needs a value"),
        ('/merge-heads -m "open', "cannot read the arguments: No closing quotation"),
        ("/merge-heads --env a --env b", "--env is given twice"),
    ],
)
def test_anything_else_is_refused_with_the_reason(body: str, error: str) -> None:
    with pytest.raises(CommandError) as refused:
        parse_command(body)
    assert str(refused.value) == error


@pytest.mark.parametrize("body", ["please /merge-heads", "/merge-headsX", "> /merge-heads", ""])
def test_only_a_first_line_starting_with_the_command_is_one(body: str) -> None:
    assert not is_command(body)


# --- replies -------------------------------------------------------------------------------------

BRANCH = "main;touch pwned"
FILES = ("a|b.py", "<img src=x>.py", "@octocat `x`.py")


def test_the_conflict_reply_shows_names_as_text_and_commands_that_paste_as_shown(
    tmp_path: Path,
) -> None:
    page = Rendered(conflict_reply(FILES, BRANCH))
    assert page.unexpected_tags() == set() and page.links() == [] and page.mentions() == []
    assert page.codes()[:3] == list(FILES)
    [block] = page.code_block("sh")
    shell = Shell(tmp_path)
    assert [shell.paste(line) for line in block.splitlines()] == [
        [["git", "fetch", "origin"]],
        [["git", "merge", f"origin/{BRANCH}"]],
        [["alembic-heads-bot", "merge", "-m", "merge heads"]],
    ]
    assert shell.side_effects() == []


def test_the_fork_reply_quotes_its_commands_and_fences_the_file_whole(tmp_path: Path) -> None:
    content = 'r"""merge ```\n<img src=x>\n````"""\nrevision = "m"\n'
    change = FileChange("m/versions/@octocat <b>x</b>.py", content.encode(), True, "m")
    page = Rendered(fork_reply([change], BRANCH, merges_base=True))
    assert page.unexpected_tags() == set() and page.links() == [] and page.mentions() == []
    assert change.path in page.codes()
    assert page.code_block("python") == [content]
    [block] = page.code_block("sh")
    shell = Shell(tmp_path)
    assert [shell.paste(line) for line in block.splitlines()] == [
        [["git", "fetch", "upstream"]],
        [["git", "merge", f"upstream/{BRANCH}"]],
    ]
    assert shell.side_effects() == []
