"""Reading the /merge-heads command: what it asks for, and what it refuses."""

from __future__ import annotations

import pytest
from alembic_heads_bot.engine.fix.plan import FixRequest
from alembic_heads_bot.engine.merge_command import CommandError, is_command, parse_command


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
