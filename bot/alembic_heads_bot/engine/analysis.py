"""The verdict on a pull request: what it does to every Alembic environment, judged by the policy.

Pure: scans (`engine.scan.TreeScan`) of four trees in, plain frozen records out. The trees are the
BASE TIP (the branch the pull request targets), the MERGE BASE, the PR HEAD, and the MERGED tree
(git's trial merge of the two tips, what the base branch will hold once the pull request is in).
Environments are matched across trees by `Environment.name`; only the merged tree's are judged.

- Changes (added / modified / removed revision ids): PR head vs merge base, i.e. what the pull
  request's own commits do. "Modified" means the same id with another `down_revision`,
  `branch_labels`, `depends_on` or file path.
- Heads are `Graph.heads`, effective heads included: `alembic upgrade head` fails on them too.
  A head is *explained* when it carries a branch label (after propagation) that no other head
  carries: an independent labelled stream, like Alembic's `networking` example, is intended.
- Everything else compares the merged tree with the base tip: whatever differs there is the pull
  request's doing, even when it comes from an old fork point.

Rules, each "fail", "warn" or "ignore" by `Policy`:

- `new-heads`: the merged tree has more unexplained heads than max(1, the base tip's number);
  in single-tree mode (`judge_tree`), more than one.
- `new-branch-points`: the merged tree has a branch point the base tip has not, whose branches
  have not joined again (more than one head above it).
- `problems`: an error-severity problem of the merged tree that the base tip does not have
  (same code, path and message); in single-tree mode, any error. `Policy.ignore_codes` drops
  problems entirely.
- `hazards`: the pull request deletes a revision that is on the base tip, or changes its
  `revision` id, `down_revision` or `depends_on`: databases may already have applied it.
- `applied-revisions`: such a hazard hits a revision that a named database (`engine.deployed`)
  has applied, or the pull request edits the file of one (`edited-revision`): not "may" but
  "has". Applied means below a version-table row in the base tip's graph, or, for a row the
  base tip lacks (a branch deployed to staging), in the PR head's graph.

Databases (`DatabaseState`, read by a shell) are judged per environment: the rows the merged
code lacks, the pull request's revisions not applied yet, and what `alembic upgrade heads`
would run after the merge. A database that could not be read is a note, never a failure.

`Verdict.as_dict()` is the JSON of `check --format json`. Its shape (keys are stable; lists
keep Alembic's load order where there is one):

    {
      "ok": bool,                       # no rule with policy "fail" is violated
      "mode": "pull-request" | "tree",
      "failed_rules": [rule, ...],      # violated rules whose policy is "fail"
      "warned_rules": [rule, ...],      # violated rules whose policy is "warn"
      "commits": {"base", "head", "merge_base", "merged_tree": sha | null} | null,
      "conflicts": [path, ...],         # every path git could not merge cleanly
      "removed_environments": [name, ...],  # on the base tip, gone from the merged tree
      "notes": [text, ...],
      "problems": [FLAGGED_PROBLEM, ...],   # problems that belong to no one environment
      "rules": [RULE, ...],             # each rule rolled up over every environment
      "environments": [{
        "name": str,
        "new_environment": bool,        # not on the base tip
        "ok": bool, "failed_rules": [...], "warned_rules": [...], "rules": [RULE, ...],
        "added": [id, ...], "modified": [id, ...], "removed": [id, ...],
        "base_heads": [id, ...], "heads": [id, ...],
        "base_unexplained_heads": [id, ...], "unexplained_heads": [id, ...],
        "new_heads": [{"revision", "path", "line", "parents": [id, ...],
                       "collides_with": [id, ...], "common_ancestor": id | null}, ...],
        "new_branch_points": [id, ...],
        "hazards": [{"code", "revision", "path", "line", "message",
                     "databases": [name, ...]}, ...],   # databases that applied it
        "databases": [{"name", "table", "error": str | null, "current": [id, ...] | null,
                       "unknown": [id, ...], "pending": [id, ...], "upgrade": [id, ...]}, ...],
        "problems": [FLAGGED_PROBLEM, ...],
        "merge_plan": {"env_name", "heads": [id, ...], "note": str | null,
                       "missing_on_head": [id, ...]} | null,  # heads the PR branch lacks
        "conflicts": [path, ...],       # conflicted revision or config files of this environment
        "notes": [text, ...]
      }, ...]
    }
    RULE = {"rule": str, "violated": bool, "policy": "fail" | "warn" | "ignore",
            "outcome": "pass" | "fail" | "warn" | "ignored"}
    FLAGGED_PROBLEM = Problem.as_dict() + {"introduced": bool}

Single-tree mode has no hazards, changes or branch-point rule, and counts every problem as
introduced: there is nothing to compare with.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import compress, filterfalse
from operator import is_not, or_
from typing import Literal

from alembic_heads_bot.engine.bot_config import Policy
from alembic_heads_bot.engine.deployed import DatabaseState, applied, still_to_run, unknown
from alembic_heads_bot.engine.graph import Graph, build_graph
from alembic_heads_bot.engine.model import Environment, Problem, Revision, Rule, RulePolicy
from alembic_heads_bot.engine.report.escape import shell_command
from alembic_heads_bot.engine.scan import EnvironmentScan, TreeScan

Mode = Literal["pull-request", "tree"]
# What a rule's result comes to: "pass", or the consequence of its policy.
Outcome = Literal["pass", "fail", "warn", "ignored"]
HazardCode = Literal[
    "deleted-revision",
    "renamed-revision",
    "reparented-revision",
    "changed-dependencies",
    "edited-revision",  # only reported for a revision a named database applied
]

PULL_REQUEST_RULES: tuple[Rule, ...] = (
    "new-heads",
    "new-branch-points",
    "problems",
    "hazards",
    "applied-revisions",
)
TREE_RULES: tuple[Rule, ...] = ("new-heads", "problems")

_OUTCOMES: dict[RulePolicy, Outcome] = {"fail": "fail", "warn": "warn", "ignore": "ignored"}
_EMPTY_GRAPH = build_graph(())


@dataclass(frozen=True)
class Commits:
    """The objects a pull-request verdict was computed from (None when not known)."""

    base: str | None = None
    head: str | None = None
    merge_base: str | None = None
    merged_tree: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "base": self.base,
            "head": self.head,
            "merge_base": self.merge_base,
            "merged_tree": self.merged_tree,
        }


@dataclass(frozen=True)
class RuleResult:
    """One rule: whether it fired, and what the policy makes of that."""

    rule: Rule
    violated: bool
    policy: RulePolicy

    @property
    def outcome(self) -> Outcome:
        """Either "pass" or the policy's consequence: "fail", "warn" or "ignored"."""
        return _OUTCOMES[self.policy] if self.violated else "pass"

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "violated": self.violated,
            "policy": self.policy,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class FlaggedProblem:
    """A problem of the merged tree; `introduced` is False when the base tip has it already."""

    problem: Problem
    introduced: bool

    def as_dict(self) -> dict[str, object]:
        return {**self.problem.as_dict(), "introduced": self.introduced}


