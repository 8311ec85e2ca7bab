"""Revision file bytes -> a revision record, read statically with `ast` (never imported or run).

Alembic imports each revision file and reads four module attributes once the module has run
(alembic-semantics.md §3). This module reads the same attributes from the syntax tree instead,
and only where the answer is certain: a module-level binding to a literal. Anything else
(a call, a name, a conditional binding, a star import...) is reported as `non-literal` and the
attribute is marked unknown, never guessed.
"""

from __future__ import annotations
import __future__  # all_feature_names: what `from __future__ import X` may name

import ast
import codecs
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from alembic_heads_bot.engine.model import ParsedFile, Problem, Revision

# Larger files are not parsed: ast.parse needs time and memory in proportion to the size, and
# real revision files are a few kilobytes (big data migrations a few hundred).
MAX_FILE_BYTES = 4 * 1024 * 1024

ATTRIBUTES = ("revision", "down_revision", "branch_labels", "depends_on")
_TRACKED = frozenset(ATTRIBUTES)

# Alembic's `_legacy_rev` (script/base.py), used when a file has no `revision` at all.
_LEGACY_FILENAME = re.compile(r"[a-f0-9]+\.py")
# Alembic's `_revision_illegal_chars` (script/revision.py).
_ILLEGAL_ID_CHARS = frozenset("@-+:")

# PEP 263, as CPython's tokenizer applies it (Lib/tokenize.py: cookie_re, blank_re).
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
_BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)", re.ASCII)

# Text that may bind module globals in ways a statement-level reading misses. Only when some
# occurs does the reader walk expressions (or function bodies, for `global`), so typical files
# stay on the fast path. Substring tests: a regex scan would cost a third of ast.parse.
_DYNAMIC_CALLS = frozenset({"globals", "locals", "vars", "exec", "eval", "setattr", "delattr"})
_EXPRESSION_HINTS = (":=", "__dict__", "sys.modules", *(f"{name}(" for name in _DYNAMIC_CALLS))
_GLOBAL_STATEMENT = re.compile(r"global\s")

_COMPOUND = tuple(
    getattr(ast, name)
    for name in ("If", "For", "AsyncFor", "While", "With", "AsyncWith", "Try", "TryStar", "Match")
    if hasattr(ast, name)
)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DEFINITIONS = frozenset({*_FUNCTIONS, ast.ClassDef})
# Names whose binding matters: the attributes, a star import, and PEP 562's module __getattr__.
_INTERESTING = _TRACKED | {"*", "__getattr__"}

# Module-level statements CPython's compiler rejects although ast.parse accepts them.
_OUTSIDE_FUNCTION = {
    ast.Return: "'return' outside function",
    ast.Break: "'break' outside loop",
    ast.Continue: "'continue' not properly in loop",
    ast.Nonlocal: "nonlocal declaration not allowed at module level",
}
_OUTSIDE_FUNCTION_EXPR = {
    ast.Yield: "'yield' outside function",
    ast.YieldFrom: "'yield' outside function",
    ast.Await: "'await' outside function",
}
_PY2_HINTS = (
    "Missing parentheses in call to",
    "multiple exception types must be parenthesized",
    "leading zeros in decimal integer literals",
)

# Near-miss spellings: the value is silently ignored by Alembic. Keys are lower-case with
# underscores removed; edit distance catches the rest of the typos.
_NEAR_MISSES = {
    "revision": frozenset({"revid", "revisionid", "revisions"}),
    "down_revision": frozenset(
        {"downrev", "downrevs", "downrevid", "downrevisions", "downrevisionid", "parentrevision"}
    ),
    # not "branches" or "dependencies": data migrations name table objects like that
    "branch_labels": frozenset({"branchlabel", "branchname", "branchnames"}),
    "depends_on": frozenset({"dependon", "depends", "dependson", "dependenton", "dependentson"}),
}

_NOUNS = {
    "down_revision": "parents",
    "branch_labels": "branch labels",
    "depends_on": "dependencies",
}


@dataclass(frozen=True)
class _Unreadable:
    """A binding whose value cannot be known statically; `reason` completes "<name> is ..."."""

    reason: str
    # The source of a literal of a type Alembic cannot use (123, b"x", ("a", 1)): for
    # `revision` that is an invalid id rather than an unknown one.
    literal: str | None = None


_Value = str | None | tuple[str, ...] | _Unreadable


