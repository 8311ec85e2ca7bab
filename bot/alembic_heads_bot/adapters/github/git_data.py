"""Commit the fix to a pull request's branch through GitHub's Git Data API.

The commit's tree is the merge of the branch and the base tip (computed locally by git) plus the
fix. GitHub does not have the merged tree, so the tree is sent as changes on top of the head's
tree: each path the merge changes points at a blob GitHub already has (from the base tip) or
one uploaded now (a file git merged from both sides). The branch then moves without force from
the head the verdict was computed on; if it moved meanwhile, BranchMoved.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from github.GitCommit import GitCommit
from github.GitRef import GitRef
from github.InputGitTreeElement import InputGitTreeElement
from github.Repository import Repository

from alembic_heads_bot.adapters.git import Workspace
from alembic_heads_bot.adapters.github.client import ApiFailure, read, write
from alembic_heads_bot.engine.fix.plan import FileChange

_PERMISSION = "contents"
_NEW_FILE_MODE = "100644"


class BranchMoved(Exception):
    """The branch is no longer at the commit the fix was computed for."""


@dataclass(frozen=True)
class FixCommit:
    branch: str
    head_sha: str  # the branch tip the fix was computed on
    base_sha: str  # the base tip, a second parent when the branch does not hold it yet
    merged_tree: str  # the local merge of the two
    merges_base: bool
    changes: Sequence[FileChange]
    message: str


def commit_fix(git: Workspace, repo: Repository, fix: FixCommit) -> str:
    """Create the commit and move the branch to it; its sha. Raises BranchMoved, ApiFailure."""
    ref = read(f"read branch {fix.branch}", lambda: repo.get_git_ref(f"heads/{fix.branch}"))
    if read(f"read branch {fix.branch}", lambda: ref.object.sha) != fix.head_sha:
        raise BranchMoved
    entries = _entries(git, repo, fix)
    head_tree = git.rev_parse(f"{fix.head_sha}^{{tree}}")
    base = read("read the head's tree", lambda: repo.get_git_tree(head_tree))
    tree = write("create the fix's tree", lambda: repo.create_git_tree(entries, base), _PERMISSION)
    shas = [fix.head_sha, fix.base_sha] if fix.merges_base else [fix.head_sha]
    parents = [_commit(repo, sha) for sha in shas]
    commit = write(
        "create the fix commit",
        lambda: repo.create_git_commit(fix.message, tree, parents),
        _PERMISSION,
    )
    _move(repo, ref, fix, commit.sha)
    return commit.sha


def _move(repo: Repository, ref: GitRef, fix: FixCommit, sha: str) -> None:
    def tip() -> str:
        return repo.get_git_ref(f"heads/{fix.branch}").object.sha

    def landed() -> bool | None:
        return True if tip() == sha else None

    def send() -> bool:
        ref.edit(sha, force=False)
        return True

    try:
        write(f"move {fix.branch} to the fix commit", send, _PERMISSION, settled=landed)
    except ApiFailure as failure:
        status = getattr(failure.__cause__, "status", None)
        # "Update is not a fast forward" when someone pushed meanwhile; any other refusal
        # (a protected branch, a rule) is said as GitHub said it.
        if status == 422 and read(f"read branch {fix.branch}", tip) != fix.head_sha:
            raise BranchMoved from None
        raise


def _entries(git: Workspace, repo: Repository, fix: FixCommit) -> list[InputGitTreeElement]:
    """Tree changes from the head's tree to the merged tree, then the fix's files."""
    entries: dict[str, InputGitTreeElement] = {}
    changed = git.changed_entries(fix.head_sha, fix.merged_tree)
    known = {e.oid for e in git.ls_tree(fix.base_sha).values()} if changed else set()
    for path, mode, sha in changed:
        if sha is None:
            entries[path] = InputGitTreeElement(path, "100644", "blob", sha=None)
        elif mode == "160000" or sha in known:
            entries[path] = InputGitTreeElement(path, mode, _kind(mode), sha=sha)
        else:  # merged from both sides: GitHub has no such blob yet
            uploaded = _upload(repo, git.blob(sha))
            entries[path] = InputGitTreeElement(path, mode, "blob", sha=uploaded)
    edited = [change.path for change in fix.changes if not change.created]
    merged = git.ls_tree(fix.merged_tree, *edited) if edited else {}
    for change in fix.changes:
        mode = merged[change.path].mode if change.path in merged else _NEW_FILE_MODE
        entries[change.path] = InputGitTreeElement(
            change.path, mode, "blob", sha=_upload(repo, change.content)
        )
    return list(entries.values())


def _commit(repo: Repository, sha: str) -> GitCommit:
    return read("read a parent commit", lambda: repo.get_git_commit(sha))


def _kind(mode: str) -> str:
    return {"160000": "commit", "040000": "tree"}.get(mode, "blob")


def _upload(repo: Repository, data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    blob = write("upload a file", lambda: repo.create_git_blob(encoded, "base64"), _PERMISSION)
    return blob.sha