@dataclass(frozen=True)
class NewHead:
    """A head the merged tree has and the base tip had not, beside other unexplained heads."""

    revision: str
    path: str
    line: int | None  # the line of its down_revision
    parents: tuple[str, ...]
    collides_with: tuple[str, ...]
    common_ancestor: str | None  # None when the lineages share no revision

    def as_dict(self) -> dict[str, object]:
        return {
            "revision": self.revision,
            "path": self.path,
            "line": self.line,
            "parents": list(self.parents),
            "collides_with": list(self.collides_with),
            "common_ancestor": self.common_ancestor,
        }


@dataclass(frozen=True)
class Hazard:
    """A change to a revision that is on the base tip."""

    code: HazardCode
    revision: str
    path: str
    line: int | None
    message: str
    databases: tuple[str, ...] = ()  # the named databases that applied the revision

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "revision": self.revision,
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "databases": list(self.databases),
        }


@dataclass(frozen=True)
class DatabaseFinding:
    """One named database of an environment, against the merged tree."""

    name: str
    table: str
    error: str | None  # why it could not be read; the rest is empty then
    current: tuple[str, ...] | None  # its version table; None when it has none
    unknown: tuple[str, ...]  # rows the merged code has no revision for
    pending: tuple[str, ...]  # the pull request's revisions it has not applied
    upgrade: tuple[str, ...]  # what `alembic upgrade heads` would run after the merge

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "table": self.table,
            "error": self.error,
            "current": None if self.current is None else list(self.current),
            "unknown": list(self.unknown),
            "pending": list(self.pending),
            "upgrade": list(self.upgrade),
        }