@dataclass(frozen=True)
class _Binding:
    line: int
    value: _Value


def parse_revision_file(data: bytes, path: str) -> ParsedFile:
    """Read `revision`, `down_revision`, `branch_labels` and `depends_on` the way Alembic would.

    `path` is tree-relative POSIX; it locates problems and its basename feeds Alembic's legacy
    hex-filename fallback. The file is never compiled or executed.
    """
    text = decode_source(data, path)
    if isinstance(text, Problem):
        return ParsedFile(path, None, (text,))
    try:
        tree = parse_source(text, path)
        reader = _Reader(
            path,
            scan_expressions=any(hint in text for hint in _EXPRESSION_HINTS),
            scan_functions="global" in text and _GLOBAL_STATEMENT.search(text) is not None,
        )
        reader.read(tree)
    except SyntaxError as error:
        return ParsedFile(path, None, (_syntax_problem(error, path),))
    except (RecursionError, MemoryError, ValueError) as error:
        message = (
            f"Python cannot parse this file ({type(error).__name__}: {error}); it is probably "
            "nested too deeply. Alembic imports every revision file, so it fails on this one too."
        )
        return ParsedFile(path, None, (Problem.of("syntax-error", message, path),))
    return reader.result(_docstring(tree))


# --- bytes -> text ---------------------------------------------------------------------------


def decode_source(data: bytes, path: str) -> str | Problem:
    """The source text, decoded as CPython decodes a module (BOM, PEP 263 cookie, UTF-8)."""
    if len(data) > MAX_FILE_BYTES:
        message = (
            f"The file is {len(data):,} bytes, more than the {MAX_FILE_BYTES:,} bytes this bot "
            "parses; it was not read, so any revision it declares is missing from the graph."
        )
        return Problem.of("file-too-large", message, path)
    nul = data.find(b"\0")
    if nul >= 0:
        message = (
            "The file contains a NUL byte; Python refuses to compile source that holds one, so "
            "Alembic cannot import it. Is it UTF-16 encoded or binary?"
        )
        return Problem.of("decode-error", message, path, _line_at(data, nul))
    encoding = _declared_encoding(data, path)
    if isinstance(encoding, Problem):
        return encoding
    codec, bom, declared = encoding
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    try:
        return body.decode(codec)
    except UnicodeDecodeError as error:
        return _undecodable(data, error, codec, declared=declared, path=path)
    except LookupError as error:  # a codec that exists but does not decode bytes (rot13)
        message = f"The encoding {codec!r} declared on line 1 or 2 cannot decode source: {error}."
        return Problem.of("decode-error", message, path, 1)


def _declared_encoding(data: bytes, path: str) -> tuple[str, bool, bool] | Problem:
    """(codec, has BOM, has cookie), from the BOM and a coding cookie on line 1 or 2 (PEP 263)."""
    bom = data.startswith(codecs.BOM_UTF8)
    start = len(codecs.BOM_UTF8) if bom else 0
    for number, line in enumerate(data[start:].split(b"\n", 2)[:2], start=1):
        match = _COOKIE.match(line)
        if match:
            return _cookie_codec(match.group(1).decode("ascii"), bom, number, path)
        if not _BLANK_OR_COMMENT.match(line):
            break
    return "utf-8", bom, False


def _cookie_codec(name: str, bom: bool, line: int, path: str) -> tuple[str, bool, bool] | Problem:
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        message = (
            f"The coding declaration on line {line} names an unknown encoding {name!r}; Python "
            "cannot decode the file, so Alembic cannot import it."
        )
        return Problem.of("decode-error", message, path, line)
    if bom and codec != "utf-8":
        message = (
            f"The file starts with a UTF-8 byte order mark but line {line} declares {name!r}; "
            f"Python rejects it ('encoding problem: {name} with BOM'), so Alembic cannot import it."
        )
        return Problem.of("decode-error", message, path, line)
    return codec, bom, True


def _undecodable(
    data: bytes, error: UnicodeDecodeError, codec: str, *, declared: bool, path: str
) -> Problem:
    byte = error.object[error.start : error.start + 1].hex()
    offset = len(data) - len(error.object)  # the BOM, when it was cut off
    line = _line_at(data, offset + error.start)
    if declared:
        what = f"is not valid {codec}, the encoding its coding declaration names"
    else:
        what = "is not UTF-8 and the file declares no encoding (PEP 263)"
    message = (
        f"Byte 0x{byte} on line {line} {what}; Python refuses to import such a file, so "
        "Alembic fails on it. Save it as UTF-8, or declare its real encoding on line 1, "
        "e.g. `# -*- coding: latin-1 -*-`."
    )
    return Problem.of("decode-error", message, path, line)


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


