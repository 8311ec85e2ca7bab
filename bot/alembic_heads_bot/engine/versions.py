"""Which files of a tree Alembic loads as revisions, in the order it loads them.

A replica of Alembic 1.20.1's `ScriptDirectory._load_revisions`, `Script._list_py_dir` and the
name filter of `Script._from_path` (alembic/script/base.py), read through the Tree protocol
instead of the filesystem. Load order matters: it orders heads, bases and a merge's parents, and
decides which of two files with the same revision id wins.

Where Alembic would crash (a dangling or looping symbolic link it tries to load) or would read
something the bot cannot see (a link leaving the tree, bytecode without source), a `Problem` is
reported instead and the file is left out; every other file is still listed.
"""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import compress, filterfalse, repeat
from operator import itemgetter, methodcaller

from alembic_heads_bot.engine.model import Environment, Problem
from alembic_heads_bot.engine.tree import ListsLinks, Tree

# Alembic's filters (script/base.py:42-43), applied with re.match to the RESOLVED file name.
_SOURCE_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)$")
_SOURCELESS_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)(c|o)?$")

# Linux's MAXSYMLINKS: a longer chain is reported as a loop, as the OS would (ELOOP).
_MAX_LINK_HOPS = 40


@dataclass(frozen=True)
class _Target:
    """Where a tree path leads once every symbolic link on the way is followed.

    `path` is tree-relative; it is None when the links leave the tree or loop. `text` always
    names the destination as well as it is known (for messages and duplicate detection).
    """

    path: str | None
    text: str
    loop: bool = False

    @property
    def name(self) -> str:
        return posixpath.basename(self.text)


class _Index:
    """The tree's paths in sorted order, for directory queries by prefix and link resolution."""

    def __init__(self, tree: Tree) -> None:
        self._tree = tree
        self._sorted = sorted(tree.paths())
        self._entries = frozenset(self._sorted)
        # Asked once per path: the listing asks of every revision file (three times each).
        self._links = frozenset(_links(tree, self._sorted))
        self.has_links = bool(self._links)

    def link(self, path: str) -> str | None:
        return self._tree.link(path) if path in self._links else None

    def is_file(self, path: str) -> bool:
        """A regular file (resolved paths only: a link is never a file here)."""
        return path in self._entries and path not in self._links

    def is_dir(self, path: str) -> bool:
        if path == "":
            return bool(self._sorted)
        prefix = path + "/"
        at = bisect_left(self._sorted, prefix)
        return at < len(self._sorted) and self._sorted[at].startswith(prefix)

    def children(self, directory: str) -> tuple[list[str], list[str]]:
        """The names of a directory's subdirectories and of its other entries, both sorted."""
        if directory:
            # The paths under "d/" are those from "d/" up to "d0" ("0" follows "/").
            start = bisect_left(self._sorted, directory + "/")
            end = bisect_left(self._sorted, directory + "0", start)
            rest = repeat(slice(len(directory) + 1, None))
            below = list(map(str.__getitem__, self._sorted[start:end], rest))
        else:
            below = self._sorted
        # At C speed: a directory holds thousands of revision files.
        others = list(filterfalse(_HAS_SLASH, below))
        dirs = set(map(_FIRST, map(_SPLIT, filter(_HAS_SLASH, below))))
        return sorted(dirs), others

    def resolve(self, path: str, *, strict: bool = False) -> _Target:
        """Follow symbolic links component by component, as `os.path.realpath` does: ".."
        after a missing directory is taken lexically. `strict` makes such a path missing
        instead, as the OS does when Alembic checks that a version location exists."""
        pending = path.split("/")
        if not self.has_links and not {"", ".", ".."} & set(pending):
            return _Target(path, path)  # the usual case, taken once per revision file
        pending.reverse()
        done: list[str] = []
        hops = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if not done:
                    return _outside("/".join(["..", *reversed(pending)]))
                if strict and not self.is_dir("/".join(done)):
                    return _Target(None, path)
                done.pop()
                continue
            candidate = "/".join([*done, part])
            target = self.link(candidate)
            if target is None:
                done.append(part)
                continue
            hops += 1
            if hops > _MAX_LINK_HOPS:
                return _Target(None, path, loop=True)
            if target.startswith("/"):
                return _outside("/".join([target, *reversed(pending)]))
            pending.extend(reversed(target.split("/")))
        return _Target("/".join(done), "/".join(done))