@dataclass(frozen=True)
class MergePlan:
    """The heads one merge migration must join, in the order to pass them to `alembic merge`."""

    env_name: str
    heads: tuple[str, ...]
    note: str | None = None
    # Heads the pull request's own branch does not hold yet (they came to the base after it
    # forked): the branch must take the base in before a merge migration can name them.
    missing_on_head: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "env_name": self.env_name,
            "heads": list(self.heads),
            "note": self.note,
            "missing_on_head": list(self.missing_on_head),
        }


def _rule_names(rules: Iterable[RuleResult], outcome: Outcome) -> tuple[Rule, ...]:
    return tuple(r.rule for r in rules if r.outcome == outcome)


class _Ruled:
    """What a verdict's rule results add up to; `ok` derives from them, so they never disagree."""

    rules: tuple[RuleResult, ...]

    @property
    def failed_rules(self) -> tuple[Rule, ...]:
        return _rule_names(self.rules, "fail")

    @property
    def warned_rules(self) -> tuple[Rule, ...]:
        return _rule_names(self.rules, "warn")

    @property
    def ok(self) -> bool:
        return not self.failed_rules


@dataclass(frozen=True)
class EnvironmentVerdict(_Ruled):
    name: str
    new_environment: bool
    rules: tuple[RuleResult, ...]
    added: tuple[str, ...]
    modified: tuple[str, ...]
    removed: tuple[str, ...]
    base_heads: tuple[str, ...]
    heads: tuple[str, ...]
    base_unexplained_heads: tuple[str, ...]
    unexplained_heads: tuple[str, ...]
    new_heads: tuple[NewHead, ...]
    new_branch_points: tuple[str, ...]
    hazards: tuple[Hazard, ...]
    problems: tuple[FlaggedProblem, ...]
    merge_plan: MergePlan | None
    conflicts: tuple[str, ...]
    notes: tuple[str, ...]
    databases: tuple[DatabaseFinding, ...] = ()
    # The merged tree's environment and graph, for reports that draw it and for the fix; not
    # part of the JSON.
    environment: Environment | None = field(default=None, compare=False, repr=False)
    graph: Graph | None = field(default=None, compare=False, repr=False)
    # Revision -> the named databases that applied it (for diagrams and the rebase refusal).
    applied_in: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def as_dict(self) -> dict[str, object]:
        plan = self.merge_plan.as_dict() if self.merge_plan is not None else None
        return {
            "name": self.name,
            "new_environment": self.new_environment,
            "ok": self.ok,
            "failed_rules": list(self.failed_rules),
            "warned_rules": list(self.warned_rules),
            "rules": [r.as_dict() for r in self.rules],
            "added": list(self.added),
            "modified": list(self.modified),
            "removed": list(self.removed),
            "base_heads": list(self.base_heads),
            "heads": list(self.heads),
            "base_unexplained_heads": list(self.base_unexplained_heads),
            "unexplained_heads": list(self.unexplained_heads),
            "new_heads": [h.as_dict() for h in self.new_heads],
            "new_branch_points": list(self.new_branch_points),
            "hazards": [h.as_dict() for h in self.hazards],
            "problems": [p.as_dict() for p in self.problems],
            "merge_plan": plan,
            "conflicts": list(self.conflicts),
            "notes": list(self.notes),
            "databases": [d.as_dict() for d in self.databases],
        }


