"""What a database applied, against a graph: checked against Alembic's own upgrade planning."""

from __future__ import annotations

from alembic.script import revision as alembic_revision
from alembic_heads_bot.engine.deployed import applied, marks, pending, still_to_run, unknown
from alembic_heads_bot.engine.graph import build_graph
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import environments, rev


def alembic_upgrade_set(revisions, rows: tuple[str, ...]) -> set[str]:
    """What Alembic's `upgrade heads` would run from a version table holding `rows`."""

    def generate():
        return [
            alembic_revision.Revision(
                r.revision,
                r.down_revision[0] if len(r.down_revision) == 1 else r.down_revision or None,
                dependencies=r.depends_on or None,
                branch_labels=r.branch_labels or None,
            )
            for r in revisions
        ]

    revision_map = alembic_revision.RevisionMap(generate)
    todo, _ = revision_map._collect_upgrade_revisions(
        "heads", rows, inclusive=False, implicit_base=True, assert_relative_length=True
    )
    return {r.revision for r in todo}


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_what_upgrade_runs_matches_alembic(data):
    revisions = data.draw(environments())
    graph = build_graph(revisions)
    if graph.problems:
        return  # labels reaching a revision twice: not a map Alembic would build
    picked = data.draw(st.lists(st.sampled_from(list(graph.revisions)), max_size=3))
    # A version table never holds a revision below another row: Alembic replaces it.
    rows = tuple(r for r in dict.fromkeys(picked) if not any(
        r != other and r in graph.ancestors([other], dependencies=True) for other in picked
    ))  # fmt: skip
    run = pending(graph, rows)
    assert set(run) == alembic_upgrade_set(revisions, rows)
    done = applied(graph, rows)
    for position, revision in enumerate(run):
        below = (
            {*graph.parents(revision), *graph.dependencies.get(revision, ())} - done - {revision}
        )
        assert below <= set(run[:position]), "every revision after what it needs"


def test_depends_on_is_applied_first_and_counts_as_applied():
    graph = build_graph([rev("a"), rev("x"), rev("b", "a", deps="x")])
    assert applied(graph, ["b"]) == {"a", "b", "x"}
    assert still_to_run(graph, set()) == ("a", "x", "b")


def test_rows_the_code_lacks_are_unknown_and_marked():
    graph = build_graph([rev("a"), rev("b", "a"), rev("c", "a")])
    assert unknown(graph, ["b", "zz", "zz"]) == ("zz",)
    assert [marks(graph, r) for r in ("a", "b", "zz")] == [
        ["(branchpoint)"],
        ["(head)"],
        ["(not in the code)"],
    ]


def test_a_cycle_leaves_its_revisions_last_instead_of_looping():
    graph = build_graph([rev("a", "b"), rev("b", "a"), rev("c")])
    assert still_to_run(graph, set()) == ("c", "a", "b")
