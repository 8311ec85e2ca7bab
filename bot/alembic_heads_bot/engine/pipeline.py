"""Trees -> a `Verdict`: the one pipeline every entry point runs (the CLI's `check`, the
Action, the re-check on push, the fix).

A pull request is judged on four trees (base tip, merge base, head, trial merge); a tree
alone (no base known) is judged by itself. The bot config (`.github/alembic-heads.yml`) is read
from the BASE tip, never from the pull request: a pull request must not be able to relax the
policy that judges it. The trees are scanned with one parse cache, so files they share are
parsed once. Databases are read through whatever `DatabaseSource` the caller passes, the way
trees are read through the `Tree` protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from alembic_heads_bot.engine.analysis import Commits, Verdict, judge, judge_tree
from alembic_heads_bot.engine.bot_config import (
    BOT_CONFIG_PATH,
    BotConfig,
    DatabaseSpec,
    Policy,
    load_bot_config,
    with_overrides,
)
from alembic_heads_bot.engine.deployed import DatabaseState
from alembic_heads_bot.engine.errors import CannotJudge
from alembic_heads_bot.engine.model import Environment, Problem
from alembic_heads_bot.engine.scan import ParseCache, TreeScan, scan_tree
from alembic_heads_bot.engine.tree import Tree


class DatabaseSource(Protocol):
    def read(
        self, specs: Sequence[DatabaseSpec], environments: Sequence[Environment]
    ) -> tuple[DatabaseState, ...]:
        """What each configured database applied, placed among `environments`."""
        ...


@dataclass(frozen=True)
class Options:
    """How to judge: `config` names one Alembic config file to read instead of discovering
    environments; `env` keeps one environment; `policy` replaces the bot config's policy and
    `overrides` set single rules; `databases` reads the bot config's databases."""

    config: str | None = None
    env: str | None = None
    policy: Policy | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)
    databases: DatabaseSource | None = None


@dataclass(frozen=True)
class PullRequestTrees:
    """The four trees of a pull request, and what git said of the trial merge."""

    base: Tree
    merge_base: Tree
    head: Tree
    merged: Tree
    conflicts: tuple[str, ...]
    commits: Commits


def judge_pull_request(
    trees: PullRequestTrees, options: Options, cache: ParseCache | None = None
) -> Verdict:
    """The verdict on merging the head into the base tip. Raises EnvironmentNotFound, and
    NoEnvironment when the merged tree has no environment to judge."""
    bot_config, config_problems = load_bot_config(trees.base)
    scanner = _Scanner(bot_config, options.config, cache if cache is not None else ParseCache())
    # The files the change adds or edits are also compiled, as Alembic's import would.
    merged_scan = scanner.scan(trees.merged, options.env, changed_from=trees.base)
    require_environments(
        _with(merged_scan, config_problems), bot_config, options.config, options.env
    )
    # With `env`, the other trees keep the environments the merged tree selected: `env` may
    # match nothing on a side where the environment does not exist yet.
    names = {e.environment.name for e in merged_scan.environments} if options.env else None
    base_all = scanner.scan(trees.base, None)
    base_scan = _named(base_all, names)
    # A tree given for two roles is scanned once: the merge base of a branch made from the
    # base's current tip is that tip, and merging such a branch gives its own tree.
    same_fork = trees.merge_base is trees.base
    fork_scan = base_scan if same_fork else scanner.scan_named(trees.merge_base, names)
    same_head = trees.head is trees.merged and options.env is None
    head_scan = merged_scan if same_head else scanner.scan_named(trees.head, names, trees.base)
    # Databases are placed among all the base tip's environments, then kept when theirs is
    # judged.
    states = _databases(options, bot_config, base_all)
    states = tuple(s for s in states if names is None or s.environment in names)
    # Bot config problems belong to the base tip, so they are never the pull request's doing.
    return judge(
        _with(base_scan, config_problems),
        _with(fork_scan, config_problems),
        head_scan,
        _with(merged_scan, config_problems),
        _policy(options, bot_config),
        trees.conflicts,
        trees.commits,
        states,
    )


def judge_alone(
    tree: Tree,
    options: Options,
    cache: ParseCache | None = None,
    config_from: Tree | None = None,
    *,
    heads_only: bool = False,
) -> Verdict:
    """The verdict on one tree with no base to compare with: any unexplained second head, or
    any error, fails. The bot config is the tree's own, or `config_from`'s (a base tip, which
    the tree must not be able to relax). Raises NoEnvironment when it has no environment.

    No base vouches for any file here, so every revision file is compiled and a syntax error
    anywhere in one is reported, as Alembic would fail loading it; `heads_only` (a caller that
    reads only the heads) takes the header reading instead."""
    bot_config, config_problems = load_bot_config(config_from or tree)
    scanner = _Scanner(bot_config, options.config, cache if cache is not None else ParseCache())
    scan = _with(scanner.scan(tree, options.env, compile_all=not heads_only), config_problems)
    require_environments(scan, bot_config, options.config, options.env)
    states = _databases(options, bot_config, scan)
    return judge_tree(scan, _policy(options, bot_config), databases=states)


