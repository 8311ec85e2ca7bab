"""The bot's one comment on a commit (`fix-base: comment-only`: the pushed commit that left the
branch with several heads). Found by its marker and the bot's login, so that a re-run or an
overlapping run never posts a second, and a person quoting the marker is never taken for it.
"""

from __future__ import annotations

from typing import Literal

from github.CommitComment import CommitComment
from github.Repository import Repository

from alembic_heads_bot.adapters.github.client import read, write
from alembic_heads_bot.adapters.github.identity import Identity

# A commit comment is the repository's contents to GitHub: `contents: write`.
_PERMISSION = "contents"


def comment_on_commit(
    repo: Repository, sha: str, marker: str, body: str, identity: Identity
) -> tuple[Literal["created", "there"], str]:
    """Post `body` (which starts with `marker`) on commit `sha` unless the bot's comment with
    that marker is there already; what happened and the comment's address."""
    commit = repo.get_commit(sha)  # lazy: no request

    def own() -> CommitComment | None:
        found = read(f"list the comments of commit {sha[:12]}", lambda: list(commit.get_comments()))
        marked = [c for c in found if (c.body or "").startswith(marker)]
        if not marked:
            return None
        login = identity.login()
        return next((c for c in marked if c.user is not None and c.user.login == login), None)

    existing = own()
    if existing is not None:
        return "there", existing.html_url
    created = write(
        f"comment on commit {sha[:12]}", lambda: commit.create_comment(body), _PERMISSION, own
    )
    return "created", created.html_url