@dataclass(frozen=True)
class Verdict(_Ruled):
    mode: Mode
    commits: Commits | None
    environments: tuple[EnvironmentVerdict, ...]
    problems: tuple[FlaggedProblem, ...]  # those of no one environment (discovery, bot config)
    conflicts: tuple[str, ...]
    removed_environments: tuple[str, ...]
    rules: tuple[RuleResult, ...]
    notes: tuple[str, ...] = ()

    @property
    def merge_plans(self) -> tuple[MergePlan, ...]:
        return tuple(e.merge_plan for e in self.environments if e.merge_plan is not None)

    def environment(self, name: str) -> EnvironmentVerdict:
        """The verdict on the environment called `name`; KeyError when there is none."""
        for env in self.environments:
            if env.name == name:
                return env
        raise KeyError(name)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "mode": self.mode,
            "failed_rules": list(self.failed_rules),
            "warned_rules": list(self.warned_rules),
            "commits": self.commits.as_dict() if self.commits is not None else None,
            "conflicts": list(self.conflicts),
            "removed_environments": list(self.removed_environments),
            "notes": list(self.notes),
            "problems": [p.as_dict() for p in self.problems],
            "rules": [r.as_dict() for r in self.rules],
            "environments": [e.as_dict() for e in self.environments],
        }


# --- entry points ----------------------------------------------------------------------------


def judge(
    base: TreeScan,
    merge_base: TreeScan | None,
    head: TreeScan,
    merged: TreeScan,
    policy: Policy,
    conflicts: Sequence[str] = (),
    commits: Commits | None = None,
    databases: Sequence[DatabaseState] = (),
) -> Verdict:
    """The verdict on a pull request, from scans of its four trees (see the module docstring)."""
    base_envs, head_envs = _by_name(base), _by_name(head)
    fork_envs = _by_name(merge_base) if merge_base is not None else {}
    known = _problem_keys(base.all_problems())
    environments = tuple(
        _judge_environment(
            _Sides(
                env,
                base_envs.get(name),
                fork_envs.get(name),
                head_envs.get(name),
                _of_environment(databases, name),
            ),
            policy,
            known,
            conflicts,
        )
        for name, env in _by_name(merged).items()
    )
    removed = tuple(name for name in base_envs if name not in {e.name for e in environments})
    notes = (
        *(_removed_note(name) for name in removed),
        *_unplaced_notes(databases, {e.name for e in environments}),
    )
    problems = _flag(merged.problems, known, policy)
    rules = _roll_up(PULL_REQUEST_RULES, environments, problems, policy)
    return Verdict(
        "pull-request", commits, environments, problems, tuple(conflicts), removed, rules, notes
    )


def judge_tree(
    scan: TreeScan,
    policy: Policy,
    commits: Commits | None = None,
    databases: Sequence[DatabaseState] = (),
) -> Verdict:
    """The verdict on one tree alone: several unexplained heads, or any error, is a violation."""
    environments = tuple(
        _judge_environment(
            _Sides(env, databases=_of_environment(databases, name)), policy, None, ()
        )
        for name, env in _by_name(scan).items()
    )
    problems = _flag(scan.problems, None, policy)
    rules = _roll_up(TREE_RULES, environments, problems, policy)
    notes = tuple(_unplaced_notes(databases, {e.name for e in environments}))
    return Verdict("tree", commits, environments, problems, (), (), rules, notes)


def _of_environment(databases: Sequence[DatabaseState], name: str) -> tuple[DatabaseState, ...]:
    return tuple(state for state in databases if state.environment == name)


def _unplaced_notes(databases: Sequence[DatabaseState], names: Collection[str]) -> tuple[str, ...]:
    """Databases whose environment is not judged: say so rather than drop them silently."""
    return tuple(
        f"The database {state.name} is not checked: "
        + (state.error or f"its environment {state.environment} is not in the merged tree.")
        for state in databases
        if state.environment not in names
    )


# --- one environment -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sides:
    """One environment in each tree; only `merged` exists in single-tree mode."""

    merged: EnvironmentScan
    base: EnvironmentScan | None = None
    fork: EnvironmentScan | None = None
    head: EnvironmentScan | None = None
    databases: tuple[DatabaseState, ...] = ()


