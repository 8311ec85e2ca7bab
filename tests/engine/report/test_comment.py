"""The sticky comment's body from real verdicts: marker, state, "resolved", and the size limit."""

from __future__ import annotations

from pathlib import Path

from alembic_heads_bot.engine.report.comment import (
    COMMENT_LIMIT,
    comment_body,
    is_sticky,
    marker,
    previous_state,
    worth_a_comment,
)
from hostile import SIDES as HOSTILE_SIDES
from hostile import assert_renders_as_text, hostile_verdict, linker
from rendered import Rendered
from verdicts import SIDES, many_heads, verdicts


def test_a_failing_body_starts_with_its_marker_and_state(tmp_path: Path, mermaid_parser) -> None:
    failing, _ = verdicts(tmp_path)
    body = comment_body(failing, SIDES, status_name="alembic-heads", previous=None)
    assert is_sticky(body, "alembic-heads") and not is_sticky(body, "other-name")
    assert previous_state(body) == "fail"
    assert "### ❌ New Alembic head: origin/main's single head becomes 2" in body
    assert len(mermaid_parser.assert_blocks_parse(body)) == 1


def test_a_fix_after_a_failure_is_resolved_and_stays_resolved(tmp_path: Path) -> None:
    _, clean = verdicts(tmp_path)
    fresh = comment_body(clean, SIDES, status_name="s", previous=None)
    assert previous_state(fresh) == "ok" and "Resolved" not in fresh
    fixed = comment_body(clean, SIDES, status_name="s", previous="fail")
    assert previous_state(fixed) == "resolved" and "**Resolved:**" in fixed
    # the next run reads "resolved" back and writes the same text: no edit, no notification
    assert comment_body(clean, SIDES, status_name="s", previous="resolved") == fixed


def test_a_failure_after_a_resolution_fails_again(tmp_path: Path) -> None:
    failing, _ = verdicts(tmp_path)
    body = comment_body(failing, SIDES, status_name="s", previous="resolved")
    assert previous_state(body) == "fail" and "Resolved" not in body


def test_a_new_comment_is_opened_only_when_there_is_something_to_say(tmp_path: Path) -> None:
    failing, clean = verdicts(tmp_path)
    assert [worth_a_comment(failing, p) for p in ("on-problem", "always", "never")] == [
        True, True, False,
    ]  # fmt: skip
    assert [worth_a_comment(clean, p) for p in ("on-problem", "always", "never")] == [
        False, True, False,
    ]  # fmt: skip


def test_the_marker_keeps_odd_status_names_inside_the_html_comment() -> None:
    assert marker("db --> x") == "<!-- alembic-heads-bot:comment=db_-_x -->"


def test_a_report_too_long_for_a_comment_drops_diagrams_then_details_then_is_cut(
    tmp_path: Path,
) -> None:
    verdict = many_heads(tmp_path, 400)
    full = comment_body(verdict, SIDES, status_name="s", previous=None, limit=10**7)
    assert "```mermaid" in full and "Shortened" not in full
    link = "https://example.test/run/1"
    no_diagram = comment_body(
        verdict, SIDES, status_name="s", previous=None, limit=len(full) - 1, full_report=link
    )
    assert "```mermaid" not in no_diagram and "<details>" in no_diagram
    assert no_diagram.endswith(
        f"_Shortened to fit a comment: the full report is in [the workflow run]({link})._\n"
    )
    tiny = comment_body(verdict, SIDES, status_name="s", previous=None, limit=3_000)
    assert len(tiny) <= 3_000 and previous_state(tiny) == "fail"
    assert tiny.endswith("the full report is in the workflow run's summary._\n")


def test_a_report_of_thousands_of_heads_stays_under_githubs_limit(tmp_path: Path) -> None:
    verdict = many_heads(tmp_path, 1_500)
    body = comment_body(verdict, SIDES, status_name="alembic-heads", previous=None)
    assert len(body) <= COMMENT_LIMIT < 65_536
    assert body.count("\n**New head") + body.count("\n- **New head") > 100


def test_hostile_ids_file_names_and_messages_render_as_text_in_the_comment(
    tmp_path: Path,
) -> None:
    verdict = hostile_verdict(tmp_path)
    run = "https://example.test/run/1"
    sides = HOSTILE_SIDES
    body = comment_body(
        verdict, sides, status_name="s", previous=None, link=linker, command="/merge-heads"
    )
    assert_renders_as_text(body, verdict)
    short = comment_body(
        verdict, sides, status_name="s", previous=None, link=linker, limit=2_500, full_report=run
    )
    assert "```mermaid" not in short
    assert_renders_as_text(short, verdict, links=(run,))
    assert Rendered(short).comments()[:2] == [
        " alembic-heads-bot:comment=s ", " alembic-heads-bot:state=fail ",
    ]  # fmt: skip
