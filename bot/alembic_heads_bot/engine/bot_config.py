"""The bot's own optional configuration file, `.github/alembic-heads.yml`.

Every key is optional; an absent file means "discover environments, default policy".

    environments:          # name the Alembic environments instead of discovering them
      - config: services/billing/alembic.ini   # an .ini or pyproject.toml to load
        section: billing                       # ini section (default: every section that
                                               # sets script_location)
        name: billing                          # what reports show and --env selects
      - script_location: legacy/migrations     # a script directory, default settings
        version_locations:                     # default: <script_location>/versions
          - legacy/migrations/versions
          - legacy/plugins/versions
      - config: app/migrations/alembic.ini     # Flask-Migrate: the ini names no script
        script_location: app/migrations        # directory, the app sets it in code
    policy:
      new-heads: fail          # fail | warn | ignore, for each rule
      problems: fail
      hazards: fail
      new-branch-points: warn
      ignore: [duplicate-file] # problem codes never reported
      applied-revisions: fail  # a PR edits a revision a named database applied
    no-environment: fail   # fail (default): no Alembic environment found stops the check
                           # (exit 2, "not checked"); warn: a warning, for a repository
                           # that runs the workflow before its first migration
    databases:             # deployed databases whose applied revisions the verdict weighs
      - name: production                   # what reports show (never the URL)
        url_env: PRODUCTION_DATABASE_URL   # the environment variable holding the URL
        environment: alembic.ini           # needed when the repository has several
        version_table: alembic_version     # default: what env.py configures, else Alembic's
        version_table_schema: public
    fix-base: pull-request # when a watched branch itself gets several heads (a race, a
                           # direct push): pull-request (a fix pull request), comment-only
                           # (a failing check and a comment on the pushed commit), off
    fix-branches: [release-1.x]   # watched besides the default branch

An entry needs `config`, `script_location` or both; with both, `script_location` overrides the
file's value the way `Config.set_main_option` does. `version_locations` replaces what the
config says. Every path here is relative to the repository root. When `environments` is a
non-empty list, only those environments are checked and the tree is not scanned.

Unknown keys, wrong types and bad values are `config-error` problems with the line they sit on;
the rest of the file still applies. A database URL is never written in this file (it would be
public and hold a password): `url_env` names the variable the workflow fills from a secret.

YAML anchors and aliases may share a value between entries (`version_locations: *shared`).
Reading is bounded whatever the file holds: a file over `MAX_BYTES`, collections nested more
than `MAX_DEPTH` deep, aliases that would expand to more than `MAX_ALIAS_NODES` nodes (a
"billion laughs" file) or that contain themselves are a `config-error` on the line where the
bound is crossed, and the file is not used.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import yaml

from alembic_heads_bot.engine.errors import PolicyError
from alembic_heads_bot.engine.model import PROBLEM_CODES, Problem
from alembic_heads_bot.engine.tree import Tree

BOT_CONFIG_PATH = ".github/alembic-heads.yml"

# Bounds on reading the file; real ones are under a kilobyte and five levels deep. PyYAML's
# composer recurses once per level (RecursionError near 490), and its pure-Python parser reads
# 200-300 KB a second.
MAX_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_ALIAS_NODES = 10_000  # nodes that aliases stand for, counted as if expanded

# What a rule does when it fires.
Outcome = Literal["fail", "warn", "ignore"]
Rule = Literal["new-heads", "problems", "hazards", "new-branch-points", "applied-revisions"]

VERDICTS: tuple[Outcome, ...] = ("fail", "warn", "ignore")
# What the bot does when a watched branch itself has several heads (app.fix_base).
FixBase = Literal["pull-request", "comment-only", "off"]
FIX_BASE: tuple[FixBase, ...] = ("pull-request", "comment-only", "off")
_OUTCOMES: dict[str, Outcome] = {outcome: outcome for outcome in VERDICTS}

# YAML key -> Policy field.
_RULES: dict[Rule, str] = {
    "new-heads": "new_heads",
    "problems": "problems",
    "hazards": "hazards",
    "new-branch-points": "new_branch_points",
    "applied-revisions": "applied_revisions",
}
_RULE_NAMES: dict[str, Rule] = {rule: rule for rule in _RULES}

_POLICY_KEYS = (*_RULES, "ignore")
_TOP_KEYS = ("environments", "policy", "no-environment", "databases", "fix-base", "fix-branches")
# What finding no Alembic environment at all does: stop the check (exit 2), or only warn.
NoEnvironmentOutcome = Literal["fail", "warn"]
NO_ENVIRONMENT: tuple[NoEnvironmentOutcome, ...] = ("fail", "warn")
_SPEC_KEYS = ("name", "config", "section", "script_location", "version_locations")
_DATABASE_KEYS = ("name", "url_env", "environment", "version_table", "version_table_schema")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
# One of a key's fixed choices (a Literal), as read from the YAML.
C = TypeVar("C", bound=str)
_TAG_NAMES = {
    _STR: "a string",
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:seq": "a list",
    "tag:yaml.org,2002:map": "a mapping",
}


@dataclass(frozen=True)
class EnvironmentSpec:
    """One environment named in the bot config (paths tree-relative, already normalised)."""

    name: str | None = None
    config: str | None = None
    section: str | None = None
    script_location: str | None = None
    version_locations: tuple[str, ...] | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Policy:
    """What each rule does when it fires: "fail", "warn" or "ignore"."""

    new_heads: Outcome = "fail"
    problems: Outcome = "fail"
    hazards: Outcome = "fail"
    new_branch_points: Outcome = "warn"
    applied_revisions: Outcome = "fail"
    ignore_codes: frozenset[str] = frozenset()


RULES: tuple[Rule, ...] = tuple(_RULES)


@dataclass(frozen=True)
class DatabaseSpec:
    """One deployed database: its URL is read from the variable `url_env` when the bot runs.

    `version_table` and `version_table_schema` override what env.py configures (None: keep it).
    """

    name: str
    url_env: str
    environment: str | None = None
    version_table: str | None = None
    version_table_schema: str | None = None
    line: int | None = field(default=None, compare=False)


def with_overrides(policy: Policy, overrides: Mapping[str, str]) -> Policy:
    """`policy` with some rules set from the command line (rule name -> fail|warn|ignore)."""
    rules: dict[str, Any] = {attribute: getattr(policy, attribute) for attribute in _RULES.values()}
    for name, value in overrides.items():
        rule, outcome = _RULE_NAMES.get(name), _OUTCOMES.get(value)
        if rule is None or outcome is None:
            raise PolicyError(
                f"{name}={value}: expected one of {', '.join(RULES)} = {'|'.join(VERDICTS)}"
            )
        rules[_RULES[rule]] = outcome
    return Policy(**rules, ignore_codes=policy.ignore_codes)


@dataclass(frozen=True)
class BotConfig:
    environments: tuple[EnvironmentSpec, ...] = ()
    policy: Policy = Policy()
    databases: tuple[DatabaseSpec, ...] = ()
    no_environment: NoEnvironmentOutcome = "fail"
    fix_base: FixBase = "pull-request"
    fix_branches: tuple[str, ...] = ()  # watched besides the default branch


def load_bot_config(
    tree: Tree, path: str = BOT_CONFIG_PATH
) -> tuple[BotConfig, tuple[Problem, ...]]:
    """The bot config in `tree`; defaults without a problem when the file does not exist."""
    if path not in tree.paths():
        return BotConfig(), ()
    try:
        data = tree.read(path)
    except OSError as exc:
        return BotConfig(), (Problem.of("unreadable-file", f"cannot read {path}: {exc}", path),)
    return parse_bot_config(data, path)


def parse_bot_config(
    data: bytes, path: str = BOT_CONFIG_PATH
) -> tuple[BotConfig, tuple[Problem, ...]]:
    """Parse the YAML text; every mistake becomes a config-error and the valid rest applies."""
    if len(data) > MAX_BYTES:
        message = (
            f"{path} is {len(data):,} bytes, more than the {MAX_BYTES:,} bytes the bot reads; "
            "it was not read"
        )
        return BotConfig(), (Problem.of("config-error", message, path, 1),)
    try:
        root = yaml.compose(data, Loader=_BoundedLoader)
    except _Unbounded as exc:
        return BotConfig(), (Problem.of("config-error", exc.message, path, exc.line),)
    except yaml.YAMLError as exc:
        return BotConfig(), (_yaml_problem(exc, path),)
    except (RecursionError, MemoryError) as exc:  # the bounds should make this unreachable
        message = f"cannot read the YAML ({type(exc).__name__}); it was not read"
        return BotConfig(), (Problem.of("config-error", message, path, 1),)
    reader = _Reader(path)
    config = reader.bot_config(root)
    return config, tuple(sorted(reader.problems, key=lambda problem: problem.line or 0))


class _Unbounded(Exception):
    """Reading the file would cross one of the bounds; `line` is where."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader, with its composer stopped where the file would nest too deeply or where
    aliases would stand for too many nodes (each alias counts the nodes of its anchor)."""

    def __init__(self, stream: bytes) -> None:
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0  # composed so far, aliases counted as expanded
        self.alias_nodes = 0
        self.sizes: dict[str, int] = {}  # anchor -> how many nodes its node stands for

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in PyYAML's stubs
        line: int = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            self._count_alias(str(event.anchor), line)
            return super().compose_node(parent, index)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Unbounded(line, f"collections nested more than {MAX_DEPTH} deep; not read")
        start = self.nodes
        self.nodes += 1
        node = super().compose_node(parent, index)
        self.depth -= 1
        if event.anchor is not None:
            self.sizes[event.anchor] = self.nodes - start
        return node

    def _count_alias(self, anchor: str, line: int) -> None:
        if anchor in self.anchors and anchor not in self.sizes:
            raise _Unbounded(line, f"the alias *{anchor} stands for a collection holding it")
        size = self.sizes.get(anchor, 0)  # an undefined alias is the composer's own error
        self.nodes += size
        self.alias_nodes += size
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise _Unbounded(
                line,
                f"aliases stand for more than {MAX_ALIAS_NODES:,} nodes once expanded "
                '(a "billion laughs" file?); not read',
            )


def _yaml_problem(exc: yaml.YAMLError, path: str) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = "; ".join(str(part) for part in (exc.context, exc.problem) if part)
        line = mark.line + 1 if mark is not None else None
        return Problem.of("config-error", f"invalid YAML: {what}", path, line)
    return Problem.of("config-error", f"invalid YAML: {exc}", path)


def _one_of(choices: tuple[str, ...]) -> str:
    if len(choices) == 2:
        return " or ".join(choices)
    return f"one of {', '.join(choices)}"


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode) and node.tag != _STR:
        return f"{_TAG_NAMES.get(node.tag, node.tag)} ({node.value!r})"
    return _TAG_NAMES.get(node.tag, node.tag)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL


class _Reader:
    """Walks the composed YAML nodes, so every problem knows its line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def error(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Problem.of("config-error", message, self.path, _line(node)))

    def bot_config(self, root: yaml.Node | None) -> BotConfig:
        if root is None or _is_null(root):
            return BotConfig()
        top = self.mapping(root, "the top level", _TOP_KEYS)
        environments: tuple[EnvironmentSpec, ...] = ()
        policy = Policy()
        if "environments" in top:
            environments = self.environments(top["environments"])
        if "policy" in top:
            policy = self.policy(top["policy"])
        databases = self.databases(top["databases"]) if "databases" in top else ()
        no_environment: NoEnvironmentOutcome = "fail"
        if "no-environment" in top:
            no_environment = self.choice(top["no-environment"], "no-environment", NO_ENVIRONMENT)
        fix_base: FixBase = "pull-request"
        if "fix-base" in top:
            fix_base = self.choice(top["fix-base"], "fix-base", FIX_BASE)
        branches = self.fix_branches(top["fix-branches"]) if "fix-branches" in top else ()
        return BotConfig(environments, policy, databases, no_environment, fix_base, branches)

    def choice(self, node: yaml.Node, key: str, choices: tuple[C, ...]) -> C:
        """One of `choices`; anything else is an error, and the first choice (the default)
        applies."""
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value in choices:
            return next(choice for choice in choices if choice == node.value)
        # YAML 1.1 reads a bare `off` (or `false`, `no`) as a boolean: what the user means.
        bare = isinstance(node, yaml.ScalarNode) and node.tag == _BOOL
        if bare and "off" in choices and str(node.value).lower() in ("off", "false", "no"):
            return next(choice for choice in choices if choice == "off")
        string = isinstance(node, yaml.ScalarNode) and node.tag == _STR
        given = repr(node.value) if string else _describe(node)
        self.error(node, f"{key} must be {_one_of(choices)}, not {given}")
        return choices[0]

    def fix_branches(self, node: yaml.Node) -> tuple[str, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"fix-branches must be a list of branch names, not {_describe(node)}")
            return ()
        names = [self.string(item, "each fix-branches entry") for item in node.value]
        return tuple(dict.fromkeys(name for name in names if name))

    def mapping(
        self, node: yaml.Node, where: str, allowed: tuple[str, ...]
    ) -> dict[str, yaml.Node]:
        """The non-null values of a mapping with known keys; problems for anything else."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{where} must be a mapping, not {_describe(node)}")
            return {}
        values: dict[str, yaml.Node] = {}
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or key not in allowed:
                self.error(key_node, self._unknown_key(key, where, allowed))
            elif key in seen:
                self.error(key_node, f"duplicate key {key!r} in {where}")
            else:
                seen.add(key)
                if not _is_null(value_node):
                    values[key] = value_node
        return values

    @staticmethod
    def _unknown_key(key: object, where: str, allowed: tuple[str, ...]) -> str:
        message = f"unknown key {key!r} in {where}"
        close = difflib.get_close_matches(str(key).replace("_", "-"), allowed, n=1)
        close = close or difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{message}; {hint}expected one of: {', '.join(allowed)}"

    def string(self, node: yaml.Node, what: str) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            value: str = node.value
            return value
        self.error(node, f"{what} must be a string, not {_describe(node)}")
        return None

    def repo_path(self, node: yaml.Node, what: str) -> str | None:
        """A path relative to the repository root, normalised; None (with a problem) otherwise."""
        text = self.string(node, what)
        if text is None:
            return None
        normal = posixpath.normpath(text.strip())
        if not text.strip() or posixpath.isabs(normal) or normal.split("/")[0] == "..":
            self.error(node, f"{what} {text!r} must be a relative path inside the repository")
            return None
        return normal

    def environments(self, node: yaml.Node) -> tuple[EnvironmentSpec, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"environments must be a list of mappings, not {_describe(node)}")
            return ()
        specs = (self.environment(item) for item in node.value)
        return tuple(spec for spec in specs if spec is not None)

    def environment(self, node: yaml.Node) -> EnvironmentSpec | None:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"an environments entry must be a mapping, not {_describe(node)}")
            return None
        start = len(self.problems)
        values = self.mapping(node, "an environments entry", _SPEC_KEYS)
        name = self.string(values["name"], "name") if "name" in values else None
        section = self.string(values["section"], "section") if "section" in values else None
        config = self.repo_path(values["config"], "config") if "config" in values else None
        script = None
        if "script_location" in values:
            script = self.repo_path(values["script_location"], "script_location")
        versions = self.version_locations(values.get("version_locations"))
        if "config" not in values and "script_location" not in values:
            self.error(node, "an environments entry needs 'config' or 'script_location'")
        elif "section" in values and "config" not in values:
            self.error(values["section"], "'section' needs 'config', the file it is a section of")
        if len(self.problems) > start:
            return None
        return EnvironmentSpec(name, config, section, script, versions, _line(node))

    def version_locations(self, node: yaml.Node | None) -> tuple[str, ...] | None:
        if node is None:
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"version_locations must be a list of paths, not {_describe(node)}")
            return None
        paths = [self.repo_path(item, "each version_locations entry") for item in node.value]
        if any(path is None for path in paths):
            return None
        return tuple(dict.fromkeys(path for path in paths if path is not None))

    def databases(self, node: yaml.Node) -> tuple[DatabaseSpec, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"databases must be a list of mappings, not {_describe(node)}")
            return ()
        specs: list[DatabaseSpec] = []
        for item in node.value:
            spec = self.database(item)
            if spec is not None and any(spec.name == other.name for other in specs):
                self.error(item, f"two databases entries are named {spec.name!r}")
            elif spec is not None:
                specs.append(spec)
        return tuple(specs)

    def database(self, node: yaml.Node) -> DatabaseSpec | None:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"a databases entry must be a mapping, not {_describe(node)}")
            return None
        if self._writes_url(node):
            return None
        start = len(self.problems)
        values = self.mapping(node, "a databases entry", _DATABASE_KEYS)
        text = {key: self.string(value, key) for key, value in values.items()}
        for key in ("name", "url_env"):
            if key not in values:
                self.error(node, f"a databases entry needs {key!r}")
        variable = text.get("url_env")
        if variable is not None and not _VARIABLE.match(variable):
            self.error(values["url_env"], f"url_env {variable!r} is not a variable name")
        if len(self.problems) > start:
            return None
        return DatabaseSpec(
            name=str(text["name"]),
            url_env=str(variable),
            environment=text.get("environment"),
            version_table=text.get("version_table"),
            version_table_schema=text.get("version_table_schema"),
            line=_line(node),
        )

    def _writes_url(self, node: yaml.MappingNode) -> bool:
        """A URL written in the file is refused outright: it would publish the password."""
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value in ("url", "uri"):
                self.error(
                    key_node,
                    "a database URL must not be written in the bot config (it is public and "
                    "would expose the password): put it in a secret and name the environment "
                    "variable holding it with url_env",
                )
                return True
        return False

    def policy(self, node: yaml.Node) -> Policy:
        values = self.mapping(node, "policy", _POLICY_KEYS)
        rules: dict[str, Outcome] = {}
        for key, attribute in _RULES.items():
            if key in values:
                verdict = self.verdict(values[key], key)
                if verdict is not None:
                    rules[attribute] = verdict
        ignore = self.ignore_codes(values["ignore"]) if "ignore" in values else frozenset()
        return Policy(**rules, ignore_codes=ignore)

    def verdict(self, node: yaml.Node, key: str) -> Outcome | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value in _OUTCOMES:
            return _OUTCOMES[node.value]
        expected = ", ".join(VERDICTS)
        self.error(node, f"policy {key} must be one of {expected}, not {_describe(node)}")
        return None

    def ignore_codes(self, node: yaml.Node) -> frozenset[str]:
        if not isinstance(node, yaml.SequenceNode):
            self.error(
                node, f"policy ignore must be a list of problem codes, not {_describe(node)}"
            )
            return frozenset()
        codes: set[str] = set()
        for item in node.value:
            code = self.string(item, "each policy ignore entry")
            if code is None:
                continue
            if code in PROBLEM_CODES:
                codes.add(code)
                continue
            close = difflib.get_close_matches(code, PROBLEM_CODES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.error(item, f"policy ignore: unknown problem code {code!r}{hint}")
        return frozenset(codes)
