"""The one comment per pull request that the bot keeps up to date (never a second one).

Its own comment is the oldest one that starts with the marker for this status name AND was
written by the bot's own login: a person quoting the marker is never edited. The body is made
from the state the old comment recorded, so a fix can be reported as "resolved".
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Literal

from github import UnknownObjectException
from github.Issue import Issue
from github.IssueComment import IssueComment

from alembic_heads_bot.adapters.github.client import read, write
from alembic_heads_bot.adapters.github.identity import Identity
from alembic_heads_bot.engine.report.comment import is_sticky, previous_state

# pull-request comments are issue comments; either permission allows writing them
_PERMISSION = "pull-requests"


@dataclass(frozen=True)
class CommentOutcome:
    # "none": nothing to say, and no comment yet to update.
    action: Literal["created", "updated", "unchanged", "none"]
    url: str | None = None


def sync_comment(
    issue: Issue,
    number: int,
    status_name: str,
    render: Callable[[str | None], str],
    *,
    open_new: bool,
    identity: Identity,
) -> CommentOutcome:
    """Create, update or leave the sticky comment on pull request `number` (`issue`, lazily
    made: the number is passed apart so that no request loads it). `render(previous_state)`
    makes the body; a new comment is opened only when `open_new`."""
    mine = _own_comments(issue, number, status_name, identity)
    existing = mine[0] if mine else None
    body = render(previous_state(existing.body) if existing is not None else None)
    for duplicate in mine[1:]:  # left by two runs that raced; keep the oldest
        _delete(duplicate, number)
    if existing is not None:
        if existing.body == body:
            return CommentOutcome("unchanged", existing.html_url)
        write(f"update the comment on #{number}", lambda: existing.edit(body), _PERMISSION)
        return CommentOutcome("updated", existing.html_url)
    if not open_new:
        return CommentOutcome("none")

    def landed() -> IssueComment | None:
        found = _own_comments(issue, number, status_name, identity)
        return found[0] if found else None

    created = write(
        f"comment on #{number}", lambda: issue.create_comment(body), _PERMISSION, settled=landed
    )
    return CommentOutcome("created", created.html_url)


def _delete(duplicate: IssueComment, number: int) -> None:
    """Delete a comment; one that is gone already (a lost answer to the first attempt, a
    racing run) counts as deleted."""

    def send() -> bool:
        with suppress(UnknownObjectException):  # deleted meanwhile: just as good
            duplicate.delete()
        return True

    def gone() -> bool | None:
        try:
            duplicate.update()
        except UnknownObjectException:
            return True
        return None

    write(f"delete a duplicate comment on #{number}", send, _PERMISSION, settled=gone)


def _own_comments(
    issue: Issue, number: int, status_name: str, identity: Identity
) -> list[IssueComment]:
    comments = read(f"list the comments of #{number}", lambda: list(issue.get_comments()))
    marked = [c for c in comments if is_sticky(c.body or "", status_name)]
    if not marked:
        return []
    login = identity.login()
    return [c for c in marked if c.user is not None and c.user.login == login]