def _judge_environment(
    sides: _Sides,
    policy: Policy,
    known: Collection[tuple[str, str | None, str]] | None,
    conflicts: Sequence[str],
) -> EnvironmentVerdict:
    """`known` is None in single-tree mode, else the base tip's problem keys."""
    pull_request = known is not None
    graph = sides.merged.graph
    base_graph = sides.base.graph if sides.base is not None else _EMPTY_GRAPH
    unexplained, base_unexplained = unexplained_heads(graph), unexplained_heads(base_graph)
    added, modified, removed = _changes(sides) if pull_request else ((), (), ())
    new_points = _open_branch_points(graph, base_graph)
    done = {state.name: _applied_by(sides, state) for state in sides.databases if state.read}
    applied_in = _applied_in(done)
    hazards = _hazards(sides.base, sides.merged, applied_in)
    problems = _flag(sides.merged.problems, known, policy)
    env_conflicts = _conflicts_of(sides, conflicts)
    violated: dict[Rule, bool] = {
        "new-heads": len(unexplained) > max(1, len(base_unexplained)),
        "new-branch-points": bool(new_points),
        "problems": _has_new_error(problems),
        # An edit is only a hazard once a database applied the old text: that rule alone.
        "hazards": any(hazard.code != "edited-revision" for hazard in hazards),
        "applied-revisions": any(hazard.databases for hazard in hazards),
    }
    rules = PULL_REQUEST_RULES if pull_request else TREE_RULES
    return EnvironmentVerdict(
        name=sides.merged.environment.name,
        new_environment=pull_request and sides.base is None,
        rules=tuple(_result(rule, violated[rule], policy) for rule in rules),
        added=added,
        modified=modified,
        removed=removed,
        base_heads=base_graph.heads,
        heads=graph.heads,
        base_unexplained_heads=base_unexplained,
        unexplained_heads=unexplained,
        new_heads=_new_heads(graph, unexplained, base_graph.heads),
        new_branch_points=new_points if pull_request else (),
        hazards=hazards,
        problems=problems,
        merge_plan=_merge_plan(sides, unexplained),
        conflicts=env_conflicts,
        notes=_notes(env_conflicts, base_unexplained, unexplained, pull_request),
        databases=tuple(_database(state, graph, done, added) for state in sides.databases),
        environment=sides.merged.environment,
        graph=graph,
        applied_in=applied_in,
    )


# --- databases -------------------------------------------------------------------------------


def _applied_by(sides: _Sides, state: DatabaseState) -> set[str]:
    """What the database applied, in the history it ran: the base tip's graph, and for rows
    the base tip lacks (a branch deployed to staging) the PR head's. Not the merged graph: a
    pull request that re-parents a revision would rewrite what the database is said to hold."""
    rows = state.rows or ()
    base_graph = sides.base.graph if sides.base is not None else _EMPTY_GRAPH
    head_graph = (sides.head or sides.merged).graph
    beyond_base = (row for row in rows if row not in base_graph.revisions)
    return applied(base_graph, rows) | applied(head_graph, beyond_base)


def _applied_in(done: Mapping[str, set[str]]) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for name, revisions in done.items():
        for rev in revisions:
            found[rev] = (*found.get(rev, ()), name)
    return found


def _database(
    state: DatabaseState, graph: Graph, done: Mapping[str, set[str]], added: Sequence[str]
) -> DatabaseFinding:
    if not state.read:
        return DatabaseFinding(state.name, state.table, state.error, None, (), (), ())
    applied_here = done[state.name]
    return DatabaseFinding(
        name=state.name,
        table=state.table,
        error=None,
        current=state.rows,
        unknown=unknown(graph, state.rows or ()),
        pending=tuple(r for r in added if r in graph.revisions and r not in applied_here),
        upgrade=still_to_run(graph, applied_here),
    )


def _open_branch_points(graph: Graph, base_graph: Graph) -> tuple[str, ...]:
    """Branch points the base tip lacks whose branches have not joined again: a diamond closed
    by a merge migration is ordinary history."""
    heads = set(graph.heads)
    return tuple(
        point
        for point in graph.branchpoints
        if point not in base_graph.branchpoints and len(heads & graph.descendants([point])) > 1
    )


def _changes(sides: _Sides) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Revision ids the PR's own commits add, modify and remove (PR head vs merge base)."""
    before = sides.fork.graph.revisions if sides.fork is not None else {}
    after = sides.head.graph.revisions if sides.head is not None else {}
    added = tuple(filterfalse(before.__contains__, after))
    # Only a record the fork does not hold itself can be a modified one (C speed for the rest).
    other = compress(after, map(is_not, map(before.get, after), after.values()))
    modified = tuple(r for r in other if r in before and _shape(after[r]) != _shape(before[r]))
    removed = tuple(filterfalse(after.__contains__, before))
    return added, modified, removed


