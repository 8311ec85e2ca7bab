"""Tests for `engine.bot_config_yaml`: the text of `.github/alembic-heads.yml` read, bounded."""

from __future__ import annotations

import textwrap

import pytest
from alembic_heads_bot.engine.bot_config import (
    BOT_CONFIG_PATH,
    BotConfig,
    DatabaseSpec,
    EnvironmentSpec,
    Policy,
)
from alembic_heads_bot.engine.bot_config_yaml import (
    MAX_ALIAS_NODES,
    MAX_BYTES,
    MAX_DEPTH,
    parse_bot_config,
)
from alembic_heads_bot.engine.model import Problem
from budget import cost_of


def parse(text: str) -> tuple[BotConfig, tuple[Problem, ...]]:
    return parse_bot_config(textwrap.dedent(text).encode())


def one_error(text: str) -> Problem:
    _, problems = parse(text)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.code, problem.severity, problem.path) == (
        "config-error",
        "error",
        BOT_CONFIG_PATH,
    )
    return problem


@pytest.mark.parametrize("text", ["", "# only a comment\n", "~\n"])
def test_empty_file_gives_defaults(text: str) -> None:
    assert parse(text) == (BotConfig(), ())


def test_null_values_mean_not_given() -> None:
    config, problems = parse("""
        environments:
        policy:
          new-heads:
    """)
    assert (config, problems) == (BotConfig(), ())


def test_every_policy_value() -> None:
    config, problems = parse("""
        policy:
          new-heads: ignore
          problems: warn
          hazards: ignore
          new-branch-points: fail
          applied-revisions: warn
          ignore: [duplicate-file, config-warning]
    """)
    assert problems == ()
    assert config.policy == Policy(
        "ignore", "warn", "ignore", "fail", "warn", frozenset({"duplicate-file", "config-warning"})
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("policy: [\n", 2, "invalid YAML: while parsing a flow"),
        (
            "a: 1\n---\nb: 2\n",
            2,
            "invalid YAML: expected a single document in the stream; but found another document",
        ),
        ("- 1\n", 1, "the top level must be a mapping, not a list"),
        (
            "version: 1\n",
            1,
            "unknown key 'version' in the top level; expected one of: environments, policy",
        ),
        ("policy: {}\npolicy: {}\n", 2, "duplicate key 'policy' in the top level"),
        (
            "policy:\n  new_heads: warn\n",
            2,
            "unknown key 'new_heads' in policy; did you mean 'new-heads'? expected one of: "
            "new-heads, problems, hazards, new-branch-points, applied-revisions, ignore",
        ),
        ("policy: fail\n", 1, "policy must be a mapping, not a string"),
        (
            "policy:\n  hazards: error\n",
            2,
            "policy hazards must be one of fail, warn, ignore, not a string",
        ),
        (
            "policy:\n  new-branch-points: off\n",
            2,
            "policy new-branch-points must be one of fail, warn, ignore, not a boolean ('off')",
        ),
        (
            "policy:\n  ignore: cycle\n",
            2,
            "policy ignore must be a list of problem codes, not a string",
        ),
        (
            "policy:\n  ignore: [cycle, cylce]\n",
            2,
            "policy ignore: unknown problem code 'cylce'; did you mean 'cycle'?",
        ),
        (
            "policy:\n  ignore: [3]\n",
            2,
            "each policy ignore entry must be a string, not an integer ('3')",
        ),
        ("environments: alembic.ini\n", 1, "environments must be a list of mappings, not a string"),
        (
            "environments:\n  - alembic.ini\n",
            2,
            "an environments entry must be a mapping, not a string",
        ),
        (
            "environments:\n  - config: a.ini\n    sections: x\n",
            3,
            "unknown key 'sections' in an environments entry; did you mean 'section'?",
        ),
        (
            "environments:\n  - name: x\n",
            2,
            "an environments entry needs 'config' or 'script_location'",
        ),
        (
            "environments:\n  - script_location: m\n    section: s\n",
            3,
            "'section' needs 'config', the file it is a section of",
        ),
        (
            "environments:\n  - config: alembic.ini\n    section: 2024\n",
            3,
            "section must be a string, not an integer ('2024')",
        ),
        (
            "environments:\n  - script_location: /srv/m\n",
            2,
            "script_location '/srv/m' must be a relative path inside the repository",
        ),
        (
            "environments:\n  - config: ../other/alembic.ini\n",
            2,
            "config '../other/alembic.ini' must be a relative path inside the repository",
        ),
        (
            "environments:\n  - script_location: m\n    version_locations: m/versions\n",
            3,
            "version_locations must be a list of paths, not a string",
        ),
        (
            "environments:\n  - script_location: m\n    version_locations: [m/v, /abs]\n",
            3,
            "each version_locations entry '/abs' must be a relative path inside the repository",
        ),
    ],
)
def test_each_mistake_is_a_config_error_on_its_line(text: str, line: int, message: str) -> None:
    problem = one_error(text)
    assert problem.message.startswith(message), problem.message
    assert problem.line == line


