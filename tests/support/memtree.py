"""A Tree held in memory, for tests of the pure engine modules."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from pathlib import Path


class MemoryTree:
    """Files by tree-relative path; `links` maps a symbolic link's path to its target text."""

    def __init__(
        self,
        files: Mapping[str, str | bytes],
        links: Mapping[str, str] | None = None,
        unreadable: Collection[str] = (),
    ) -> None:
        self._files = {
            path: data.encode() if isinstance(data, str) else data for path, data in files.items()
        }
        self._links = dict(links or {})
        self._unreadable = frozenset(unreadable)

    def paths(self) -> Collection[str]:
        return {*self._files, *self._links, *self._unreadable}

    def link(self, path: str) -> str | None:
        return self._links.get(path)

    def oid(self, path: str) -> str:
        return hashlib.sha1(self.read(path)).hexdigest()

    def read(self, path: str) -> bytes:
        if path in self._unreadable:
            raise PermissionError(13, "Permission denied", path)
        if path in self._links:
            raise IsADirectoryError(21, "Is a directory", path)
        return self._files[path]


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Write `files` under `root` (for running real Alembic on the same layout)."""
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            target.write_text(data, encoding="utf-8")
        else:
            target.write_bytes(data)
