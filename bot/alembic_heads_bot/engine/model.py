"""Plain records shared by every stage of the engine.

Nothing here does I/O. Paths are tree-relative POSIX strings ("migrations/versions/abc_x.py"),
whether the tree is a directory on disk or a git commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Severity = Literal["error", "warning"]

# The rules a verdict applies (`engine.analysis`), and what a policy (`engine.bot_config`)
# makes of one that fires. Here so that both can name them.
Rule = Literal["new-heads", "new-branch-points", "problems", "hazards", "applied-revisions"]
RulePolicy = Literal["fail", "warn", "ignore"]
# Where a relative script_location was found (`Environment.resolved_from`).
ResolvedFrom = Literal["config-dir", "repository-root"]

# Every problem code the engine can report. Codes are stable: users match on them in
# configuration and tooling, so never rename one.
ProblemCode = Literal[
    # reading files
    "decode-error",
    "file-too-large",
    "syntax-error",
    "non-literal",
    "dynamic-binding",
    "missing-revision",
    "missing-down-revision",
    "empty-revision",
    "invalid-revision-id",
    "bytecode-only",
    "unreadable-file",
    "suspicious-name",
    # the revision graph
    "duplicate-revision",
    "duplicate-file",
    "missing-parent",
    "label-as-parent",
    "missing-dependency",
    "cycle",
    "dependency-cycle",
    "self-loop",
    "dependency-self-loop",
    "duplicate-label",
    # configuration
    "config-error",
    "config-warning",
    "unconfigured-environment",
    "no-environment",
]

# Problems of these codes are warnings by default; all others are errors.
_WARNINGS: frozenset[ProblemCode] = frozenset(
    {
        "suspicious-name",
        "duplicate-file",
        "config-warning",
        "unconfigured-environment",
        "no-environment",
    }
)
# Each code's default severity, in the order above (bot-config suggestions search it).
PROBLEM_CODES: dict[ProblemCode, Severity] = {
    code: "warning" if code in _WARNINGS else "error" for code in get_args(ProblemCode)
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong, located as precisely as the input allows."""

    code: ProblemCode
    message: str
    path: str | None = None
    line: int | None = None
    severity: Severity = "error"

    @classmethod
    def of(
        cls, code: ProblemCode, message: str, path: str | None = None, line: int | None = None
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
    # prepend_sys_path as tree directories: where module constants a revision file imports are
    # looked for (`engine.constants`), before the repository root and src/.
    prepend_sys_path: tuple[str, ...] = ()
    # Where a relative script_location was found: Alembic takes it relative to its working
    # directory, which is the config's folder or the repository root. None: not relative.
    resolved_from: ResolvedFrom | None = None
