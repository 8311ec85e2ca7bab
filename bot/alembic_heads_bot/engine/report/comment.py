"""The sticky pull-request comment: its body, how the bot recognises its own, and when to post.

Pure. One comment per pull request and status name: a hidden marker names it, and a second
hidden line records the state it reported, so that the next run can say "resolved" when a push
fixes what the comment complained about. The body is the Markdown report, shortened step by
step (diagrams, then the collapsed details, then a hard cut) to stay within GitHub's limit.
"""

from __future__ import annotations

import re

from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.report.escape import boundary, html_comment_text, markdown_link
from alembic_heads_bot.engine.report.verdict import Linker, Sides, markdown_report

# GitHub refuses a comment body above 65,536 characters; keep a margin for the marker lines.
COMMENT_LIMIT = 65_000
_STATE = re.compile(r"^<!-- alembic-heads-bot:state=(\w+) -->$", re.MULTILINE)


def marker(status_name: str) -> str:
    """The hidden first line that names the bot's comment for this status name (two workflows
    that check two services under two names keep two comments)."""
    return f"<!-- alembic-heads-bot:comment={html_comment_text(status_name)} -->"


def is_sticky(body: str, status_name: str) -> bool:
    return body.startswith(marker(status_name) + "\n")


def state_of(verdict: Verdict) -> str:
    """ "fail", "warn" or "ok": what the comment reports."""
    if not verdict.ok:
        return "fail"
    return "warn" if verdict.warned_rules else "ok"


def previous_state(body: str) -> str | None:
    found = _STATE.search(body)
    return found.group(1) if found else None


def worth_a_comment(verdict: Verdict, policy: str) -> bool:
    """Whether to open a comment where there is none yet (an existing one is always kept up
    to date): `always`, or `on-problem` when the report says more than "fine"."""
    if policy == "never":
        return False
    return policy == "always" or state_of(verdict) != "ok" or bool(verdict.conflicts)


def comment_body(
    verdict: Verdict,
    sides: Sides,
    *,
    status_name: str,
    previous: str | None,
    link: Linker | None = None,
    command: str | None = None,
    full_report: str | None = None,
    limit: int = COMMENT_LIMIT,
) -> str:
    """The whole comment: marker, state, an optional "resolved" line, and the report, shortened
    until it fits in `limit` characters; `full_report` is a link to where the rest is."""
    state = state_of(verdict)
    if state != "fail" and previous in ("fail", "resolved"):
        state = "resolved"
    head = [marker(status_name), f"<!-- alembic-heads-bot:state={state} -->"]
    if state == "resolved":
        head.append("**Resolved:** the migration history problem reported here earlier is fixed.\n")
    prefix = "\n".join(head) + "\n"
    return prefix + fit_report(verdict, sides, limit - len(prefix), link, command, full_report)


def fit_report(
    verdict: Verdict,
    sides: Sides,
    limit: int,
    link: Linker | None = None,
    command: str | None = None,
    full_report: str | None = None,
    *,
    rendered: str | None = None,
) -> str:
    """The Markdown report in at most `limit` characters: the full one if it fits, else without
    diagrams, else without the collapsed details too, else cut at a line with a note.
    `rendered` is the full report when the caller has it already (rendered once per run)."""
    if rendered is not None and len(rendered) <= limit:
        return rendered
    where = (
        markdown_link("the workflow run", full_report)
        if full_report
        else "the workflow run's summary"
    )
    note = f"\n_Shortened to fit a comment: the full report is in {where}._\n"
    for diagrams, details in ((True, True), (False, True), (False, False)):
        text = markdown_report(verdict, sides, link, command, diagrams=diagrams, details=details)
        if len(text) <= limit:
            return text if (diagrams and details) else text + note
    kept = text[: max(0, limit - len(note))]
    # a line's end is a grapheme boundary; without one, cut between whole characters
    if "\n" not in kept:
        return text[: boundary(text, len(kept))] + note
    return kept[: kept.rfind("\n") + 1] + note
