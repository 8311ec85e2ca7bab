"""A pull request in a local repository -> its verdict (a shell: git in, `engine.analysis` out).

The bot config (`.github/alembic-heads.yml`) is read from the BASE tip, never from the pull
request: a pull request must not be able to relax the policy that judges it. The four trees
(base tip, merge base, PR head, trial merge) are scanned with one parse cache, so files they
share are parsed once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from alembic_heads_bot.adapters.databases import DatabaseReader
from alembic_heads_bot.adapters.git import (
    GitError,
    GitTree,
    merge_base,
    merge_tree,
    open_repo,
    resolve,
)
from alembic_heads_bot.engine.analysis import Commits, Verdict, judge
from alembic_heads_bot.engine.bot_config import BotConfig, Policy, load_bot_config, with_overrides
from alembic_heads_bot.engine.deployed import DatabaseState
from alembic_heads_bot.engine.model import Problem
from alembic_heads_bot.engine.scan import ParseCache, TreeScan, scan_tree
from alembic_heads_bot.engine.tree import Tree


def analyse(
    repo_path: str | os.PathLike[str],
    base_ref: str,
    head_ref: str,
    *,
    config: str | None = None,
    env: str | None = None,
    policy_override: Policy | None = None,
    overrides: Mapping[str, str] | None = None,
    cache: ParseCache | None = None,
    databases: DatabaseReader | None = None,
) -> Verdict:
    """Judge merging `head_ref` into `base_ref`, without touching the checkout.

    `config` names one Alembic config file to read instead of discovering environments; `env`
    keeps one environment (as `scan_tree` selects it in the merged tree). With `databases`,
    the bot config's databases are read; their environments and version tables are the base
    tip's. Raises `GitError` (e.g. unknown refs, unrelated histories) and
    `scan.EnvironmentNotFound`.
    """
    with open_repo(repo_path) as repo:
        base, head = resolve(repo, base_ref), resolve(repo, head_ref)
        fork = merge_base(repo, base, head)
        if fork is None:
            raise GitError(
                f"{base_ref!r} and {head_ref!r} have no common ancestor: a pull request "
                "between unrelated histories cannot be judged"
            )
        merged = merge_tree(repo, base, head)
        base_tree = GitTree(repo, base)
        bot_config, config_problems = load_bot_config(base_tree)
        scanner = _Scanner(bot_config, config, cache if cache is not None else ParseCache())
        merged_scan = scanner.scan(GitTree(repo, merged.tree), env)
        # With `env`, the other trees keep the environments the merged tree selected: `env`
        # may match nothing on a side where the environment does not exist yet.
        names = {e.environment.name for e in merged_scan.environments} if env else None
        base_all = scanner.scan(base_tree, None)
        scans = [_named(base_all, names), scanner.scan_named(GitTree(repo, fork), names)]
        head_scan = scanner.scan_named(GitTree(repo, head), names)
    # Bot config problems belong to the base tip, so they are never the pull request's doing.
    base_scan, fork_scan = (_with(s, config_problems) for s in scans)
    states: tuple[DatabaseState, ...] = ()
    if databases is not None and bot_config.databases:
        # Placed among all the base tip's environments, then kept when theirs is judged.
        environments = [e.environment for e in base_all.environments]
        states = databases.read(bot_config.databases, environments)
        states = tuple(s for s in states if names is None or s.environment in names)
    return judge(
        base_scan,
        fork_scan,
        head_scan,
        _with(merged_scan, config_problems),
        with_overrides(policy_override or bot_config.policy, overrides or {}),
        merged.conflicts,
        Commits(base, head, fork, merged.tree),
        states,
    )


class _Scanner:
    def __init__(self, bot_config: BotConfig, config: str | None, cache: ParseCache) -> None:
        self.bot_config = bot_config
        self.config = config
        self.cache = cache

    def scan(self, tree: Tree, env: str | None) -> TreeScan:
        return scan_tree(
            tree, config=self.config, env=env, bot_config=self.bot_config, cache=self.cache
        )

    def scan_named(self, tree: Tree, names: set[str] | None) -> TreeScan:
        return _named(self.scan(tree, None), names)


def _named(scan: TreeScan, names: set[str] | None) -> TreeScan:
    """`scan` with only the environments called `names` (all of them for None)."""
    if names is None:
        return scan
    kept = tuple(e for e in scan.environments if e.environment.name in names)
    return replace(scan, environments=kept)


def _with(scan: TreeScan, problems: tuple[Problem, ...]) -> TreeScan:
    return replace(scan, problems=(*problems, *scan.problems))
