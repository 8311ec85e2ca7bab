"""Module constants a revision file imports from its own repository, read statically.

OpenStack projects bind branch labels to constants of their own package: glance's
`from glance.db import migration` then `branch_labels = migration.EXPAND_BRANCH`, neutron's
`from neutron.db.migration import cli` then `branch_labels = (cli.EXPAND_BRANCH,)`. Alembic
imports the revision file, which imports that module. `engine.parse` reads one file at a time
and reports such a binding as `non-literal`; this stage, which sees the whole tree, finds the
imported module's file through the package layout (the prepend_sys_path directories, the
config's directory, the repository root, src/, then the one place in the tree the package
lives), reads its module-level assignments of literals with `ast`, and uses the value. Nothing
is imported or run. What cannot be resolved that way stays `non-literal`, and its message says
which module was looked for and where.

A value is resolved only where the answer is certain: every name on the way is bound once at
module level (the last binding before it is used, for the revision file itself) by a plain
assignment of a literal, a tuple or list of them, a `+` of them, or an import of such a
constant; a module with code that changes its globals by other means (`engine.parse`'s
`dynamic-binding` cases) is not trusted.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from alembic_heads_bot.engine.model import Environment, ParsedFile, Problem, Revision
from alembic_heads_bot.engine.parse import DynamicBinding, find_dynamic_bindings, read_module
from alembic_heads_bot.engine.tree import Tree

Value: TypeAlias = "str | tuple[str, ...] | None"

# Attributes this stage resolves (a file whose `revision` is unknown has no record to fix).
RESOLVED = ("down_revision", "branch_labels", "depends_on")
_NOUNS = {
    "down_revision": "parents",
    "branch_labels": "branch labels",
    "depends_on": "dependencies",
}
# Imports followed from one constant to the next (a package re-exporting a submodule's name).
_MAX_DEPTH = 8
_END = 1 << 30  # a line after any module's last: the bindings in effect once it has run
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)


@dataclass(frozen=True)
class Unresolved:
    """Why a value cannot be known; `reason` completes "`branch_labels` is bound to X, ..."."""

    reason: str


@dataclass(frozen=True)
class _Binder:
    """One module-level statement binding a name: how, and the expression or import."""

    line: int
    kind: str  # "assign", "import" (module), "from" (name from a module), "other"
    value: ast.expr | None = None
    module: str = ""  # for "import" and "from"
    name: str = ""  # for "from": the imported name
    how: str = ""  # for "other": what binds it, completing "bound ..."


@dataclass
class _Module:
    """A module's top-level bindings by name, in order; `untrusted` says why none is usable."""

    dotted: str
    path: str
    binders: dict[str, list[_Binder]] = field(default_factory=dict)
    untrusted: str | None = None


