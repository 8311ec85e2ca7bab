"""The view of a source tree that the engine reads: file names, content identities and bytes.

Two shells implement it: a directory on disk (`adapters.disk.DiskTree`) and a git commit's
tree (`adapters.git.GitTree`). The engine reads trees only through this protocol, so it never
touches the filesystem or git itself.
"""

from __future__ import annotations

import errno
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol, runtime_checkable

# Directories that never hold a project's own Alembic environment, and that can be huge.
# A directory holding `pyvenv.cfg` (a virtualenv) is skipped as well.
SKIPPED_DIRS = frozenset(
    {".git", "node_modules", ".tox", ".nox", "__pypackages__", "site-packages"}
)


class Tree(Protocol):
    """A read-only snapshot of a project: every file by tree-relative POSIX path."""

    def paths(self) -> Collection[str]:
        """Every file (symbolic links included, directories excluded)."""
        ...

    def link(self, path: str) -> str | None:
        """The target text of a symbolic link, or None for a regular file."""
        ...

    def oid(self, path: str) -> str:
        """An identity of the file's content: equal ids mean equal bytes (for caching)."""
        ...

    def read(self, path: str) -> bytes:
        """The file's bytes. Raises OSError when the file cannot be read, FileTooLarge (before
        reading any of it) when it is larger than the tree reads."""
        ...


@runtime_checkable
class ReadsMany(Protocol):
    """A tree that reads many files at once for less than one at a time (a git tree: one git
    process instead of one request per file)."""

    def read_many(self, paths: Sequence[str]) -> Mapping[str, bytes]:
        """The bytes of as many of `paths` as the tree reads at once; the others (and every
        file `read` would refuse) are left to `read`."""
        ...


@runtime_checkable
class ListsLinks(Protocol):
    """A tree that knows its symbolic links without being asked of each path (a git tree: its
    listing has every file's mode)."""

    def links(self) -> Collection[str]:
        """Every path whose `link` is not None."""
        ...


class FileTooLarge(OSError):
    """A file larger than a tree reads, told by its size (git's object header, the file's
    stat) so that none of it was read."""

    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(errno.EFBIG, f"it is {size:,} bytes, more than the {limit:,} read", path)
        self.size = size
        self.limit = limit

    def __str__(self) -> str:
        return f"the file is {self.size:,} bytes, more than the {self.limit:,} bytes the bot reads"