def _shape(rev: Revision) -> tuple[object, ...]:
    return (rev.revision, rev.down_revision, rev.branch_labels, rev.depends_on, rev.path)


def unexplained_heads(graph: Graph) -> tuple[str, ...]:
    """Heads that carry no branch label of their own: the ones that collide."""
    labels = {head: set(graph.labels_of(head)) for head in graph.heads}

    def explained(head: str) -> bool:
        others = [labels[other] for other in graph.heads if other != head]
        return any(all(label not in other for other in others) for label in labels[head])

    return tuple(head for head in graph.heads if not explained(head))


def _new_heads(
    graph: Graph, unexplained: tuple[str, ...], base_heads: Collection[str]
) -> tuple[NewHead, ...]:
    if len(unexplained) < 2:
        return ()
    found = []
    for head in unexplained:
        if head in base_heads:
            continue
        rev = graph.revisions[head]
        others = tuple(other for other in unexplained if other != head)
        found.append(
            NewHead(
                revision=head,
                path=rev.path,
                line=rev.line_of("down_revision"),
                parents=graph.parents(head),
                collides_with=others,
                common_ancestor=_common_ancestor(graph, head, others),
            )
        )
    return tuple(found)


def _common_ancestor(graph: Graph, head: str, others: Iterable[str]) -> str | None:
    """The nearest revision below both `head` and one of `others`, along down_revision.

    Nearest: no descendant of it is shared too. Of several (criss-cross histories), the one
    with the longest history, then the first in load order.
    """
    shared = graph.ancestors([head]) & graph.ancestors(others)
    # What lies below a shared revision is shared too (ancestors of ancestors), so the
    # revisions below the shared ones are just their parents: no third walk.
    below = {p for rev in shared for p in graph.parents(rev)}
    nearest = [rev for rev in graph.revisions if rev in shared and rev not in below]
    if len(nearest) < 2:  # nothing shared, or a cycle (reported as a problem on its own)
        return nearest[0] if nearest else None
    return max(nearest, key=lambda rev: len(graph.ancestors([rev])))


def _merge_plan(sides: _Sides, unexplained: tuple[str, ...]) -> MergePlan | None:
    """Real heads first, in load order as `alembic merge heads` takes them, then effective ones."""
    if len(unexplained) < 2:
        return None
    name, graph = sides.merged.environment.name, sides.merged.graph
    on_head = sides.head.graph.revisions if sides.head is not None else graph.revisions
    missing = tuple(h for h in unexplained if h not in on_head)
    real = tuple(head for head in graph.real_heads if head in unexplained)
    effective = tuple(head for head in unexplained if head not in real)
    heads = real + effective
    labelled = tuple(head for head in graph.real_heads if head not in unexplained)
    reasons = []
    if effective:
        reasons.append(
            f"{_listing(effective)} {_is_are(effective)} only "
            f"{'effective heads' if len(effective) > 1 else 'an effective head'} (reached "
            "only through depends_on), which `alembic merge heads` leaves out"
        )
    if labelled:
        reasons.append(
            f"`alembic merge heads` would also join the labelled branch head "
            f"{_listing(labelled)}, which is meant to stay separate"
        )
    if not reasons:
        return MergePlan(name, heads, missing_on_head=missing)
    command = shell_command(["alembic", "merge", *heads])
    note = f"Run `{command}`, not `alembic merge heads`: {'; '.join(reasons)}."
    return MergePlan(name, heads, note, missing)


def _listing(ids: Sequence[str]) -> str:
    return ", ".join(ids)


def _is_are(ids: Sequence[str]) -> str:
    return "are" if len(ids) > 1 else "is"


# --- hazards ---------------------------------------------------------------------------------