# --- text -> syntax tree ---------------------------------------------------------------------


def parse_source(text: str, path: str) -> ast.Module:
    # Warnings (invalid escape sequences...) must neither reach the user's terminal nor turn
    # into SyntaxError under `-W error`: Alembic would import such a file without failing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=path)


def _syntax_problem(error: SyntaxError, path: str) -> Problem:
    line = error.lineno
    where = f" (line {line})" if line else ""
    message = (
        f"Python cannot parse this file: {error.msg}{where}. Alembic imports every revision "
        "file, so it fails on this one and every Alembic command stops."
    )
    if any(hint in (error.msg or "") for hint in _PY2_HINTS):
        message += " This looks like Python 2 code."
    return Problem.of("syntax-error", message, path, line)


def _docstring(tree: ast.Module) -> str:
    """Alembic's `Script.doc`: the first paragraph of the stripped module docstring."""
    doc = ast.get_docstring(tree, clean=False)
    return doc.strip().split("\n\n", 1)[0] if doc else ""  # re.split("\n\n", ...)[0]


# --- syntax tree -> bindings -----------------------------------------------------------------


@dataclass
class _Reader:
    """One pass over the module body, recording the last binding of each attribute."""

    path: str
    scan_expressions: bool
    scan_functions: bool
    bindings: dict[str, _Binding] = field(default_factory=dict)
    # `global <attr>` anywhere: a function may rebind it whenever it runs, so order is moot.
    globals_: dict[str, _Binding] = field(default_factory=dict)
    near_misses: list[tuple[str, int]] = field(default_factory=list)
    getattr_line: int | None = None
    preamble_done: bool = False

    def read(self, tree: ast.Module) -> None:
        body = tree.body
        if body and _is_docstring(body[0]):
            body = body[1:]
        for stmt in body:
            self._statement(stmt)
        if self.scan_functions:
            self._find_global_statements(tree)

    def _bind(self, name: str, line: int, value: _Value) -> None:
        self.bindings[name] = _Binding(line, value)

    def _bind_all(self, line: int, reason: str) -> None:
        for name in ATTRIBUTES:
            self._bind(name, line, _Unreadable(reason))

    # statements

    def _statement(self, stmt: ast.stmt) -> None:
        kind = type(stmt)
        if kind is not ast.ImportFrom or stmt.module != "__future__" or stmt.level:
            self.preamble_done = True
        if self.scan_expressions:
            self._dynamic_expressions(stmt)
        if kind is ast.Assign:
            for target in stmt.targets:
                self._assign(target, stmt.value)
        elif kind is ast.AnnAssign:
            if stmt.value is not None:  # a bare annotation binds nothing
                self._assign(stmt.target, stmt.value)
        elif kind is ast.ImportFrom or kind is ast.Import:
            self._import(stmt)
        elif kind in _DEFINITIONS:
            if stmt.name in _INTERESTING:
                self._bind_unreadable(*next(_statement_binders(stmt)))
        elif isinstance(stmt, _COMPOUND):
            self._compound(stmt)
        elif kind in _OUTSIDE_FUNCTION:
            raise _compiler_error(_OUTSIDE_FUNCTION[kind], stmt)
        elif kind is ast.Expr and type(stmt.value) in _OUTSIDE_FUNCTION_EXPR:
            raise _compiler_error(_OUTSIDE_FUNCTION_EXPR[type(stmt.value)], stmt)
        else:
            for name, line, reason in _statement_binders(stmt):
                self._bind_unreadable(name, line, reason)

    def _assign(self, target: ast.expr, value: ast.expr) -> None:
        kind = type(target)
        if kind is ast.Name:
            name = target.id
            if name in _TRACKED:
                self._bind(name, target.lineno, _literal(value))
            elif name == "__getattr__":
                self.getattr_line = target.lineno
            else:
                self.near_misses.append((name, target.lineno))
        elif kind is ast.Tuple or kind is ast.List:
            self._unpack(target, value)

    def _unpack(self, target: ast.Tuple | ast.List, value: ast.expr) -> None:
        values = value.elts if isinstance(value, (ast.Tuple, ast.List)) else None
        if (
            values is not None
            and len(values) == len(target.elts)
            and not any(isinstance(node, ast.Starred) for node in (*target.elts, *values))
        ):
            for sub_target, sub_value in zip(target.elts, values, strict=True):
                self._assign(sub_target, sub_value)
            return
        reason = "unpacked from a value that is not a literal tuple or list of the same length"
        for name, line in _names_in_target(target):
            self._bind_unreadable(name, line, reason)

    def _import(self, stmt: ast.Import | ast.ImportFrom) -> None:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__" and not stmt.level:
            _check_future_import(stmt, self.preamble_done)
        for alias in stmt.names:
            if (alias.asname or alias.name).partition(".")[0] in _INTERESTING:
                for name, line, reason in _statement_binders(stmt):
                    self._bind_unreadable(name, line, reason)
                return

    def _compound(self, stmt: ast.stmt) -> None:
        keyword = _KEYWORDS.get(type(stmt).__name__, type(stmt).__name__.lower())
        for name, line, reason in _block_binders(stmt):
            reason = f"{reason} inside a module-level `{keyword}` block, so it depends on what runs"
            self._bind_unreadable(name, line, reason)

    def _bind_unreadable(self, name: str, line: int, reason: str) -> None:
        if name == "*":
            self._bind_all(line, reason)
        elif name in _TRACKED:
            self._bind(name, line, _Unreadable(reason))
        elif name == "__getattr__":
            self.getattr_line = line

    # the slow path, for files that mention walrus, `global` or namespace tricks

    def _dynamic_expressions(self, stmt: ast.stmt) -> None:
        dynamic = None
        for node in _module_scope_nodes(stmt):
            if isinstance(node, ast.NamedExpr) and node.target.id in _TRACKED:
                reason = "bound by an assignment expression (`:=`)"
                self._bind(node.target.id, node.lineno, _Unreadable(reason))
            dynamic = dynamic or _dynamic_namespace(node)
        if dynamic:
            reason = f"possibly rebound by `{dynamic}`, which can change any module global"
            self._bind_all(stmt.lineno, reason)

    def _find_global_statements(self, tree: ast.Module) -> None:
        # Module-level `global` statements are ordinary bindings; these are in functions (or
        # class bodies, which run at import time).
        reason = "declared `global` in a function or class, which may rebind it whenever it runs"
        for function in ast.walk(tree):
            if isinstance(function, (*_FUNCTIONS, ast.ClassDef)):
                for node in _walk_all(function.body):
                    if isinstance(node, ast.Global):
                        for name in _TRACKED.intersection(node.names):
                            self.globals_[name] = _Binding(node.lineno, _Unreadable(reason))

    # the result

    def result(self, doc: str) -> ParsedFile:
        bindings = self._final_bindings()
        problems: list[Problem] = []
        problems += _unreadable_problems(bindings, self.path)
        revision = _revision_id(bindings.get("revision"), self.path, problems)
        values = {
            name: _attribute(name, bindings.get(name), self.path, problems)
            for name in ATTRIBUTES[1:]
        }
        if any(problem.code == "missing-revision" for problem in problems):
            # not a revision file at all: a missing down_revision is no news
            problems = [p for p in problems if p.code != "missing-down-revision"]
        problems += self._near_miss_problems(bindings)
        problems.sort(key=lambda problem: problem.line or 0)
        if revision is None:
            return ParsedFile(self.path, None, tuple(problems))
        record = Revision(
            revision=revision,
            down_revision=values["down_revision"] or (),
            branch_labels=values["branch_labels"] or (),
            depends_on=values["depends_on"] or (),
            path=self.path,
            lines={name: binding.line for name, binding in bindings.items()},
            doc=doc,
            complete=all(value is not None for value in values.values()),
        )
        return ParsedFile(self.path, record, tuple(problems))

    def _final_bindings(self) -> dict[str, _Binding]:
        bindings = {**self.bindings, **self.globals_}
        if self.getattr_line is not None:
            # PEP 562: Alembic's `module.down_revision` calls `__getattr__` for a missing name.
            reason = "not bound, so Alembic gets it from the module's `__getattr__`"
            for name in ATTRIBUTES:
                bindings.setdefault(name, _Binding(self.getattr_line, _Unreadable(reason)))
        return bindings

    def _near_miss_problems(self, bindings: dict[str, _Binding]) -> list[Problem]:
        problems = []
        for name, line in self.near_misses:
            meant = _meant_attribute(name)
            if meant and meant not in bindings:
                message = (
                    f"`{name}` looks like a misspelling of `{meant}`. Alembic reads only "
                    f"`{meant}`, so this value is silently ignored."
                )
                problems.append(Problem.of("suspicious-name", message, self.path, line))
        return problems


