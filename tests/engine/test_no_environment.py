"""Nothing to judge is never a pass: the pipeline's decision, and the bot config's one opt-out
(`no-environment: warn`), on trees held in memory."""

from __future__ import annotations

import pytest
from alembic_heads_bot.engine.bot_config import BOT_CONFIG_PATH
from alembic_heads_bot.engine.bot_config_yaml import parse_bot_config
from alembic_heads_bot.engine.pipeline import NoEnvironment, Options, judge_alone
from memtree import MemoryTree
from projects import INI, chain

README = {"README.md": "no migrations yet\n"}


def test_a_tree_without_an_environment_cannot_be_judged() -> None:
    with pytest.raises(NoEnvironment) as raised:
        judge_alone(MemoryTree(README), Options())
    message = str(raised.value)
    assert message.startswith("no Alembic environment found (")
    assert "--config FILE" in message and f"`environments:` in {BOT_CONFIG_PATH}" in message
    assert "\n" not in message


def test_no_environment_warn_lets_a_repository_without_migrations_pass_with_the_warning() -> None:
    tree = MemoryTree({**README, BOT_CONFIG_PATH: "no-environment: warn\n"})
    verdict = judge_alone(tree, Options())
    assert verdict.ok
    [flagged] = verdict.problems
    assert (flagged.problem.code, flagged.problem.severity) == ("no-environment", "warning")


@pytest.mark.parametrize(
    ("options", "start"),
    [
        (Options(config="nope.ini"), "config file nope.ini not found, so nothing was checked"),
        (Options(env="nope"), "--env nope: no Alembic environment found"),
    ],
)
def test_warn_never_covers_a_name_that_names_nothing(options: Options, start: str) -> None:
    tree = MemoryTree({**README, BOT_CONFIG_PATH: "no-environment: warn\n"})
    with pytest.raises(NoEnvironment, match=f"^{start}"):
        judge_alone(tree, options)


def test_a_bot_config_entry_that_names_nothing_says_which() -> None:
    config = "environments:\n  - config: services/alembic.ini\nno-environment: warn\n"
    tree = MemoryTree({BOT_CONFIG_PATH: config})
    with pytest.raises(NoEnvironment) as raised:
        judge_alone(tree, Options())
    assert str(raised.value) == (
        f"{BOT_CONFIG_PATH}:2: environment config file services/alembic.ini not found, so "
        f"nothing was checked: fix the paths under `environments:` in {BOT_CONFIG_PATH}"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no-environment: ignore\n", "no-environment must be fail or warn, not 'ignore'"),
        ("no-environment: [warn]\n", "no-environment must be fail or warn, not a list"),
        ("no_environment: warn\n", "unknown key 'no_environment' in the top level; did you mean"),
    ],
)
def test_no_environment_is_validated_like_every_other_key(text: str, message: str) -> None:
    config, problems = parse_bot_config(text.encode())
    assert config.no_environment == "fail"
    [problem] = problems
    assert (problem.code, problem.line) == ("config-error", 1)
    assert problem.message.startswith(message)
    # and the typo is said where it costs: in the one line of a tree with nothing to judge
    with pytest.raises(NoEnvironment, match=f"also {BOT_CONFIG_PATH}:1: "):
        judge_alone(MemoryTree({**README, BOT_CONFIG_PATH: text}), Options())


def test_an_environment_found_is_judged_whatever_no_environment_says() -> None:
    tree = MemoryTree(
        {"alembic.ini": INI, **chain("a", "b"), BOT_CONFIG_PATH: "no-environment: warn\n"}
    )
    assert judge_alone(tree, Options()).ok