def _hazards(
    base: EnvironmentScan | None,
    merged: EnvironmentScan,
    applied_in: Mapping[str, tuple[str, ...]],
) -> tuple[Hazard, ...]:
    """Revisions of the base tip that the merged tree deletes or rewrites, and edits to the
    files of revisions a named database applied."""
    if base is None:
        return ()
    old, new = base.graph.revisions, merged.graph.revisions
    at_path = {rev.path: rev for rev in new.values()}
    unreadable = {f.path for f in merged.files if f.revision is None}
    edited = _edited_files(base, merged) if applied_in else set()
    hazards: list[Hazard] = []
    # A base revision whose very record the merged tree holds (an unchanged file: the trees
    # share their parse cache) is neither rewritten nor gone; only an applied one's file may
    # still be edited. The others, most of a tree, are passed over at C speed.
    differs = map(is_not, map(new.get, old), old.values())
    for rev_id in compress(old, map(or_, differs, map(applied_in.__contains__, old))):
        rev, now = old[rev_id], new.get(rev_id)
        if not rev.complete or (now is not None and not now.complete):
            continue  # an unreadable value is unknown, not changed; its problem is reported
        found: list[Hazard] = []
        if now is not None:
            found = _rewrites(rev, now)
            if not found and applied_in.get(rev_id) and (rev.path, now.path) in edited:
                found = [_edited(now, applied_in[rev_id])]
        elif (successor := at_path.get(rev.path)) is not None and successor.revision not in old:
            found = [_renamed(rev, successor)]
        elif rev.path not in unreadable:
            found = [_deleted(rev)]
        hazards += (_applied(hazard, applied_in.get(rev_id, ())) for hazard in found)
    return tuple(hazards)


def _edited_files(base: EnvironmentScan, merged: EnvironmentScan) -> set[tuple[str, str]]:
    """(base path, merged path) pairs of revision files whose bytes differ."""
    before = {f.revision.revision: f for f in base.files if f.revision is not None}
    return {
        (old.path, f.path)
        for f in merged.files
        if f.revision is not None
        and (old := before.get(f.revision.revision)) is not None
        and old.oid != f.oid
    }


def _applied(hazard: Hazard, databases: tuple[str, ...]) -> Hazard:
    if not databases or hazard.databases:
        return hazard
    where = f"{_listing(databases)} {'have' if len(databases) > 1 else 'has'} applied it"
    return replace(hazard, databases=databases, message=f"{hazard.message} ({where}.)")


def _edited(rev: Revision, databases: tuple[str, ...]) -> Hazard:
    return Hazard(
        "edited-revision",
        rev.revision,
        rev.path,
        rev.line_of("revision"),
        f"This pull request edits {rev.path} (revision {rev.revision}), which "
        f"{_listing(databases)} already applied. Alembic never runs a revision twice, so the "
        "edit reaches only new databases and the schemas drift apart. Undo the edit and put "
        "the change in a new revision.",
        databases,
    )


def _rewrites(old: Revision, new: Revision) -> list[Hazard]:
    # Sets: a merge revision's parents in another order, or a repeated entry, change no history.
    found = []
    if set(old.down_revision) != set(new.down_revision):
        found.append(
            Hazard(
                "reparented-revision",
                new.revision,
                new.path,
                new.line_of("down_revision"),
                f"This pull request changes the down_revision of {new.revision}, which is on "
                f"the base branch, from {_ids(old.down_revision)} to "
                f"{_ids(new.down_revision)}. Databases that already ran {new.revision} recorded "
                "the old history, so Alembic will compute their upgrades wrongly. Leave it as "
                "it is and add a new revision (or a merge revision) instead.",
            )
        )
    if set(old.depends_on) != set(new.depends_on):
        found.append(
            Hazard(
                "changed-dependencies",
                new.revision,
                new.path,
                new.line_of("depends_on") or new.line_of("revision"),
                f"This pull request changes the depends_on of {new.revision}, which is on the "
                f"base branch, from {_ids(old.depends_on)} to {_ids(new.depends_on)}. Databases "
                f"that already ran {new.revision} ran it with the old dependencies. Put new "
                "dependencies on a new revision instead.",
            )
        )
    return found


def _renamed(old: Revision, new: Revision) -> Hazard:
    return Hazard(
        "renamed-revision",
        new.revision,
        new.path,
        new.line_of("revision"),
        f"This pull request changes the revision id in {new.path} from {old.revision}, which "
        f"is on the base branch, to {new.revision}. Databases stamped with {old.revision} "
        f"will fail with \"Can't locate revision identified by '{old.revision}'\". Keep the "
        "old id and put new changes in a new revision.",
    )


