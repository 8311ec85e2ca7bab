"""env.py bytes -> the version table its `context.configure(...)` names, read with `ast`.

Alembic records applied revisions in the table that env.py passes to `context.configure` as
`version_table` and `version_table_schema` (MigrationContext defaults: "alembic_version", no
schema). env.py is never imported or run here, so only values certain from the syntax tree are
used: string literals, None (schema only), `config.get_main_option(...)` and its relatives
resolved from the environment's options, and module-level constants bound once. Anything else
keeps Alembic's default and becomes a `config-warning` that says where the bot config can set
the real value. Malformed files give the defaults and one warning, never an exception.

Work is bounded whatever the file holds: files over `MAX_ENV_PY_BYTES` are not parsed (real
env.py files are a few kilobytes; a multi-megabyte one costs seconds of walking its syntax
tree), a constant is followed through at most `MAX_NAME_HOPS` names, and anything nested too
deeply for Python's stack is a warning. `read_env_py` does the option-independent work once,
so that the many environments one config file may define share it.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from alembic_heads_bot.engine.bot_config import BOT_CONFIG_PATH
from alembic_heads_bot.engine.model import Problem

# The revision-file reader's decoder (BOM, PEP 263 cookie, NUL bytes, size limit) and parser
# (warnings silenced): env.py is Python source that Alembic loads the same way.
from alembic_heads_bot.engine.parse import decode_source, parse_source

DEFAULT_TABLE = "alembic_version"
# Larger env.py files are not parsed. Alembic's own template is 2 KB; the largest real ones are
# tens of kilobytes. (Revision files may be larger: see engine.parse.MAX_FILE_BYTES.)
MAX_ENV_PY_BYTES = 128 * 1024
# `A = B`, `B = C`, ...: how many module-level names a value is followed through.
MAX_NAME_HOPS = 32
TABLE, SCHEMA = "version_table", "version_table_schema"

# Config methods env.py reads options with; the value is the position of the option name.
_OPTION_GETTERS = {"get_main_option": 0, "get_alembic_option": 0, "get_section_option": 1}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
# Nodes binding their `name` attribute (None for a bare `except:` or `case _:`).
_NAMED = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.ExceptHandler,
    ast.MatchAs,
    ast.MatchStar,
)


@dataclass(frozen=True)
class VersionTableSetting:
    """Where an environment's databases record applied revisions, and why the bot is unsure."""

    table: str = DEFAULT_TABLE
    schema: str | None = None
    problems: tuple[Problem, ...] = ()


def read_version_table(
    source: bytes,
    path: str,
    options: Mapping[str, str],
    toml_options: Mapping[str, str] | None = None,
) -> VersionTableSetting:
    """The version table env.py configures, without running it.

    `options` are the environment's main ini section (with [DEFAULT] inheritance), which
    `config.get_main_option` reads; `toml_options` the string values of [tool.alembic], which
    `config.get_alembic_option` falls back to. `path` is env.py's tree path, for messages.
    """
    return read_env_py(source, path).version_table(EnvOptions.of(options, toml_options or {}))


@dataclass(frozen=True)
class EnvOptions:
    """What env.py's `config` answers, looked up only for the keys env.py asks for.

    `main(key)` is the environment's ini section (lower-cased key, [DEFAULT] inheritance), what
    `config.get_main_option` reads; `toml(key)` the string values of [tool.alembic], which
    `config.get_alembic_option` falls back to. None: not set (or unusable).
    """

    main: Callable[[str], str | None]
    toml: Callable[[str], str | None]

    @classmethod
    def of(cls, main: Mapping[str, str], toml: Mapping[str, str]) -> EnvOptions:
        # ConfigParser lower-cases option names on both sides; TOML keys are exact.
        lowered = {key.lower(): value for key, value in main.items()}
        return cls(lowered.get, dict(toml).get)

    def get(self, getter: str, key: str, default: str | None) -> str | None:
        """Config.get_main_option / get_section_option(main section) / get_alembic_option."""
        found = self.main(key.lower())
        if found is None and getter == "get_alembic_option":
            found = self.toml(key)
        return default if found is None else found


