"""The diagram of a pull request's new heads: from the common ancestor to the heads, whose is
which, and where the fix's merge migration goes. Pure.

It answers what a reviewer asks first: which head is the pull request's and which came from
the base branch, where the two lines part, and what the fix would add. Whatever the history's
length or width it stays within MAX_DIAGRAM_NODES boxes, condensed (`condense`) so that every
head is still joined to the common ancestor.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from alembic_heads_bot.engine.analysis import EnvironmentVerdict, NewHead
from alembic_heads_bot.engine.graph import Graph
from alembic_heads_bot.engine.report.condense import Drawing, condense
from alembic_heads_bot.engine.report.diagram import Highlight, mermaid_drawing, newest_first
from alembic_heads_bot.engine.report.escape import inline_code, plain

# Boxes in the pull request's diagram, the fix's merge migration included.
MAX_DIAGRAM_NODES = 30
# Heads drawn side by side, each in a box of its own: more make boxes too small to read on a
# pull-request page; the rest share one box that counts them.
MAX_HEADS_DRAWN = 8


def focus_nodes(graph: Graph, heads: Sequence[NewHead]) -> set[str]:
    """The part of the graph that explains the new heads: from their common ancestors up to
    the heads involved (with no common ancestor: everything below the heads)."""
    tops = set(_tops(graph, heads))
    roots = _roots(graph, heads)
    below = graph.ancestors(tops)
    return (graph.descendants(roots) & below) | roots if roots else below


def _tops(graph: Graph, heads: Sequence[NewHead]) -> list[str]:
    """The heads to draw, the pull request's first: they stay boxes of their own longest."""
    found = [h.revision for h in heads] + [c for h in heads for c in h.collides_with]
    return [rev for rev in dict.fromkeys(found) if rev in graph.revisions]


def _roots(graph: Graph, heads: Sequence[NewHead]) -> set[str]:
    return {
        ancestor
        for ancestor in (h.common_ancestor for h in heads)
        if ancestor is not None and ancestor in graph.revisions
    }


def head_drawing(
    graph: Graph,
    env: EnvironmentVerdict,
    applied_in: Mapping[str, tuple[str, ...]],
) -> tuple[Drawing, Highlight]:
    """The environment's new heads drawn in at most MAX_DIAGRAM_NODES boxes."""
    nodes = focus_nodes(graph, env.new_heads)
    roots = _roots(graph, env.new_heads) or {b for b in graph.bases if b in nodes}
    added = frozenset(env.added)
    fix = tuple(env.merge_plan.heads) if _fix_shown(env) and env.merge_plan else ()
    drawing = condense(
        graph,
        newest_first(graph, nodes),
        tops=_tops(graph, env.new_heads),
        roots=roots,
        optional=_worth_a_box(graph, nodes, added, applied_in),
        limit=MAX_DIAGRAM_NODES - (1 if fix else 0),
        width=MAX_HEADS_DRAWN,
    )
    return drawing, Highlight(added, frozenset(roots), fix)


def _fix_shown(env: EnvironmentVerdict) -> bool:
    return env.merge_plan is not None and "new-heads" in env.failed_rules + env.warned_rules


def _worth_a_box(
    graph: Graph,
    nodes: Collection[str],
    added: Collection[str],
    applied_in: Mapping[str, tuple[str, ...]],
) -> set[str]:
    """Revisions drawn one by one while there is room: where the pull request's revisions
    start, and the revisions a database is at."""
    starts = {
        rev for rev in nodes if rev in added and not any(p in added for p in graph.parents(rev))
    }
    current = {
        rev
        for rev in nodes
        if applied_in.get(rev)
        and not any(c in nodes and applied_in.get(c) for c in graph.children.get(rev, ()))
    }
    return starts | current


def head_diagram_markdown(
    graph: Graph,
    env: EnvironmentVerdict,
    applied_in: Mapping[str, tuple[str, ...]],
    base: str,
    head: str,
) -> str:
    """The Mermaid block and, under it, a one-line legend of what its styles mean."""
    drawing, highlight = head_drawing(graph, env, applied_in)
    diagram = mermaid_drawing(graph, drawing, applied_in, highlight)
    # The blank line ends the legend's paragraph before what follows.
    return f"```mermaid\n{diagram}```\n{legend(drawing, highlight, applied_in, base, head)}\n"


def legend(
    drawing: Drawing,
    highlight: Highlight,
    applied_in: Mapping[str, tuple[str, ...]],
    base: str,
    head: str,
) -> str:
    """One line, naming only what the diagram shows."""
    drawn = drawing.index()
    parts = []
    if any(rev in highlight.added for rev in drawn):
        parts.append(f"blue: added by {plain(head)}")
    if any(rev not in highlight.added and rev not in highlight.ancestors for rev in drawn):
        parts.append(f"grey: from {inline_code(base)}")
    if any(rev in highlight.ancestors for rev in drawn):
        parts.append("yellow: the common ancestor")
    parts.append("thick border: a head")
    if highlight.fix:
        parts.append("dashed: the merge migration the fix adds")
    if drawing.condensed:
        parts.append("a rounded box: revisions drawn as one, counted")
    if any(rev in applied_in for rev in drawn):
        parts.append("green border: applied in a database the bot reads")
    text = "; ".join(parts)
    return f"_{text[0].upper()}{text[1:]}._"
