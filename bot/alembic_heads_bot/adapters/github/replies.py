"""A reply comment and a reaction, each written once even when GitHub's answer is lost.

A reply carries a hidden marker with an id unique to it, so that a retry can first look for
the reply the lost attempt may have posted; a reaction is looked up among the comment's
reactions by the bot's login. Neither is ever sent twice.
"""

from __future__ import annotations

import secrets

from github.Issue import Issue
from github.IssueComment import IssueComment
from github.Reaction import Reaction

from alembic_heads_bot.adapters.github.client import write
from alembic_heads_bot.adapters.github.identity import Identity

COMMENT_LIMIT = 65_536  # characters GitHub takes in a comment body
_MARKER = "<!-- alembic-heads-bot:reply={} -->"
_ID_DIGITS = 16
# What a reply's own text may use: the rest of the body is the marker and the blank line.
REPLY_ROOM = COMMENT_LIMIT - len(_MARKER.format("0" * _ID_DIGITS)) - 2
# reply comments are issue comments; either permission allows writing them
_PERMISSION = "pull-requests"


def post_reply(issue: Issue, number: int, text: str, identity: Identity) -> IssueComment:
    """Post `text` (at most REPLY_ROOM characters) on #`number` as a new comment."""
    if len(text) > REPLY_ROOM:
        raise ValueError(f"a reply of {len(text)} characters does not fit in a comment")
    marker = _MARKER.format(secrets.token_hex(_ID_DIGITS // 2))
    body = f"{text}\n\n{marker}"

    def landed() -> IssueComment | None:
        login = identity.login()
        return next(
            (
                c
                for c in issue.get_comments()
                if marker in (c.body or "") and c.user is not None and c.user.login == login
            ),
            None,
        )

    return write(
        f"reply on #{number}", lambda: issue.create_comment(body), _PERMISSION, settled=landed
    )


def react(comment: IssueComment, content: str, identity: Identity) -> Reaction:
    """Add reaction `content` to `comment` as the bot."""

    def landed() -> Reaction | None:
        login = identity.login()
        return next(
            (
                r
                for r in comment.get_reactions()
                if r.content == content and r.user is not None and r.user.login == login
            ),
            None,
        )

    reaction = write(
        f"react {content} to the command",
        lambda: comment.create_reaction(content),
        "issues",
        settled=landed,
    )
    if reaction.user is not None:
        identity.learn(reaction.user.login)  # who the bot is, for free
    return reaction
