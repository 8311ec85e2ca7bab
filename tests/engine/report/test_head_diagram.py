"""The pull request's diagram on any history: at most 30 boxes, every head joined to the common
ancestor, whose is which, and every diagram accepted by Mermaid's own parser."""

from __future__ import annotations

import re

import pytest
from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.graph import build_graph
from alembic_heads_bot.engine.model import Revision
from alembic_heads_bot.engine.report.diagram import MERMAID_EDGE_LIMIT, render
from alembic_heads_bot.engine.report.head_diagram import MAX_DIAGRAM_NODES, MAX_HEADS_DRAWN
from alembic_heads_bot.engine.report.verdict import Sides, markdown_report
from histories import labelled_history, long_history, pull_request, wide_history
from rendered import mermaid_text

SIDES = Sides(base="main", head="feature")


class Picture:
    """A diagram as a reader sees it: boxes with their text, arrows, and classes."""

    def __init__(self, diagram: str) -> None:
        self.labels = {
            node: mermaid_text(label)
            for node, label in re.findall(r'^    (\w+)\(?\["(.*)"\]\)?$', diagram, re.MULTILINE)
        }
        self.edges = re.findall(r"^    (\w+) --> (\w+)$", diagram, re.MULTILINE)
        self.fix_edges = re.findall(r"^    m0 -\.-> (\w+)$", diagram, re.MULTILINE)
        self.classes = {
            name: members.split(",")
            for members, name in re.findall(r"^    class (\S+) (\w+)$", diagram, re.MULTILINE)
        }

    def node(self, text: str) -> str:
        [found] = [node for node, label in self.labels.items() if label.startswith(text)]
        return found

    def reaches(self, start: str, goal: str) -> bool:
        seen, frontier = {start}, [start]
        while frontier:
            node = frontier.pop()
            for child, parent in self.edges:
                if child == node and parent not in seen:
                    seen.add(parent)
                    frontier.append(parent)
        return goal in seen

    def counted(self) -> int:
        """How many revisions the boxes stand for."""
        found = 0
        for node, label in self.labels.items():
            if node == "m0":
                continue
            many = re.match(r"(\d+) revisions", label)
            found += int(many.group(1)) if many else 1
        return found


def comment_diagram(verdict: Verdict, mermaid_parser) -> tuple[str, str]:
    """The report, and its one diagram, which Mermaid's parser accepts."""
    body = markdown_report(verdict, SIDES)
    [diagram] = mermaid_parser.assert_blocks_parse(body)
    return body, diagram


def test_the_long_history_is_drawn_whole_and_true_in_a_few_boxes(mermaid_parser):
    body, diagram = comment_diagram(long_history(), mermaid_parser)
    picture = Picture(diagram)
    assert len(picture.labels) <= MAX_DIAGRAM_NODES
    assert picture.labels == {
        "r199": "r199 (head)<br/>step r199",
        "r198": "r198<br/>step r198",
        "g2": "191 revisions<br/>r007 … r197",
        "r6": "r006<br/>step r006",
        "r201": "x2 (head)<br/>step x2",
        "r200": "x1<br/>step x1",
        "r5": "r005 (branchpoint)<br/>step r005",
        "m0": "the merge migration the fix adds",
    }
    # every revision since the common ancestor is accounted for, main's line is unbroken
    assert picture.counted() == 195 + 2
    assert picture.reaches("r199", "r5") and picture.reaches("r201", "r5")
    assert sorted(picture.fix_edges) == ["r199", "r201"]
    assert picture.classes["pr"] == ["r201", "r200"]
    assert picture.classes["base"] == ["r199", "r198", "g2", "r6"]
    assert picture.classes["ancestor"] == ["r5"]
    legend = body.split("```mermaid\n", 1)[1].split("```\n", 1)[1].splitlines()[0]
    assert legend == (
        "_Blue: added by feature; grey: from `main`; yellow: the common ancestor; thick "
        "border: a head; dashed: the merge migration the fix adds; a rounded box: revisions "
        "drawn as one, counted._"
    )
    assert "Only the" not in body


