"""Revision records -> the revision graph, exactly as Alembic's `RevisionMap` builds it.

Alembic stops at the first inconsistency; this module reports every one as a `Problem` and still
derives heads, bases, branch points and labels from what can be trusted, so that one broken file
never hides the rest of the graph. The derived views are computed once, in `build_graph`.

Terms (Alembic's, see alembic/script/revision.py):
- children: revisions listing R in `down_revision` (Alembic's `nextrev`);
- dependents: revisions listing R in `down_revision` or, resolved, in `depends_on`;
- head: no children (`heads`, effective heads included); real head: no dependents either;
- base: `down_revision` is None; real base: no `depends_on` either;
- branch point: more than one child; merge point: more than one `down_revision` entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import compress
from operator import attrgetter, contains, not_
from typing import Literal

from alembic_heads_bot.engine.model import Problem, Revision


@dataclass(frozen=True)
class Graph:
    """The revision graph of one environment. Every tuple of ids is in Alembic's load order."""

    revisions: Mapping[str, Revision]
    children: Mapping[str, tuple[str, ...]]
    dependents: Mapping[str, tuple[str, ...]]
    dependencies: Mapping[str, tuple[str, ...]]
    heads: tuple[str, ...]
    real_heads: tuple[str, ...]
    bases: tuple[str, ...]
    real_bases: tuple[str, ...]
    branchpoints: tuple[str, ...]
    mergepoints: tuple[str, ...]
    labels: Mapping[str, tuple[str, ...]]
    problems: tuple[Problem, ...]

    def parents(self, rev: str) -> tuple[str, ...]:
        """The versioned parents of `rev` that exist in the graph."""
        return self._parents[rev]

    @cached_property
    def _parents(self) -> dict[str, tuple[str, ...]]:
        # Computed once: a walk asks it of every revision it passes, often of all of them.
        revisions = self.revisions
        found: dict[str, tuple[str, ...]] = {}
        for rid, rev in revisions.items():
            down = rev.down_revision
            if len(down) == 1:  # most revisions
                found[rid] = down if down[0] in revisions else ()
            else:
                found[rid] = tuple(p for p in dict.fromkeys(down) if p in revisions)
        return found

    def labels_of(self, rev: str) -> tuple[str, ...]:
        """The branch labels `rev` carries after propagation, sorted (Alembic's order is random)."""
        return tuple(sorted(label for label, revs in self.labels.items() if rev in revs))

    def ancestors(self, revs: Iterable[str], *, dependencies: bool = False) -> set[str]:
        """`revs` and everything below them (through `depends_on` too when asked)."""
        parents = self._parents
        if dependencies:
            return _reach(revs, lambda r: (*parents[r], *self.dependencies.get(r, ())))
        return _reach(revs, parents.__getitem__)

    def descendants(self, revs: Iterable[str], *, dependencies: bool = False) -> set[str]:
        """`revs` and everything above them (through `depends_on` too when asked)."""
        edges = self.dependents if dependencies else self.children
        return _reach(revs, lambda r: edges.get(r, ()))


def build_graph(revisions: Sequence[Revision]) -> Graph:
    """Build the graph of revisions given in Alembic's load order, reporting every problem."""
    problems: list[Problem] = []
    _check_self_loops(revisions, problems)
    by_id = _index(revisions, problems)
    label_owner = _map_labels(by_id, problems)
    dependencies = _resolve_dependencies(by_id, label_owner, problems)
    parents = _versioned_parents(by_id, label_owner, problems)
    children = _invert(by_id, parents)
    # Without depends_on (and repeated parents), both edge kinds are the same: built once.
    plain = _plain(parents, dependencies)
    all_parents = parents if plain else {r: _unique((*parents[r], *dependencies[r])) for r in by_id}
    dependents = dict(children) if plain else _invert(by_id, all_parents)
    problems += _cycles(by_id, parents, children, all_parents, dependents, plain)
    # Flags over `by_id`'s order, which every mapping built here shares (`_invert`).
    order = tuple(by_id)
    # An unreadable down_revision is unknown, not None: such a node is no base.
    bases = tuple(compress(order, [r.complete and not r.down_revision for r in by_id.values()]))
    return Graph(
        revisions=by_id,
        children=children,
        dependents=dependents,
        dependencies=dependencies,
        heads=tuple(compress(order, map(not_, children.values()))),
        real_heads=tuple(compress(order, map(not_, dependents.values()))),
        bases=bases,
        real_bases=tuple(r for r in bases if not by_id[r].depends_on),
        branchpoints=tuple(r for r, below in children.items() if len(below) > 1),
        mergepoints=tuple(r for r, rev in by_id.items() if len(rev.down_revision) > 1),
        labels=_propagate_labels(by_id, parents, children, dependents, label_owner),
        problems=tuple(problems),
    )


