"""A directory on disk, read through the Tree protocol (see `engine.tree`).

The directory is walked once, on first use, and the list of paths is kept: it is a snapshot.
Content identities come from `os.lstat` rather than from hashing, because hashing every file of
a monorepo would cost more than the whole check.
"""

from __future__ import annotations

import errno
import os
from collections.abc import KeysView
from pathlib import Path
from typing import Literal

from alembic_heads_bot.engine.errors import SourceError
from alembic_heads_bot.engine.parse import MAX_FILE_BYTES
from alembic_heads_bot.engine.tree import SKIPPED_DIRS, FileTooLarge


class DiskTree:
    """Every file under `root`, by POSIX path relative to it.

    Pruned: the directories named in `engine.tree.SKIPPED_DIRS`, and virtualenvs (directories
    holding `pyvenv.cfg`) below the root. Symbolic links are listed as files, whatever they
    point to, and never followed, as git records them; `link()` gives their text. A file
    larger than `max_bytes` is never read (FileTooLarge): its size is asked first.
    """

    def __init__(self, root: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> None:
        self.root = Path(root).absolute()
        self.max_bytes = max_bytes
        if not self.root.is_dir():
            raise SourceError(f"not a directory: {os.fspath(root)}")
        self._prefix = f"{self.root.as_posix().rstrip('/')}/"
        self._links: dict[str, bool] | None = None  # path -> is a symbolic link
        self._unreadable: list[str] = []

    def __repr__(self) -> str:
        return f"DiskTree({str(self.root)!r})"

    def paths(self) -> KeysView[str]:
        return self._listing().keys()

    @property
    def unreadable_dirs(self) -> tuple[str, ...]:
        """Directories the walk could not open (their files are missing from `paths()`)."""
        self._listing()
        return tuple(self._unreadable)

    def link(self, path: str) -> str | None:
        # os.readlink, not Path.readlink: the exact text, as git stores it ("./a" stays "./a").
        return os.readlink(self._full(path)) if self._is_link(path) else None  # noqa: PTH115

    def oid(self, path: str) -> str:
        self._is_link(path)  # only listed paths have an identity
        st = os.lstat(self._full(path))
        return f"stat:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"

    def read(self, path: str) -> bytes:
        if self._is_link(path):
            raise OSError(errno.ELOOP, "is a symbolic link", path)
        # A file descriptor, not a file object: a buffered read of max_bytes + 1 allocates that
        # much for every file, and the objects cost more than the read.
        fd = os.open(self._full(path), os.O_RDONLY | _O_CLOEXEC)
        try:
            size = os.fstat(fd).st_size  # of the file opened: no race with a swap
            if size > self.max_bytes:
                raise FileTooLarge(path, size, self.max_bytes)
            data = _read_up_to(fd, self.max_bytes + 1, size + 1)
        finally:
            os.close(fd)
        if len(data) > self.max_bytes:
            raise FileTooLarge(path, len(data), self.max_bytes)
        return data

    def _full(self, path: str) -> str:
        # Plain string joining: pathlib costs ~30 us a call, which adds up over 10,000 files.
        return f"{self._prefix}{path}"

    def _is_link(self, path: str) -> bool:
        """Whether a listed path is a symbolic link; FileNotFoundError when it is not listed,
        so that paths in pruned or linked-to directories stay out of reach, as in a GitTree."""
        is_link = self._listing().get(path)
        if is_link is None:
            raise FileNotFoundError(errno.ENOENT, "not in the tree", path)
        return is_link

    def _listing(self) -> dict[str, bool]:
        if self._links is None:
            self._links = self._walk()
        return self._links

    def _walk(self) -> dict[str, bool]:
        found: dict[str, bool] = {}
        pending = [""]
        while pending:
            directory = pending.pop()
            entries = self._scan(directory)
            # A virtualenv made at the project root (`python -m venv .`) still holds the
            # project, so only virtualenvs below the root are pruned.
            if directory and any(entry.name == "pyvenv.cfg" for entry in entries):
                continue
            for entry in entries:
                path = f"{directory}/{entry.name}" if directory else entry.name
                kind = _kind(entry)
                if kind == "dir" and entry.name not in SKIPPED_DIRS:
                    pending.append(path)
                elif kind in ("file", "link"):
                    found[path] = kind == "link"
        return dict(sorted(found.items()))

    def _scan(self, directory: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(self._full(directory)) as scan:
                return list(scan)
        except OSError as error:
            if not directory:
                raise SourceError(f"cannot read directory {self.root}: {error.strerror}") from None
            self._unreadable.append(directory)
            return []


_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _read_up_to(fd: int, limit: int, expected: int) -> bytes:
    """At most `limit` bytes, to the end of the file (which may grow or shrink meanwhile),
    asking for `expected` bytes first."""
    chunks: list[bytes] = []
    total, want = 0, min(expected, limit)
    while total < limit:
        chunk = os.read(fd, want)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = min(max(want, 65536), limit - total)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _kind(entry: os.DirEntry[str]) -> Literal["link", "dir", "file", "other"]:
    """An entry's kind: "other" for sockets, fifos and entries that vanished."""
    try:
        if entry.is_symlink():
            return "link"
        if entry.is_dir(follow_symlinks=False):
            return "dir"
        return "file" if entry.is_file(follow_symlinks=False) else "other"
    except OSError:
        return "other"