@dataclass
class Resolver:
    """Finds and reads the modules of one tree, each at most once."""

    tree: Tree
    roots: tuple[str, ...]
    _paths: frozenset[str] | None = None
    _modules: dict[str, _Module | Unresolved] = field(default_factory=dict)

    @classmethod
    def for_environment(cls, tree: Tree, env: Environment) -> Resolver:
        config_dir = posixpath.dirname(env.config_path) if env.config_path else "."
        roots = (*env.prepend_sys_path, config_dir or ".", ".", "src")
        return cls(tree, tuple(dict.fromkeys(posixpath.normpath(r) for r in roots)))

    @property
    def paths(self) -> frozenset[str]:
        if self._paths is None:
            self._paths = frozenset(self.tree.paths())
        return self._paths

    # --- modules --------------------------------------------------------------------------

    def module(self, dotted: str) -> _Module | Unresolved:
        if dotted not in self._modules:
            self._modules[dotted] = self._load(dotted)
        return self._modules[dotted]

    def is_module(self, dotted: str) -> bool:
        return self.find(dotted) is not None

    def find(self, dotted: str) -> str | None:
        """The file of module `dotted`: under the roots first, else the one place in the tree
        its package layout fits (an installed package, a monorepo's sub-project)."""
        tails = _module_files(dotted)
        for root in self.roots:
            for tail in tails:
                path = tail if root == "." else f"{root}/{tail}"
                if path in self.paths:
                    return path
        found = sorted(p for p in self.paths for t in tails if p.endswith("/" + t))
        found = [p for p in found if _is_package_layout(self.paths, p, dotted)]
        return found[0] if len(found) == 1 else None

    def where(self, dotted: str) -> str:
        """Where `find` looked, for a message."""
        tails = " or ".join(_module_files(dotted))
        roots = ", ".join("the repository root" if r == "." else f"{r}/" for r in self.roots)
        return f"looked for as {tails} under {roots} and anywhere in the package layout"

    def _load(self, dotted: str) -> _Module | Unresolved:
        path = self.find(dotted)
        if path is None:
            candidates = [p for p in self.paths for t in _module_files(dotted) if p.endswith(t)]
            if len(candidates) > 1:
                shown = ", ".join(sorted(candidates)[:4])
                return Unresolved(f"module `{dotted}` is ambiguous in this repository ({shown})")
            return Unresolved(
                f"module `{dotted}` is not a file of this repository ({self.where(dotted)}); "
                "it may come from an installed package"
            )
        try:
            data = self.tree.read(path)
        except OSError as exc:
            return Unresolved(f"module `{dotted}` ({path}) cannot be read: {exc}")
        tree = read_module(data, path)
        if isinstance(tree, Problem):
            return Unresolved(f"module `{dotted}` ({path}) cannot be parsed: {tree.message}")
        return module_bindings(tree, dotted, path)

    # --- values ---------------------------------------------------------------------------

    def constant(self, dotted: str, name: str, depth: int = 0) -> Value | Unresolved:
        """The value of module `dotted`'s global `name` once the module has run."""
        module = self.module(dotted)
        if isinstance(module, Unresolved):
            return module
        if module.untrusted:
            return Unresolved(f"{module.path} {module.untrusted}")
        binder = _last_before(module, name, _END)
        if binder is None:
            if _is_package(module.path) and self.is_module(f"{dotted}.{name}"):
                return Unresolved(f"`{dotted}.{name}` is a module, not a constant")
            return Unresolved(f"{module.path} binds no module-level `{name}`")
        return self.bound(module, binder, name, depth)

    def bound(self, module: _Module, binder: _Binder, name: str, depth: int) -> Value | Unresolved:
        at = f"{module.path} line {binder.line}"
        if depth > _MAX_DEPTH:
            return Unresolved(f"`{name}` at {at} goes through more than {_MAX_DEPTH} names")
        if binder.kind == "assign" and binder.value is not None:
            return self.evaluate(binder.value, module, binder.line, depth + 1)
        if binder.kind == "from":
            if self.is_module(f"{binder.module}.{binder.name}") and not self._binds(
                binder.module, binder.name
            ):
                return Unresolved(f"`{name}` at {at} is the module `{binder.module}.{binder.name}`")
            return self.constant(binder.module, binder.name, depth + 1)
        if binder.kind == "import":
            return Unresolved(f"`{name}` at {at} is the module `{binder.module}`")
        return Unresolved(f"`{name}` is {binder.how} at {at}")

    def _binds(self, dotted: str, name: str) -> bool:
        module = self.module(dotted)
        return isinstance(module, _Module) and name in module.binders

    def evaluate(
        self, node: ast.expr, module: _Module, line: int, depth: int
    ) -> Value | Unresolved:
        """The value of `node`, an expression at `line` of `module`."""
        if isinstance(node, ast.Constant):
            if node.value is None or isinstance(node.value, str):
                return node.value
            return Unresolved(f"`{ast.unparse(node)}` is not a string")
        if isinstance(node, (ast.Tuple, ast.List)):
            items: list[str] = []
            for element in node.elts:
                value = self.evaluate(element, module, line, depth)
                if isinstance(value, Unresolved):
                    return value
                if not isinstance(value, str):
                    return Unresolved(f"`{ast.unparse(element)}` is not a string")
                items.append(value)
            return tuple(items)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._concatenation(node, module, line, depth)
        if isinstance(node, ast.Name):
            binder = _last_before(module, node.id, line)
            if binder is None:
                return Unresolved(f"`{node.id}` is not bound before line {line} of {module.path}")
            return self.bound(module, binder, node.id, depth)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, module, line, depth)
        return Unresolved(f"`{_snippet(node)}` is an expression the bot does not evaluate")

    def _concatenation(
        self, node: ast.BinOp, module: _Module, line: int, depth: int
    ) -> Value | Unresolved:
        left = self.evaluate(node.left, module, line, depth)
        right = self.evaluate(node.right, module, line, depth)
        for side in (left, right):
            if isinstance(side, Unresolved):
                return side
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        if isinstance(left, tuple) and isinstance(right, tuple):
            return left + right
        return Unresolved(f"`{_snippet(node)}` adds values of different types")

    def _attribute(
        self, node: ast.Attribute, module: _Module, line: int, depth: int
    ) -> Value | Unresolved:
        chain = _chain(node)
        if chain is None:
            return Unresolved(f"`{_snippet(node)}` is an expression the bot does not evaluate")
        root, *attributes = chain
        binder = _last_before(module, root, line)
        if binder is None:
            return Unresolved(f"`{root}` is not bound before line {line} of {module.path}")
        dotted = self._module_of(binder, root)
        if isinstance(dotted, Unresolved):
            return dotted
        # `import a.b` binds `a`; `a.b.C` walks submodules, the last name is the constant.
        for attribute in attributes[:-1]:
            dotted = f"{dotted}.{attribute}"
        return self._imported(dotted, attributes[-1], binder, module, depth)

    def _imported(
        self, dotted: str, name: str, binder: _Binder, module: _Module, depth: int
    ) -> Value | Unresolved:
        value = self.constant(dotted, name, depth + 1)
        if isinstance(value, Unresolved):
            imported = f"imported on line {binder.line} of {module.path}"
            return Unresolved(f"from module `{dotted}` ({imported}): {value.reason}")
        return value

    def _module_of(self, binder: _Binder, root: str) -> str | Unresolved:
        if binder.kind == "import":
            return binder.module
        if binder.kind == "from":
            submodule = f"{binder.module}.{binder.name}"
            if self.is_module(submodule) and not self._binds(binder.module, binder.name):
                return submodule
            if not self.is_module(submodule):
                return Unresolved(
                    f"module `{submodule}` (imported as `{root}` on line {binder.line}) is not a "
                    f"file of this repository ({self.where(submodule)}); it may come from an "
                    "installed package"
                )
            return Unresolved(f"`{binder.module}` binds `{binder.name}` itself")
        return Unresolved(f"`{root}` is not an imported module")