def _deleted(old: Revision) -> Hazard:
    return Hazard(
        "deleted-revision",
        old.revision,
        old.path,
        old.line_of("revision"),
        f"This pull request deletes revision {old.revision} ({old.path}), which is on the "
        "base branch. Databases that already ran it will fail with \"Can't locate revision "
        f"identified by '{old.revision}'\". Keep the file; to undo what it did, add a new "
        "revision.",
    )


def _ids(ids: tuple[str, ...]) -> str:
    if not ids:
        return "None"
    if len(ids) == 1:
        return repr(ids[0])
    return "(" + ", ".join(repr(i) for i in ids) + ")"


# --- problems, conflicts, rules --------------------------------------------------------------


def _problem_keys(problems: Iterable[Problem]) -> set[tuple[str, str | None, str]]:
    # Not the line: an unrelated edit above a problem moves it without making it new.
    return {(p.code, p.path, p.message) for p in problems}


def _flag(
    problems: Iterable[Problem],
    known: Collection[tuple[str, str | None, str]] | None,
    policy: Policy,
) -> tuple[FlaggedProblem, ...]:
    return tuple(
        FlaggedProblem(p, known is None or (p.code, p.path, p.message) not in known)
        for p in problems
        if p.code not in policy.ignore_codes
    )


def _has_new_error(problems: Iterable[FlaggedProblem]) -> bool:
    return any(f.introduced and f.problem.severity == "error" for f in problems)


def _result(rule: Rule, violated: bool, policy: Policy) -> RuleResult:
    return RuleResult(rule, violated, getattr(policy, rule.replace("-", "_")))


def _roll_up(
    rules: Sequence[Rule],
    environments: Sequence[EnvironmentVerdict],
    problems: Sequence[FlaggedProblem],
    policy: Policy,
) -> tuple[RuleResult, ...]:
    """Each rule over the whole tree: violated when it is in some environment."""
    violated = {r.rule for env in environments for r in env.rules if r.violated}
    if _has_new_error(problems):
        violated.add("problems")
    return tuple(_result(rule, rule in violated, policy) for rule in rules)


def _conflicts_of(sides: _Sides, conflicts: Sequence[str]) -> tuple[str, ...]:
    """Conflicted paths that are this environment's revision files or its config file."""
    if not conflicts:
        return ()
    env = sides.merged.environment
    scans = (sides.merged, sides.base, sides.fork, sides.head)
    files = {f.path for scan in scans if scan is not None for f in scan.files}

    def ours(path: str) -> bool:
        in_versions = path.endswith(".py") and any(
            _inside(path, location) for location in env.version_locations
        )
        return path in files or path == env.config_path or in_versions

    return tuple(path for path in conflicts if ours(path))


def _inside(path: str, directory: str) -> bool:
    return directory in (".", "") or path.startswith(posixpath.join(directory, ""))


def _notes(
    conflicts: Sequence[str],
    base_unexplained: Sequence[str],
    unexplained: Sequence[str],
    pull_request: bool,
) -> tuple[str, ...]:
    notes = []
    if conflicts:
        notes.append(
            f"git cannot merge {_listing(conflicts)} cleanly: the trial merge holds conflict "
            "markers there, so what those files declare is unknown and the findings below may "
            "be incomplete. Update the branch with the base branch and resolve the conflicts."
        )
    if pull_request and len(base_unexplained) > 1 and len(unexplained) <= 1:
        notes.append(
            f"This pull request joins the base branch's {len(base_unexplained)} heads "
            f"({_listing(base_unexplained)}) into one."
        )
    return tuple(notes)


def _removed_note(name: str) -> str:
    return (
        f"The environment {name} is on the base branch but not in the merged tree (its config "
        "was removed or renamed); it is not checked."
    )


def _by_name(scan: TreeScan) -> dict[str, EnvironmentScan]:
    found: dict[str, EnvironmentScan] = {}
    for env in scan.environments:
        found.setdefault(env.environment.name, env)
    return found
