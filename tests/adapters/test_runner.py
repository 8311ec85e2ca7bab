"""The runner's side: inputs as the runner names them, the outputs file, workflow commands.

`RunnerModel` reads our output the way actions/runner does (ActionCommand.TryParseV2 and
TryParse, the stop-commands state, the heredoc file format), so each test shows what the runner
would make of what the action printed or wrote.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from alembic_heads_bot.adapters.runner import (
    InputError,
    WorkflowLog,
    annotation,
    append_summary,
    could_be_command,
    format_output,
    get_boolean,
    get_choice,
    get_input,
    input_variable,
    write_outputs,
)
from runner_model import RunnerModel, read_outputs

HOSTILE = "100% done\n::error::pwned\r\n::set-output name=ok::true\n##[add-mask]x ::warning::"


# --- inputs ----------------------------------------------------------------------------------


def test_inputs_are_read_with_their_dashes_kept_as_the_runner_names_them() -> None:
    environ = {"INPUT_GITHUB-TOKEN": "  ghs_abc \n", "INPUT_GITHUB_TOKEN": "wrong"}
    assert input_variable("github-token") == "INPUT_GITHUB-TOKEN"
    assert input_variable("status name") == "INPUT_STATUS_NAME"
    assert get_input(environ, "github-token") == "ghs_abc"
    assert get_input(environ, "status-name", "alembic-heads") == "alembic-heads"
    assert get_input({"INPUT_CONFIG": "   "}, "config", "x") == "x"


def test_an_enumerated_input_outside_its_choices_is_a_clear_error() -> None:
    environ = {"INPUT_FAIL-ON": "sometimes"}
    with pytest.raises(InputError) as caught:
        get_choice(environ, "fail-on", ("new-heads", "problems", "never"), "new-heads")
    assert str(caught.value) == (
        "input fail-on: 'sometimes' is not one of new-heads, problems, never (default: new-heads)"
    )
    assert get_choice({}, "fail-on", ("new-heads", "never"), "new-heads") == "new-heads"
    assert get_choice({"INPUT_FAIL-ON": " never "}, "fail-on", ("new-heads", "never"), "x")


def test_boolean_inputs_take_the_yaml_core_spellings_only() -> None:
    assert get_boolean({"INPUT_AUTO-FIX": "TRUE"}, "auto-fix", False) is True
    assert get_boolean({"INPUT_AUTO-FIX": "False"}, "auto-fix", True) is False
    assert get_boolean({}, "auto-fix", False) is False
    with pytest.raises(InputError, match="input auto-fix: 'yes' is not a boolean"):
        get_boolean({"INPUT_AUTO-FIX": "yes"}, "auto-fix", False)


# --- outputs and summary ---------------------------------------------------------------------


def test_outputs_survive_newlines_and_delimiter_like_text(tmp_path: Path) -> None:
    hostile = "first\nghadelimiter_0123\nok<<EOF\nok=true\nEOF\n::set-output name=ok::true"
    output = tmp_path / "output"
    output.write_text("earlier=1\n")
    write_outputs(output, {"ok": "false", "report": hostile, "heads": '["a", "b"]'})
    assert read_outputs(output.read_text()) == {
        "earlier": "1",
        "ok": "false",
        "report": hostile,
        "heads": '["a", "b"]',
    }


def test_each_output_gets_its_own_random_delimiter_absent_from_the_value() -> None:
    first, second = format_output("report", "x"), format_output("report", "x")
    delimiter = first.split("\n")[0].split("<<")[1]
    assert delimiter.startswith("ghadelimiter_") and first != second
    value = f"{delimiter[:20]}\n{delimiter[:-1]}"
    text = format_output("report", value)
    assert text.split("\n")[0].split("<<")[1] not in value
    with pytest.raises(ValueError, match="invalid output name"):
        format_output("a\nb", "x")


def test_the_summary_is_appended_never_overwritten(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# from an earlier step\n")
    append_summary(summary, "### first")
    append_summary(summary, "### second\n")
    assert summary.read_text() == "# from an earlier step\n### first\n### second\n"


# --- workflow commands -----------------------------------------------------------------------


def test_a_hostile_annotation_stays_one_command_with_its_text_intact() -> None:
    line = annotation("error", HOSTILE, file="migrations/a,b::c.py", line=12, title="t::x,y=1%\nz")
    assert "\n" not in line and "\r" not in line
    assert line.startswith("::error file=migrations/a%2Cb%3A%3Ac.py,line=12,title=")
    assert RunnerModel().feed(line) == [
        ("error", {"file": "migrations/a,b::c.py", "line": "12", "title": "t::x,y=1%\nz"}, HOSTILE)
    ]


def test_an_annotation_without_a_file_carries_no_line() -> None:
    assert annotation("warning", "50%", line=3) == "::warning::50%25"
    with pytest.raises(ValueError, match="annotation level"):
        annotation("add-mask", "x")


def test_untrusted_text_that_looks_like_commands_runs_none_of_them() -> None:
    stream = io.StringIO()
    log = WorkflowLog(stream)
    log.untrusted(f"report:\n  ::add-mask::secret\n{HOSTILE}\n")
    log.error("after the block")
    printed = stream.getvalue()
    assert "  ::add-mask::secret\n100% done\n::error::pwned" in printed
    assert RunnerModel().feed(printed) == [("error", {}, "after the block")]


def test_plain_untrusted_text_is_printed_as_is() -> None:
    stream = io.StringIO()
    WorkflowLog(stream).untrusted("alembic-heads-bot: OK: 100% fine :: really\n")
    assert stream.getvalue() == "alembic-heads-bot: OK: 100% fine :: really\n"
    assert not could_be_command("a :: b\nc ## [d]")
    assert could_be_command("x\n \t::debug::y")
    assert could_be_command("text ##[group]title")


def test_the_mask_command_carries_the_secret_once_and_nothing_else() -> None:
    stream = io.StringIO()
    log = WorkflowLog(stream)
    log.add_mask("ghs_%secret\nsecond")
    log.add_mask("   ")
    assert RunnerModel().feed(stream.getvalue()) == [("add-mask", {}, "ghs_%secret\nsecond")]