_KEYWORDS = {"AsyncFor": "async for", "AsyncWith": "async with", "TryStar": "try"}


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _compiler_error(message: str, stmt: ast.stmt) -> SyntaxError:
    error = SyntaxError(message)
    error.lineno = stmt.lineno
    return error


def _check_future_import(stmt: ast.ImportFrom, late: bool) -> None:
    # CPython checks these when compiling, after ast.parse has accepted the file.
    if late:
        raise _compiler_error(
            "from __future__ imports must occur at the beginning of the file", stmt
        )
    for alias in stmt.names:
        if alias.name == "braces":
            raise _compiler_error("not a chance", stmt)
        if alias.name not in __future__.all_feature_names:
            raise _compiler_error(f"future feature {alias.name} is not defined", stmt)


# --- what binds a name -----------------------------------------------------------------------


def _statement_binders(stmt: ast.stmt) -> Iterator[tuple[str, int, str]]:
    """(name, line, reason) for names a simple statement binds; "*" for a star import."""
    kind = type(stmt)
    line = stmt.lineno
    if kind is ast.Assign:
        for target in stmt.targets:
            for name, name_line in _names_in_target(target):
                yield name, name_line, "assigned"
    elif kind is ast.AnnAssign:
        if stmt.value is not None:
            yield from ((n, ln, "assigned") for n, ln in _names_in_target(stmt.target))
    elif kind is ast.AugAssign:
        for name, name_line in _names_in_target(stmt.target):
            yield name, name_line, "changed by augmented assignment"
    elif kind is ast.Delete:
        for target in stmt.targets:
            for name, name_line in _names_in_target(target):
                yield name, name_line, "deleted with `del`"
    elif kind is ast.Import:
        for alias in stmt.names:
            bound = alias.asname or alias.name.partition(".")[0]
            yield bound, line, f"bound by `import {alias.name}`"
    elif kind is ast.ImportFrom:
        module = "." * stmt.level + (stmt.module or "")
        for alias in stmt.names:
            if alias.name == "*":
                yield (
                    "*",
                    line,
                    f"possibly bound by `from {module} import *`, which can bind any name",
                )
            else:
                yield alias.asname or alias.name, line, f"imported from `{module}`"
    elif kind in _FUNCTIONS or kind is ast.ClassDef:
        what = "class" if kind is ast.ClassDef else "function"
        yield stmt.name, line, f"bound to a {what} definition"
    elif kind is ast.Global:
        for name in stmt.names:
            yield name, line, "declared `global`"


