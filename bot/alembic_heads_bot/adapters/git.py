"""Trees and blobs straight from git's object database, through GitPython.

Nothing here checks anything out or touches the index or the working tree: a commit is listed
with one `git ls-tree` and its blobs are read through GitPython's persistent `git cat-file`
process. A pull request's trial merge is `git merge-tree --write-tree` (git 2.38 or newer),
which writes only objects: no ref, no index, no working tree file. GitPython is imported only
when a repository is opened, so that commands working on a plain directory never pay for it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import KeysView
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import git

_SYMLINK_MODE = "120000"
# `merge-tree --write-tree` (the mode that needs no working tree) appeared in git 2.38.
_MERGE_TREE_GIT = (2, 38)


class SourceError(Exception):
    """A source of files cannot be used; the message is meant for the user as is."""


class GitError(SourceError):
    """git could not give what was asked for."""


class NotAGitRepository(GitError):
    """The path is not inside a git repository."""


class UnknownRevision(GitError):
    """A revision expression names no commit."""


def _git_module() -> ModuleType:
    """GitPython, imported on first use rather than with this module (see the docstring)."""
    try:
        import git
    except ImportError as error:  # GitPython refuses to import when it cannot run git
        raise GitError(f"cannot use git: {error}") from None
    return git


def open_repo(path: str | os.PathLike[str]) -> git.Repo:
    """The repository holding `path`, searching parent directories as git does."""
    git = _git_module()
    try:
        return git.Repo(path, search_parent_directories=True)
    except git.NoSuchPathError:
        raise NotAGitRepository(f"no such directory: {os.fspath(path)}") from None
    except git.InvalidGitRepositoryError:
        raise NotAGitRepository(
            f"not a git repository (or any of its parent directories): {os.fspath(path)}"
        ) from None


def resolve(repo: git.Repo, rev: str) -> str:
    """The full sha of the commit that the revision expression `rev` names."""
    # A leading "-" would be read as an option by git.
    if not rev or rev.startswith("-"):
        raise UnknownRevision(f"invalid revision {rev!r}")
    status, out, err = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if status == 0:
        return out.decode("ascii").strip()
    where = repo.working_tree_dir or repo.git_dir
    if err:  # --quiet silences "unknown revision": what git still says is worth passing on
        raise GitError(f"cannot resolve revision {rev!r} in {where}: {_last_line(err)}")
    message = f"unknown revision {rev!r}: no commit by that name in {where}"
    if Path(repo.git_dir, "shallow").exists():
        message += (
            " (this is a shallow clone: fetch the commit first, e.g. `git fetch --depth=1 "
            f"origin {rev}`, or check out with fetch-depth: 0)"
        )
    raise UnknownRevision(message)


def upstream_branch(repo: git.Repo) -> str | None:
    """The short name of the current branch's upstream (e.g. "origin/main"), if it has one."""
    status, out, _ = _git(repo, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
    return out.decode().strip() or None if status == 0 else None


def _git(repo: git.Repo, command: str, *args: str) -> tuple[int, bytes, str]:
    """Run a git command in the repository: exit status, stdout bytes, stderr text."""
    run = getattr(repo.git, command.replace("-", "_"))  # GitPython's git executable and env
    return run(*args, with_extended_output=True, with_exceptions=False, stdout_as_string=False)


def _last_line(text: str) -> str:
    """git's final word, usually the `fatal:` line that says what went wrong, unprefixed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else "git failed without a message"
    for prefix in ("fatal: ", "error: "):
        last = last.removeprefix(prefix)
    return last


class _Entry(NamedTuple):
    mode: str
    oid: str


class GitTree:
    """The tree of one commit, or a bare tree such as a trial merge's, read through the Tree
    protocol (see `engine.tree`). `commit` is None for a bare tree; `object_id` is what is
    listed."""

    def __init__(self, repo: git.Repo, rev: str) -> None:
        self.repo = repo
        self.commit: str | None
        self.object_id: str
        self.commit, self.object_id = _resolve_tree_ish(repo, rev)
        self._entries: dict[str, _Entry] | None = None
        self._links: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"GitTree({self.repo.git_dir!r}, {self.object_id!r})"

    @property
    def _what(self) -> str:
        return "commit" if self.commit is not None else "tree"

    def paths(self) -> KeysView[str]:
        return self._listing().keys()

    def link(self, path: str) -> str | None:
        entry = self._entry(path)
        if entry.mode != _SYMLINK_MODE:
            return None
        if path not in self._links:
            self._links[path] = os.fsdecode(self._blob(path, entry.oid))
        return self._links[path]

    def oid(self, path: str) -> str:
        return self._entry(path).oid

    def read(self, path: str) -> bytes:
        entry = self._entry(path)
        if entry.mode == _SYMLINK_MODE:
            raise OSError(errno.ELOOP, "is a symbolic link", path)
        return self._blob(path, entry.oid)

    def _entry(self, path: str) -> _Entry:
        entry = self._listing().get(path)
        if entry is None:
            where = f"not in {self._what} {self.object_id[:12]}"
            raise FileNotFoundError(errno.ENOENT, where, path)
        return entry

    def _blob(self, path: str, oid: str) -> bytes:
        try:
            return self.repo.odb.stream(bytes.fromhex(oid)).read()
        except ValueError as error:  # cat-file answered "missing" (e.g. a partial clone)
            raise OSError(errno.EIO, f"cannot read blob {oid}: {error}", path) from None

    def _listing(self) -> dict[str, _Entry]:
        if self._entries is None:
            self._entries = self._ls_tree()
        return self._entries

    def _ls_tree(self) -> dict[str, _Entry]:
        status, out, err = _git(self.repo, "ls-tree", "-r", "-z", "--full-tree", self.object_id)
        if status != 0:
            raise GitError(f"cannot list {self._what} {self.object_id}: {_last_line(err)}")
        return _parse_ls_tree(out)


def _resolve_tree_ish(repo: git.Repo, rev: str) -> tuple[str | None, str]:
    """(commit, object to list) for a commit-ish, or (None, tree) for a tree id."""
    try:
        commit = resolve(repo, rev)
    except UnknownRevision:  # names nothing at all
        raise
    except GitError:  # git says what it names is no commit: a tree is the other thing to list
        status, out, _ = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{tree}}")
        if status != 0:
            raise
        return None, out.decode("ascii").strip()
    return commit, commit


def merge_base(repo: git.Repo, a: str, b: str) -> str | None:
    """The best common ancestor of two commits, or None when their histories are unrelated."""
    first, second = resolve(repo, a), resolve(repo, b)
    status, out, err = _git(repo, "merge-base", first, second)
    if status == 0:
        return out.decode("ascii").strip()
    if status == 1 and not err.strip():  # git's answer for "no common ancestor"
        return None
    raise GitError(f"cannot find the merge base of {a!r} and {b!r}: {_last_line(err)}")


@dataclass(frozen=True)
class MergeResult:
    """A trial merge: the merged tree's id, the paths git could not merge cleanly (the tree
    holds them with conflict markers), and git's informational lines."""

    tree: str
    conflicts: tuple[str, ...]
    messages: tuple[str, ...]


