"""The bot config's YAML text -> `BotConfig` and problems, bounded.

What the file may hold is documented in `engine.bot_config`, and the records are in
`engine.bot_config_model`. This is the only module that imports PyYAML, and `load_bot_config`
imports it only when the file exists (PyYAML costs a cold process 10-15 ms to import).
"""

from __future__ import annotations

import difflib
import posixpath
import re
from typing import TypeVar

import yaml

from alembic_heads_bot.engine.bot_config_model import (
    BOT_CONFIG_PATH,
    FIX_BASE,
    NO_ENVIRONMENT,
    OUTCOMES,
    RULE_FIELDS,
    RULES,
    VERDICTS,
    BotConfig,
    DatabaseSpec,
    EnvironmentSpec,
    FixBase,
    NoEnvironmentOutcome,
    Outcome,
    Policy,
)
from alembic_heads_bot.engine.model import PROBLEM_CODES, Problem

# Bounds on reading the file; real ones are under a kilobyte and five levels deep. PyYAML's
# composer recurses once per level (RecursionError near 490), and its pure-Python parser reads
# 200-300 KB a second.
MAX_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_ALIAS_NODES = 10_000  # nodes that aliases stand for, counted as if expanded

_POLICY_KEYS = (*RULES, "ignore")
_TOP_KEYS = ("environments", "policy", "no-environment", "databases", "fix-base", "fix-branches")
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
        for key, attribute in RULE_FIELDS.items():
            if key in values:
                verdict = self.verdict(values[key], key)
                if verdict is not None:
                    rules[attribute] = verdict
        ignore = self.ignore_codes(values["ignore"]) if "ignore" in values else frozenset()
        return Policy(**rules, ignore_codes=ignore)

    def verdict(self, node: yaml.Node, key: str) -> Outcome | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value in OUTCOMES:
            return OUTCOMES[node.value]
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