@dataclass(frozen=True)
class EnvPy:
    """One env.py, read once: `version_table` resolves it with one environment's options."""

    path: str
    module: _Module | None
    unreadable: VersionTableSetting = field(default_factory=lambda: VersionTableSetting())

    def version_table(self, options: EnvOptions) -> VersionTableSetting:
        if self.module is None:
            return self.unreadable
        try:
            return self.module.setting(options)
        except (RecursionError, MemoryError) as error:
            return cannot_read(self.path, _too_deep(error))


def read_env_py(source: bytes, path: str) -> EnvPy:
    """env.py parsed and its configure calls found; what cannot be read is kept as a warning."""
    if len(source) > MAX_ENV_PY_BYTES:
        reason = f"it is {len(source):,} bytes, more than the {MAX_ENV_PY_BYTES:,} bytes parsed"
        return EnvPy(path, None, cannot_read(path, reason))
    text = decode_source(source, path)
    if isinstance(text, Problem):
        return EnvPy(path, None, cannot_read(path, text.message, text.line))
    try:
        tree = parse_source(text, path)
    except SyntaxError as error:
        reason = f"Python cannot parse it: {error.msg}"
        return EnvPy(path, None, cannot_read(path, reason, error.lineno))
    except (RecursionError, MemoryError, ValueError) as error:
        reason = f"Python cannot parse it ({type(error).__name__}: {error})"
        return EnvPy(path, None, cannot_read(path, reason))
    try:
        return EnvPy(path, _Module(tree, path))
    except (RecursionError, MemoryError) as error:
        return EnvPy(path, None, cannot_read(path, _too_deep(error)))


def _too_deep(error: BaseException) -> str:
    return f"it is nested too deeply for the bot to follow ({type(error).__name__})"


def cannot_read(path: str, reason: str, line: int | None = None) -> VersionTableSetting:
    """Alembic's defaults, with the one warning that says why env.py could not be read."""
    message = (
        f"{_where(path, line)}: {_sentence(reason)} The bot cannot read the version table "
        f"env.py configures and assumes Alembic's default {DEFAULT_TABLE!r} (no schema). "
        f"{_hint('version_table / version_table_schema')}"
    )
    return VersionTableSetting(problems=(Problem.of("config-warning", message, path, line),))


def _where(path: str, line: int | None) -> str:
    return f"{path} line {line}" if line else path


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def _hint(keys: str) -> str:
    return (
        f"If your databases record revisions elsewhere, set {keys} in their entry under "
        f"`databases` in "
        f"{BOT_CONFIG_PATH}."
    )


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unknown:
    """A value that cannot be known statically; `reason` reads "`<snippet>` <why>"."""

    reason: str


_Value = str | None | _Unknown


@dataclass(frozen=True)
class _Configured:
    """One configure call, resolved: Alembic's defaults stand in for unknown values."""

    line: int
    table: str
    schema: str | None
    problems: tuple[Problem, ...]

    def shown(self) -> str:
        return repr(self.table) if self.schema is None else repr(f"{self.schema}.{self.table}")