_HAS_SLASH = methodcaller("__contains__", "/")
_SPLIT = methodcaller("partition", "/")
_FIRST = itemgetter(0)
_BASENAME = itemgetter(2)
_SPLIT_LAST = methodcaller("rpartition", "/")


def _links(tree: Tree, paths: Iterable[str]) -> Iterable[str]:
    """The symbolic links among `paths`: from the tree's own list when it keeps one."""
    if isinstance(tree, ListsLinks):
        return tree.links()
    return (path for path in paths if tree.link(path) is not None)


def _outside(text: str) -> _Target:
    return _Target(None, posixpath.normpath(text))


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def list_revision_files(
    tree: Tree, env: Environment
) -> tuple[tuple[str, ...], tuple[Problem, ...]]:
    """The resolved tree paths Alembic would load as revision files, in its load order.

    Problems: `duplicate-file` (a file reached twice; the first wins), `unreadable-file` (a link
    Alembic would follow that leaves the tree, dangles or loops), `bytecode-only` (with
    `sourceless`, a .pyc/.pyo without its .py source).
    """
    index = _Index(tree)
    if not index.has_links and not env.sourceless:
        return _plain_files(index, env)
    pattern = _SOURCELESS_FILE if env.sourceless else _SOURCE_FILE
    files: list[str] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for listed in _listed_files(index, env):
        target = index.resolve(listed)
        if target.text in seen:
            # Alembic checks this before its name filter, so any file kind can warn.
            problems.append(_duplicate(listed, target))
            continue
        seen.add(target.text)
        outcome = _load(index, listed, target, pattern)
        if isinstance(outcome, Problem):
            problems.append(outcome)
        elif outcome is not None:
            files.append(outcome)
    return tuple(files), tuple(problems)


def _plain_files(index: _Index, env: Environment) -> tuple[tuple[str, ...], tuple[Problem, ...]]:
    """`list_revision_files` of a tree without symbolic links, with `sourceless` off: what the
    general loop gives, at C speed. Each listed path is then its own resolved path (so the
    first listing of it wins), and a listed entry is a regular file: the name filter decides."""
    listed = _listed_files(index, env)
    problems: list[Problem] = []
    if len(set(listed)) < len(listed):  # a version location listed twice
        seen: set[str] = set()
        unique = []
        for path in listed:
            if path in seen:
                problems.append(_duplicate(path, _Target(path, path)))
            else:
                seen.add(path)
                unique.append(path)
        listed = unique
    names = map(_BASENAME, map(_SPLIT_LAST, listed))
    return tuple(compress(listed, map(_SOURCE_FILE.match, names))), tuple(problems)


def _listed_files(index: _Index, env: Environment) -> list[str]:
    """Every file Alembic's listing yields, unresolved, over all version locations."""
    listed: list[str] = []
    locations = env.version_locations or (_join(env.script_location, "versions"),)
    for location in locations:
        top = index.resolve(location, strict=True)
        # Missing locations are silently skipped, as Alembic does (script/base.py:135).
        if top.path is None or not index.is_dir(top.path):
            continue
        listed += _list_py_dir(index, top.path, _top_name(location, top.path), env)
    return listed


def _top_name(location: str, resolved: str) -> str:
    """The name Alembic's walk sees for the location itself: the unresolved one."""
    name = posixpath.basename(posixpath.normpath(location))
    return posixpath.basename(resolved) if name in (".", "..", "") else name


def _list_py_dir(index: _Index, top: str, top_name: str, env: Environment) -> list[str]:
    """Alembic's `Script._list_py_dir`: files before subdirectories, each level sorted."""
    listed: list[str] = []
    for root, name, files in _walk(index, top, top_name):
        if name.endswith("__pycache__"):
            # As in Alembic, `continue` skips the `break` below: even without recursion, the
            # walk goes on into such a directory's subdirectories.
            continue
        listed.extend(map(f"{root}/".__add__, sorted(files)) if root else sorted(files))
        if env.sourceless:
            listed.extend(_cached_bytecode(index, root, files))
        if not env.recursive_version_locations:
            break
    return listed