def _block_binders(stmt: ast.stmt) -> Iterator[tuple[str, int, str]]:
    """Names bound anywhere in a compound statement, outside nested function and class bodies."""
    kind = type(stmt)
    if kind in (ast.For, ast.AsyncFor):
        yield from ((n, ln, "the loop variable") for n, ln in _names_in_target(stmt.target))
    elif kind in (ast.With, ast.AsyncWith):
        for item in stmt.items:
            if item.optional_vars is not None:
                yield from (
                    (n, ln, "bound by `as`") for n, ln in _names_in_target(item.optional_vars)
                )
    elif not isinstance(stmt, _COMPOUND):
        yield from _statement_binders(stmt)
        return
    for handler in getattr(stmt, "handlers", ()):
        if handler.name:
            yield handler.name, handler.lineno, "bound by `except ... as`"
        yield from _blocks_binders(handler.body)
    for case in getattr(stmt, "cases", ()):
        for node in ast.walk(case.pattern):
            for name in (getattr(node, "name", None), getattr(node, "rest", None)):
                if name:
                    yield name, node.lineno, "bound by a `case` pattern"
        yield from _blocks_binders(case.body)
    for block in ("body", "orelse", "finalbody"):
        yield from _blocks_binders(getattr(stmt, block, ()))


def _blocks_binders(stmts: list[ast.stmt]) -> Iterator[tuple[str, int, str]]:
    for stmt in stmts:
        yield from _block_binders(stmt)