class NoEnvironment(CannotJudge):
    """Nothing to judge: no Alembic environment was found, or the one named is not there.
    Never a pass: a typo in a path, or a layout the bot does not know, would otherwise look
    like a repository whose migrations are fine."""


_HOW_TO_NAME = (
    f"name one with --config FILE (the Action's `config` input) or under `environments:` in "
    f"{BOT_CONFIG_PATH}"
)


def require_environments(
    scan: TreeScan, bot_config: BotConfig, config: str | None, env: str | None
) -> None:
    """NoEnvironment, in one line saying what is missing and how to name it, when `scan`
    found no environment; unless nothing was named (no `config`, `env` or bot config
    `environments:`) and the bot config says `no-environment: warn`, for a repository that
    runs the check before its first migration (the scan's `no-environment` warning stays)."""
    if scan.environments:
        return
    named = config is not None or env is not None or bool(bot_config.environments)
    if not named and bot_config.no_environment == "warn":
        return
    raise NoEnvironment(_nothing_found(scan, bot_config, config, env))


def _nothing_found(
    scan: TreeScan, bot_config: BotConfig, config: str | None, env: str | None
) -> str:
    errors = [p for p in scan.problems if p.severity == "error"]
    # What reading the configs said (the bot config's own entries, when it lists some).
    found = [p for p in errors if p.path != BOT_CONFIG_PATH or bot_config.environments]
    reason = _located(found[0]) if found else None
    # A mistake in the bot config (a misspelt `no-environment`, say) may be why: said too.
    others = [p for p in errors if p.path == BOT_CONFIG_PATH and p not in found[:1]]
    also = "".join(f"; also {_located(p)}" for p in others)
    if config is not None:
        reason = reason or f"{config} defines no Alembic environment"
        return (
            f"{reason}, so nothing was checked: --config (the Action's `config` input) names an "
            f"alembic.ini or pyproject.toml relative to the repository root{also}"
        )
    if bot_config.environments:
        reason = reason or "no environment listed under `environments:` was found"
        return (
            f"{reason}, so nothing was checked: fix the paths under `environments:` in "
            f"{BOT_CONFIG_PATH}{also}"
        )
    nothing = (
        "no Alembic environment found (no alembic.ini, alembic_*.ini or pyproject.toml sets "
        "script_location, and no folder holds revision files), so nothing was checked"
    )
    if env is not None:
        return f"--env {env}: {nothing}: {_HOW_TO_NAME}{also}"
    warn = "; before the first migration, `no-environment: warn` there makes this a warning"
    return f"{nothing}: {_HOW_TO_NAME}{warn}{also}"


def _located(problem: Problem) -> str:
    """A problem's message led by its file and line, unless the message names the file."""
    message = problem.message.rstrip(".")
    if problem.path is None or problem.path in message:
        return message
    where = f"{problem.path}:{problem.line}" if problem.line else problem.path
    return f"{where}: {message}"


def _policy(options: Options, bot_config: BotConfig) -> Policy:
    return with_overrides(options.policy or bot_config.policy, options.overrides)


def _databases(
    options: Options, bot_config: BotConfig, scan: TreeScan
) -> tuple[DatabaseState, ...]:
    if options.databases is None or not bot_config.databases:
        return ()
    environments = [e.environment for e in scan.environments]
    return options.databases.read(bot_config.databases, environments)


class _Scanner:
    def __init__(self, bot_config: BotConfig, config: str | None, cache: ParseCache) -> None:
        self.bot_config = bot_config
        self.config = config
        self.cache = cache

    def scan(
        self,
        tree: Tree,
        env: str | None,
        changed_from: Tree | None = None,
        compile_all: bool = False,
    ) -> TreeScan:
        return scan_tree(
            tree,
            config=self.config,
            env=env,
            bot_config=self.bot_config,
            cache=self.cache,
            changed_from=changed_from,
            compile_all=compile_all,
        )

    def scan_named(
        self, tree: Tree, names: set[str] | None, changed_from: Tree | None = None
    ) -> TreeScan:
        return _named(self.scan(tree, None, changed_from), names)


def _named(scan: TreeScan, names: set[str] | None) -> TreeScan:
    """`scan` with only the environments called `names` (all of them for None)."""
    if names is None:
        return scan
    kept = tuple(e for e in scan.environments if e.environment.name in names)
    return replace(scan, environments=kept)


def _with(scan: TreeScan, problems: tuple[Problem, ...]) -> TreeScan:
    return replace(scan, problems=(*problems, *scan.problems))