class _Module:
    """env.py's syntax tree: its configure calls and the names their values may refer to."""

    def __init__(self, tree: ast.Module, path: str) -> None:
        self.tree = tree
        self.path = path
        self.constants = _constants(tree)
        self.calls = self._configure_calls()
        self.locals: dict[int, Counter[str]] = {}  # scope node id -> names it binds

    def setting(self, options: EnvOptions) -> VersionTableSetting:
        resolver = _Resolver(self, options)
        calls = [resolver.configured(call, scopes) for call, scopes in self.calls]
        if not calls:
            return self._no_configure_call()
        first = calls[0]
        problems = [problem for call in calls for problem in call.problems]
        for other in calls[1:]:
            if (other.table, other.schema) != (first.table, first.schema):
                problems.append(self._disagreement(first, other))
        return VersionTableSetting(first.table, first.schema, tuple(problems))

    def _configure_calls(self) -> list[tuple[ast.Call, tuple[ast.AST, ...]]]:
        """Every configure call in source order, with the function/class scopes around it."""
        context_names, configure_names = _alembic_names(self.tree)
        found = []
        stack: list[tuple[ast.AST, tuple[ast.AST, ...]]] = [(self.tree, ())]
        while stack:
            node, scopes = stack.pop()
            if isinstance(node, ast.Call) and _is_configure(node, context_names, configure_names):
                found.append((node, scopes))
            inner = (*scopes, node) if isinstance(node, _SCOPES) else scopes
            stack.extend((child, inner) for child in ast.iter_child_nodes(node))
        found.sort(key=lambda item: (item[0].lineno, item[0].col_offset))
        return found

    def bound_in(self, scope: ast.AST) -> Counter[str]:
        if id(scope) not in self.locals:
            body = scope.body if isinstance(scope.body, list) else [scope.body]  # type: ignore[attr-defined]
            names = _bound_names(body)
            if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                names.update(_parameters(scope.args))
            self.locals[id(scope)] = names
        return self.locals[id(scope)]

    # problems

    def unknown(self, keys: list[str], reason: str, line: int) -> Problem:
        assumed = {
            TABLE: f"Alembic's default {DEFAULT_TABLE!r}",
            SCHEMA: "Alembic's default, no schema",
        }.get(
            keys[0] if len(keys) == 1 else "", f"Alembic's defaults ({DEFAULT_TABLE!r}, no schema)"
        )
        shown = " and ".join(keys)
        message = (
            f"{self.path} line {line}: the {shown} passed to context.configure() cannot be "
            f"read without running env.py: {reason}. The bot assumes {assumed}. "
            f"{_hint(' / '.join(keys))}"
        )
        return Problem.of("config-warning", message, self.path, line)

    def _disagreement(self, first: _Configured, other: _Configured) -> Problem:
        message = (
            f"{self.path} configures different version tables on line {first.line} "
            f"({first.shown()}) and line {other.line} ({other.shown()}); the bot uses the "
            f"first. {_hint('version_table / version_table_schema')}"
        )
        return Problem.of("config-warning", message, self.path, other.line)

    def _no_configure_call(self) -> VersionTableSetting:
        if not _runs_something(self.tree):
            return VersionTableSetting()  # an empty env.py configures nothing
        message = (
            f"{self.path} has no context.configure(...) call (it may configure Alembic through "
            f"a module it imports), so the bot assumes Alembic's default version table "
            f"{DEFAULT_TABLE!r} (no schema). {_hint('version_table / version_table_schema')}"
        )
        return VersionTableSetting(problems=(Problem.of("config-warning", message, self.path),))


