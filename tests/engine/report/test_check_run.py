"""Check-run output and commit-status text from real verdicts."""

from __future__ import annotations

import re
from pathlib import Path

from alembic_heads_bot.engine.analysis import RuleResult, Verdict
from alembic_heads_bot.engine.report.check_run import (
    ANNOTATIONS_PER_REQUEST,
    DESCRIPTION_LIMIT,
    check_output,
    conclusion,
    status_description,
    status_state,
)
from hostile import PR_FILE, assert_renders_as_text, hostile_verdict, linker
from hostile import SIDES as HOSTILE_SIDES
from verdicts import SIDES, many_heads, verdicts


def test_a_failing_verdict_fails_the_check_with_an_annotation_on_the_down_revision_line(
    tmp_path: Path,
) -> None:
    failing, _ = verdicts(tmp_path)
    output = check_output(failing, SIDES, exit_code=1)
    assert output.conclusion == "failure"
    [note] = output.annotations
    assert {k: note[k] for k in ("path", "start_line", "end_line", "annotation_level")} == {
        "path": "m/versions/d.py", "start_line": 3, "end_line": 3, "annotation_level": "failure",
    }  # fmt: skip
    assert list(output.batches()) == [output.annotations]


def test_a_failure_the_inputs_do_not_block_on_is_neutral_and_a_clean_change_success(
    tmp_path: Path,
) -> None:
    failing, clean = verdicts(tmp_path)
    assert conclusion(failing, exit_code=0) == "neutral"
    assert conclusion(clean, exit_code=0) == "success"
    assert [status_state(1), status_state(0)] == ["failure", "success"]


def test_annotations_come_in_batches_of_fifty(tmp_path: Path) -> None:
    output = check_output(many_heads(tmp_path, 120), SIDES, exit_code=1)
    sizes = [len(batch) for batch in output.batches()]
    assert sizes == [ANNOTATIONS_PER_REQUEST, ANNOTATIONS_PER_REQUEST, 20]
    assert len(output.summary) <= 65_535


def test_a_clean_check_still_sends_its_output_once(tmp_path: Path) -> None:
    _, clean = verdicts(tmp_path)
    assert list(check_output(clean, SIDES, exit_code=0).batches()) == [()]


def test_a_commit_status_description_fits_in_140_characters(tmp_path: Path) -> None:
    failing, _ = verdicts(tmp_path)
    assert status_description(failing, SIDES) == (
        "New Alembic head: origin/main's single head becomes 2 once merged"
    )
    bad = many_heads(tmp_path, 3)
    text = status_description(bad)
    assert len(text) <= DESCRIPTION_LIMIT


def test_hostile_ids_and_file_names_stay_text_in_the_check_run(tmp_path: Path) -> None:
    verdict = hostile_verdict(tmp_path)
    output = check_output(verdict, HOSTILE_SIDES, exit_code=1, link=linker)
    assert_renders_as_text(output.summary, verdict)
    assert {note["path"] for note in output.annotations} == {PR_FILE, "m/versions/e.py"}
    for note in output.annotations:  # plain text on GitHub: one line, no reordering marks
        shown = note["title"] + note["message"]
        assert not re.search(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]", shown), shown
        assert len(note["title"]) <= 255


def test_a_cut_description_never_splits_an_emoji() -> None:
    rule = RuleResult("👩\u200d💻" * 60, violated=True, policy="fail")  # 180 characters
    verdict = Verdict("tree", None, (), (), (), (), (rule,))
    description = status_description(verdict)
    assert len(description) <= DESCRIPTION_LIMIT
    assert description == "Failed: " + "👩\u200d💻" * 43 + "…"
