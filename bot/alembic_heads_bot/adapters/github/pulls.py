"""The bot's own fix pull request for a broken branch: its branch, the pull request, closing it.

The branch (`engine.fix.base_branch.fix_branch`) is the bot's own: it holds one commit on top
of the broken tip, the merge migration, and is the only branch the bot ever force-updates.
Each write retried after a lost answer first looks at what the lost attempt left (the
branch at the new commit, an open pull request from the branch), and GitHub itself refuses a
second open pull request with the same head and base (422), which a racing run then treats as
"found": never two fix pull requests.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from github import GithubException
from github.GitRef import GitRef
from github.InputGitTreeElement import InputGitTreeElement
from github.PullRequest import PullRequest
from github.Repository import Repository

from alembic_heads_bot.adapters.git import Workspace
from alembic_heads_bot.adapters.github.client import read, write
from alembic_heads_bot.engine.fix.plan import FileChange

_CONTENTS = "contents"
_PULLS = "pull-requests"
_NEW_FILE_MODE = "100644"


def find_open_pull(repo: Repository, owner: str, head: str, base: str) -> PullRequest | None:
    """The open pull request from branch `head` (of this repository) into `base`: one request
    (GitHub allows only one such pull request)."""
    pulls = repo.get_pulls(state="open", head=f"{owner}:{head}", base=base)
    found = read(f"list the pull requests from {head}", lambda: list(pulls))
    return found[0] if found else None


def push_fix_branch(
    git: Workspace,
    repo: Repository,
    branch: str,
    parent: str,
    changes: Sequence[FileChange],
    message: str,
    exists: bool,
) -> str:
    """A commit on `parent` adding `changes`, and `branch` (the bot's own) set to it, created
    or force-updated; its sha."""
    entries = [
        InputGitTreeElement(
            change.path, _mode(git, parent, change), "blob", sha=_upload(repo, change.content)
        )
        for change in changes
    ]
    tree_sha = git.rev_parse(f"{parent}^{{tree}}")
    base_tree = read("read the branch's tree", lambda: repo.get_git_tree(tree_sha))
    tree = write(
        "create the fix's tree", lambda: repo.create_git_tree(entries, base_tree), _CONTENTS
    )
    parent_commit = read("read the branch's tip", lambda: repo.get_git_commit(parent))
    commit = write(
        "create the fix commit",
        lambda: repo.create_git_commit(message, tree, [parent_commit]),
        _CONTENTS,
    )
    _set_branch(repo, branch, commit.sha, exists)
    return commit.sha


def _mode(git: Workspace, parent: str, change: FileChange) -> str:
    if change.created:
        return _NEW_FILE_MODE
    found = git.ls_tree(parent, change.path).get(change.path)
    return found.mode if found is not None else _NEW_FILE_MODE


def _upload(repo: Repository, data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    blob = write("upload a file", lambda: repo.create_git_blob(encoded, "base64"), _CONTENTS)
    return blob.sha


def _set_branch(repo: Repository, branch: str, sha: str, exists: bool) -> None:
    def tip() -> str | None:
        try:
            return repo.get_git_ref(f"heads/{branch}").object.sha
        except GithubException as error:
            if error.status == 404:
                return None
            raise

    def landed() -> bool | None:
        return True if tip() == sha else None

    def force() -> bool:
        ref: GitRef = read(f"read branch {branch}", lambda: repo.get_git_ref(f"heads/{branch}"))
        read(f"read branch {branch}", lambda: ref.object.sha)  # completes it: its url to PATCH
        ref.edit(sha, force=True)  # the bot's own branch, and only it
        return True

    def create() -> bool:
        try:
            repo.create_git_ref(f"refs/heads/{branch}", sha)
        except GithubException as error:
            if error.status != 422:  # "Reference already exists": a racing run made it
                raise
            force()
        return True

    write(f"set branch {branch} to the fix", force if exists else create, _CONTENTS, landed)


def open_pull(
    repo: Repository, owner: str, head: str, base: str, title: str, body: str
) -> PullRequest:
    """Open the fix pull request; the one a racing run opened between our look and our
    create counts as opened (GitHub refuses the second with 422)."""

    def found() -> PullRequest | None:
        return find_open_pull(repo, owner, head, base)

    def create() -> PullRequest:
        try:
            return repo.create_pull(base=base, head=head, title=title, body=body)
        except GithubException as error:
            existing = found() if error.status == 422 else None
            if existing is None:
                raise
            return existing

    return write(f"open the pull request from {head}", create, _PULLS, settled=found)


def update_pull(pull: PullRequest, title: str, body: str) -> bool:
    """Edit the pull request's title and body where they differ; whether it did."""
    if pull.body == body and pull.title == title:
        return False

    def send() -> bool:
        pull.edit(title=title, body=body)
        return True

    write(f"update pull request #{pull.number}", send, _PULLS)
    return True


def close_pull(pull: PullRequest, comment: str) -> None:
    """Say why, then close (closing twice is harmless); the comment is looked for before it
    is sent again."""
    number = pull.number

    def said() -> bool | None:
        comments = read(f"list the comments of #{number}", lambda: list(pull.get_issue_comments()))
        return True if any(c.body == comment for c in comments) else None

    def post() -> bool:
        pull.create_issue_comment(comment)
        return True

    def close() -> bool:
        pull.edit(state="closed")
        return True

    write(f"comment on #{number}", post, _PULLS, settled=said)
    write(f"close #{number}", close, _PULLS)
