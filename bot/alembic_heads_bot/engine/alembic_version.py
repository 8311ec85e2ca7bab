"""The Alembic version a repository pins, for the rules Alembic changed between versions.

`down_revision = ""` is a base in Alembic 1.12.0 and earlier, and a `KeyError: ''` from 1.12.1
(commit 5628a227), so the same tree passes or fails by the version installed. When the
repository pins one exactly (a lock file, or `alembic==X` in a requirements file or
pyproject.toml), the bot applies that version's rule and names the version; otherwise it keeps
its version-independent reading (`engine.parse`: an error that says both).

The pin is looked up from the environment's config (or script) folder up to the repository
root, nearest first; in one folder lock files win over requirements files and pyproject.toml,
as they say what is installed.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from alembic_heads_bot.engine.model import Environment, ParsedFile, Problem
from alembic_heads_bot.engine.tree import Tree

# The last version that read `down_revision = ""` as a base.
LAST_EMPTY_IS_BASE = (1, 12, 0)

_LOCK_PACKAGE = re.compile(
    r'^\[\[package\]\]\s*\nname\s*=\s*"alembic"\s*\nversion\s*=\s*"([^"]+)"', re.M | re.I
)
_REQUIREMENT = re.compile(r"^\s*alembic\s*(?:\[[^\]]*\])?\s*===?\s*([0-9][^\s;#,]*)", re.M | re.I)
_PEP508_STRING = re.compile(r"""["']alembic\s*(?:\[[^\]]*\])?\s*===?\s*([0-9][^"';,\s]*)""", re.I)
_POETRY = re.compile(r"""^\s*alembic\s*=\s*["'](?:==)?\s*([0-9][^"'\s]*)["']""", re.M | re.I)
_REQUIREMENTS_NAME = re.compile(r"requirements[^/]*\.txt")
_VERSION = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True)
class Pin:
    text: str  # as written: "1.12.0"
    path: str  # the file pinning it

    @property
    def version(self) -> tuple[int, ...]:
        match = _VERSION.match(self.text)
        return tuple(int(part) for part in match.group().split(".")) if match else ()

    def describe(self) -> str:
        return f"Alembic {self.text} (pinned in {self.path})"


def _lock(text: str) -> str | None:
    match = _LOCK_PACKAGE.search(text)
    return match.group(1) if match else None


def _pipfile_lock(text: str) -> str | None:
    try:
        data = json.loads(text)
        version = data["default"]["alembic"]["version"]
    except (ValueError, KeyError, TypeError):
        return None
    return version[2:] if isinstance(version, str) and version.startswith("==") else None


def _requirements(text: str) -> str | None:
    match = _REQUIREMENT.search(text)
    return match.group(1) if match else None


def _pyproject(text: str) -> str | None:
    match = _PEP508_STRING.search(text) or _POETRY.search(text)
    return match.group(1) if match else None


_READERS: tuple[tuple[Callable[[str], bool], Callable[[str], str | None]], ...] = (
    (lambda name: name in ("uv.lock", "poetry.lock"), _lock),
    (lambda name: name == "Pipfile.lock", _pipfile_lock),
    (lambda name: bool(_REQUIREMENTS_NAME.fullmatch(name)), _requirements),
    (lambda name: name == "pyproject.toml", _pyproject),
)


def pinned_alembic(tree: Tree, near: str) -> Pin | None:
    """The exact Alembic version pinned nearest to folder `near`, or None."""
    by_dir: dict[str, list[str]] = {}
    for path in tree.paths():
        directory, _, _name = path.rpartition("/")
        by_dir.setdefault(directory or ".", []).append(path)
    directory = posixpath.normpath(near or ".")
    while True:
        pin = _pin_in(tree, sorted(by_dir.get(directory, ())))
        if pin is not None or directory == ".":
            return pin
        directory = posixpath.dirname(directory) or "."


def _pin_in(tree: Tree, paths: list[str]) -> Pin | None:
    for accepts, read in _READERS:
        for path in paths:
            if not accepts(path.rpartition("/")[2]):
                continue
            try:
                text = tree.read(path).decode("utf-8", "replace")
            except OSError:
                continue
            version = read(text)
            if version:
                return Pin(version, path)
    return None


def apply_pinned_version(
    tree: Tree, env: Environment, files: tuple[ParsedFile, ...]
) -> tuple[ParsedFile, ...]:
    """`down_revision = ""` judged by the pinned Alembic version, when there is one."""
    if not any(_empty_down_revision(f) for f in files):
        return files
    near = posixpath.dirname(env.config_path) if env.config_path else env.script_location
    pin = pinned_alembic(tree, near)
    if pin is None or not pin.version:
        return files
    return tuple(_judged(f, pin) if _empty_down_revision(f) else f for f in files)


def _empty_down_revision(parsed: ParsedFile) -> Problem | None:
    """The problem of a lone `down_revision = ""` (read as a base), if this file has one."""
    rev = parsed.revision
    if rev is None or rev.down_revision:
        return None
    line = rev.line_of("down_revision")
    for problem in parsed.problems:
        if problem.code == "empty-revision" and problem.line == line:
            return problem
    return None


def _judged(parsed: ParsedFile, pin: Pin) -> ParsedFile:
    old = _empty_down_revision(parsed)
    if old is None:
        return parsed
    if pin.version <= LAST_EMPTY_IS_BASE:
        new = replace(
            old,
            severity="warning",
            message=(
                f'`down_revision` is the empty string "". {pin.describe()} treats it as a base, '
                "and so does the bot; Alembic 1.12.1 and later fail with KeyError: '' on it, "
                "so write None before upgrading."
            ),
        )
    else:
        new = replace(
            old,
            message=(
                f'`down_revision` is the empty string "". {pin.describe()} fails with '
                "KeyError: '' on it (Alembic 1.12.1 and later; 1.12.0 and earlier read it as a "
                "base). Write None for a base."
            ),
        )
    problems = tuple(new if p is old else p for p in parsed.problems)
    return replace(parsed, problems=problems)