class _Resolver:
    """The values of configure calls, with one environment's options."""

    def __init__(self, module: _Module, options: EnvOptions) -> None:
        self.module = module
        self.options = options

    def configured(self, call: ast.Call, scopes: tuple[ast.AST, ...]) -> _Configured:
        keywords, spread = _keywords(call)
        values: dict[str, str | None] = {TABLE: DEFAULT_TABLE, SCHEMA: None}
        # (line, reason) -> the keys it hides: one `**conf_args` is one warning, not two.
        unknown: dict[tuple[int, str], list[str]] = {}
        for key in (TABLE, SCHEMA):
            node = keywords.get(key)
            if node is None and spread is None:
                continue
            line = node.lineno if node is not None else call.lineno
            value = self._value(node, scopes) if node is not None else _spread(spread)
            if key == TABLE and value is None:
                assert node is not None
                value = _Unknown(
                    f"`{_snippet(node)}` gives None, which Alembic cannot use as a table name"
                )
            if isinstance(value, _Unknown):
                unknown.setdefault((line, value.reason), []).append(key)
            else:
                values[key] = value
        problems = tuple(
            self.module.unknown(keys, reason, line) for (line, reason), keys in unknown.items()
        )
        table = values[TABLE]
        assert table is not None  # a None table is unknown, and keeps the default
        return _Configured(call.lineno, table, values[SCHEMA], problems)

    def _value(
        self, node: ast.expr, scopes: tuple[ast.AST, ...], seen: frozenset[str] = frozenset()
    ) -> _Value:
        """The str or None `node` certainly evaluates to, else why it cannot be known."""
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return self._first_true(node, scopes, seen)
        if isinstance(node, ast.Constant):
            if node.value is None or isinstance(node.value, str):
                return node.value
            return _Unknown(f"`{_snippet(node)}` is not a string")
        if isinstance(node, ast.Name):
            return self._name(node, scopes, seen)
        if isinstance(node, ast.Call) and _getter(node) is not None:
            return self._option(node, scopes, seen)
        return _Unknown(f"`{_snippet(node)}` is {_kind(node)}")

    def _first_true(
        self, node: ast.BoolOp, scopes: tuple[ast.AST, ...], seen: frozenset[str]
    ) -> _Value:
        """`a or b`, as in `config.get_main_option("version_table") or "alembic_version"`."""
        found: _Value = None
        for operand in node.values:
            found = self._value(operand, scopes, seen)
            if isinstance(found, _Unknown) or found:
                return found
        return found

    def _name(self, node: ast.Name, scopes: tuple[ast.AST, ...], seen: frozenset[str]) -> _Value:
        """A module-level constant, unless a function around the call binds the name."""
        for scope in scopes:
            if node.id in self.module.bound_in(scope):
                where = getattr(scope, "name", "a lambda")
                return _Unknown(f"`{node.id}` is a variable set inside {where}")
        value = self.module.constants.get(node.id)
        if value is None or node.id in seen:
            return _Unknown(f"`{node.id}` is not a module-level constant assigned once")
        if len(seen) >= MAX_NAME_HOPS:
            return _Unknown(f"`{node.id}` is reached through more than {MAX_NAME_HOPS} names")
        found = self._value(value, (), seen | {node.id})
        if isinstance(found, _Unknown):
            return _Unknown(f"`{node.id}` holds a value that cannot be read ({found.reason})")
        return found

    def _option(self, call: ast.Call, scopes: tuple[ast.AST, ...], seen: frozenset[str]) -> _Value:
        """config.get_main_option("key"[, default]) and friends, looked up in the options."""
        getter = _getter(call)
        assert getter is not None
        shown = f"`{_snippet(call)}`"
        arguments = _arguments(call, getter)
        if arguments is None:
            return _Unknown(f"{shown} has arguments that cannot be read")
        section, name, default = arguments
        if getter == "get_section_option" and not _is_main_section(section):
            return _Unknown(f"{shown} reads a section other than the environment's own")
        key = self._value(name, scopes, seen) if name is not None else None
        if not isinstance(key, str):
            return _Unknown(f"{shown} names its option with something other than a string")
        fallback = self._value(default, scopes, seen) if default is not None else None
        if isinstance(fallback, _Unknown):
            return _Unknown(f"{shown} has a default that cannot be read")
        return self.options.get(getter, key, fallback)


# --- the syntax tree ------------------------------------------------------------------------


def _alembic_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to the alembic.context module, and to its configure function."""
    contexts, configures = {"context"}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level:
            for alias in node.names:
                if node.module == "alembic" and alias.name == "context":
                    contexts.add(alias.asname or alias.name)
                elif node.module == "alembic.context" and alias.name == "configure":
                    configures.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            contexts.update(
                a.asname for a in node.names if a.name == "alembic.context" and a.asname
            )
    return contexts, configures


def _is_configure(call: ast.Call, contexts: set[str], configures: set[str]) -> bool:
    """`context.configure(...)`, `alembic.context.configure(...)`, an imported `configure(...)`,
    or any `configure(...)` passing a version table (an EnvironmentContext under another name).
    Other `.configure` calls (structlog, sessionmaker) are not Alembic's."""
    func = call.func
    sets_table = any(keyword.arg in (TABLE, SCHEMA) for keyword in call.keywords)
    if isinstance(func, ast.Name):
        return func.id in configures or (func.id == "configure" and sets_table)
    if not isinstance(func, ast.Attribute) or func.attr != "configure":
        return False
    receiver = func.value
    if isinstance(receiver, ast.Name) and receiver.id in contexts:
        return True
    return (isinstance(receiver, ast.Attribute) and receiver.attr == "context") or sets_table