def merge_tree(repo: git.Repo, base: str, head: str) -> MergeResult:
    """Merge `head` into `base` in git's object database only, as a pull request would merge.

    `git merge-tree --write-tree` writes the merged tree and its blobs as objects; no ref, index
    or working tree file changes. A conflicted merge still gives a tree, whose conflicted files
    hold conflict markers.
    """
    _require_git(repo, _MERGE_TREE_GIT, "git merge-tree --write-tree")
    ours, theirs = resolve(repo, base), resolve(repo, head)
    args = ("--write-tree", "-z", "--name-only", "--messages", ours, theirs)
    status, out, err = _git(repo, "merge-tree", *args)
    if status not in (0, 1):  # 1 means conflicts; anything else is a failure
        raise GitError(f"cannot merge {head!r} into {base!r}: {_last_line(err)}")
    return _parse_merge_tree(out)


def _require_git(repo: git.Repo, version: tuple[int, int], what: str) -> None:
    have = tuple(repo.git.version_info[:2])
    if have < version:
        found = ".".join(str(part) for part in repo.git.version_info)
        needed = ".".join(str(part) for part in version)
        raise GitError(f"{what} needs git {needed} or newer; this git is {found}")


def _parse_merge_tree(out: bytes) -> MergeResult:
    """`<tree> NUL (<path> NUL)* NUL (<n> NUL (<path> NUL){n} <type> NUL <message> NUL)*`."""
    fields = out.split(b"\0")
    tree = fields[0].decode("ascii")
    end = fields.index(b"", 1) if b"" in fields[1:] else len(fields)
    conflicts = tuple(os.fsdecode(path) for path in fields[1:end])
    messages: list[str] = []
    rest = fields[end + 1 :]
    while len(rest) > 1 and rest[0].isdigit():
        count = int(rest[0])
        message = rest[count + 2] if len(rest) > count + 2 else b""
        messages.append(os.fsdecode(message).strip())
        rest = rest[count + 3 :]
    return MergeResult(tree, conflicts, tuple(messages))


def _parse_ls_tree(out: bytes) -> dict[str, _Entry]:
    """`<mode> SP <type> SP <oid> TAB <path> NUL` records; submodules (commits) are left out."""
    entries: dict[str, _Entry] = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, oid = meta.decode("ascii").split(" ")
        if kind == "blob":
            # The filesystem's decoding, so that names match those DiskTree lists.
            entries[os.fsdecode(raw_path)] = _Entry(mode, oid)
    return entries
