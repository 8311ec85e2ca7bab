"""A revision graph -> text, Mermaid or Graphviz DOT, with heads and branch points marked.

Text follows `alembic history`: newest first, one line per revision,
`<parents> -> <rev> (labels) (head) (branchpoint) (mergepoint), <doc>`.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping

from alembic_heads_bot.engine.graph import Graph
from alembic_heads_bot.engine.report.escape import cut, dot_string, mermaid_label

FORMATS = ("text", "mermaid", "dot")


def render(graph: Graph, fmt: str, nodes: Collection[str] | None = None) -> str:
    """`graph` (or only `nodes` of it) in one of FORMATS."""
    keep = set(graph.revisions) if nodes is None else set(nodes)
    if fmt == "mermaid":
        return mermaid(graph, keep)
    if fmt == "dot":
        return dot(graph, keep)
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


def mermaid(
    graph: Graph, keep: Collection[str], applied_in: Mapping[str, tuple[str, ...]] | None = None
) -> str:
    """`applied_in` (revision -> databases) marks what databases applied: a green border, and
    the names on the revisions each database is at."""
    applied_in = applied_in or {}
    ids = {rev: f"r{i}" for i, rev in enumerate(graph.revisions) if rev in keep}
    lines = ["flowchart BT"]
    for rev in newest_first(graph, keep):
        label = " ".join([rev, *marks(graph, rev), *_current_in(graph, rev, applied_in)])
        doc = _short_doc(graph.revisions[rev].doc)
        text = "<br/>".join(mermaid_label(part) for part in (label, doc) if part)
        lines.append(f'    {ids[rev]}["{text}"]')
    for rev in ids:
        lines += [f"    {ids[rev]} --> {ids[p]}" for p in graph.parents(rev) if p in ids]
        lines += [
            f"    {ids[rev]} -.-> {ids[d]}" for d in graph.dependencies.get(rev, ()) if d in ids
        ]
    heads = [ids[r] for r in graph.heads if r in ids]
    points = [ids[r] for r in graph.branchpoints if r in ids]
    if heads:
        lines += [
            "    classDef head fill:#fde2e1,stroke:#d1242f",
            f"    class {','.join(heads)} head",
        ]
    if points:
        lines += ["    classDef branchpoint fill:#fff8c5,stroke:#9a6700"]
        lines.append(f"    class {','.join(points)} branchpoint")
    applied = [ids[r] for r in ids if r in applied_in]
    if applied:
        lines += ["    classDef applied stroke:#1a7f37,stroke-width:3px"]
        lines.append(f"    class {','.join(applied)} applied")
    return "\n".join(lines) + "\n"


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
    lines = ["digraph revisions {", "    rankdir=BT;", "    node [shape=box, fontname=monospace];"]
    for rev in newest_first(graph, keep):
        parts = [" ".join([rev, *marks(graph, rev)]), _short_doc(graph.revisions[rev].doc)]
        label = "\\n".join(dot_string(part) for part in parts if part)
        style = ', style=filled, fillcolor="#fde2e1"' if rev in graph.heads else ""
        lines.append(f'    "{dot_string(rev)}" [label="{label}"{style}];')
    for rev in graph.revisions:
        if rev not in keep:
            continue
        lines += [
            f'    "{dot_string(rev)}" -> "{dot_string(parent)}";'
            for parent in graph.parents(rev)
            if parent in keep
        ]
        lines += [
            f'    "{dot_string(rev)}" -> "{dot_string(d)}" [style=dashed];'
            for d in graph.dependencies.get(rev, ())
            if d in keep
        ]
    return "\n".join(lines) + "\n}\n"
