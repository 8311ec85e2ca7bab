"""Tests for `engine.bot_config`: the bot's own `.github/alembic-heads.yml`, its records and
loading it from a tree (the YAML reading itself: test_bot_config_yaml.py)."""

from __future__ import annotations

import re
import textwrap

import alembic_heads_bot.engine.bot_config
from alembic_heads_bot.engine.bot_config import (
    BOT_CONFIG_PATH,
    BotConfig,
    DatabaseSpec,
    EnvironmentSpec,
    Policy,
    load_bot_config,
)
from alembic_heads_bot.engine.bot_config_yaml import parse_bot_config
from memtree import MemoryTree


def test_documented_example_is_valid() -> None:
    doc = alembic_heads_bot.engine.bot_config.__doc__ or ""
    example = re.search(r"\n\n(    environments:.*?)\n\n", doc, re.S)
    assert example is not None
    config, problems = parse_bot_config(textwrap.dedent(example.group(1)).encode())
    assert problems == ()
    assert config == BotConfig(
        environments=(
            EnvironmentSpec(
                name="billing", config="services/billing/alembic.ini", section="billing"
            ),
            EnvironmentSpec(
                script_location="legacy/migrations",
                version_locations=("legacy/migrations/versions", "legacy/plugins/versions"),
            ),
            EnvironmentSpec(config="app/migrations/alembic.ini", script_location="app/migrations"),
        ),
        policy=Policy(ignore_codes=frozenset({"duplicate-file"})),
        databases=(
            DatabaseSpec(
                name="production",
                url_env="PRODUCTION_DATABASE_URL",
                environment="alembic.ini",
                version_table="alembic_version",
                version_table_schema="public",
            ),
        ),
        fix_base="pull-request",
        fix_branches=("release-1.x",),
    )
    assert [spec.line for spec in config.environments] == [2, 6, 10]


def test_absent_file_gives_defaults_without_problems() -> None:
    assert load_bot_config(MemoryTree({"README.md": ""})) == (BotConfig(), ())


def test_loaded_from_the_tree() -> None:
    tree = MemoryTree({BOT_CONFIG_PATH: "policy:\n  new-heads: warn\n"})
    assert load_bot_config(tree) == (BotConfig(policy=Policy(new_heads="warn")), ())


def test_unreadable_file() -> None:
    config, problems = load_bot_config(MemoryTree({}, unreadable=[BOT_CONFIG_PATH]))
    assert config == BotConfig()
    assert [(p.code, p.path) for p in problems] == [("unreadable-file", BOT_CONFIG_PATH)]
