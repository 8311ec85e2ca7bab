"""Tests for `engine.fix.base_branch` and the bot config keys it reads (`fix-base`,
`fix-branches`): what the bot says about a branch that itself has several heads."""

from __future__ import annotations

import textwrap

from alembic_heads_bot.engine.bot_config import BotConfig
from alembic_heads_bot.engine.bot_config_yaml import parse_bot_config
from alembic_heads_bot.engine.fix.base_branch import (
    closing_comment,
    culprits_markdown,
    fix_branch,
    got_worse,
    title,
)
from alembic_heads_bot.engine.recheck import Arrival


def parse(text: str):
    return parse_bot_config(textwrap.dedent(text).encode())


def test_fix_base_and_fix_branches_are_read_and_checked_with_their_line() -> None:
    assert parse("fix-branches: [release-1.x, hotfix]\nfix-base: comment-only\n") == (
        BotConfig(fix_base="comment-only", fix_branches=("release-1.x", "hotfix")),
        (),
    )
    assert parse("")[0].fix_base == "pull-request"
    config, problems = parse("policy: {}\nfix-base: always\nfix-branches: main\n")
    assert config == BotConfig()
    assert [(p.line, p.message) for p in problems] == [
        (2, "fix-base must be one of pull-request, comment-only, off, not 'always'"),
        (3, "fix-branches must be a list of branch names, not a string"),
    ]
    _, [typo] = parse("fix_base: off\n")
    assert "did you mean 'fix-base'?" in typo.message
    # a bare `off` is a YAML boolean; `on` is not a choice
    assert parse("fix-base: off\n") == (BotConfig(fix_base="off"), ())
    _, [on] = parse("fix-base: on\n")
    assert (
        on.message
        == "fix-base must be one of pull-request, comment-only, off, not a boolean ('on')"
    )


def test_worse_means_more_unexplained_heads_than_before() -> None:
    two = {"alembic.ini": ("c", "d")}
    assert got_worse(two, {}) and got_worse(two, None)
    assert not got_worse(two, {"alembic.ini": ("c", "e")})  # still broken, no worse
    assert not got_worse({}, two)
    assert got_worse({"a": ("c", "d"), "b": ("e", "f")}, two)


def test_the_words_name_the_branch_the_heads_and_the_culprits() -> None:
    url = "https://github.com/o/r"
    assert fix_branch("release/1.x") == "alembic-heads-bot/merge-heads/release/1.x"
    assert title("main", {"alembic.ini": ("c", "d")}) == "main has 2 Alembic heads: c, d"
    assert title("main", {"a": ("c", "d"), "b": ("e", "f")}) == (
        "main has 4 Alembic heads: [a] c, d; [b] e, f"
    )
    sha = "ab" * 20
    text = culprits_markdown("main", [Arrival("c`x", sha, 7), Arrival("d", sha, None)], url)
    assert text == (
        "How the heads came to `main`:\n"
        f"- ``c`x`` came with [`{sha[:12]}`]({url}/commit/{sha}) in [#7]({url}/pull/7)\n"
        f"- `d` came with [`{sha[:12]}`]({url}/commit/{sha})"
    )
    assert "not known" in culprits_markdown("main", [], url)
    assert closing_comment("main", sha, url).startswith(
        f"`main` has one head per environment again at [`{sha[:12]}`]({url}/commit/{sha})"
    )