def _keywords(call: ast.Call) -> tuple[dict[str, ast.expr], ast.expr | None]:
    """Keyword arguments (a `**{...}` literal's string keys included), and the first other
    `**mapping`, which may hold any keyword."""
    keywords: dict[str, ast.expr] = {}
    spread = None
    for keyword in call.keywords:
        if keyword.arg is not None:
            keywords[keyword.arg] = keyword.value
        elif _literal_keys(keyword.value):
            assert isinstance(keyword.value, ast.Dict)
            for key, value in zip(keyword.value.keys, keyword.value.values, strict=True):
                assert isinstance(key, ast.Constant) and isinstance(key.value, str)
                keywords[key.value] = value
        elif spread is None:
            spread = keyword.value
    # An explicit keyword is the value: Python refuses a call whose **mapping repeats it.
    return keywords, spread


def _literal_keys(node: ast.expr) -> bool:
    return isinstance(node, ast.Dict) and all(
        isinstance(key, ast.Constant) and isinstance(key.value, str) for key in node.keys
    )


def _spread(node: ast.expr | None) -> _Unknown:
    assert node is not None
    return _Unknown(f"`**{_snippet(node)}` is a mapping the bot cannot see into")


def _getter(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in _OPTION_GETTERS:
        return func.attr
    return None


def _arguments(
    call: ast.Call, getter: str
) -> tuple[ast.expr | None, ast.expr | None, ast.expr | None] | None:
    """(section, name, default) nodes of an option getter call; None for */** arguments."""
    if any(isinstance(arg, ast.Starred) for arg in call.args):
        return None
    if any(keyword.arg is None for keyword in call.keywords):
        return None
    names = ("section", "name", "default")[1 - _OPTION_GETTERS[getter] :]
    bound: dict[str, ast.expr] = dict(zip(names, call.args, strict=False))  # extra args: TypeError
    bound.update({keyword.arg: keyword.value for keyword in call.keywords if keyword.arg})
    return bound.get("section"), bound.get("name"), bound.get("default")


def _is_main_section(node: ast.expr | None) -> bool:
    """`config.config_ini_section`: the section Alembic was pointed at (-n)."""
    return isinstance(node, ast.Attribute) and node.attr == "config_ini_section"


def _constants(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level names bound exactly once, by a top-level assignment, that no function
    declares `global` and no later star import may rebind: name -> the assigned expression."""
    counts = _bound_names(tree.body)
    stars = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and _is_star_import(node)
    ]
    declared = {
        name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names
    }
    found: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue
        for target in targets:
            if not isinstance(target, ast.Name) or counts[target.id] != 1:
                continue
            if target.id in declared or any(line > stmt.lineno for line in stars):
                continue
            found[target.id] = value
    return found


def _is_star_import(node: ast.AST) -> bool:
    return isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)


def _bound_names(stmts: Iterable[ast.AST]) -> Counter[str]:
    """How often each name is bound in the scope these statements run in (nested function and
    class bodies are other scopes; comprehension variables are counted, which only makes a
    name look less constant)."""
    counts: Counter[str] = Counter()
    stack = list(stmts)
    while stack:
        node = stack.pop()
        counts.update(_binds(node))
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))
    return counts


def _binds(node: ast.AST) -> Iterator[str]:
    """The names one node binds in its own scope."""
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        yield node.id
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        yield from (alias.asname or alias.name.split(".")[0] for alias in node.names)
    elif isinstance(node, _NAMED) and node.name:
        yield node.name
    elif isinstance(node, ast.MatchMapping) and node.rest:
        yield node.rest


def _parameters(args: ast.arguments) -> Iterator[str]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return (arg.arg for arg in every if arg is not None)


def _runs_something(tree: ast.Module) -> bool:
    """Whether the module holds more than a docstring and `pass`."""
    return any(
        not isinstance(stmt, ast.Pass)
        and not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        for stmt in tree.body
    )


def _kind(node: ast.expr) -> str:
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.Call):
        return "a function call"
    if isinstance(node, ast.Attribute):
        return "an attribute"
    if isinstance(node, ast.Subscript):
        return "a subscript"
    return "an expression"


def _snippet(node: ast.expr, limit: int = 60) -> str:
    try:
        text = ast.unparse(node)
    except RecursionError:  # unparse recurses once per level; the parser allowed deeper
        return f"<{_kind(node)} too deeply nested to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