def _walk_all(stmts: list[ast.stmt]) -> Iterator[ast.AST]:
    for stmt in stmts:
        yield from ast.walk(stmt)


def _names_in_target(target: ast.expr) -> Iterator[tuple[str, int]]:
    if isinstance(target, ast.Name):
        yield target.id, target.lineno
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _names_in_target(element)
    elif isinstance(target, ast.Starred):
        yield from _names_in_target(target.value)


def _module_scope_nodes(stmt: ast.stmt) -> Iterator[ast.AST]:
    """Every node evaluated in module scope: function and lambda bodies are skipped."""
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (*_FUNCTIONS, ast.Lambda)):
            # decorators and defaults run at definition time, in module scope
            stack.extend(getattr(node, "decorator_list", ()))
            stack.extend(node.args.defaults)
            stack.extend(d for d in node.args.kw_defaults if d is not None)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _dynamic_namespace(node: ast.AST) -> str | None:
    """The name of a construct that can write module globals by name, if `node` is one."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return f"{node.func.id}()" if node.func.id in _DYNAMIC_CALLS else None
    if isinstance(node, ast.Attribute):
        if node.attr == "__dict__":
            return "__dict__"
        if node.attr == "modules" and isinstance(node.value, ast.Name) and node.value.id == "sys":
            return "sys.modules"
    return None


# --- values ----------------------------------------------------------------------------------


def _literal(node: ast.expr) -> _Value:
    """The value of a str / None / tuple-or-list-of-str literal, else why it cannot be read."""
    kind = type(node)
    if kind is ast.Constant:
        value = node.value
        if value is None or isinstance(value, str):
            return value
        snippet = _snippet(node)
        return _Unreadable(f"bound to `{snippet}`, {_not_a_value}", literal=snippet)
    if kind is ast.Tuple or kind is ast.List:
        items = []
        for element in node.elts:
            if type(element) is ast.Constant and isinstance(element.value, str):
                items.append(element.value)
            else:
                sequence = "tuple" if kind is ast.Tuple else "list"
                reason = f"bound to a {sequence} holding {_describe(element)}, not a string"
                literal = _snippet(node) if type(element) is ast.Constant else None
                return _Unreadable(reason, literal=literal)
        return tuple(items)
    return _Unreadable(f"bound to {_describe(node)}")


_not_a_value = "which is not a string, None, or a tuple or list of strings"


def _describe(node: ast.expr) -> str:
    snippet = _snippet(node)
    kind = type(node)
    if kind is ast.Call:
        return f"a function call (`{snippet}`)"
    if kind is ast.Name:
        return f"the variable `{snippet}`"
    if kind is ast.Attribute:
        return f"`{snippet}`, an attribute looked up at import time"
    if kind is ast.JoinedStr:
        return f"an f-string (`{snippet}`)"
    if kind is ast.Set:
        return f"a set (`{snippet}`), whose order Python does not fix"
    if kind is ast.Constant:
        return f"`{snippet}`"
    return f"an expression (`{snippet}`)"


def _snippet(node: ast.expr, limit: int = 60) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unreadable_problems(bindings: dict[str, _Binding], path: str) -> list[Problem]:
    """One `non-literal` problem per unreadable binding, attributes sharing a cause merged."""
    groups: dict[tuple[int, str], list[str]] = {}
    for name in ATTRIBUTES:
        binding = bindings.get(name)
        if binding and isinstance(binding.value, _Unreadable):
            if name == "revision" and binding.value.literal:
                continue  # an invalid id, reported by _revision_id
            groups.setdefault((binding.line, binding.value.reason), []).append(name)
    problems = []
    for (line, reason), names in groups.items():
        verb = "is" if len(names) == 1 else "are"
        if "revision" in names:
            consequences = "this file's revision cannot be identified"
        else:
            nouns = _join([_NOUNS[name] for name in names], quote=False)
            consequences = f"this revision's {nouns} are unknown"
        message = (
            f"{_join(names)} {verb} {reason}. The bot reads only module-level assignments of "
            "literals (a string, None, or a tuple or list of strings) and does not guess, so "
            f"{consequences}."
        )
        problems.append(Problem.of("non-literal", message, path, line))
    return problems


def _join(names: list[str], *, quote: bool = True) -> str:
    quoted = [f"`{name}`" if quote else name for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _revision_id(binding: _Binding | None, path: str, problems: list[Problem]) -> str | None:
    if binding is None:
        return _legacy_revision_id(path, problems)
    value, line = binding.value, binding.line
    if isinstance(value, _Unreadable) and not value.literal:
        return None  # reported as non-literal
    if not isinstance(value, str):
        shown = value.literal if isinstance(value, _Unreadable) else repr(value)
        message = (
            f"`revision` is `{shown}`, but a revision id must be a string; Alembic cannot load "
            "this file correctly (it fails with a TypeError for None, numbers and tuples)."
        )
        problems.append(Problem.of("invalid-revision-id", message, path, line))
        return None
    if not value:
        message = (
            '`revision` is the empty string "". Alembic accepts it, but no other revision can '
            'name it: `down_revision = ""` is dropped as empty. Give the file a real id.'
        )
        problems.append(Problem.of("empty-revision", message, path, line))
        return None
    illegal = _ILLEGAL_ID_CHARS.intersection(value)
    if illegal:
        message = (
            f"Character(s) '{', '.join(sorted(illegal))}' not allowed in revision identifier "
            f"'{value}' (Alembic's error while loading this file)."
        )
        problems.append(Problem.of("invalid-revision-id", message, path, line))
    return value


def _legacy_revision_id(path: str, problems: list[Problem]) -> str | None:
    filename = path.rpartition("/")[2]
    if _LEGACY_FILENAME.fullmatch(filename):
        return filename[: -len(".py")]  # Alembic 0.1's naming, still honoured
    message = (
        f"Could not determine revision id from filename {filename}. Be sure the 'revision' "
        "variable is declared inside the script (please see 'Upgrading from Alembic 0.1 to 0.2' "
        "in the documentation). Alembic loads every .py file in a versions directory, so this "
        "file makes every Alembic command fail; move helper modules out of versions/."
    )
    problems.append(Problem.of("missing-revision", message, path))
    return None


def _attribute(
    name: str, binding: _Binding | None, path: str, problems: list[Problem]
) -> tuple[str, ...] | None:
    """Alembic's `to_tuple(value, default=())` with empty ids dropped; None when unknown."""
    if binding is None:
        if name == "down_revision":
            module = re.sub(r"\W", "_", path.rpartition("/")[2])
            message = (
                "The file does not bind `down_revision`. Alembic requires it even for a base "
                f"(`down_revision = None`) and fails with AttributeError: module '{module}' has "
                "no attribute 'down_revision'."
            )
            problems.append(Problem.of("missing-down-revision", message, path))
            return None
        return ()
    value = binding.value
    if isinstance(value, _Unreadable):
        return None
    values = (value,) if isinstance(value, str) else (value or ())
    if "" in values:
        problems.append(Problem.of("empty-revision", _EMPTY_ID[name], path, binding.line))
        values = tuple(item for item in values if item)
    return values