def _walk(index: _Index, root: str, name: str) -> Iterator[tuple[str, str, list[str]]]:
    """`os.walk(top, topdown=True)` on Python 3.11 (what Alembic uses before 3.12): yields
    (directory, its name, its file names) depth first, a directory before its subdirectories.

    Alembic sorts subdirectories before recursing except inside `*__pycache__` directories,
    where the order is the filesystem's; sorting by name everywhere is the deterministic choice.
    A link to a directory counts as a directory that is never entered, so it lists nothing
    (on Python >= 3.12 `Path.walk` lists it as a file, which Alembic's name filter then drops).
    """
    dirs, others = index.children(root)
    files = others
    if index.has_links:
        files = [entry for entry in others if not _links_to_dir(index, _join(root, entry))]
    yield root, name, files
    for directory in dirs:
        yield from _walk(index, _join(root, directory), directory)


def _links_to_dir(index: _Index, path: str) -> bool:
    if index.link(path) is None:
        return False
    target = index.resolve(path).path
    return target is not None and index.is_dir(target)


def _cached_bytecode(index: _Index, root: str, files: list[str]) -> list[str]:
    """With `sourceless`, the entries of `<root>/__pycache__` whose stem has no file in root."""
    cache = index.resolve(_join(root, "__pycache__")).path
    if cache is None or not index.is_dir(cache):
        return []
    stems = {file.split(".")[0] for file in files}
    dirs, others = index.children(cache)
    # Alembic takes them in `iterdir()` order, which is the filesystem's; sorted here.
    return [
        _join(cache, entry) for entry in sorted(dirs + others) if entry.split(".")[0] not in stems
    ]


def _load(
    index: _Index, listed: str, target: _Target, pattern: re.Pattern[str]
) -> str | Problem | None:
    """`Script._from_path` up to the import: the path to read, a problem, or None to skip."""
    if target.loop:
        return _unreadable(listed, "is a symbolic link that loops; Alembic would fail on it")
    match = pattern.match(target.name)
    if match is None:
        return None
    if match.lastindex == 2:
        return _bytecode(index, listed, target, match)
    if target.path is None:
        return _outside_tree(listed, target)
    if index.is_file(target.path):
        return target.path
    if index.is_dir(target.path):
        return _unreadable(
            listed, f"resolves to {target.path}, a directory; Alembic would fail to load it"
        )
    return _unreadable(
        listed,
        f"is a symbolic link to {target.path}, which does not exist; Alembic would fail to load it",
    )


def _bytecode(index: _Index, listed: str, target: _Target, match: re.Match[str]) -> Problem | None:
    """A .pyc/.pyo accepted by the sourceless filter: skipped when its source exists (as
    Alembic prefers the source), otherwise refused, since bytecode cannot be read statically."""
    if target.path is None:
        return _outside_tree(listed, target)
    source = posixpath.join(posixpath.dirname(target.path), match.group(1))
    if index.is_file(source) or (match.group(2) == "o" and index.is_file(source + "c")):
        return None
    return Problem.of(
        "bytecode-only",
        f"{target.path} is compiled bytecode with no {posixpath.basename(source)} source; "
        "with sourceless = true Alembic would load it, but it cannot be read statically",
        target.path,
    )


def _duplicate(listed: str, target: _Target) -> Problem:
    return Problem.of(
        "duplicate-file",
        f"File {target.text} loaded twice! ignoring. Please ensure version_locations is unique.",
        target.path or listed,
    )


def _outside_tree(listed: str, target: _Target) -> Problem:
    return _unreadable(
        listed,
        f"is a symbolic link to {target.text}, outside the tree; Alembic would load it, "
        "but the bot reads only files in the tree",
    )


def _unreadable(listed: str, why: str) -> Problem:
    return Problem.of("unreadable-file", f"{listed} {why}", listed)
