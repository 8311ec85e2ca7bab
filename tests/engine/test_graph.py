"""The revision graph, checked against Alembic's own RevisionMap on thousands of random graphs."""

from __future__ import annotations

import pytest
from alembic_heads_bot.engine.graph import build_graph
from alembic_heads_bot.engine.model import Revision
from hypothesis import HealthCheck, given, settings
from oracle import alembic_view, environments, our_fields, rev


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environments())
def test_valid_graphs_match_alembic_field_for_field(revisions):
    expected = alembic_view(revisions)
    graph = build_graph(revisions)
    if expected.error is not None:
        # Labels reaching one revision through depends_on may still be illegal (a label equal
        # to a revision id is impossible here, so only a real inconsistency lands here).
        assert expected.error in {p.code for p in graph.problems}
        return
    assert graph.problems == ()
    assert our_fields(graph) == expected.fields


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environments(broken=True))
def test_broken_graphs_report_the_error_alembic_stops_at(revisions):
    expected = alembic_view(revisions)
    codes = {p.code for p in build_graph(revisions).problems}
    if expected.warned_duplicate:
        # Alembic keeps the replaced file's object in its head set, so whatever it does next
        # (often a KeyError) follows from the duplicate, which is what must be reported.
        assert "duplicate-revision" in codes
    elif expected.error == "missing-dependency-or-label":
        assert codes & {"missing-dependency", "label-as-parent"}
    elif expected.error is not None:
        assert expected.error in codes
    else:
        assert codes == set()


# --- named cases, one per problem code -------------------------------------------------------


def codes(*revisions: Revision) -> list[str]:
    return [p.code for p in build_graph(list(revisions)).problems]


def test_classic_two_heads():
    graph = build_graph(
        [rev("a"), rev("b", "a"), rev("c", "b"), rev("d", "c"), rev("e", "c"), rev("f", "e")]
    )
    assert graph.heads == ("d", "f")
    assert graph.branchpoints == ("c",)
    assert graph.problems == ()


def test_effective_head_is_a_head_but_not_a_real_head():
    graph = build_graph(
        [rev("a"), rev("b", "a"), rev("n1", None, deps="a"), rev("n2", "n1", deps="b")]
    )
    assert graph.heads == ("b", "n2")
    assert graph.real_heads == ("n2",)
    assert graph.bases == ("a", "n1")
    assert graph.real_bases == ("a",)


def test_depends_on_a_label_means_the_revision_declaring_it():
    graph = build_graph([rev("a", labels="core"), rev("b", "a"), rev("x", None, deps="core")])
    assert graph.dependencies["x"] == ("a",)
    assert graph.real_heads == ("b", "x")


def test_labels_propagate_down_a_plain_chain_and_stop_at_a_branch_point():
    graph = build_graph(
        [rev("r0"), rev("r1", "r0"), rev("r2", "r1", labels="L"), rev("r3", "r2"), rev("x", "r0")]
    )
    assert graph.labels == {"L": ("r1", "r2", "r3")}
    assert graph.labels_of("r1") == ("L",)


def test_missing_parent_points_at_the_down_revision_line():
    (problem,) = build_graph([rev("a"), rev("b", "nope")]).problems
    assert problem.code == "missing-parent"
    assert (problem.path, problem.line) == ("versions/b.py", 2)
    assert "Revision nope referenced from b is not present" in problem.message


def test_missing_dependency():
    assert codes(rev("a"), rev("b", "a", deps="ghost")) == ["missing-dependency"]


def test_label_as_parent_is_an_error_but_keeps_the_edge():
    graph = build_graph([rev("a", labels="core"), rev("b", "core")])
    assert [p.code for p in graph.problems] == ["label-as-parent"]
    assert graph.heads == ("b",)


def test_duplicate_revision_names_both_files():
    first, second = rev("a"), Revision("a", (), path="versions/other.py", lines={"revision": 7})
    (problem,) = build_graph([first, second, rev("b", "a")]).problems
    assert problem.code == "duplicate-revision"
    assert (problem.path, problem.line) == ("versions/other.py", 7)
    assert "versions/a.py" in problem.message


def test_self_loop_and_dependency_self_loop():
    assert codes(rev("a"), rev("b", ("a", "b"))) == ["self-loop"]
    assert codes(rev("a"), rev("b", "a", deps="b")) == ["dependency-self-loop"]


def test_cycle_lists_the_revisions_outside_head_to_base_space_sorted():
    graph = build_graph([rev("a"), rev("b", "a"), rev("d", "c"), rev("c", "d")])
    (problem,) = graph.problems
    assert problem.code == "cycle"
    assert problem.message == "Cycle is detected in revisions (c, d)"
    assert problem.path == "versions/d.py"


def test_cycle_without_any_base_lists_everything_in_load_order():
    (problem,) = build_graph([rev("b", "a"), rev("a", "b")]).problems
    assert problem.message == "Cycle is detected in revisions (b, a)"


def test_dependency_cycle():
    (problem,) = build_graph([rev("a1a1", None, deps="b2b2"), rev("b2b2", "a1a1")]).problems
    assert problem.code == "dependency-cycle"
    assert problem.message == "Dependency cycle is detected in revisions (a1a1, b2b2)"


@pytest.mark.parametrize(
    "revisions",
    [
        [rev("a", labels="x"), rev("b", "a", labels="x")],
        [rev("a", labels=("x", "x"))],
        [rev("a"), rev("b", "a", labels="a")],
    ],
    ids=["twice", "repeated-in-one", "equals-an-id"],
)
def test_duplicate_label(revisions):
    assert codes(*revisions) == ["duplicate-label"]


def test_every_problem_is_reported_at_once():
    found = codes(
        rev("a"),
        rev("b", "gone"),
        rev("c", "a", deps="ghost"),
        rev("d", "a", labels="x"),
        rev("e", "a", labels="x"),
        rev("f", "f"),
    )
    assert sorted(found) == ["duplicate-label", "missing-dependency", "missing-parent", "self-loop"]


def test_incomplete_revision_keeps_its_children_attached():
    broken = Revision("b", (), path="versions/b.py", complete=False)
    graph = build_graph([rev("a"), broken, rev("c", "b")])
    assert graph.problems == ()
    assert graph.bases == ("a",)
    assert graph.heads == ("a", "c")
