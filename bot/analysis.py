"""The verdict on a pull request: what it does to every Alembic environment, judged by the policy.

Pure: scans (`bot.scan.TreeScan`) of four trees in, plain frozen records out. The trees are the
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
        "hazards": [{"code", "revision", "path", "line", "message"}, ...],
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
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from bot.botconfig import Policy
from bot.graph import Graph, build_graph
from bot.model import Problem, Revision
from bot.scan import EnvironmentScan, TreeScan

PULL_REQUEST_RULES = ("new-heads", "new-branch-points", "problems", "hazards")
TREE_RULES = ("new-heads", "problems")
HAZARD_CODES = (
    "deleted-revision",
    "renamed-revision",
    "reparented-revision",
    "changed-dependencies",
)

_OUTCOMES = {"fail": "fail", "warn": "warn", "ignore": "ignored"}
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

    rule: str
    violated: bool
    policy: str

    @property
    def outcome(self) -> str:
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
    """A change to a revision that is on the base tip (see HAZARD_CODES)."""

    code: str
    revision: str
    path: str
    line: int | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "revision": self.revision,
            "path": self.path,
            "line": self.line,
            "message": self.message,
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


def _rule_names(rules: Iterable[RuleResult], outcome: str) -> tuple[str, ...]:
    return tuple(r.rule for r in rules if r.outcome == outcome)


class _Ruled:
    """What a verdict's rule results add up to; `ok` derives from them, so they never disagree."""

    rules: tuple[RuleResult, ...]

    @property
    def failed_rules(self) -> tuple[str, ...]:
        return _rule_names(self.rules, "fail")

    @property
    def warned_rules(self) -> tuple[str, ...]:
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
    # The merged tree's graph, for reports that draw it; not part of the JSON.
    graph: Graph | None = field(default=None, compare=False, repr=False)

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
        }


@dataclass(frozen=True)
class Verdict(_Ruled):
    mode: str  # "pull-request" or "tree"
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
) -> Verdict:
    """The verdict on a pull request, from scans of its four trees (see the module docstring)."""
    base_envs, head_envs = _by_name(base), _by_name(head)
    fork_envs = _by_name(merge_base) if merge_base is not None else {}
    known = _problem_keys(base.all_problems())
    environments = tuple(
        _judge_environment(
            _Sides(env, base_envs.get(name), fork_envs.get(name), head_envs.get(name)),
            policy,
            known,
            conflicts,
        )
        for name, env in _by_name(merged).items()
    )
    removed = tuple(name for name in base_envs if name not in {e.name for e in environments})
    notes = tuple(_removed_note(name) for name in removed)
    problems = _flag(merged.problems, known, policy)
    rules = _roll_up(PULL_REQUEST_RULES, environments, problems, policy)
    return Verdict(
        "pull-request", commits, environments, problems, tuple(conflicts), removed, rules, notes
    )


def judge_tree(scan: TreeScan, policy: Policy, commits: Commits | None = None) -> Verdict:
    """The verdict on one tree alone: several unexplained heads, or any error, is a violation."""
    environments = tuple(
        _judge_environment(_Sides(env), policy, None, ()) for env in _by_name(scan).values()
    )
    problems = _flag(scan.problems, None, policy)
    rules = _roll_up(TREE_RULES, environments, problems, policy)
    return Verdict("tree", commits, environments, problems, (), (), rules)


# --- one environment -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sides:
    """One environment in each tree; only `merged` exists in single-tree mode."""

    merged: EnvironmentScan
    base: EnvironmentScan | None = None
    fork: EnvironmentScan | None = None
    head: EnvironmentScan | None = None


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
    unexplained, base_unexplained = _unexplained(graph), _unexplained(base_graph)
    added, modified, removed = _changes(sides) if pull_request else ((), (), ())
    new_points = _open_branch_points(graph, base_graph)
    hazards = _hazards(sides.base, sides.merged)
    problems = _flag(sides.merged.problems, known, policy)
    env_conflicts = _conflicts_of(sides, conflicts)
    violated = {
        "new-heads": len(unexplained) > max(1, len(base_unexplained)),
        "new-branch-points": bool(new_points),
        "problems": _has_new_error(problems),
        "hazards": bool(hazards),
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
        graph=graph,
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
    added = tuple(r for r in after if r not in before)
    modified = tuple(r for r in after if r in before and _shape(after[r]) != _shape(before[r]))
    removed = tuple(r for r in before if r not in after)
    return added, modified, removed


def _shape(rev: Revision) -> tuple[object, ...]:
    return (rev.revision, rev.down_revision, rev.branch_labels, rev.depends_on, rev.path)


def _unexplained(graph: Graph) -> tuple[str, ...]:
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
    below = graph.ancestors(p for rev in shared for p in graph.parents(rev))
    nearest = [rev for rev in graph.revisions if rev in shared and rev not in below]
    if not nearest:  # nothing shared, or a cycle (reported as a problem on its own)
        return None
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
    command = f"alembic merge {' '.join(heads)}"
    note = f"Run `{command}`, not `alembic merge heads`: {'; '.join(reasons)}."
    return MergePlan(name, heads, note, missing)


def _listing(ids: Sequence[str]) -> str:
    return ", ".join(ids)


def _is_are(ids: Sequence[str]) -> str:
    return "are" if len(ids) > 1 else "is"


# --- hazards ---------------------------------------------------------------------------------


def _hazards(base: EnvironmentScan | None, merged: EnvironmentScan) -> tuple[Hazard, ...]:
    """Revisions of the base tip that the merged tree deletes or rewrites."""
    if base is None:
        return ()
    old, new = base.graph.revisions, merged.graph.revisions
    at_path = {rev.path: rev for rev in new.values()}
    unreadable = {f.path for f in merged.files if f.revision is None}
    hazards: list[Hazard] = []
    for rev_id, rev in old.items():
        now = new.get(rev_id)
        if not rev.complete or (now is not None and not now.complete):
            continue  # an unreadable value is unknown, not changed; its problem is reported
        if now is not None:
            hazards += _rewrites(rev, now)
            continue
        successor = at_path.get(rev.path)
        if successor is not None and successor.revision not in old:
            hazards.append(_renamed(rev, successor))
        elif rev.path not in unreadable:
            hazards.append(_deleted(rev))
    return tuple(hazards)


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


def _result(rule: str, violated: bool, policy: Policy) -> RuleResult:
    return RuleResult(rule, violated, getattr(policy, rule.replace("-", "_")))


def _roll_up(
    rules: Sequence[str],
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
