"""Tests for `engine.forecast`: which open pull requests collide once both land."""

from __future__ import annotations

from alembic_heads_bot.engine.forecast import (
    FORECAST_MARKER,
    Collision,
    Side,
    collide,
    forecast,
    forecast_of,
    forecast_section,
    side_of,
    with_forecast,
)
from alembic_heads_bot.engine.graph import build_graph
from oracle import rev

BASE = {"alembic.ini": build_graph([rev("a"), rev("b", "a")])}


def side(number: int, *revisions) -> Side:
    head = {"alembic.ini": build_graph([rev("a"), rev("b", "a"), *revisions])}
    return side_of(number, BASE, head)


def test_two_pull_requests_on_the_same_parent_collide_both_ways() -> None:
    orders, users = side(1, rev("c", "b")), side(2, rev("d", "b"))
    assert orders.added == {"alembic.ini": (rev("c", "b"),)}
    found = forecast(BASE, [orders, users, side(3)])  # #3 adds nothing: left out
    assert found == {
        1: (Collision(2, "alembic.ini", ("b",), ("c", "d")),),
        2: (Collision(1, "alembic.ini", ("b",), ("c", "d")),),
    }


def test_a_stacked_pull_request_a_labelled_branch_and_a_merge_do_not_collide() -> None:
    orders = side(1, rev("c", "b"))
    stacked = side(2, rev("c", "b"), rev("e", "c"))  # built on #1's branch
    labelled = side(3, rev("x", None, labels="audit"))  # a separate, labelled history
    joined = side(4, rev("c", "b"), rev("d", "b"), rev("m", ("c", "d")))
    assert collide(BASE, orders, stacked) == []
    assert collide(BASE, orders, labelled) == []
    assert collide(BASE, orders, joined) == []


def test_no_forecast_for_a_pull_request_failing_alone_and_no_command_for_two_new_heads() -> None:
    older = side(1, rev("c", "a"))  # on a, below the tip b: two heads on its own already
    assert collide(BASE, side(3, rev("f", "b")), older) == []
    two = side(2, rev("d", "b"), rev("e", "d"), rev("g", "d"))  # d's two children
    [hit] = collide(BASE, side(3, rev("f", "b")), two)
    assert (hit.parents, hit.heads) == (("b",), ())


def test_the_section_links_quotes_and_escapes() -> None:
    hostile = "d`$(rm -rf ~)"
    hits = [Collision(12, "alembic.ini", ("b",), ("c", hostile)), Collision(13, "x", (), ())]
    text = forecast_section(hits, "main", "https://github.com/o/r", "/merge-heads")
    assert text.startswith(FORECAST_MARKER + "\n**Collision forecast** with other open pull ")
    assert (
        "- [#12](https://github.com/o/r/pull/12) also builds on `b`: whichever merges second "
        "will need `/merge-heads` (or ``alembic merge -m 'merge heads c, d`$(rm -rf ~)' c "
        "'d`$(rm -rf ~)'``)."
    ) in text
    assert "- [#13](https://github.com/o/r/pull/13) also adds a revision to this history" in text
    assert forecast_section([], "main", "u", None) == ""


def test_a_comment_keeps_its_report_when_the_section_is_replaced_or_removed() -> None:
    report = "<!-- m -->\n### report\n"
    section = forecast_section(
        [Collision(2, "alembic.ini", ("b",), ())], "main", "https://h/o/r", None
    )
    body = with_forecast(report, section)
    assert body == report + "\n" + section and forecast_of(body) == section
    assert with_forecast(body, section) == body
    assert with_forecast(body, "") == report and forecast_of(report) == ""
    assert with_forecast(report, "") == report