def test_undecodable_bytes_are_invalid_yaml() -> None:
    config, problems = parse_bot_config(b"policy:\n  new-heads: \xff\n")
    assert config == BotConfig()
    assert [p.message.split(":")[0] for p in problems] == ["invalid YAML"]


def test_valid_parts_apply_when_others_are_wrong() -> None:
    config, problems = parse("""
        environments:
          - script_location: ./db/../db/migrations/
          - name: broken
        policy:
          new-heads: warn
          hazards: maybe
          colour: blue
    """)
    assert config == BotConfig(
        environments=(EnvironmentSpec(script_location="db/migrations"),),
        policy=Policy(new_heads="warn"),
    )
    assert [p.line for p in problems] == [4, 7, 8]


def test_version_locations_are_normalised_and_deduplicated() -> None:
    config, problems = parse("""
        environments:
          - script_location: m
            version_locations: [m/v, ./m/v, m/w/]
    """)
    assert problems == ()
    assert config.environments[0].version_locations == ("m/v", "m/w")


def test_custom_path_is_used_in_problems() -> None:
    _, problems = parse_bot_config(b"nope: 1\n", "ci/heads.yml")
    assert [(p.path, p.line) for p in problems] == [("ci/heads.yml", 1)]


# --- databases -----------------------------------------------------------------------------


def test_database_entry_with_only_the_required_keys() -> None:
    config, problems = parse(
        """
        databases:
          - name: staging
            url_env: STAGING_DB
        """
    )
    assert problems == ()
    assert config.databases == (DatabaseSpec("staging", "STAGING_DB"),)
    assert config.databases[0].line == 3


def test_a_url_written_in_the_file_is_refused_without_repeating_it() -> None:
    problem = one_error(
        """
        databases:
          - name: production
            url: postgresql://app:hunter2@db.internal/app
        """
    )
    assert problem.line == 4
    assert "must not be written in the bot config" in problem.message
    assert "url_env" in problem.message
    assert "hunter2" not in problem.message and "db.internal" not in problem.message


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("- url_env: X", "needs 'name'"),
        ("- name: prod", "needs 'url_env'"),
        ("- name: prod\n    url_env: not a name", "'not a name' is not a variable name"),
        ("- name: prod\n    url_env: [A]", "url_env must be a string"),
        ("- name: prod\n    url_env: A\n    password: x", "unknown key 'password'"),
        ("- prod", "a databases entry must be a mapping"),
    ],
)
def test_bad_database_entries(entry: str, expected: str) -> None:
    problem = one_error("databases:\n  " + entry + "\n")
    assert expected in problem.message


def test_database_names_are_unique() -> None:
    config, problems = parse(
        """
        databases:
          - {name: prod, url_env: A}
          - {name: prod, url_env: B}
        """
    )
    assert [p.message for p in problems] == ["two databases entries are named 'prod'"]
    assert [d.url_env for d in config.databases] == ["A"]


def test_applied_revisions_is_a_policy_rule() -> None:
    config, problems = parse("policy:\n  applied-revisions: warn\n")
    assert problems == ()
    assert config.policy.applied_revisions == "warn"


# --- bounded work: hostile files cost a bounded time and memory ----------------------------

SECONDS, MEGABYTES = 2.0, 50.0


