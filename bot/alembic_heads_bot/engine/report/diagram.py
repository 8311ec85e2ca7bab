"""A revision graph -> text, Mermaid or Graphviz DOT, with heads and branch points marked.

Text follows `alembic history`: newest first, one line per revision,
`<parents> -> <rev> (labels) (head) (branchpoint) (mergepoint), <doc>`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from alembic_heads_bot.engine.graph import Graph
from alembic_heads_bot.engine.report.condense import Drawing, Node, condense
from alembic_heads_bot.engine.report.escape import cut, dot_string, mermaid_label

FORMATS = ("text", "mermaid", "dot")


def render(
    graph: Graph, fmt: str, nodes: Collection[str] | None = None, *, full: bool = False
) -> str:
    """`graph` (or only `nodes` of it) in one of FORMATS. A diagram beyond what Mermaid draws
    is condensed (see `condense`) unless `full`; the text is always whole."""
    keep = set(graph.revisions) if nodes is None else set(nodes)
    if fmt in ("mermaid", "dot"):
        drawing = whole(graph, keep) if full else within_limits(graph, keep)
        text = (mermaid_drawing if fmt == "mermaid" else dot_drawing)(graph, drawing)
        if not drawing.condensed:
            return text
        first, rest = text.split("\n", 1)
        comment = "%%" if fmt == "mermaid" else "//"
        note = (
            f"{comment} condensed to fit Mermaid's limits: {len(keep)} revisions in "
            f"{len(drawing.nodes)} boxes; --full draws each one"
        )
        return f"{first}\n{note}\n{rest}"
    return "\n".join(history(graph, keep)) + "\n"


def newest_first(graph: Graph, keep: Collection[str]) -> list[str]:
    """A topological order, heads first, ties broken by load order as Alembic's history does."""
    position = {rev: i for i, rev in enumerate(graph.revisions)}
    waiting = {r: sum(1 for c in graph.children[r] if c in keep) for r in keep}
    ready = [(position[r], r) for r, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, rev = heapq.heappop(ready)
        order.append(rev)
        for parent in graph.parents(rev):
            if parent in waiting:
                waiting[parent] -= 1
                if waiting[parent] == 0:
                    heapq.heappush(ready, (position[parent], parent))
    # Revisions on a cycle never become ready; list them last rather than drop them.
    return order + [r for r in graph.revisions if r in keep and r not in order]


def marks(
    graph: Graph, rev: str, *, tree_indicators: bool = True, labels: bool = True
) -> list[str]:
    """Alembic's markers for one revision: labels (which `current` leaves out), head; branch
    and merge points as well with `tree_indicators` (as `history` shows them, not `heads`)."""
    found = [f"({', '.join(graph.labels_of(rev))})"] if labels and graph.labels_of(rev) else []
    if rev in graph.heads:
        found.append("(head)" if rev in graph.real_heads else "(effective head)")
    if not tree_indicators:
        return found
    if rev in graph.branchpoints:
        found.append("(branchpoint)")
    if rev in graph.mergepoints:
        found.append("(mergepoint)")
    return found


def history(graph: Graph, keep: Collection[str]) -> list[str]:
    lines = []
    for rev in newest_first(graph, keep):
        record = graph.revisions[rev]
        down = ", ".join(record.down_revision) or "<base>"
        if record.depends_on:
            down += f" ({', '.join(record.depends_on)})"
        lines.append(" ".join([f"{down} -> {rev}", *marks(graph, rev)]) + f", {record.doc}")
    return lines


def _short_doc(doc: str, limit: int = 40) -> str:
    return cut(" ".join(doc.split()), limit)


@dataclass(frozen=True)
class Highlight:
    """Whose is which, for the pull request's diagram: its revisions (`added`), the common
    ancestors, and the heads the merge migration of the fix would join (none: no fix)."""

    added: frozenset[str] = frozenset()
    ancestors: frozenset[str] = frozenset()
    fix: tuple[str, ...] = ()


# Mermaid refuses a flowchart with more edges than this (its `maxEdges`, which a diagram on
# GitHub cannot raise), and GitHub shows its error instead of the diagram.
MERMAID_EDGE_LIMIT = 500
# `graph --format mermaid|dot` draws every revision up to here, and condenses beyond.
GRAPH_NODE_LIMIT = 400


def whole(graph: Graph, keep: Collection[str]) -> Drawing:
    """`keep` drawn revision by revision."""
    return condense(graph, newest_first(graph, keep), tops=(), limit=len(keep) + 1)


def within_limits(graph: Graph, keep: Collection[str]) -> Drawing:
    """`keep` condensed as far as Mermaid needs (heads and bases drawn as long as they fit)."""
    return condense(
        graph,
        newest_first(graph, keep),
        tops=[h for h in graph.heads if h in keep],
        roots=[b for b in graph.bases if b in keep],
        limit=GRAPH_NODE_LIMIT,
        edge_limit=MERMAID_EDGE_LIMIT,
    )


def mermaid(
    graph: Graph, keep: Collection[str], applied_in: Mapping[str, tuple[str, ...]] | None = None
) -> str:
    """`applied_in` (revision -> databases) marks what databases applied: a green border, and
    the names on the revisions each database is at."""
    return mermaid_drawing(graph, whole(graph, keep), applied_in)


def mermaid_drawing(
    graph: Graph,
    drawing: Drawing,
    applied_in: Mapping[str, tuple[str, ...]] | None = None,
    highlight: Highlight | None = None,
) -> str:
    """A drawing as a Mermaid flowchart, oldest at the bottom. A box that stands for several
    revisions is rounded and says how many; with `highlight`, the pull request's revisions
    and the base branch's have their own colours and the fix's merge migration is dashed."""
    applied_in = applied_in or {}
    ids = _mermaid_ids(graph, drawing)
    lines = ["flowchart BT"]
    for i, node in enumerate(drawing.nodes):
        if node.elided:
            lines.append(f'    {ids[i]}(["{_elided_label(graph, node, mermaid_label, "<br/>")}"])')
            continue
        rev = node.revisions[0]
        label = " ".join([rev, *marks(graph, rev), *_current_in(graph, rev, applied_in)])
        doc = _short_doc(graph.revisions[rev].doc)
        text = "<br/>".join(mermaid_label(part) for part in (label, doc) if part)
        lines.append(f'    {ids[i]}["{text}"]')
    lines += [f"    {ids[child]} --> {ids[parent]}" for child, parent in drawing.edges]
    lines += [f"    {ids[a]} -.-> {ids[b]}" for a, b in _dependency_edges(graph, drawing)]
    fixed = _boxes(drawing, highlight.fix) if highlight else []
    if fixed:
        lines.append('    m0["the merge migration the fix adds"]')
        lines += [f"    m0 -.-> {ids[i]}" for i in fixed]
    classes = (
        _highlight_classes(graph, drawing, highlight, fixed)
        if highlight
        else (_plain_classes(graph, drawing))
    )
    applied = [i for i, n in enumerate(drawing.nodes) if all(r in applied_in for r in n.revisions)]
    classes.append(("applied", "stroke:#1a7f37,stroke-width:3px", applied))
    for name, style, members in classes:
        if members:
            names = ",".join("m0" if m == -1 else ids[m] for m in members)
            lines += [f"    classDef {name} {style}", f"    class {names} {name}"]
    return "\n".join(lines) + "\n"


_Classes = list[tuple[str, str, list[int]]]


def _mermaid_ids(graph: Graph, drawing: Drawing) -> list[str]:
    """`r<load position>` for a revision (stable whatever else is drawn), `g<box>` for a box
    of several."""
    position = {rev: i for i, rev in enumerate(graph.revisions)}
    return [
        f"g{i}" if node.elided else f"r{position[node.revisions[0]]}"
        for i, node in enumerate(drawing.nodes)
    ]


def _elided_label(graph: Graph, node: Node, escape: Callable[[str], str], newline: str) -> str:
    """ "193 revisions", then the oldest and the newest of a run, or how many heads a box of
    several lines holds."""
    count = f"{len(node.revisions)} revisions"
    if node.chain:
        oldest, newest = (_short_doc(rev, 24) for rev in (node.revisions[-1], node.revisions[0]))
        return f"{count}{newline}{escape(f'{oldest} … {newest}')}"
    heads = sum(1 for rev in node.revisions if rev in graph.heads)
    return f"{count}{newline}{heads} heads among them" if heads else count


def _dependency_edges(graph: Graph, drawing: Drawing) -> list[tuple[int, int]]:
    """`depends_on` edges between boxes, where no parent edge joins them already."""
    box = drawing.index()
    drawn = set(drawing.edges)
    found: dict[tuple[int, int], None] = {}
    for rev, i in box.items():
        for dependency in graph.dependencies.get(rev, ()):
            j = box.get(dependency)
            if j is not None and j != i and (i, j) not in drawn:
                found[(i, j)] = None
    return list(found)


def _boxes(drawing: Drawing, revs: Collection[str]) -> list[int]:
    box = drawing.index()
    return list(dict.fromkeys(box[r] for r in revs if r in box))


def _plain_classes(graph: Graph, drawing: Drawing) -> _Classes:
    return [
        ("head", "fill:#fde2e1,stroke:#d1242f", _boxes(drawing, graph.heads)),
        ("branchpoint", "fill:#fff8c5,stroke:#9a6700", _boxes(drawing, graph.branchpoints)),
    ]


def _highlight_classes(
    graph: Graph, drawing: Drawing, highlight: Highlight, fixed: list[int]
) -> _Classes:
    """Blue for the pull request's revisions, grey for the base branch's, yellow for the
    common ancestor, a thick border for a head, dashed for the merge migration."""
    ours: list[int] = []
    theirs: list[int] = []
    for i, node in enumerate(drawing.nodes):
        if any(rev in highlight.ancestors for rev in node.revisions):
            continue
        (ours if all(r in highlight.added for r in node.revisions) else theirs).append(i)
    return [
        ("pr", "fill:#ddf4ff,stroke:#0969da,color:#0a3069", ours),
        ("base", "fill:#eaeef2,stroke:#59636e,color:#1f2328", theirs),
        ("ancestor", "fill:#fff8c5,stroke:#9a6700", _boxes(drawing, highlight.ancestors)),
        ("head", "stroke-width:3px", _boxes(drawing, graph.heads)),
        ("fix", "fill:#ffffff,stroke:#1a7f37,stroke-dasharray:5 5", [-1] if fixed else []),
    ]


def _current_in(graph: Graph, rev: str, applied_in: Mapping[str, tuple[str, ...]]) -> list[str]:
    """`(current: prod)` on the highest revision each database applied: Alembic's `(current)`,
    with the database named."""
    names = [
        name
        for name in applied_in.get(rev, ())
        if not any(name in applied_in.get(child, ()) for child in graph.dependents.get(rev, ()))
    ]
    return [f"(current: {', '.join(names)})"] if names else []


def dot(graph: Graph, keep: Collection[str]) -> str:
    return dot_drawing(graph, whole(graph, keep))


def dot_drawing(graph: Graph, drawing: Drawing) -> str:
    """A drawing in Graphviz DOT: heads filled, a box of several revisions rounded."""
    lines = ["digraph revisions {", "    rankdir=BT;", "    node [shape=box, fontname=monospace];"]
    ids = [f"g{i}" if n.elided else n.revisions[0] for i, n in enumerate(drawing.nodes)]
    for i, node in enumerate(drawing.nodes):
        if node.elided:
            label = _elided_label(graph, node, dot_string, "\\n")
            lines.append(f'    "{ids[i]}" [label="{label}", style=rounded];')
            continue
        rev = node.revisions[0]
        parts = [" ".join([rev, *marks(graph, rev)]), _short_doc(graph.revisions[rev].doc)]
        label = "\\n".join(dot_string(part) for part in parts if part)
        style = ', style=filled, fillcolor="#fde2e1"' if rev in graph.heads else ""
        lines.append(f'    "{dot_string(rev)}" [label="{label}"{style}];')
    quoted = [dot_string(i) for i in ids]
    lines += [f'    "{quoted[c]}" -> "{quoted[p]}";' for c, p in drawing.edges]
    lines += [
        f'    "{quoted[a]}" -> "{quoted[b]}" [style=dashed];'
        for a, b in _dependency_edges(graph, drawing)
    ]
    return "\n".join(lines) + "\n}\n"
