"""Deployed state: what a database has applied, set against a revision graph. Pure.

Alembic's version table holds the *tops* of what a database applied: one row per applied
branch (several after `upgrade heads` on a graph with labelled streams). Everything below a
row, along `down_revision` and `depends_on`, was applied too, since Alembic runs dependencies
first. A row the code does not have makes every Alembic command on that database fail with
"Can't locate revision identified by ...".
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from alembic_heads_bot.engine.graph import Graph
from alembic_heads_bot.engine.report.diagram import marks as graph_marks


@dataclass(frozen=True)
class DatabaseState:
    """One named database as the shell read it.

    `environment` is the Alembic environment it records (None when the configuration names
    none that exists). `rows` is its version table, None when the table does not exist (Alembic
    never ran there). `error` says why the database could not be read, in words safe to publish:
    never its URL, host or password.
    """

    name: str
    environment: str | None
    rows: tuple[str, ...] | None = None
    error: str | None = None
    table: str = "alembic_version"

    @property
    def read(self) -> bool:
        return self.error is None


def table_name(table: str, schema: str | None) -> str:
    """The version table as reports name it: `schema.table`, or the table alone."""
    return f"{schema}.{table}" if schema else table


def applied(graph: Graph, rows: Iterable[str]) -> set[str]:
    """Every revision of `graph` a database with these version rows has applied."""
    return graph.ancestors((r for r in rows if r in graph.revisions), dependencies=True)


def unknown(graph: Graph, rows: Iterable[str]) -> tuple[str, ...]:
    """Rows the code has no revision for: Alembic cannot upgrade that database at all."""
    return tuple(r for r in dict.fromkeys(rows) if r not in graph.revisions)


def pending(graph: Graph, rows: Iterable[str]) -> tuple[str, ...]:
    """What `alembic upgrade heads` would still run there, oldest first."""
    return still_to_run(graph, applied(graph, rows))


def still_to_run(graph: Graph, done: Collection[str]) -> tuple[str, ...]:
    """The revisions of `graph` outside `done`, each after its parents and dependencies (as
    upgrade runs them), ties in load order; revisions on a cycle last."""
    position = {rev: i for i, rev in enumerate(graph.revisions)}
    left = {rev for rev in graph.revisions if rev not in done}
    # A revision may depend on its own branch label, which Alembic allows: not an edge.
    below = {
        rev: ({*graph.parents(rev), *graph.dependencies.get(rev, ())} & left) - {rev}
        for rev in left
    }
    ready = [(position[rev], rev) for rev in left if not below[rev]]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, rev = heapq.heappop(ready)
        order.append(rev)
        for above in graph.dependents.get(rev, ()):
            if above in below and rev in below[above]:
                below[above].discard(rev)
                if not below[above]:
                    heapq.heappush(ready, (position[above], above))
    placed = set(order)
    return (*order, *(rev for rev in graph.revisions if rev in left and rev not in placed))


def marks(graph: Graph, row: str) -> list[str]:
    """How `current` shows a row: Alembic's markers, or that the code lacks it."""
    if row not in graph.revisions:
        return ["(not in the code)"]
    return graph_marks(graph, row, labels=False)
