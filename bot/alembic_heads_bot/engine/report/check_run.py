"""The status GitHub shows on a commit: a check run's conclusion, output and annotations, or a
commit status's state and description. Pure.

The status follows the step's exit code (the `fail-on` input), so that what branch protection
requires and what the job log says agree: failure when the step fails, neutral when the
verdict has something to say that does not block, success otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.report.comment import fit_report
from alembic_heads_bot.engine.report.escape import cut, visible
from alembic_heads_bot.engine.report.verdict import Finding, Linker, Sides, findings, headline

ANNOTATIONS_PER_REQUEST = 50  # GitHub's limit per create or update call
OUTPUT_LIMIT = 65_535  # characters of a check run's output summary
DESCRIPTION_LIMIT = 140  # characters of a commit status description
_TITLE_LIMIT = 255
_ANNOTATION_LEVELS = {"error": "failure", "warning": "warning"}


@dataclass(frozen=True)
class CheckOutput:
    conclusion: str  # "success", "neutral" or "failure"
    title: str
    summary: str
    annotations: tuple[dict[str, Any], ...]

    def batches(self) -> Iterator[tuple[dict[str, Any], ...]]:
        """The annotations in groups GitHub accepts in one request (at least one, maybe
        empty, so that the output itself is sent)."""
        yield self.annotations[:ANNOTATIONS_PER_REQUEST]
        for start in range(ANNOTATIONS_PER_REQUEST, len(self.annotations), ANNOTATIONS_PER_REQUEST):
            yield self.annotations[start : start + ANNOTATIONS_PER_REQUEST]


def conclusion(verdict: Verdict, exit_code: int) -> str:
    if exit_code == 1:
        return "failure"
    return "success" if verdict.ok and not verdict.warned_rules else "neutral"


def check_output(
    verdict: Verdict,
    sides: Sides,
    exit_code: int,
    link: Linker | None = None,
    full_report: str | None = None,
    *,
    rendered: str | None = None,
    found: Sequence[Finding] | None = None,
) -> CheckOutput:
    """A check run's conclusion and output; one annotation per finding with a line.
    `rendered` (the full Markdown report, without a comment command) and `found` (the
    findings) are reused when the caller has them already."""
    summary = fit_report(
        verdict, sides, OUTPUT_LIMIT, link, full_report=full_report, rendered=rendered
    )
    found = found if found is not None else findings(verdict, sides)
    notes = tuple(_annotation(f) for f in found if f.path)
    title = cut(visible(headline(verdict, sides)), _TITLE_LIMIT)
    return CheckOutput(conclusion(verdict, exit_code), title, summary, notes)


def _annotation(found: Finding) -> dict[str, Any]:
    """GitHub shows an annotation's title and message as plain text: only control characters,
    line breaks and bidi marks need care (`visible`)."""
    line = found.line or 1  # a file-level finding goes on the first line
    return {
        "path": found.path,
        "start_line": line,
        "end_line": line,
        "annotation_level": _ANNOTATION_LEVELS[found.level],
        "title": cut(visible(found.title), _TITLE_LIMIT),
        "message": visible(found.message),
    }


def status_state(exit_code: int) -> str:
    return "failure" if exit_code == 1 else "success"


def status_description(verdict: Verdict, sides: Sides | None = None) -> str:
    """The one line a commit status shows, within GitHub's 140 characters."""
    return cut(visible(headline(verdict, sides or Sides())), DESCRIPTION_LIMIT)
