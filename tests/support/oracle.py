"""Test oracles and generators shared by several test modules: random revision graphs, and
what real Alembic computes for them (Alembic is only ever run on the tests' own revisions)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from alembic.script import revision as alembic_revision
from alembic_heads_bot.engine.graph import Graph
from alembic_heads_bot.engine.model import Revision
from hypothesis import strategies as st


def rev(rid: str, down: str | tuple[str, ...] | None = None, *, labels=(), deps=()) -> Revision:
    parents = (down,) if isinstance(down, str) else (down or ())
    labels = (labels,) if isinstance(labels, str) else tuple(labels)
    deps = (deps,) if isinstance(deps, str) else tuple(deps)
    lines = {"revision": 1, "down_revision": 2, "branch_labels": 3, "depends_on": 4}
    return Revision(rid, parents, labels, deps, path=f"versions/{rid}.py", lines=lines)


# --- the oracle ------------------------------------------------------------------------------


@dataclass
class AlembicView:
    """What Alembic computes for the same revisions: the fields, or the first error's code."""

    fields: dict[str, object] | None
    error: str | None
    warned_duplicate: bool


def _scalar(ids: tuple[str, ...]) -> str | tuple[str, ...] | None:
    return None if not ids else ids[0] if len(ids) == 1 else ids


def _alembic_error_code(exc: Exception, warned_missing: bool) -> str:
    if isinstance(exc, alembic_revision.DependencyLoopDetected):
        return "dependency-self-loop"
    if isinstance(exc, alembic_revision.LoopDetected):
        return "self-loop"
    if isinstance(exc, alembic_revision.DependencyCycleDetected):
        return "dependency-cycle"
    if isinstance(exc, alembic_revision.CycleDetected):
        return "cycle"
    if isinstance(exc, alembic_revision.RevisionError) and "Branch name" in str(exc):
        return "duplicate-label"
    if isinstance(exc, KeyError):
        return "missing-parent" if warned_missing else "missing-dependency-or-label"
    raise exc


def alembic_view(revisions: list[Revision]) -> AlembicView:
    """Alembic's RevisionMap over the same records, in the same load order."""

    def generate():
        return [
            alembic_revision.Revision(
                r.revision,
                _scalar(r.down_revision),
                dependencies=_scalar(r.depends_on),
                branch_labels=r.branch_labels or None,
            )
            for r in revisions
        ]

    return map_view(alembic_revision.RevisionMap(generate), lambda: [r.revision for r in revisions])


def script_directory_view(script_location: str, version_locations: list[str]) -> AlembicView:
    """Alembic reading revision files the tests wrote: its own listing, import and map."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(script_location, version_locations=version_locations)
    return map_view(script.revision_map, lambda: [s.revision for s in script._load_revisions()])


def map_view(rmap, load_order) -> AlembicView:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            heads = rmap.heads
            order = list(dict.fromkeys(load_order()))
        except Exception as exc:
            missing = any("is not present" in str(w.message) for w in caught)
            duplicate = any("present more than once" in str(w.message) for w in caught)
            return AlembicView(None, _alembic_error_code(exc, missing), duplicate)
    duplicate = any("present more than once" in str(w.message) for w in caught)
    objs = {r: rmap.get_revision(r) for r in order}
    labels: dict[str, list[str]] = {}
    for r in order:
        for label in objs[r].branch_labels:
            labels.setdefault(label, []).append(r)
    fields = {
        "heads": tuple(heads),
        "real_heads": tuple(rmap._real_heads),
        "bases": tuple(rmap.bases),
        "real_bases": tuple(rmap._real_bases),
        "branchpoints": tuple(r for r in order if objs[r].is_branch_point),
        "mergepoints": tuple(r for r in order if objs[r].is_merge_point),
        "labels": {k: tuple(v) for k, v in sorted(labels.items())},
    }
    return AlembicView(fields, None, duplicate)


def our_fields(graph: Graph) -> dict[str, object]:
    return {
        "heads": graph.heads,
        "real_heads": graph.real_heads,
        "bases": graph.bases,
        "real_bases": graph.real_bases,
        "branchpoints": graph.branchpoints,
        "mergepoints": graph.mergepoints,
        "labels": dict(graph.labels),
    }


# --- random graphs ---------------------------------------------------------------------------

IDS = st.text("0123456789abcdef", min_size=4, max_size=12)


@st.composite
def environments(draw, broken: bool = False) -> list[Revision]:
    """Revisions in a random load order, built in a random topological order so the graph is
    acyclic unless `broken` lets edges point anywhere."""
    n = draw(st.integers(1, 16))
    ids = draw(st.lists(IDS, min_size=n, max_size=n, unique=True))
    label_pool = [f"lbl{i}" for i in range(4)]
    revisions: list[Revision] = []
    labels_so_far: list[str] = []
    for i, rid in enumerate(ids):
        pool = ids if broken else ids[:i]
        recent = pool[max(0, i - 4) : i] or pool
        if not pool or draw(st.integers(0, 9)) == 0:
            parents: tuple[str, ...] = ()
        else:
            count = draw(st.sampled_from([1, 1, 1, 1, 2, 2, 3]))
            parents = tuple(draw(st.lists(st.sampled_from(recent), min_size=count, max_size=count)))
        labels: tuple[str, ...] = ()
        if draw(st.integers(0, 5)) == 0:
            choices = (
                label_pool + ids[:1]
                if broken
                else [x for x in label_pool if x not in labels_so_far]
            )
            if choices:
                labels = (draw(st.sampled_from(choices)),)
                labels_so_far += labels
        deps: tuple[str, ...] = ()
        if pool and draw(st.integers(0, 4)) == 0:
            targets = list(pool) + labels_so_far
            deps = tuple(draw(st.lists(st.sampled_from(targets), min_size=1, max_size=2)))
        if broken and draw(st.integers(0, 7)) == 0:
            parents += ("zzzzmissing",)
        revisions.append(rev(rid, parents, labels=labels, deps=deps))
    order = draw(st.permutations(range(n)))
    if broken and draw(st.integers(0, 5)) == 0:
        dup = revisions[draw(st.integers(0, n - 1))]
        revisions.append(rev(dup.revision, None))
        order = [*order, n]
    return [revisions[i] for i in order]


def config_view(ini_path: str, packages: tuple[str, ...] = ()) -> AlembicView:
    """Alembic reading a whole project through its config, as `alembic -c INI heads` does:
    prepend_sys_path goes on sys.path, so revision files can import the project's constants.
    `packages` are the project's top-level packages, forgotten again afterwards."""
    import sys

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    saved = list(sys.path)
    try:
        script = ScriptDirectory.from_config(Config(ini_path))
        return map_view(script.revision_map, lambda: [s.revision for s in script._load_revisions()])
    finally:
        sys.path[:] = saved
        for name in list(sys.modules):
            if name.partition(".")[0] in packages:
                del sys.modules[name]
