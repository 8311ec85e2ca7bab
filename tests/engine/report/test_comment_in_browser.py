"""The sticky comment rendered the way GitHub shows it (cmark-gfm, then Mermaid 11 in headless
Chromium): every diagram draws, none is Mermaid's error bomb. One browser launch for all; the
screenshot is in tests/screenshots/comments.png for a developer to look at."""

from __future__ import annotations

import re

from alembic_heads_bot.app.pull_request import analyse
from alembic_heads_bot.engine.report.comment import comment_body
from alembic_heads_bot.engine.report.verdict import Sides
from browser import render
from histories import long_history, wide_history
from hostile import SIDES as HOSTILE_SIDES
from hostile import hostile_verdict
from verdicts import classic

SIDES = Sides(base="main", head="feature")


def test_every_diagram_of_the_comment_draws_in_a_browser(tmp_path):
    repo = classic(tmp_path)
    comments = {
        "the classic case": comment_body(
            analyse(repo.path, "main", "feature"), SIDES, status_name="s", previous=None
        ),
        "200 revisions in a line": comment_body(
            long_history(), SIDES, status_name="s", previous=None
        ),
        "twelve heads on main": comment_body(wide_history(), SIDES, status_name="s", previous=None),
        "hostile ids and messages": comment_body(
            hostile_verdict(tmp_path), HOSTILE_SIDES, status_name="s", previous=None
        ),
    }
    dom, status = render(comments, "comments.png", height=4300)
    assert status == {"blocks": 4, "errors": []}
    drawn = re.findall(r'aria-roledescription="([^"]*)"', dom)
    assert drawn == ["flowchart-v2"] * 4  # Mermaid's error diagram is "error"
    assert "Syntax error in text" not in dom
    assert "191 revisions" in dom and "the merge migration" in dom