_EMPTY_ID = {
    "down_revision": (
        '`down_revision` contains the empty string "". Alembic 1.12.1 and later fail with '
        "KeyError: '' on it; older versions treated `down_revision = \"\"` as a base. The bot "
        'drops the empty entry (so a lone "" makes a base); write None for a base instead.'
    ),
    "depends_on": (
        '`depends_on` contains the empty string "". Alembic ignores a lone "" but fails with '
        "KeyError: '' on one inside a tuple or list. The bot drops it; write None instead."
    ),
    "branch_labels": (
        '`branch_labels` contains the empty string "". Alembic registers "" as a label, which '
        "no command can use and which clashes with any other empty label. The bot drops it; "
        "write None instead."
    ),
}


def _meant_attribute(name: str) -> str | None:
    """The attribute `name` probably misspells, if any."""
    key = name.lower().replace("_", "")
    for attribute in ATTRIBUTES:
        target = attribute.replace("_", "")
        if key == target or key in _NEAR_MISSES[attribute]:
            return attribute
        limit = 1 if len(target) <= 9 else 2
        if abs(len(key) - len(target)) <= limit and _distance(key, target) <= limit:
            return attribute
    return None


def _distance(a: str, b: str) -> int:
    """Edit distance counting an adjacent transposition as one edit (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]
