"""Plain records shared by every stage of the engine.

Nothing here does I/O. Paths are tree-relative POSIX strings ("migrations/versions/abc_x.py"),
whether the tree is a directory on disk or a git commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]

# Every problem code the engine can report, with its default severity. Codes are stable: users
# match on them in configuration and tooling, so never rename one.
PROBLEM_CODES: dict[str, Severity] = {
    # reading files
    "decode-error": "error",
    "file-too-large": "error",
    "syntax-error": "error",
    "non-literal": "error",
    "missing-revision": "error",
    "missing-down-revision": "error",
    "empty-revision": "error",
    "invalid-revision-id": "error",
    "bytecode-only": "error",
    "unreadable-file": "error",
    "suspicious-name": "warning",
    # the revision graph
    "duplicate-revision": "error",
    "duplicate-file": "warning",
    "missing-parent": "error",
    "label-as-parent": "error",
    "missing-dependency": "error",
    "cycle": "error",
    "dependency-cycle": "error",
    "self-loop": "error",
    "dependency-self-loop": "error",
    "duplicate-label": "error",
    # configuration
    "config-error": "error",
    "config-warning": "warning",
    "unconfigured-environment": "warning",
    "no-environment": "warning",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong, located as precisely as the input allows."""

    code: str
    message: str
    path: str | None = None
    line: int | None = None
    severity: Severity = "error"

    @classmethod
    def of(
        cls, code: str, message: str, path: str | None = None, line: int | None = None
    ) -> Problem:
        """A problem with the default severity of its code."""
        return cls(code, message, path, line, PROBLEM_CODES[code])

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.line,
        }


@dataclass(frozen=True)
class Revision:
    """What one revision file declares, as Alembic would read it after normalisation.

    `down_revision` is Alembic's `to_tuple(down_revision)`: () for a base, duplicates and order
    kept. `complete` is False when a value could not be read statically; the graph then keeps
    the node (so its children still find their parent) but trusts none of its edges.
    """

    revision: str
    down_revision: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    path: str = ""
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    doc: str = ""
    complete: bool = True

    def line_of(self, attribute: str) -> int | None:
        """The line binding `revision`, `down_revision`, `branch_labels` or `depends_on`."""
        return self.lines.get(attribute)


@dataclass(frozen=True)
class ParsedFile:
    """The static reading of one revision file: its revision (when one is named) and problems."""

    path: str
    revision: Revision | None
    problems: tuple[Problem, ...] = ()
    # The content identity the tree gave (`Tree.oid`): equal ids mean an unchanged file.
    oid: str = field(default="", compare=False)


@dataclass(frozen=True)
class Environment:
    """One Alembic environment: a script directory and the settings that shape its graph and files.

    `name` is what users pass to `--env` and what reports show: the config file's path, with
    `:SECTION` appended for ini sections other than `alembic`.
    """

    name: str
    config_path: str | None
    section: str | None
    script_location: str
    version_locations: tuple[str, ...]
    recursive_version_locations: bool = False
    sourceless: bool = False
    file_template: str = "%(rev)s_%(slug)s"
    truncate_slug_length: int = 40
    timezone: str | None = None
    output_encoding: str = "utf-8"
    revision_environment: bool = False
    post_write_hooks: tuple[str, ...] = ()
    # Where databases record what they applied: `context.configure(version_table=...,
    # version_table_schema=...)` in env.py, read statically (`engine.env_py`); Alembic's defaults.
    version_table: str = "alembic_version"
    version_table_schema: str | None = None
    problems: tuple[Problem, ...] = ()
    # Why the version table above may be a guess (env.py computes it). Kept apart from
    # `problems`: they matter only to a database of this environment that lacks the table.
    version_table_problems: tuple[Problem, ...] = ()