def module_bindings(tree: ast.Module, dotted: str, path: str) -> _Module:
    """Every module-level binding of `tree`, by name, in order."""
    module = _Module(dotted, path)
    dynamic = [d for d in find_dynamic_bindings(tree) if not _read_only(d)]
    if dynamic:
        module.untrusted = (
            f"may change its globals at import ({dynamic[0].means}, line {dynamic[0].line})"
        )
        return module
    for stmt in tree.body:
        for name, binder in _binders(stmt, dotted, path):
            module.binders.setdefault(name, []).append(binder)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):  # a function may rebind these whenever it runs
            for name in node.names:
                how = "declared `global` in a function"
                module.binders.setdefault(name, []).append(_Binder(node.lineno, "other", how=how))
    return module


def _read_only(found: DynamicBinding) -> bool:
    """`getattr(obj, name)` inside a function the module body merely refers to (neutron's cli.py
    hands its command functions to a parser): a read, which `engine.parse` counts against a
    revision file, where any doubt matters, but which does not rebind a module constant."""
    return found.function is not None and found.means == "`getattr()` with a computed name"


def _binders(stmt: ast.stmt, dotted: str, path: str) -> Iterator[tuple[str, _Binder]]:
    line = stmt.lineno
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            if isinstance(target, ast.Name) and stmt.value is not None:
                yield target.id, _Binder(line, "assign", stmt.value)
            else:
                yield from _other(target, line, "bound by unpacking")
    elif isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.asname:
                yield alias.asname, _Binder(line, "import", module=alias.name)
            else:
                top = alias.name.partition(".")[0]
                yield top, _Binder(line, "import", module=top)
    elif isinstance(stmt, ast.ImportFrom):
        base = _absolute(stmt, dotted, path)
        for alias in stmt.names:
            if alias.name == "*":
                yield "*", _Binder(line, "other", how="possibly bound by a star import")
            elif base is None:
                how = "imported relatively from a package the bot cannot place"
                yield alias.asname or alias.name, _Binder(line, "other", how=how)
            else:
                binder = _Binder(line, "from", module=base, name=alias.name)
                yield alias.asname or alias.name, binder
    elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield stmt.name, _Binder(line, "other", how="a function or class")
    elif isinstance(stmt, _COMPOUND) or type(stmt).__name__ in ("Match", "TryStar"):
        yield from _other(stmt, line, "bound inside a block, so it depends on what runs")
    else:
        yield from _other(stmt, line, "bound by a statement that is not a plain assignment")