def bounded_error(data: bytes) -> Problem:
    """The one problem of `data`, which must be read within SECONDS and MEGABYTES and give
    the default configuration (the file is not used)."""
    (config, problems), cost = cost_of(lambda: parse_bot_config(data))
    assert cost.seconds < SECONDS, cost
    assert cost.peak_mb < MEGABYTES, cost
    assert config == BotConfig()
    assert len(problems) == 1, problems
    assert (problems[0].code, problems[0].path) == ("config-error", BOT_CONFIG_PATH)
    return problems[0]


def nested_blocks(depth: int) -> str:
    """`a:` mappings, each indented one space more than the one holding it."""
    return "".join(" " * level + "a:\n" for level in range(depth)) + " " * depth + "b\n"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("policy: " + "[" * 30_000 + "]" * 30_000 + "\n", 1),
        ("policy: " + "{a: " * 12_000 + "1" + "}" * 12_000 + "\n", 1),
        # the top mapping, policy's mapping and ignore's list hold the first list: line 4
        ("policy:\n  ignore:\n" + "   [\n" * 6_000 + "   ]\n" * 6_000, MAX_DEPTH + 1),
        # every scalar key is a level too: the 32nd mapping's key is the 33rd level
        (nested_blocks(350), MAX_DEPTH),
    ],
    ids=["flow-sequences", "flow-mappings", "flow-over-lines", "block-mappings"],
)
def test_deep_nesting_is_a_problem_on_the_line_crossing_the_limit(text: str, line: int) -> None:
    # PyYAML's composer recurses once per level: a RecursionError past a few hundred.
    assert len(text) <= MAX_BYTES
    problem = bounded_error(text.encode())
    assert problem.message == f"collections nested more than {MAX_DEPTH} deep; not read"
    assert problem.line == line


def test_nesting_is_read_up_to_the_limit_and_refused_past_it() -> None:
    # the top mapping, policy's mapping and ignore's list are three levels
    inner = MAX_DEPTH - 2
    _, problems = parse("policy:\n  ignore: " + "[" * inner + "]" * inner + "\n")
    assert [p.message for p in problems] == [
        "each policy ignore entry must be a string, not a list"
    ]
    too_deep = f"policy:\n  ignore: {'[' * (inner + 1)}{']' * (inner + 1)}\n"
    problem = bounded_error(too_deep.encode())
    assert (problem.line, problem.message) == (
        2,
        f"collections nested more than {MAX_DEPTH} deep; not read",
    )


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """x0 lists `width` strings; each further level lists `width` aliases of the one above."""
    lines = ["policy:", f"  x0: &a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"  x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_aliases_are_read_until_they_stand_for_too_many_nodes() -> None:
    config, problems = parse("""
        environments:
          - config: a/alembic.ini
            version_locations: &shared [shared/versions, a/versions]
          - config: b/alembic.ini
            version_locations: *shared
    """)
    assert problems == ()
    assert [spec.version_locations for spec in config.environments] == [
        ("shared/versions", "a/versions"),
        ("shared/versions", "a/versions"),
    ]
    # 9 levels of 9 aliases each stand for 9**9 = 387 million nodes once expanded.
    problem = bounded_error(billion_laughs().encode())
    assert problem.message == (
        f"aliases stand for more than {MAX_ALIAS_NODES:,} nodes once expanded "
        '(a "billion laughs" file?); not read'
    )
    # x1..x3 add 90 + 819 + 7,380 nodes; x4's first alias, of 7,381 more, crosses 10,000
    assert problem.line == 6


def test_alias_holding_itself_is_a_problem() -> None:
    problem = bounded_error(b"environments: &loop\n  - *loop\n")
    assert (problem.line, problem.message) == (
        2,
        "the alias *loop stands for a collection holding it",
    )


def test_file_over_the_size_limit_is_not_parsed() -> None:
    data = b"policy:\n  new-heads: warn\n"
    config, problems = parse_bot_config(data + b"#" * (MAX_BYTES - len(data)))
    assert (config.policy.new_heads, problems) == ("warn", ())
    data += b"#" * (MAX_BYTES + 1 - len(data))
    problem = bounded_error(data)
    assert problem.line == 1
    assert problem.message == (
        f"{BOT_CONFIG_PATH} is {MAX_BYTES + 1:,} bytes, more than the {MAX_BYTES:,} bytes the "
        "bot reads; it was not read"
    )
