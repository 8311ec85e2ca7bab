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
from typing import Literal

from alembic_heads_bot.engine.analysis import (
    EnvironmentVerdict,
    MergePlan,
    NewHead,
    Verdict,
)
from alembic_heads_bot.engine.fix.mergefile import (
    MergeError,
    check_revision_ids,
    creation_date,
    render_merge,
    reparent,
)
from alembic_heads_bot.engine.graph import Graph
from alembic_heads_bot.engine.model import Environment
from alembic_heads_bot.engine.report.escape import shell_command
from alembic_heads_bot.engine.tree import Tree


class FixRefused(Exception):
    """The fix cannot be made; the message says why and what to do instead."""


Strategy = Literal["merge", "rebase"]
STRATEGIES: tuple[Strategy, ...] = ("merge", "rebase")


@dataclass(frozen=True)
class FixRequest:
    message: str | None = None
    rev_id: str | None = None
    env: str | None = None
    strategy: Strategy = "merge"


@dataclass(frozen=True)
class FixInputs:
    """What the shell gives the planning so that it stays pure and repeatable.

    `now` is the UTC instant of the merge's Create Date; `rev_id` a fresh revision id, used
    when the request names none (the shell makes it as Alembic's `util.rev_id` does);
    `builtin_template` the text of the template the bot ships (Alembic's generic one), used
    when the environment has no script.py.mako.
    """

    now: datetime
    rev_id: str
    builtin_template: bytes


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
    judged: Verdict,
    comparison: Verdict | None,
    base_tree: Tree | None,
    base_label: str,
    inputs: FixInputs,
    *,
    merged: bool = False,
) -> list[FileChange]:
    """The changes that fix every environment of `judged` that needs it.

    `judged` is the pipeline's verdict on `tree` itself (the environments `request.env`
    selects): its merge plans say what to join, its graphs what there is. `comparison` judges
    the branch against its base (None when no base is known; for a pull request's merged tree
    it is `judged` itself); `base_tree` is the base tip, whose script.py.mako is trusted.
    `merged` says that `tree` already holds the base (the merge of the two), so no base head
    can be missing. Every path a change names is a plain path inside `tree`, not below a file
    or link of it.
    """
    environments = [env for env in judged.environments if env.environment and env.graph]
    if request.strategy == "rebase":
        return _rebase(tree, environments, comparison, "" if merged else base_label)
    if not merged:
        _refuse_stale(comparison, request.env, base_label)
    return [
        _merge(env, env.merge_plan, request, base_tree, tree, inputs)
        for env in environments
        if env.merge_plan is not None
    ]


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
    judged: EnvironmentVerdict,
    plan: MergePlan,
    request: FixRequest,
    base_tree: Tree | None,
    own_tree: Tree,
    inputs: FixInputs,
) -> FileChange:
    env, graph = judged.environment, judged.graph
    assert env is not None and graph is not None  # plan_fix keeps only judged environments
    template, notes = _template(env, base_tree, own_tree)
    try:
        merge = render_merge(
            env,
            [graph.revisions[h] for h in plan.heads],
            rev_id=request.rev_id or inputs.rev_id,
            message=request.message,
            create_date=creation_date(env, inputs.now),
            template=template,
            builtin_template=inputs.builtin_template,
            existing_ids=set(graph.revisions),
        )
    except MergeError as exc:
        raise FixRefused(f"[{env.name}] {exc}") from exc
    if merge.path in own_tree.paths():
        raise FixRefused(f"[{env.name}] {merge.path} exists already; pass another --rev-id")
    _refuse_below_a_file(own_tree, merge.path, env.name)
    extra = (plan.note,) if plan.note else ()
    content = merge.text.encode(env.output_encoding)
    return FileChange(merge.path, content, True, merge.revision, (*notes, *merge.notes, *extra))


def _refuse_below_a_file(tree: Tree, path: str, env_name: str) -> None:
    """A directory of the new file that the tree holds as a file or a symbolic link would put
    the file elsewhere (through the link, possibly outside the repository) or fail."""
    parts = path.split("/")
    paths = tree.paths()
    for end in range(1, len(parts)):
        prefix = "/".join(parts[:end])
        if prefix in paths:
            kind = "a symbolic link" if tree.link(prefix) is not None else "a file"
            raise FixRefused(
                f"[{env_name}] {prefix} is {kind} in the tree, so {path} cannot be written "
                "below it; the bot writes merge files only into real directories"
            )


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
    tree: Tree,
    judged: Sequence[EnvironmentVerdict],
    comparison: Verdict | None,
    base_label: str,
) -> list[FileChange]:
    if comparison is None:
        raise FixRefused("--strategy rebase needs the base branch: pass --base")
    graphs = {env.name: env.graph for env in judged if env.graph is not None}
    written = []
    for env_verdict in comparison.environments:
        graph = graphs.get(env_verdict.name)
        if graph is None or not env_verdict.new_heads:
            continue
        for head in env_verdict.new_heads:
            written.append(_reparent_head(tree, graph, env_verdict, head, base_label))
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
        check_revision_ids(graph.revisions[p] for p in new_parents if p in graph.revisions)
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