def _other(node: ast.AST, line: int, how: str) -> Iterator[tuple[str, _Binder]]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            yield sub.id, _Binder(line, "other", how=how)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            for alias in sub.names:
                yield (
                    (alias.asname or alias.name).partition(".")[0],
                    _Binder(line, "other", how=how),
                )
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield sub.name, _Binder(line, "other", how=how)


def _absolute(stmt: ast.ImportFrom, dotted: str, path: str) -> str | None:
    """The module a `from X import` names, relative imports placed in the module's package."""
    if not stmt.level:
        return stmt.module
    if not dotted:  # a revision file: Alembic loads it outside any package
        return None
    package = dotted.split(".") if _is_package(path) else dotted.split(".")[:-1]
    if stmt.level - 1 > len(package) - 1:
        return None
    package = package[: len(package) - (stmt.level - 1)]
    return ".".join([*package, *([stmt.module] if stmt.module else [])])


def _last_before(module: _Module, name: str, line: int) -> _Binder | None:
    """The binding of `name` in effect on `line` (a star import counts as one); a binding in
    a block or by a function's `global` wins, as it makes the value uncertain."""
    binders: list[_Binder] = [*module.binders.get(name, []), *module.binders.get("*", [])]
    before = sorted((b for b in binders if b.line < line), key=lambda b: b.line)
    for binder in binders:
        if binder.how.startswith("declared `global`"):
            return binder
    for binder in before:
        if binder.how.startswith("bound inside"):
            return binder
    return before[-1] if before else None


def _chain(node: ast.expr) -> list[str] | None:
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(names)]


def _module_files(dotted: str) -> tuple[str, str]:
    base = dotted.replace(".", "/")
    return f"{base}.py", f"{base}/__init__.py"


def _is_package(path: str) -> bool:
    return path.endswith("/__init__.py") or path == "__init__.py"


def _is_package_layout(paths: frozenset[str], path: str, dotted: str) -> bool:
    """Every package directory on the way to `path` holds an __init__.py."""
    parts = dotted.split(".")
    directory = path.rpartition("/")[0]
    if path.endswith("/__init__.py"):
        directory = directory.rpartition("/")[0]
    for _ in parts[:-1]:
        if f"{directory}/__init__.py" not in paths:
            return False
        directory = directory.rpartition("/")[0]
    return True


def _snippet(node: ast.expr, limit: int = 60) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- the stage --------------------------------------------------------------------------------


def resolve_files(
    tree: Tree, env: Environment, files: tuple[ParsedFile, ...]
) -> tuple[ParsedFile, ...]:
    """`files` with the `non-literal` values that name module constants resolved."""
    if not any(_needs_resolving(f) for f in files):
        return files
    resolver = Resolver.for_environment(tree, env)
    return tuple(resolve_file(resolver, f) if _needs_resolving(f) else f for f in files)


