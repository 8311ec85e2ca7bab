"""`alembic-heads-bot merge`: write the fix into the working tree (a shell: files and git).

Two strategies:
- merge (default): a merge migration joining the working tree's unexplained heads, rendered
  from the base tip's script.py.mako (the branch's own one only when no base is known);
- rebase: re-point the branch's first new revision at the base head it collides with, editing
  only its `down_revision` and docstring `Revises:` line.
Before either, a branch that does not yet hold the base head it collides with is told to take
the base in first: a merge migration naming a revision the branch lacks would break it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bot.analysis import EnvironmentVerdict, MergePlan, NewHead, Verdict, judge_tree
from bot.botconfig import load_bot_config
from bot.disksource import DiskTree
from bot.graph import Graph
from bot.mergefile import MergeError, creation_date, new_revision_id, render_merge, reparent
from bot.model import Environment
from bot.scan import EnvironmentScan, scan_tree
from bot.tree import Tree


class FixRefused(Exception):
    """The fix cannot be made; the message says why and what to do instead."""


@dataclass(frozen=True)
class Written:
    path: str  # relative to the repository root
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FixRequest:
    message: str | None = None
    rev_id: str | None = None
    env: str | None = None
    strategy: str = "merge"


def fix_working_tree(
    root: Path,
    request: FixRequest,
    verdict: Verdict | None,
    base_tree: Tree | None,
    base_label: str,
) -> list[Written]:
    """Write the fix for every environment (or `request.env`) that needs one.

    `verdict` judges the branch against its base (None when no base is known); `base_tree` is
    the base tip, whose script.py.mako is trusted.
    """
    tree = DiskTree(root)
    bot_config, _ = load_bot_config(base_tree or tree)
    scan = scan_tree(tree, env=request.env, bot_config=bot_config)
    if request.strategy == "rebase":
        return _rebase(root, scan.environments, verdict, base_label)
    _refuse_stale(verdict, request.env, base_label)
    local = judge_tree(scan, bot_config.policy)
    written = []
    for env_scan, env_verdict in zip(scan.environments, local.environments, strict=True):
        plan = env_verdict.merge_plan
        if plan is not None:
            written.append(_write_merge(root, env_scan, plan, request, base_tree, tree))
    return written


def _refuse_stale(verdict: Verdict | None, env: str | None, base_label: str) -> None:
    for env_verdict in verdict.environments if verdict else ():
        plan = env_verdict.merge_plan
        if plan and plan.missing_on_head and env in (None, env_verdict.name):
            raise FixRefused(
                f"[{env_verdict.name}] this branch does not contain "
                f"{', '.join(plan.missing_on_head)} from {base_label} yet, so a merge migration "
                f"here could not name it. Bring {base_label} in first (git merge {base_label}, "
                "or git rebase), then run alembic-heads-bot merge again."
            )


def _write_merge(
    root: Path,
    env_scan: EnvironmentScan,
    plan: MergePlan,
    request: FixRequest,
    base_tree: Tree | None,
    own_tree: Tree,
) -> Written:
    env, graph = env_scan.environment, env_scan.graph
    template, notes = _template(env, base_tree, own_tree)
    try:
        merge = render_merge(
            env,
            [graph.revisions[h] for h in plan.heads],
            rev_id=request.rev_id or new_revision_id(),
            message=request.message,
            create_date=creation_date(env, datetime.now(timezone.utc)),
            template=template,
            existing_ids=set(graph.revisions),
        )
    except MergeError as exc:
        raise FixRefused(f"[{env.name}] {exc}") from exc
    target = root / merge.path
    if target.exists():
        raise FixRefused(f"[{env.name}] {merge.path} exists already; pass another --rev-id")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(merge.text.encode(env.output_encoding))
    extra = (plan.note,) if plan.note else ()
    return Written(merge.path, (*notes, *merge.notes, *extra))


def _template(env: Environment, base: Tree | None, own: Tree) -> tuple[bytes | None, list[str]]:
    """The base tip's script.py.mako (trusted), or the branch's when there is no base."""
    path = f"{env.script_location}/script.py.mako".removeprefix("./")
    source = base or own
    template = _read(source, path)
    notes = []
    if base is not None and template is not None and _read(own, path) != template:
        notes.append(f"used {path} as it is on the base branch; this branch changes it")
    return template, notes


def _read(tree: Tree, path: str) -> bytes | None:
    try:
        return tree.read(path) if path in tree.paths() else None
    except OSError:
        return None


# --- rebase ------------------------------------------------------------------------------------


def _rebase(
    root: Path, scans: Sequence[EnvironmentScan], verdict: Verdict | None, base_label: str
) -> list[Written]:
    if verdict is None:
        raise FixRefused("--strategy rebase needs the base branch: pass --base")
    written = []
    for env_verdict in verdict.environments:
        scan = next((s for s in scans if s.environment.name == env_verdict.name), None)
        if scan is None or not env_verdict.new_heads:
            continue
        for head in env_verdict.new_heads:
            written.append(_reparent_head(root, scan.graph, env_verdict, head, base_label))
    return written


def _reparent_head(
    root: Path, graph: Graph, env: EnvironmentVerdict, head: NewHead, base_label: str
) -> Written:
    first = _first_new_revision(graph, env.added, head.revision)
    if first is None:
        raise FixRefused(
            f"[{env.name}] {head.revision} is on the base branch already: re-parenting it would "
            "rewrite history that databases may have applied; use the merge strategy"
        )
    rev = graph.revisions[first]
    new_parents = head.collides_with
    source_path = root / rev.path
    source = source_path.read_bytes().decode("utf-8")
    try:
        edited = reparent(source, rev.path, rev.down_revision, new_parents)
    except MergeError as exc:
        raise FixRefused(f"[{env.name}] {exc}") from exc
    with open(source_path, "w", encoding="utf-8", newline="") as file:  # noqa: PTH123
        file.write(edited)
    notes = [f"{first} now revises {', '.join(new_parents)}, not {', '.join(rev.down_revision)}"]
    if env.merge_plan and env.merge_plan.missing_on_head:
        notes.append(f"rebase this branch onto {base_label} so that it holds the new parent")
    return Written(rev.path, tuple(notes))


def _first_new_revision(graph: Graph, added: tuple[str, ...], head: str) -> str | None:
    """Down from the new head through the branch's own revisions to the first of them."""
    if head not in added:
        return None
    current = head
    while True:
        parents = [p for p in graph.parents(current) if p in added]
        if len(parents) != 1:
            return current
        current = parents[0]


def git_root(path: str) -> Path:
    """The repository's top directory, or `path` itself outside a repository."""
    from bot.gitsource import SourceError, open_repo

    try:
        with open_repo(path) as repo:
            return Path(repo.working_tree_dir or path)
    except SourceError:
        return Path(os.path.abspath(path))  # noqa: PTH100
