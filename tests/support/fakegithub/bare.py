"""The fake's bare git repositories, driven through the git CLI.

Everything the Git Data API answers comes from a real bare repository, so a commit made through
the API really exists, with its tree and parents, and `git fetch` over smart HTTP sees it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Git must not read the developer's or the machine's configuration (hooks, signing, identity).
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
}
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    date: str  # ISO 8601 with offset, e.g. 2024-01-02T03:04:05Z


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    type: str  # blob | tree | commit
    sha: str
    path: str
    size: int | None  # blobs only


class GitError(RuntimeError):
    """A git command failed; the message carries its stderr."""


def _iso(epoch: str, offset: str) -> str:
    from datetime import datetime, timedelta, timezone

    sign = -1 if offset.startswith("-") else 1
    tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    stamp = datetime.fromtimestamp(int(epoch), tz)
    if stamp.utcoffset() == timedelta(0):
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return stamp.isoformat()


class BareRepo:
    """One bare repository on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def init(cls, path: Path, default_branch: str) -> BareRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "--quiet", "--bare", f"--initial-branch={default_branch}")
        # http-backend only enables receive-pack for an authenticated REMOTE_USER; the fake
        # checks the token itself, so pushing is switched on outright.
        repo.git("config", "http.receivepack", "true")
        repo.git("config", "uploadpack.allowAnySHA1InWant", "true")
        # GitHub refuses pushes to pull-request refs; hiding them from receive-pack does that.
        repo.git("config", "receive.hideRefs", "refs/pull/")
        return repo

    def git(
        self,
        *args: str,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> bytes:
        """Run git in the repository; its stdout as bytes."""
        done = subprocess.run(
            ["git", f"--git-dir={self.path}", *args],
            input=stdin,
            env={**os.environ, **GIT_ENV, **(env or {})},
            capture_output=True,
            check=False,
        )
        if check and done.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def text(
        self, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        """Run git; its stdout as stripped text."""
        return self.git(*args, stdin=stdin, env=env).decode().strip()

    def fetch(self, source: str | os.PathLike[str], refspecs: Sequence[str]) -> None:
        """Copy refs (and their objects) from another repository on disk."""
        self.git("fetch", "--quiet", "--no-tags", "--", str(source), *refspecs)

    def resolve(self, spec: str) -> str | None:
        """The sha of a revision expression, or None when it names nothing."""
        out = self.git("rev-parse", "--verify", "--quiet", "--end-of-options", spec, check=False)
        return out.decode().strip() or None

    def object_type(self, sha: str) -> str | None:
        out = self.git("cat-file", "-t", sha, check=False).decode().strip()
        return out or None

    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        out = self.text("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        return dict(line.split(" ", 1) for line in out.splitlines())  # type: ignore[misc]

    def update_ref(self, ref: str, new: str, old: str | None = None) -> None:
        """Move (or create) a ref; with `old`, only if it still points there."""
        self.git("update-ref", ref, new, *([old] if old is not None else []))

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        done = subprocess.run(
            ["git", f"--git-dir={self.path}", "merge-base", "--is-ancestor", ancestor, descendant],
            env={**os.environ, **GIT_ENV},
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def commit(self, sha: str) -> CommitInfo:
        raw = self.git("cat-file", "commit", sha).decode(errors="replace")
        header, _, message = raw.partition("\n\n")
        tree, parents, people = "", [], {}
        for line in header.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
            elif key in ("author", "committer"):
                who, _, stamp = value.rpartition("> ")
                name, _, email = who.partition(" <")
                epoch, offset = stamp.split(" ")
                people[key] = Person(name, email, _iso(epoch, offset))
        return CommitInfo(sha, tree, tuple(parents), people["author"], people["committer"], message)

    def write_blob(self, content: bytes) -> str:
        return self.text("hash-object", "-w", "--stdin", stdin=content)

    def read_blob(self, sha: str) -> bytes:
        return self.git("cat-file", "blob", sha)

    def ls_tree(self, sha: str, *, recursive: bool) -> list[TreeEntry]:
        args = ["ls-tree", "-z", "--long", *(["-r", "-t"] if recursive else []), sha]
        entries = []
        for record in self.git(*args).decode().split("\0"):
            if not record:
                continue
            meta, path = record.split("\t", 1)
            mode, kind, object_sha, size = meta.split()
            entries.append(
                TreeEntry(mode, kind, object_sha, path, None if size == "-" else int(size))
            )
        return entries

    def make_tree(self, base_tree: str | None, changes: Sequence[TreeChange]) -> str:
        """A new tree: `base_tree` (or the empty tree) with the changes applied, in order.

        KeyError names a path to delete that does not exist (GitHub refuses those too).
        """
        root = _Node(self, base_tree)
        for change in changes:
            *dirs, name = change.path.strip("/").split("/")
            node = root
            for part in dirs:
                node = node.child(part)
            if change.sha is None:
                if name not in node.entries:
                    raise KeyError(change.path)
                del node.entries[name]
            else:
                node.entries[name] = (change.mode, change.type, change.sha)
        return root.write()

    def commit_tree(
        self, tree: str, parents: Sequence[str], message: str, author: Person, committer: Person
    ) -> str:
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": author.date,
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_COMMITTER_DATE": committer.date,
        }
        parent_args = [arg for parent in parents for arg in ("-p", parent)]
        return self.text("commit-tree", tree, *parent_args, stdin=message.encode(), env=env)


@dataclass(frozen=True)
class TreeChange:
    """One entry of a create-tree request; sha None deletes the path."""

    path: str
    mode: str
    type: str
    sha: str | None


class _Node:
    """A directory being rebuilt: entries are (mode, type, sha) or a changed subdirectory."""

    def __init__(self, repo: BareRepo, sha: str | None) -> None:
        self.repo = repo
        self.entries: dict[str, tuple[str, str, str] | _Node] = {}
        if sha:
            for entry in repo.ls_tree(sha, recursive=False):
                self.entries[entry.path] = (entry.mode, entry.type, entry.sha)

    def child(self, name: str) -> _Node:
        entry = self.entries.get(name)
        if isinstance(entry, _Node):
            return entry
        node = _Node(self.repo, entry[2] if entry and entry[1] == "tree" else None)
        self.entries[name] = node
        return node

    def write(self) -> str:
        lines = []
        for name, entry in self.entries.items():
            if isinstance(entry, _Node):
                sha = entry.write()
                if sha == EMPTY_TREE:  # git trees hold no empty directories
                    continue
                entry = ("040000", "tree", sha)
            mode, kind, sha = entry
            lines.append(f"{mode} {kind} {sha}\t{name}\0")
        return self.repo.text("mktree", "-z", stdin="".join(lines).encode())
