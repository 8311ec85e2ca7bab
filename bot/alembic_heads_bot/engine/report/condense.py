"""A revision graph -> a smaller drawing of it that stays true. Pure.

A diagram with hundreds of revisions is a column no reviewer reads, and Mermaid refuses one
with more than 500 edges. Condensing keeps what a reader needs to see (the heads, the common
ancestors, where the history branches or merges, where the pull request's revisions start)
and puts the revisions between them into boxes that say how many they stand for. Each box is
a quotient of the graph: an edge between two revisions becomes an edge between the boxes that
hold them, so every path of the history is still a path of the drawing, and each head still
reaches the common ancestor.

Steps, tried in order until the drawing fits:
1. every revision;
2. each long run (a chain without branch or merge) as its two ends and one box between;
3. each run as one box;
4. the same without the optional anchors (side boundaries, databases' current revisions);
5. only the heads and roots drawn, everything else one box per connected part, and then
   fewer and fewer heads drawn one by one (straight to this step when there are more heads
   than the drawing's width) (the others, and what lies only below them, one
   box together).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

from alembic_heads_bot.engine.graph import Graph


@dataclass(frozen=True)
class Node:
    """One box of the drawing: a revision (`elided` False) or the revisions it stands for."""

    revisions: tuple[str, ...]  # newest first
    elided: bool = False
    chain: bool = True  # each revision is the parent of the one before: a line, no forks


@dataclass(frozen=True)
class Drawing:
    nodes: tuple[Node, ...]
    edges: tuple[tuple[int, int], ...]  # (child, parent) as indexes into `nodes`
    condensed: bool  # some box stands for more than one revision

    def index(self) -> dict[str, int]:
        """Revision -> the index of the box that holds it."""
        return {rev: i for i, node in enumerate(self.nodes) for rev in node.revisions}


def condense(
    graph: Graph,
    order: Sequence[str],
    *,
    tops: Sequence[str],
    roots: Collection[str] = (),
    optional: Collection[str] = (),
    limit: int,
    edge_limit: int | None = None,
    width: int | None = None,
) -> Drawing:
    """`order` (revisions of `graph`, newest first) drawn in at most `limit` boxes and
    `edge_limit` edges. `tops` (the heads, most important first) and `roots` (the common
    ancestors) are drawn one by one as long as they fit, and at most `width` heads side by
    side (more make a picture too wide to read); `optional` revisions too, when the drawing
    still fits."""
    sub = _Subgraph(graph, order)
    tops = [t for t in tops if t in sub.parents]
    last = sub.draw([[rev] for rev in order])
    if _fits(last, limit, edge_limit) and (width is None or len(tops) <= width):
        return last
    for groups in _attempts(sub, tops, roots, optional, width):
        last = sub.draw(groups)
        if _fits(last, limit, edge_limit):
            return last
    return last


def _fits(drawing: Drawing, limit: int, edge_limit: int | None) -> bool:
    return len(drawing.nodes) <= limit and (edge_limit is None or len(drawing.edges) <= edge_limit)


class _Subgraph:
    """The graph's parent edges among the revisions drawn."""

    def __init__(self, graph: Graph, order: Sequence[str]) -> None:
        self.order = list(order)
        kept = set(order)
        self.parents = {r: [p for p in graph.parents(r) if p in kept] for r in order}
        self.children: dict[str, list[str]] = {r: [] for r in order}
        for rev in order:
            for parent in self.parents[rev]:
                self.children[parent].append(rev)

    def structural(self) -> set[str]:
        """What must stay a box of its own for runs to be runs: branch and merge points, and
        the revisions where the drawing starts or ends."""
        return {r for r in self.order if len(self.parents[r]) != 1 or len(self.children[r]) != 1}

    def runs(self, anchors: set[str]) -> Iterator[list[str]]:
        """Maximal chains of revisions that are not anchors, newest first."""
        seen: set[str] = set()
        for rev in self.order:
            if rev in anchors or rev in seen:
                continue
            run = [rev]
            seen.add(rev)
            while (below := self.parents[run[-1]][0]) not in anchors and below not in seen:
                run.append(below)
                seen.add(below)  # also ends a run that would go round a cycle
            yield run

    def components(self, shown: set[str]) -> list[list[str]]:
        """The connected parts of what is not `shown`, each newest first."""
        owner = {r: r for r in self.order if r not in shown}

        def find(rev: str) -> str:
            while owner[rev] != rev:
                owner[rev] = owner[owner[rev]]
                rev = owner[rev]
            return rev

        for rev in owner:
            for parent in self.parents[rev]:
                if parent in owner:
                    owner[find(rev)] = find(parent)
        parts: dict[str, list[str]] = {}
        for rev in self.order:
            if rev in owner:
                parts.setdefault(find(rev), []).append(rev)
        return list(parts.values())

    def _is_chain(self, group: list[str]) -> bool:
        return all(older in self.parents[newer] for newer, older in pairwise(group))

    def draw(self, groups: list[list[str]]) -> Drawing:
        """The quotient of the subgraph by `groups`, boxes in the order of their newest
        revision."""
        position = {rev: i for i, rev in enumerate(self.order)}
        groups = sorted((g for g in groups if g), key=lambda g: position[g[0]])
        nodes = tuple(Node(tuple(g), len(g) > 1, self._is_chain(g)) for g in groups)
        box = {rev: i for i, group in enumerate(groups) for rev in group}
        edges = {
            (box[rev], box[parent]): None
            for rev in self.order
            for parent in self.parents[rev]
            if box[rev] != box[parent]
        }
        return Drawing(nodes, tuple(edges), any(n.elided for n in nodes))


def _attempts(
    sub: _Subgraph,
    tops: Sequence[str],
    roots: Collection[str],
    optional: Collection[str],
    width: int | None,
) -> Iterator[list[list[str]]]:
    """The groupings to try, each smaller than the one before (see the module's steps)."""
    if width is None or len(tops) <= width:
        must = sub.structural() | set(tops) | set(roots)
        for anchors, keep_ends in ((must | set(optional), True), (must | set(optional), False)):
            yield _by_runs(sub, anchors, keep_ends)
        yield _by_runs(sub, must, False)
    for count in range(min(len(tops), width or len(tops)), -1, -1):
        yield _by_heads(sub, tops[:count], roots)
    yield sub.components(set())


def _by_heads(sub: _Subgraph, tops: Sequence[str], roots: Collection[str]) -> list[list[str]]:
    """`tops` and `roots` one by one; the rest below those heads one box per connected part,
    and whatever lies only below the other heads one box together. Nothing below a drawn head
    is in that last box, so no arrow leads into it and the drawing has no cycle."""
    shown = set(tops) | {r for r in roots if r in sub.parents}
    below = _ancestors(sub, tops)
    others = [r for r in sub.order if r not in below and r not in shown]
    return [[r] for r in sub.order if r in shown] + sub.components(shown | set(others)) + [others]


def _ancestors(sub: _Subgraph, tops: Sequence[str]) -> set[str]:
    found = set(tops)
    frontier = list(tops)
    while frontier:
        for parent in sub.parents[frontier.pop()]:
            if parent not in found:
                found.add(parent)
                frontier.append(parent)
    return found


def _by_runs(sub: _Subgraph, anchors: set[str], keep_ends: bool) -> list[list[str]]:
    groups = [[rev] for rev in sub.order if rev in anchors]
    for run in sub.runs(anchors):
        if keep_ends and len(run) > 3:
            groups += [[run[0]], run[1:-1], [run[-1]]]
        elif keep_ends:
            groups += [[rev] for rev in run]
        else:
            groups.append(run)
    return groups
