"""The forecast section of another pull request's sticky comment, replaced on its own.

A pull request's own run writes its whole comment (`sticky`); a run for another pull request
only swaps the forecast section (`engine.forecast.with_forecast`), and only when it changes.
Where the other pull request has no comment yet, one is opened holding the marker and the
forecast; its own next run fills in the rest.
"""

from __future__ import annotations

from typing import Literal

from github.Issue import Issue
from github.IssueComment import IssueComment

from alembic_heads_bot.adapters.github.client import read, write
from alembic_heads_bot.adapters.github.identity import Identity
from alembic_heads_bot.engine.forecast import with_forecast
from alembic_heads_bot.engine.report.comment import is_sticky, marker

_PERMISSION = "pull-requests"


def sync_forecast(
    issue: Issue, number: int, status_name: str, section: str, identity: Identity
) -> Literal["created", "updated", "unchanged"]:
    """Put `section` into pull request `number`'s sticky comment ("" removes it)."""
    mine = _own(issue, number, status_name, identity)
    if mine is None:
        if not section:
            return "unchanged"
        body = f"{marker(status_name)}\n\n{section}"

        def landed() -> IssueComment | None:
            return _own(issue, number, status_name, identity)

        write(f"comment on #{number}", lambda: issue.create_comment(body), _PERMISSION, landed)
        return "created"
    body = with_forecast(mine.body or "", section)
    if body == mine.body:
        return "unchanged"
    write(f"update the comment on #{number}", lambda: mine.edit(body), _PERMISSION)
    return "updated"


def _own(issue: Issue, number: int, status_name: str, identity: Identity) -> IssueComment | None:
    comments = read(f"list the comments of #{number}", lambda: list(issue.get_comments()))
    marked = [c for c in comments if is_sticky(c.body or "", status_name)]
    if not marked:
        return None
    login = identity.login()
    return next((c for c in marked if c.user is not None and c.user.login == login), None)