def _needs_resolving(parsed: ParsedFile) -> bool:
    codes = {p.code for p in parsed.problems}
    return parsed.revision is not None and "non-literal" in codes and "dynamic-binding" not in codes


def resolve_file(resolver: Resolver, parsed: ParsedFile) -> ParsedFile:
    rev = parsed.revision
    assert rev is not None
    try:
        data = resolver.tree.read(parsed.path)
    except OSError:
        return parsed
    tree = read_module(data, parsed.path)
    if isinstance(tree, Problem):
        return parsed
    module = module_bindings(tree, "", parsed.path)
    if module.untrusted:
        return parsed
    unknown = {p.line: p for p in parsed.problems if p.code == "non-literal"}
    results: dict[str, Value | Unresolved] = {}
    for name in RESOLVED:
        line = rev.line_of(name)
        binders = module.binders.get(name, [])
        # only a plain module-level assignment of names and literals, the attribute's last
        if line not in unknown or not binders or binders[-1].line != line:
            continue
        last = binders[-1]
        if last.kind == "assign" and last.value is not None and _constant_like(last.value):
            results[name] = resolver.bound(module, last, name, 0)
    if not results:
        return parsed
    return _rewritten(parsed, rev, results)


def _rewritten(
    parsed: ParsedFile, rev: Revision, results: dict[str, Value | Unresolved]
) -> ParsedFile:
    lines = {name: rev.line_of(name) for name in results}
    failed = {name: v for name, v in results.items() if isinstance(v, Unresolved)}
    problems: list[Problem] = []
    for problem in parsed.problems:
        if problem.code != "non-literal" or problem.line not in lines.values():
            problems.append(problem)
            continue
        names = [name for name in failed if lines[name] == problem.line]
        if names:  # otherwise every value on that line resolved: the problem is gone
            problems.append(replace(problem, message=_message(problem, names, failed)))
    values: dict[str, tuple[str, ...]] = {}
    for name, value in results.items():
        if not isinstance(value, Unresolved):
            values[name], empty = _normalised(name, value)
            if empty is not None:
                problems.append(Problem.of("empty-revision", empty, parsed.path, lines[name]))
    unknown_lines = {p.line for p in problems if p.code == "non-literal"}
    complete = not any(rev.line_of(name) in unknown_lines for name in RESOLVED) and not any(
        p.code == "missing-down-revision" for p in problems
    )
    problems.sort(key=lambda p: p.line or 0)
    record = replace(
        rev,
        down_revision=values.get("down_revision", rev.down_revision),
        branch_labels=values.get("branch_labels", rev.branch_labels),
        depends_on=values.get("depends_on", rev.depends_on),
        complete=complete,
    )
    return replace(parsed, revision=record, problems=tuple(problems))


def _message(problem: Problem, names: list[str], unresolved: dict[str, Unresolved]) -> str:
    reasons = "; ".join(dict.fromkeys(unresolved[n].reason for n in names))
    return (
        f"{problem.message} The bot also looked for the constants it names, reading this "
        f"repository's files without importing them: {reasons}."
    )


_CONSTANT_NODES = (ast.Name, ast.Attribute, ast.Constant, ast.Tuple, ast.List, ast.BinOp)


def _constant_like(node: ast.expr) -> bool:
    """Names, attributes and literals, in tuples, lists and `+`: what a constant may be."""
    return any(isinstance(sub, (ast.Name, ast.Attribute)) for sub in ast.walk(node)) and all(
        isinstance(sub, (*_CONSTANT_NODES, ast.Add, ast.expr_context)) for sub in ast.walk(node)
    )


def _normalised(name: str, value: Value) -> tuple[tuple[str, ...], str | None]:
    """Alembic's to_tuple, with empty ids dropped as `engine.parse` drops them."""
    values = (value,) if isinstance(value, str) else (value or ())
    if name == "depends_on" and values == ("",):
        return (), None  # Alembic skips a lone "" (see engine.parse)
    if "" not in values:
        return values, None
    message = (
        f'`{name}` resolves to a value holding the empty string "", which Alembic cannot use '
        "as an id; the bot drops it."
    )
    return tuple(v for v in values if v), message
