"""The fix for new heads, as file changes on a tree. Pure: trees in, file contents out.

Two strategies:
- merge (default): a merge migration joining each environment's unexplained heads, rendered
  from the base tip's script.py.mako (the tree's own one only when no base is known);
- rebase: re-point the branch's first new revision at the base head it collides with, editing
  only its `down_revision` and docstring `Revises:` line.
Before either, a tree that does not yet hold the base head it collides with is refused: a merge
migration naming a revision the branch lacks would break it. The local `merge` command writes
the changes to the working tree; the `/merge-heads` command commits them through GitHub's API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from alembic_heads_bot.engine.analysis import (
    EnvironmentVerdict,
    MergePlan,
    NewHead,
    Verdict,
    judge_tree,
)
from alembic_heads_bot.engine.bot_config import load_bot_config
from alembic_heads_bot.engine.fix.mergefile import (
    MergeError,
    creation_date,
    new_revision_id,
    render_merge,
    reparent,
)
from alembic_heads_bot.engine.graph import Graph
from alembic_heads_bot.engine.model import Environment
from alembic_heads_bot.engine.report.escape import shell_command
from alembic_heads_bot.engine.scan import EnvironmentScan, scan_tree
from alembic_heads_bot.engine.tree import Tree


class FixRefused(Exception):
    """The fix cannot be made; the message says why and what to do instead."""


@dataclass(frozen=True)
class FixRequest:
    message: str | None = None
    rev_id: str | None = None
    env: str | None = None
    strategy: str = "merge"


@dataclass(frozen=True)
class FileChange:
    """A file the fix writes: a new merge migration, or an edited revision."""

    path: str  # relative to the tree's root
    content: bytes
    created: bool  # a new file (the merge strategy), not an edit
    revision: str  # the merge migration's id, or the re-parented revision's
    notes: tuple[str, ...] = ()


def plan_fix(
    tree: Tree,
    request: FixRequest,
    verdict: Verdict | None,
    base_tree: Tree | None,
    base_label: str,
    now: datetime,
    *,
    merged: bool = False,
) -> list[FileChange]:
    """The changes that fix every environment of `tree` (or `request.env`) that needs it.

    `verdict` judges the branch against its base (None when no base is known); `base_tree` is
    the base tip, whose script.py.mako and bot configuration are trusted. `merged` says that
    `tree` already holds the base (the merge of the two), so no base head can be missing.
    """
    bot_config, _ = load_bot_config(base_tree or tree)
    scan = scan_tree(tree, env=request.env, bot_config=bot_config)
    if request.strategy == "rebase":
        return _rebase(tree, scan.environments, verdict, "" if merged else base_label)
    if not merged:
        _refuse_stale(verdict, request.env, base_label)
    local = judge_tree(scan, bot_config.policy)
    changes = []
    for env_scan, env_verdict in zip(scan.environments, local.environments, strict=True):
        plan = env_verdict.merge_plan
        if plan is not None:
            changes.append(_merge(env_scan, plan, request, base_tree, tree, now))
    return changes


def _refuse_stale(verdict: Verdict | None, env: str | None, base_label: str) -> None:
    for env_verdict in verdict.environments if verdict else ():
        plan = env_verdict.merge_plan
        if plan and plan.missing_on_head and env in (None, env_verdict.name):
            raise FixRefused(
                f"[{env_verdict.name}] this branch does not contain "
                f"{', '.join(plan.missing_on_head)} from {base_label} yet, so a merge migration "
                f"here could not name it. Bring {base_label} in first "
                f"({shell_command(['git', 'merge', base_label])}, or git rebase), then run "
                "alembic-heads-bot merge again."
            )


def _merge(
    env_scan: EnvironmentScan,
    plan: MergePlan,
    request: FixRequest,
    base_tree: Tree | None,
    own_tree: Tree,
    now: datetime,
) -> FileChange:
    env, graph = env_scan.environment, env_scan.graph
    template, notes = _template(env, base_tree, own_tree)
    try:
        merge = render_merge(
            env,
            [graph.revisions[h] for h in plan.heads],
            rev_id=request.rev_id or new_revision_id(),
            message=request.message,
            create_date=creation_date(env, now),
            template=template,
            existing_ids=set(graph.revisions),
        )
    except MergeError as exc:
        raise FixRefused(f"[{env.name}] {exc}") from exc
    if merge.path in own_tree.paths():
        raise FixRefused(f"[{env.name}] {merge.path} exists already; pass another --rev-id")
    extra = (plan.note,) if plan.note else ()
    content = merge.text.encode(env.output_encoding)
    return FileChange(merge.path, content, True, merge.revision, (*notes, *merge.notes, *extra))


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
    tree: Tree, scans: Sequence[EnvironmentScan], verdict: Verdict | None, base_label: str
) -> list[FileChange]:
    if verdict is None:
        raise FixRefused("--strategy rebase needs the base branch: pass --base")
    written = []
    for env_verdict in verdict.environments:
        scan = next((s for s in scans if s.environment.name == env_verdict.name), None)
        if scan is None or not env_verdict.new_heads:
            continue
        for head in env_verdict.new_heads:
            written.append(_reparent_head(tree, scan.graph, env_verdict, head, base_label))
    return written


def _reparent_head(
    tree: Tree, graph: Graph, env: EnvironmentVerdict, head: NewHead, base_label: str
) -> FileChange:
    first = _first_new_revision(graph, env.added, head.revision)
    if first is None:
        raise FixRefused(
            f"[{env.name}] {head.revision} is on the base branch already: re-parenting it would "
            "rewrite history that databases may have applied; use the merge strategy"
        )
    databases = env.applied_in.get(first)
    if databases:
        raise FixRefused(
            f"[{env.name}] {first} is applied in {', '.join(databases)}: re-parenting it would "
            "rewrite the history those databases recorded. Use the merge strategy: a merge "
            "migration is safe for every database."
        )
    rev = graph.revisions[first]
    new_parents = head.collides_with
    try:
        source = tree.read(rev.path).decode("utf-8")
        edited = reparent(source, rev.path, rev.down_revision, new_parents)
    except UnicodeDecodeError:
        raise FixRefused(f"[{env.name}] {rev.path} is not UTF-8: edit it by hand") from None
    except MergeError as exc:
        raise FixRefused(f"[{env.name}] {exc}") from exc
    notes = [f"{first} now revises {', '.join(new_parents)}, not {', '.join(rev.down_revision)}"]
    if base_label and env.merge_plan and env.merge_plan.missing_on_head:
        notes.append(f"rebase this branch onto {base_label} so that it holds the new parent")
    return FileChange(rev.path, edited.encode("utf-8"), False, first, tuple(notes))


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