@pytest.mark.parametrize("history", [wide_history, labelled_history])
def test_wide_and_labelled_histories_stay_within_the_limit_and_connected(history, mermaid_parser):
    verdict = history()
    [env] = verdict.environments
    [new] = env.new_heads
    _, diagram = comment_diagram(verdict, mermaid_parser)
    picture = Picture(diagram)
    assert len(picture.labels) <= MAX_DIAGRAM_NODES
    [ancestor] = picture.classes["ancestor"]
    alone = [node for node, label in picture.labels.items() if " (head)" in label]
    shared = {
        node: int(found.group(1))
        for node, label in picture.labels.items()
        if (found := re.search(r"(\d+) heads among them", label))
    }
    assert len(alone) <= MAX_HEADS_DRAWN
    assert len(alone) + sum(shared.values()) == 1 + len(new.collides_with)
    assert picture.node(f"{new.revision} ") in alone  # the pull request's own head
    assert all(picture.reaches(node, ancestor) for node in [*alone, *shared])
    assert sorted(picture.fix_edges) == sorted([*alone, *shared])
    ours = picture.classes["pr"]
    assert all(any(rev in picture.labels[node] for node in ours) for rev in env.added)
    assert not any(rev in picture.labels[node] for node in ours for rev in env.base_heads)


def test_far_more_heads_than_fit_side_by_side_share_a_box_and_stay_joined(mermaid_parser):
    lanes = {f"h{i:02}": ("root", "") for i in range(40)}
    verdict = pull_request({"root": (None, "")}, lanes, {"mine": ("root", "")})
    _, diagram = comment_diagram(verdict, mermaid_parser)
    picture = Picture(diagram)
    assert len(picture.labels) <= MAX_DIAGRAM_NODES
    assert picture.counted() == 42
    assert "33 revisions<br/>33 heads among them" in picture.labels.values()
    root = picture.node("root")
    assert picture.reaches(picture.node("mine (head)"), root)
    assert all(picture.reaches(node, root) for node in picture.labels if node not in ("m0", root))


def test_a_message_is_cut_between_characters_not_inside_an_emoji(mermaid_parser):
    coder = "👩\u200d💻"  # woman, zero-width joiner, laptop: one character on screen
    graph = build_graph([Revision("a", doc="x" * 37 + coder + " and more")])
    diagram = render(graph, "mermaid")
    mermaid_parser.assert_parses(diagram)
    assert Picture(diagram).labels["r0"] == "a (head)<br/>" + "x" * 37 + "…"
    graph = build_graph([Revision("a", doc="x" * 36 + coder + " y")])
    assert (
        Picture(render(graph, "mermaid")).labels["r0"] == "a (head)<br/>" + "x" * 36 + coder + "…"
    )


def _line(count: int) -> list[Revision]:
    return [Revision("r0")] + [Revision(f"r{i}", (f"r{i - 1}",)) for i in range(1, count)]


def test_graph_beyond_mermaids_edge_limit_is_condensed_unless_full(mermaid_parser):
    graph = build_graph([*_line(600), Revision("side", ("r3",))])
    full = render(graph, "mermaid", full=True)
    assert "Edge limit exceeded" in (mermaid_parser.error(full) or "")
    condensed = render(graph, "mermaid")
    mermaid_parser.assert_parses(condensed)
    picture = Picture(condensed)
    assert picture.counted() == 601
    assert len(picture.edges) <= MERMAID_EDGE_LIMIT
    r0 = picture.node("r0")
    assert picture.reaches(picture.node("r599 (head)"), r0)
    assert picture.reaches(picture.node("side (head)"), r0)
    dot = render(graph, "dot")
    assert '"g2" [label="593 revisions\\nr5 … r597", style=rounded];' in dot
    assert render(graph, "dot", full=True).count(" -> ") == 600


def test_a_small_graph_is_drawn_revision_by_revision(mermaid_parser):
    graph = build_graph(_line(30))
    assert render(graph, "mermaid") == render(graph, "mermaid", full=True)
    mermaid_parser.assert_parses(render(graph, "mermaid"))
