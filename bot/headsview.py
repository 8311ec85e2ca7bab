"""A tree scan -> what `heads` prints: Alembic-style text, or the documented JSON shape."""

from __future__ import annotations

from bot.diagram import marks
from bot.model import Problem
from bot.scan import EnvironmentScan, TreeScan


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
