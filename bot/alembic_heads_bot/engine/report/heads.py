"""A tree scan -> what `heads` and `current` print: Alembic-style text, or JSON."""

from __future__ import annotations

from alembic_heads_bot.engine import deployed
from alembic_heads_bot.engine.graph import Graph
from alembic_heads_bot.engine.model import Problem
from alembic_heads_bot.engine.report.diagram import marks
from alembic_heads_bot.engine.scan import EnvironmentScan, TreeScan


def problem_line(problem: Problem) -> str:
    """`path:line: severity: message [code]`, the form editors and CI logs link."""
    where = problem.path or "<repository>"
    if problem.line is not None:
        where += f":{problem.line}"
    return f"{where}: {problem.severity}: {problem.message} [{problem.code}]"


def heads_text(scan: TreeScan) -> list[str]:
    """Alembic's `heads` lines per environment, with a header when there are several."""
    lines: list[str] = []
    several = len(scan.environments) > 1
    for env_scan in scan.environments:
        env = env_scan.environment
        if several:
            lines.append(f"# {env.name} ({env.script_location})")
        graph = env_scan.graph
        lines += [" ".join([rev, *marks(graph, rev, tree_indicators=False)]) for rev in graph.heads]
    return lines


def environment_dict(env_scan: EnvironmentScan) -> dict[str, object]:
    env, graph = env_scan.environment, env_scan.graph
    return {
        "name": env.name,
        "config": env.config_path,
        "script_location": env.script_location,
        "version_locations": list(env.version_locations),
        "resolved_from": env.resolved_from,
        "revisions": len(graph.revisions),
        "heads": list(graph.heads),
        "real_heads": list(graph.real_heads),
        "bases": list(graph.bases),
        "branchpoints": list(graph.branchpoints),
        "mergepoints": list(graph.mergepoints),
        "labels": {label: list(revs) for label, revs in graph.labels.items()},
        "problems": [p.as_dict() for p in env_scan.problems],
    }


def heads_dict(scan: TreeScan) -> dict[str, object]:
    return {
        "environments": [environment_dict(e) for e in scan.environments],
        "problems": [p.as_dict() for p in scan.problems],
    }


def current_text(graph: Graph, rows: tuple[str, ...]) -> list[str]:
    """Alembic's `current` lines: each version-table row with its markers."""
    return [" ".join([row, *deployed.marks(graph, row)]) for row in rows]


def current_dict(
    env_scan: EnvironmentScan, database: str, table: str, rows: tuple[str, ...] | None
) -> dict[str, object]:
    """`current --json`: the rows and where they sit; `rows` None when there is no table."""
    graph = env_scan.graph
    found = rows or ()
    return {
        "environment": env_scan.environment.name,
        "database": database,
        "version_table": table,
        "table_exists": rows is not None,
        "current": [{"revision": r, "marks": deployed.marks(graph, r)} for r in found],
        "unknown": list(deployed.unknown(graph, found)),
        "pending": list(deployed.pending(graph, found)),
    }


def current_summary(graph: Graph, table: str, rows: tuple[str, ...] | None) -> tuple[str, bool]:
    """One line on the database's state, and whether Alembic can work with it."""
    if rows is None:
        return f"no {table} table: Alembic has not run on this database", True
    lost = deployed.unknown(graph, rows)
    if lost:
        return (
            f"error: the database records {', '.join(lost)}, which the code does not have: "
            "Alembic can neither upgrade nor downgrade it until the code has "
            f"{'them' if len(lost) > 1 else 'it'} again",
            False,
        )
    waiting = deployed.pending(graph, rows)
    if not waiting:
        return "up to date: every revision is applied", True
    more = f" and {len(waiting) - 10} more" if len(waiting) > 10 else ""
    return f"{len(waiting)} not applied yet: {', '.join(waiting[:10])}{more}", True