_ID = attrgetter("revision")
_DOWN = attrgetter("down_revision")
_LABELS = attrgetter("branch_labels")
_DEPENDS = attrgetter("depends_on")


def _plain(
    parents: Mapping[str, tuple[str, ...]], dependencies: Mapping[str, tuple[str, ...]]
) -> bool:
    """No depends_on edge and no parent named twice: the dependency-aware edges (`_unique` of
    parents and dependencies) are then the versioned ones."""
    if any(dependencies.values()):
        return False
    return all(len(set(ids)) == len(ids) for ids in parents.values() if len(ids) > 1)


def _unique(ids: Sequence[str]) -> tuple[str, ...]:
    if len(ids) < 2:  # most revisions: one parent, no dependency
        return tuple(ids)
    return tuple(dict.fromkeys(ids))


def _reach(start: Iterable[str], step: Callable[[str], Iterable[str]]) -> set[str]:
    seen = set(start)
    stack = list(seen)
    while stack:
        for nxt in step(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _index(revisions: Sequence[Revision], problems: list[Problem]) -> dict[str, Revision]:
    """Revisions by id. A repeated id keeps its first position and the later file wins, as in
    Alembic, whose map is an OrderedDict assigned in load order."""
    by_id = dict(zip(map(_ID, revisions), revisions, strict=True))
    if len(by_id) == len(revisions):  # no id repeated: nothing to report
        return by_id
    by_id = {}
    for rev in revisions:
        earlier = by_id.get(rev.revision)
        if earlier is not None:
            problems.append(
                Problem.of(
                    "duplicate-revision",
                    f"Revision {rev.revision} is present more than once (also in {earlier.path}); "
                    "Alembic only warns, keeps the later file and then computes heads and history "
                    "wrongly. Give one of them a new revision id.",
                    rev.path,
                    rev.line_of("revision"),
                )
            )
        by_id[rev.revision] = rev
    return by_id


def _check_self_loops(revisions: Sequence[Revision], problems: list[Problem]) -> None:
    # Alembic checks each file as it loads, so a duplicate that a later file replaces counts too.
    # Looked for at C speed first: almost no tree has one.
    ids = list(map(_ID, revisions))
    if not any(map(contains, map(_DOWN, revisions), ids)) and not any(
        map(contains, map(_DEPENDS, revisions), ids)
    ):
        return
    for rev in revisions:
        if rev.revision in rev.down_revision:
            problems.append(
                Problem.of(
                    "self-loop",
                    f"Self-loop is detected in revisions ({rev.revision}): "
                    f"its down_revision names the revision itself",
                    rev.path,
                    rev.line_of("down_revision"),
                )
            )
        if rev.revision in rev.depends_on:
            problems.append(
                Problem.of(
                    "dependency-self-loop",
                    f"Dependency self-loop is detected in revisions ({rev.revision}): "
                    f"its depends_on names the revision itself",
                    rev.path,
                    rev.line_of("depends_on"),
                )
            )


def _map_labels(by_id: Mapping[str, Revision], problems: list[Problem]) -> dict[str, str]:
    """Original branch label -> the revision declaring it. Alembic raises on the first collision
    it meets in set order (so which one is random); every collision is reported here."""
    owner: dict[str, str] = {}
    for rev in filter(_LABELS, by_id.values()):
        for label in rev.branch_labels:
            holder = label if label in by_id else owner.get(label)
            if holder is None:
                owner[label] = rev.revision
                continue
            problems.append(
                Problem.of(
                    "duplicate-label",
                    f"Branch name '{label}' in revision {rev.revision} already used by revision "
                    f"{holder}",
                    rev.path,
                    rev.line_of("branch_labels"),
                )
            )
    return owner


def _resolve_dependencies(
    by_id: Mapping[str, Revision], label_owner: Mapping[str, str], problems: list[Problem]
) -> dict[str, tuple[str, ...]]:
    """`depends_on` entries as revision ids: an exact id, or an original label (which means the
    revision declaring it, not the head of its branch). No partial ids, as in Alembic."""
    resolved: dict[str, tuple[str, ...]] = dict.fromkeys(by_id, ())
    for rev in filter(_DEPENDS, by_id.values()):
        ids: list[str] = []
        for dep in rev.depends_on:
            target = dep if dep in by_id else label_owner.get(dep)
            if target is None:
                problems.append(
                    Problem.of(
                        "missing-dependency",
                        f"Revision {rev.revision} depends on '{dep}', which is neither a revision "
                        f"id nor a branch label here (Alembic fails with KeyError: '{dep}')",
                        rev.path,
                        rev.line_of("depends_on"),
                    )
                )
            elif dep != rev.revision:
                # A label naming the revision itself is no self-loop for Alembic (that check
                # compares ids at load time) but a dependency cycle: keep the edge for it.
                ids.append(target)
        resolved[rev.revision] = _unique(ids)
    return resolved


def _versioned_parents(
    by_id: Mapping[str, Revision], label_owner: Mapping[str, str], problems: list[Problem]
) -> dict[str, tuple[str, ...]]:
    """Each revision's `down_revision` entries that exist, reporting the ones that don't."""
    parents: dict[str, tuple[str, ...]] = {}
    for rid, rev in by_id.items():
        down = rev.down_revision
        if not down or (len(down) == 1 and down[0] in by_id and down[0] != rid):
            parents[rid] = down  # most revisions: a base, or one parent that exists
            continue
        found: list[str] = []
        for parent in _unique(rev.down_revision):
            if parent == rev.revision:
                continue
            if parent in by_id:
                found.append(parent)
            elif parent in label_owner:
                # Alembic accepts it while wiring and then fails with KeyError; the user's intent
                # is plain, so the edge is kept to keep the rest of the graph meaningful.
                found.append(label_owner[parent])
                problems.append(_label_as_parent(rev, parent, label_owner[parent]))
            else:
                problems.append(_missing_parent(rev, parent))
        parents[rev.revision] = tuple(found)
    return parents


def _label_as_parent(rev: Revision, label: str, owner: str) -> Problem:
    return Problem.of(
        "label-as-parent",
        f"Revision {rev.revision} names branch label '{label}' in down_revision; down_revision "
        f"must be a revision id (Alembic fails with KeyError: '{label}'). Use '{owner}'.",
        rev.path,
        rev.line_of("down_revision"),
    )


def _missing_parent(rev: Revision, parent: str) -> Problem:
    return Problem.of(
        "missing-parent",
        f"Revision {parent} referenced from {rev.revision} is not present: no revision file "
        f"here declares revision = '{parent}'",
        rev.path,
        rev.line_of("down_revision"),
    )


def _invert(
    by_id: Mapping[str, Revision], edges: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """child -> parents becomes parent -> children, children in load order; keys in `by_id`'s
    order."""
    inverted: dict[str, list[str]] = {r: [] for r in by_id}
    for child in by_id:
        for parent in edges[child]:
            inverted[parent].append(child)
    return {r: tuple(kids) for r, kids in inverted.items()}


def _cycles(
    by_id: Mapping[str, Revision],
    parents: Mapping[str, tuple[str, ...]],
    children: Mapping[str, tuple[str, ...]],
    all_parents: Mapping[str, tuple[str, ...]],
    dependents: Mapping[str, tuple[str, ...]],
    plain: bool,
) -> list[Problem]:
    """Alembic's `_detect_cycles`: every revision must lie between a head and a base, first along
    `down_revision` edges, then along `depends_on` edges too (the same edges when `plain`)."""
    if not by_id:
        return []
    stuck = _outside_space(by_id, parents, children)
    problems = []
    if stuck:
        problems.append(_cycle_problem("cycle", "Cycle", stuck, by_id))
    if plain:  # the second pass would find the same revisions, which it leaves out
        return problems
    stuck_deps = [r for r in _outside_space(by_id, all_parents, dependents) if r not in stuck]
    if stuck_deps:
        problems.append(_cycle_problem("dependency-cycle", "Dependency cycle", stuck_deps, by_id))
    return problems


def _outside_space(
    by_id: Mapping[str, Revision],
    down: Mapping[str, tuple[str, ...]],
    up: Mapping[str, tuple[str, ...]],
) -> list[str]:
    """Revisions not both below some head and above some base. Alembic lists every revision in
    load order when no head or no base exists at all, and the sorted rest otherwise."""
    if _acyclic(down, up):
        # Every revision of a DAG lies below a head and above a base: nothing to list.
        return []
    tops = [r for r in by_id if not up[r]]
    # A revision whose parents are all missing or unreadable is a base here: its problem is
    # reported already, and calling it a cycle would be noise.
    bottoms = [r for r in by_id if not down[r]]
    if not tops or not bottoms:
        return list(by_id)
    space = _reach(tops, lambda r: down[r]) & _reach(bottoms, lambda r: up[r])
    return sorted(r for r in by_id if r not in space)


def _acyclic(down: Mapping[str, tuple[str, ...]], up: Mapping[str, tuple[str, ...]]) -> bool:
    """Kahn's algorithm: one linear pass, instead of two reachability sweeps per edge kind."""
    waiting = dict(zip(down, map(len, down.values()), strict=True))
    ready = [r for r, n in waiting.items() if not n]
    pop, push = ready.pop, ready.append
    done = 0
    while ready:
        done += 1
        for child in up[pop()]:
            left = waiting[child] - 1
            waiting[child] = left
            if not left:
                push(child)
    return done == len(down)


def _cycle_problem(
    code: Literal["cycle", "dependency-cycle"],
    title: str,
    ids: list[str],
    by_id: Mapping[str, Revision],
) -> Problem:
    first = by_id[min(ids, key=list(by_id).index)]
    attribute = "down_revision" if code == "cycle" else "depends_on"
    return Problem.of(
        code,
        f"{title} is detected in revisions ({', '.join(ids)})",
        first.path,
        first.line_of(attribute) or first.line_of("down_revision"),
    )


def _propagate_labels(
    by_id: Mapping[str, Revision],
    parents: Mapping[str, tuple[str, ...]],
    children: Mapping[str, tuple[str, ...]],
    dependents: Mapping[str, tuple[str, ...]],
    label_owner: Mapping[str, str],
) -> dict[str, tuple[str, ...]]:
    """Label -> every revision carrying it, as Alembic's `_add_branches` leaves them.

    A label covers the versioned descendants of the revision declaring it. When those form a
    plain chain with no (dependency-aware) branch point and no merge point, it also covers the
    ancestors below, down to the first such point or a base. Alembic walks this in set order, but
    the final sets are order-independent and equal this rule.
    """

    def stops(r: str) -> bool:
        return len(dependents[r]) > 1 or len(by_id[r].down_revision) > 1

    carried: dict[str, tuple[str, ...]] = {}
    for label, owner in label_owner.items():
        covered = _reach([owner], lambda r: children[r])
        if all(len(children[r]) <= 1 and not stops(r) for r in covered):
            walk = parents[owner]
            # `not in covered` ends the walk on a cycle, which is reported on its own.
            while len(walk) == 1 and not stops(walk[0]) and walk[0] not in covered:
                covered.add(walk[0])
                walk = parents[walk[0]]
        carried[label] = tuple(r for r in by_id if r in covered)
    return dict(sorted(carried.items()))
