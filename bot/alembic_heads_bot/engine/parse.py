"""Revision file bytes -> a revision record, read statically with `ast` (never imported or run).

Alembic imports each revision file and reads four module attributes once the module has run
(alembic-semantics.md §3). This module reads the same attributes from the syntax tree instead,
and only where the answer is certain: a module-level binding to a literal. Anything else
(a call, a name, a conditional binding, a star import...) is reported as `non-literal` and the
attribute is marked unknown, never guessed. Code that could change module globals while the
file is imported, by means a reading of the syntax tree cannot follow (`globals()`, `exec`,
frames, a function's `__globals__`...), is reported as `dynamic-binding` and nothing in the
file is trusted.

Python's own parser turns the bytes into the syntax tree, as `compile` does when Alembic
imports the file, so BOMs, coding declarations and line endings follow CPython's rules by
construction; this module only explains a failure, with its line.
"""

from __future__ import annotations
import __future__  # all_feature_names: what `from __future__ import X` may name

import ast
import codecs
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeAlias

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

_COMPOUND = tuple(
    getattr(ast, name)
    for name in ("If", "For", "AsyncFor", "While", "With", "AsyncWith", "Try", "TryStar", "Match")
    if hasattr(ast, name)
)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_Definition: TypeAlias = "ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef"
# Names whose binding matters: the attributes, a star import, and PEP 562's module __getattr__.
_INTERESTING = _TRACKED | {"*", "__getattr__"}

# Module-level statements CPython's compiler rejects although ast.parse accepts them. Checked
# on every file (cheaply); `compile_check` runs the compiler itself on the files a change touches.
_OUTSIDE_FUNCTION: dict[type[ast.stmt], str] = {
    ast.Return: "'return' outside function",
    ast.Break: "'break' outside loop",
    ast.Continue: "'continue' not properly in loop",
    ast.Nonlocal: "nonlocal declaration not allowed at module level",
}
_OUTSIDE_FUNCTION_EXPR: dict[type[ast.expr], str] = {
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
    # Already explained by a problem of its own (`dynamic-binding`).
    reported: bool = False


_Value: TypeAlias = "str | tuple[str, ...] | _Unreadable | None"


@dataclass(frozen=True)
class _Binding:
    line: int
    value: _Value


def parse_revision_file(data: bytes, path: str, *, compile_check: bool = False) -> ParsedFile:
    """Read `revision`, `down_revision`, `branch_labels` and `depends_on` the way Alembic would.

    `path` is tree-relative POSIX; it locates problems and its basename feeds Alembic's legacy
    hex-filename fallback. The file is never executed. With `compile_check` it is also compiled
    (see `read_module`), which costs about as much again: meant for the files a change adds or
    modifies.
    """
    module = read_module(data, path, compile_check=compile_check)
    if isinstance(module, Problem):
        return ParsedFile(path, None, (module,))
    transparent = _ascii_transparent(data)
    # Only a file holding the bytes "global" can hold a `global` statement, unless its coding
    # declaration names a codec under which other bytes spell it (utf-7, unicode_escape...).
    find_globals = b"global" in data or not transparent
    reader = _Reader(path, find_globals, find_dynamic=not transparent or _may_be_dynamic(data))
    try:
        reader.read(module)
    except SyntaxError as error:  # a compiler check the reader makes on every file
        return ParsedFile(path, None, (_syntax_problem(error, path),))
    return reader.result(_docstring(module))


# --- bytes -> syntax tree --------------------------------------------------------------------


def read_module(data: bytes, path: str, *, compile_check: bool = False) -> ast.Module | Problem:
    """The syntax tree Python builds from `data`, or the problem (file, line) why it cannot.

    The bytes go to Python's own parser, as they do when Alembic imports the file, so decoding
    follows CPython exactly. With `compile_check` the file is also compiled (never run): the
    compiler finds errors the parser does not (a name assigned before its `global` declaration,
    duplicate argument names...), and Alembic's import fails on them. Every way Python can
    refuse a file, nesting too deep for its parser included, ends here as a problem.
    """
    refused = _refused_bytes(data, path)
    if refused is not None:
        return refused
    try:
        # Warnings (invalid escape sequences...) must neither reach the user's terminal nor
        # turn into SyntaxError under `-W error`: Alembic would import such a file.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = ast.parse(data, filename=path)
            if compile_check:
                # as importlib compiles a module's source (SourceLoader.source_to_code)
                compile(data, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        return _parse_failure(data, error, path)
    except ValueError as error:
        # The parser lets a UnicodeDecodeError escape when it cannot decode the line it quotes
        # in a message (b":\x80"); Alembic's import fails with it just the same.
        return _parse_failure(data, SyntaxError(str(error)), path)
    except (RecursionError, MemoryError) as error:
        # CPython's parser and compiler give up on deep nesting (`-` * 100_000 + "1", a chain
        # of 3,000 `+`) with these; the import fails the same way.
        message = (
            f"Python cannot parse this file ({type(error).__name__}: {error}); it is probably "
            "nested too deeply. Alembic imports every revision file, so it fails on this one too."
        )
        return Problem.of("syntax-error", message, path)
    return module


def _refused_bytes(data: bytes, path: str) -> Problem | None:
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
    return None


def _parse_failure(data: bytes, error: SyntaxError, path: str) -> Problem:
    """`decode-error` when Python could not decode the bytes, else `syntax-error`."""
    encoding = source_encoding(data, path)
    if isinstance(encoding, Problem):
        return encoding
    if encoding.codec is not None:
        text = _decode_whole(data, encoding, path)
        if isinstance(text, Problem):
            return text
    elif _UTF8_FAILURE in (error.msg or ""):
        # The tokenizer checks UTF-8 token by token (bytes in comments are never decoded), so
        # the bad byte is the first one at or after the start of the line Python reports.
        problem = _first_bad_utf8(data, encoding, error.lineno or 1, path)
        if problem is not None:
            return problem
    return _syntax_problem(error, path)


def _syntax_problem(error: SyntaxError, path: str) -> Problem:
    line = error.lineno or None
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


# --- how CPython decodes source (Parser/tokenizer.c: decode_str, check_coding_spec) ----------
#
# Used to explain a file Python refused, and by `decode_source` for readers that need the text.
# The rules, as CPython 3.11 applies them to the bytes `compile` gets: line endings are
# translated first (\r\n and a lone \r both end a line); a UTF-8 BOM is skipped; a coding spec
# is looked for on line 1, and on line 2 only when line 1 is blank or a comment; UTF-8 (no
# spec, a BOM, or a spec that normalises to utf-8) is checked token by token, any other codec
# decodes the whole file before tokenizing.

_UTF8_FAILURE = "'utf-8' codec can't decode"
_FIRST_TWO_LINES = re.compile(rb"([^\r\n]*)(\r\n?|\n)?([^\r\n]*)")
_CODING_SPEC = re.compile(rb"coding[:=][ \t]*([-\w.]+)", re.ASCII)
_INDENT = b" \t\f"


@dataclass(frozen=True)
class SourceEncoding:
    """How Python decodes one source file."""

    # The codec that decodes the whole file, or None for UTF-8 checked token by token.
    codec: str | None
    bom: bool = False
    declared: str | None = None  # the name in the coding spec, as written
    line: int | None = None  # the coding spec's line


def source_encoding(data: bytes, path: str) -> SourceEncoding | Problem:
    """Python's choice of codec for `data`, or the problem with its coding declaration."""
    bom = data.startswith(codecs.BOM_UTF8)
    lines = _FIRST_TWO_LINES.match(data, len(codecs.BOM_UTF8) if bom else 0)
    assert lines is not None  # the pattern matches every input
    first, ending, second = lines.groups()
    for number, line in enumerate((first, second) if ending else (first,), start=1):
        declared = _coding_spec(line)
        if declared is None:
            if line.lstrip(_INDENT)[:1] not in (b"", b"#"):
                break  # code on line 1: line 2 cannot declare the encoding
            continue
        codec = _normal_name(declared)
        if bom and codec != "utf-8":
            message = (
                f"The file starts with a UTF-8 byte order mark but line {number} declares "
                f"{declared!r}; Python rejects it ('encoding problem: {declared} with BOM'), so "
                "Alembic cannot import it."
            )
            return Problem.of("decode-error", message, path, number)
        if codec == "utf-8":
            return SourceEncoding(None, bom, declared, number)
        return _checked_codec(codec, declared, number, path)
    return SourceEncoding(None, bom)


def _coding_spec(line: bytes) -> str | None:
    """The encoding a comment line declares (`get_coding_spec`): the first `coding[:=]` after
    the `#` that a name follows, whatever other bytes surround it."""
    stripped = line.lstrip(_INDENT)
    if not stripped.startswith(b"#"):
        return None
    match = _CODING_SPEC.search(stripped)
    return match.group(1).decode("ascii") if match else None


def _normal_name(name: str) -> str:
    """CPython's `get_normal_name`: spellings of utf-8 and latin-1 by their first 12 chars."""
    key = name[:12].lower().replace("_", "-")
    if key == "utf-8" or key.startswith("utf-8-"):
        return "utf-8"
    latin = ("latin-1", "iso-8859-1", "iso-latin-1")
    if key in latin or key.startswith(tuple(f"{prefix}-" for prefix in latin)):
        return "iso-8859-1"
    return name


def _checked_codec(codec: str, declared: str, line: int, path: str) -> SourceEncoding | Problem:
    try:
        info = codecs.lookup(codec)
    except LookupError:
        message = (
            f"The coding declaration on line {line} names an unknown encoding {declared!r}; "
            "Python cannot decode the file, so Alembic cannot import it."
        )
        return Problem.of("decode-error", message, path, line)
    if not getattr(info, "_is_text_encoding", True):
        message = (
            f"The coding declaration on line {line} names {declared!r}, which is not a text "
            "encoding; Python cannot decode the file, so Alembic cannot import it."
        )
        return Problem.of("decode-error", message, path, line)
    return SourceEncoding(codec, False, declared, line)


def _translated(data: bytes) -> bytes:
    """The bytes as CPython's tokenizer sees them (`translate_newlines`): \n line endings and a
    final newline, added also after a final \r\n (its loop stops on the NUL after it)."""
    text = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return text if text.endswith(b"\n") and not data.endswith(b"\r\n") else text + b"\n"


def _decode_whole(data: bytes, encoding: SourceEncoding, path: str) -> str | Problem:
    """The text of a file whose coding declaration names a codec other than UTF-8."""
    translated = _translated(data)
    assert encoding.codec is not None
    try:
        with warnings.catch_warnings():  # unicode_escape warns of invalid escapes, as parsing does
            warnings.simplefilter("ignore")
            return translated.decode(encoding.codec)
    except UnicodeDecodeError as error:
        byte = error.object[error.start : error.start + 1].hex()
        line = translated.count(b"\n", 0, error.start) + 1
        last = _line_at(data, len(data.rstrip(b"\r\n")))  # not the newline Python appends
        return _not_decodable(byte, min(line, last), encoding, path)
    except (UnicodeError, ValueError, TypeError, LookupError) as error:
        message = (
            f"The encoding {encoding.declared!r} declared on line {encoding.line} cannot decode "
            f"this file ({type(error).__name__}: {error}); Python refuses to import it, so "
            "Alembic fails on it."
        )
        return Problem.of("decode-error", message, path, encoding.line)


def _first_bad_utf8(data: bytes, encoding: SourceEncoding, line: int, path: str) -> Problem | None:
    translated = _translated(data[len(codecs.BOM_UTF8) :] if encoding.bom else data)
    start = 0
    for _ in range(line - 1):
        start = translated.find(b"\n", start) + 1
        if start == 0:
            return None
    try:
        translated[start:].decode("utf-8")
    except UnicodeDecodeError as error:
        byte = error.object[error.start : error.start + 1].hex()
        found = line + translated.count(b"\n", start, start + error.start)
        return _not_decodable(byte, found, encoding, path)
    return None


def _not_decodable(byte: str, line: int, encoding: SourceEncoding, path: str) -> Problem:
    if encoding.declared:
        what = f"is not valid {encoding.declared}, the encoding its coding declaration names"
    else:
        what = "is not UTF-8 and the file declares no encoding (PEP 263)"
    message = (
        f"Byte 0x{byte} on line {line} {what}; Python refuses to import such a file, so "
        "Alembic fails on it. Save it as UTF-8, or declare its real encoding on line 1, "
        "e.g. `# -*- coding: latin-1 -*-`."
    )
    return Problem.of("decode-error", message, path, line)


def _ascii_transparent(data: bytes) -> bool:
    """Whether every ASCII character of the text is the same byte in the file."""
    if b"coding" not in data:
        return True  # no coding declaration: UTF-8
    encoding = source_encoding(data, "")
    if isinstance(encoding, Problem) or encoding.codec is None:
        return True  # refused files are never read; UTF-8 keeps ASCII as it is
    return codecs.lookup(encoding.codec).name in ("iso8859-1", "ascii", "cp1252")


def _line_at(data: bytes, offset: int) -> int:
    """The line of byte `offset`, counting line ends as Python does (\n, \r\n and \r)."""
    before = data[:offset]
    return before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1


def decode_source(data: bytes, path: str) -> str | Problem:
    """The source text, decoded as CPython decodes a module (BOM, PEP 263 cookie, UTF-8).

    For readers that work on text (`engine.env_py`); `read_module` parses the bytes directly.
    """
    refused = _refused_bytes(data, path)
    if refused is not None:
        return refused
    encoding = source_encoding(data, path)
    if isinstance(encoding, Problem):
        return encoding
    if encoding.codec is not None:
        return _decode_whole(data, encoding, path)
    body = data[len(codecs.BOM_UTF8) :] if encoding.bom else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        # Python decodes UTF-8 token by token, so bytes that are not UTF-8 inside comments
        # pass; whether they are only there, Python's parser says.
        module = read_module(data, path)
        if isinstance(module, Problem):
            return module
        return body.decode("utf-8", "replace")  # only comments change: the same syntax tree


def parse_source(text: str, path: str) -> ast.Module:
    # Warnings (invalid escape sequences...) must neither reach the user's terminal nor turn
    # into SyntaxError under `-W error`: Alembic would import such a file without failing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=path)


# --- syntax tree -> bindings -----------------------------------------------------------------


@dataclass
class _Reader:
    """One pass over the module body, recording the last binding of each attribute."""

    path: str
    find_globals: bool
    find_dynamic: bool = True
    bindings: dict[str, _Binding] = field(default_factory=dict)
    # `global <attr>` anywhere: a function may rebind it whenever it runs, so order is moot.
    globals_: dict[str, _Binding] = field(default_factory=dict)
    near_misses: list[tuple[str, int]] = field(default_factory=list)
    getattr_line: int | None = None
    preamble_done: bool = False
    import_time: _ImportTimeCode = field(default_factory=lambda: _ImportTimeCode())
    dynamic: tuple[DynamicBinding, ...] = ()

    def read(self, tree: ast.Module) -> None:
        body = tree.body
        if body and _is_docstring(body[0]):
            body = body[1:]
        for stmt in body:
            self._statement(stmt)
        if self.find_dynamic:
            self.dynamic = self.import_time.finish()
        if self.find_globals:
            self._find_global_statements(tree)

    def _bind(self, name: str, line: int, value: _Value) -> None:
        self.bindings[name] = _Binding(line, value)

    def _bind_all(self, line: int, reason: str) -> None:
        for name in ATTRIBUTES:
            self._bind(name, line, _Unreadable(reason))

    # statements

    def _statement(self, stmt: ast.stmt) -> None:
        if not _is_future_import(stmt):
            self.preamble_done = True
        if self.find_dynamic:
            for name, line in self.import_time.statement(stmt):
                self._bind(name, line, _Unreadable("bound by an assignment expression (`:=`)"))
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                self._assign(target, stmt.value)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:  # a bare annotation binds nothing
                self._assign(stmt.target, stmt.value)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            self._import(stmt)
        elif isinstance(stmt, (*_FUNCTIONS, ast.ClassDef)):
            if stmt.name in _INTERESTING:
                self._bind_unreadable(*next(_statement_binders(stmt)))
        elif isinstance(stmt, _COMPOUND):
            self._compound(stmt)
        elif type(stmt) in _OUTSIDE_FUNCTION:
            raise _compiler_error(_OUTSIDE_FUNCTION[type(stmt)], stmt)
        elif isinstance(stmt, ast.Expr) and type(stmt.value) in _OUTSIDE_FUNCTION_EXPR:
            raise _compiler_error(_OUTSIDE_FUNCTION_EXPR[type(stmt.value)], stmt)
        else:
            for name, line, reason in _statement_binders(stmt):
                self._bind_unreadable(name, line, reason)

    def _assign(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            name = target.id
            if name in _TRACKED:
                self._bind(name, target.lineno, _literal(value))
            elif name == "__getattr__":
                self.getattr_line = target.lineno
            else:
                self.near_misses.append((name, target.lineno))
        elif isinstance(target, (ast.Tuple, ast.List)):
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
        if isinstance(stmt, ast.ImportFrom) and _is_future_import(stmt):
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
        problems: list[Problem] = _dynamic_problems(self.dynamic, self.path)
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
        if self.dynamic:
            # Code the bot cannot follow may change any global, wherever it sits in the file
            # (`g = globals()` early, `g["down_revision"] = ...` after the literal).
            unknown = _Unreadable("possibly changed at import", reported=True)
            bindings = {name: _Binding(self.dynamic[0].line, unknown) for name in ATTRIBUTES}
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


def _is_future_import(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__" and not stmt.level


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
    line = stmt.lineno
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            for name, name_line in _names_in_target(target):
                yield name, name_line, "assigned"
    elif isinstance(stmt, ast.AnnAssign):
        if stmt.value is not None:
            yield from ((n, ln, "assigned") for n, ln in _names_in_target(stmt.target))
    elif isinstance(stmt, ast.AugAssign):
        for name, name_line in _names_in_target(stmt.target):
            yield name, name_line, "changed by augmented assignment"
    elif isinstance(stmt, ast.Delete):
        for target in stmt.targets:
            for name, name_line in _names_in_target(target):
                yield name, name_line, "deleted with `del`"
    elif isinstance(stmt, ast.Import):
        for alias in stmt.names:
            bound = alias.asname or alias.name.partition(".")[0]
            yield bound, line, f"bound by `import {alias.name}`"
    elif isinstance(stmt, ast.ImportFrom):
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
    elif isinstance(stmt, (*_FUNCTIONS, ast.ClassDef)):
        what = "class" if isinstance(stmt, ast.ClassDef) else "function"
        yield stmt.name, line, f"bound to a {what} definition"
    elif isinstance(stmt, ast.Global):
        for name in stmt.names:
            yield name, line, "declared `global`"


def _block_binders(stmt: ast.stmt) -> Iterator[tuple[str, int, str]]:
    """Names bound anywhere in a compound statement, outside nested function and class bodies."""
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        yield from ((n, ln, "the loop variable") for n, ln in _names_in_target(stmt.target))
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        for item in stmt.items:
            if item.optional_vars is not None:
                yield from (
                    (n, ln, "bound by `as`") for n, ln in _names_in_target(item.optional_vars)
                )
    elif not isinstance(stmt, _COMPOUND):
        yield from _statement_binders(stmt)
        return
    handlers: list[ast.ExceptHandler] = getattr(stmt, "handlers", [])
    for handler in handlers:
        if handler.name:
            yield handler.name, handler.lineno, "bound by `except ... as`"
        yield from _blocks_binders(handler.body)
    cases: list[ast.match_case] = getattr(stmt, "cases", [])
    for case in cases:
        for node in ast.walk(case.pattern):
            for name in (getattr(node, "name", None), getattr(node, "rest", None)):
                if isinstance(name, str):
                    yield name, case.pattern.lineno, "bound by a `case` pattern"
        yield from _blocks_binders(case.body)
    for block in ("body", "orelse", "finalbody"):
        yield from _blocks_binders(getattr(stmt, block, []))


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


# --- code that runs at import, and what in it the bot cannot follow --------------------------
#
# A revision file's module body runs when Alembic imports it, and with it every default value,
# decorator, annotation and class body, and every function of the file that this code may call.
# What the reader models are bindings by statements of the module body. Anything that reaches
# the module's namespace another way (the namespace itself, a frame, a function's globals,
# code compiled from a string, the builtins that do these) is a `dynamic-binding`.
#
# The file's own functions count when their name (or, for methods, their class's name or their
# own) is used by code that runs at import, when they are decorated (the decorator gets the
# function and may call it), and for a module `__getattr__` (Alembic's reads may call it).
# Code in other modules that the file imports or calls is out of reach: a static reader of one
# file trusts that imported functions do not reach back into the caller's frame.

# Builtins that read or write a namespace by name, or run code in the caller's namespace.
_DYNAMIC_BUILTINS = frozenset(
    {"globals", "locals", "vars", "exec", "eval", "compile", "setattr", "delattr",
     "breakpoint", "__import__", "__builtins__", "__build_class__", "__loader__"}
)  # fmt: skip
_DYNAMIC_NAMES = _DYNAMIC_BUILTINS | {"getattr"}  # getattr: unless called with a plain name
# Attribute names (and names imported from modules) that reach a frame, a module's namespace,
# code objects, or the builtins above; standard library spellings.
_DYNAMIC_ATTRIBUTES = frozenset(
    {"globals", "locals", "vars", "exec", "eval", "setattr", "delattr", "getattr",
     "breakpoint", "__import__",
     # sys, threading: the module table, frames, tracing
     "modules", "_getframe", "_getframemodulename", "_current_frames", "_current_exceptions",
     "settrace", "setprofile", "monitoring", "last_traceback", "last_exc",
     # frames, tracebacks, generators and coroutines
     "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "tb_frame",
     "gi_frame", "cr_frame", "ag_frame", "gi_code", "cr_code", "ag_code",
     # inspect, traceback, gc, ctypes
     "currentframe", "stack", "trace", "getouterframes", "getinnerframes", "getmembers",
     "getmembers_static", "getattr_static", "walk_stack", "walk_tb", "get_referrers",
     "get_referents", "get_objects", "pythonapi",
     # importlib, pkgutil, pydoc: modules and objects by name
     "import_module", "reload", "resolve_name", "locate",
     # attribute access and evaluation by strings: operator, string, typing, logging.config
     "attrgetter", "methodcaller", "get_field", "get_type_hints", "get_annotations",
     "ForwardRef", "_eval_type", "fileConfig", "dictConfig"}
)  # fmt: skip
# Dunder attributes that cannot reach a namespace; any other dunder counts as dynamic.
_PLAIN_DUNDERS = frozenset(
    {"__name__", "__qualname__", "__module__", "__doc__", "__file__", "__version__",
     "__author__", "__annotations__", "__all__", "__future__", "__package__", "__spec__",
     "__path__", "__cached__", "__debug__", "__class__", "__bases__", "__base__", "__mro__",
     "__members__", "__init__", "__new__", "__post_init__", "__repr__", "__str__", "__eq__",
     "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__len__", "__iter__",
     "__next__", "__contains__", "__bool__", "__enter__", "__exit__", "__table__",
     "__tablename__", "__table_args__", "__mapper__", "__mapper_args__", "__abstract__"}
)  # fmt: skip
_PLAIN_DUNDER_WORDS = frozenset(word.encode() for word in _PLAIN_DUNDERS)
# Standard library modules whose use runs code given as data (or reaches any object): using
# a name bound by importing them, in code that runs at import, counts as dynamic.
_CODE_RUNNING_MODULES = frozenset(
    {"builtins", "importlib", "ctypes", "_ctypes", "gc", "pickle", "_pickle", "marshal",
     "shelve", "copyreg", "runpy", "code", "codeop", "pdb", "bdb", "timeit", "doctest",
     "cProfile", "profile", "pkgutil", "pydoc", "dill", "cloudpickle"}
)  # fmt: skip
# Star imports from these bind names like `modules`, `currentframe` or `attrgetter`.
_STAR_DYNAMIC = _CODE_RUNNING_MODULES | {
    "sys", "inspect", "operator", "traceback", "threading", "typing", "logging.config"
}  # fmt: skip


@dataclass(frozen=True)
class DynamicBinding:
    """Code that may change module globals while the file is imported, by means the bot does
    not model. `function` names the file's own function or class it sits in, which runs at
    import because it is used on line `used_on`; None at module level."""

    line: int
    means: str
    function: str | None = None
    used_on: int | None = None


def find_dynamic_bindings(module: ast.Module) -> tuple[DynamicBinding, ...]:
    """Everything in `module` that may change its globals at import by means other than the
    statements of the module body: what a static reader of the file cannot follow."""
    code = _ImportTimeCode()
    for stmt in module.body:
        code.statement(stmt)
    return code.finish()


_Owner: TypeAlias = "ast.ClassDef | None"
_Context: TypeAlias = "tuple[str, int] | None"  # (function or class, where it is used)


class _ImportTimeCode:
    """The module body, walked statement by statement, then the file's own functions and classes
    it may run. Module-level walks skip function bodies (not run by defining the function)."""

    def __init__(self) -> None:
        self.found: list[tuple[int, DynamicBinding]] = []  # (end column, finding)
        self.used: dict[str, int] = {}  # names and attribute names, first line of use
        self.loaded: dict[str, tuple[ast.Name, _Context]] = {}
        self.definitions: dict[str, list[_Definition]] = {}
        self.members: dict[int, list[_Definition]] = {}  # id(class) -> its methods and classes
        self.reached: set[int] = set()
        self.pending: list[tuple[_Definition, int]] = []
        self.code_modules: dict[str, str] = {}  # local name -> module it is imported from
        self.calls: set[int] = set()  # id() of Name nodes already reported as called

    def statement(self, stmt: ast.stmt) -> list[tuple[str, int]]:
        """Walk one module-level statement; the attributes it binds with `:=`, with lines."""
        walrus: list[tuple[str, int]] = []
        stack: list[tuple[ast.AST, bool, _Owner]] = [(stmt, False, None)]
        while stack:
            node, in_function, owner = stack.pop()
            if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
                self._define(node, owner)
                if isinstance(node, ast.ClassDef):  # a class body runs at import
                    stack.extend((child, in_function, node) for child in node.body)
                stack.extend((child, in_function, owner) for child in _header(node))
                continue
            if isinstance(node, ast.Lambda):
                stack.extend((child, in_function, owner) for child in _header(node))
                stack.append((node.body, True, owner))  # may run: it is a value at import
                continue
            if isinstance(node, ast.NamedExpr) and not in_function and node.target.id in _TRACKED:
                walrus.append((node.target.id, node.lineno))
            self._check(node, None)
            stack.extend((child, in_function, owner) for child in ast.iter_child_nodes(node))
        return walrus

    def finish(self) -> tuple[DynamicBinding, ...]:
        """Walk the functions and classes the module body may run, and report what was found."""
        while self.pending:
            definition, used_on = self.pending.pop()
            if not isinstance(definition, ast.ClassDef):  # a class body ran with the module
                self._walk_whole(definition, (definition.name, used_on))
        for name, module in self.code_modules.items():
            if name in self.loaded:
                node, context = self.loaded[name]
                shown = f"`{name}`" if name == module else f"`{name}` (from `{module}`)"
                self._found(node, shown, context)
        self.found.sort(key=lambda found: (found[1].line, found[0]))  # as the text reads
        return tuple(found for _, found in self.found)

    def _walk_whole(
        self, definition: ast.FunctionDef | ast.AsyncFunctionDef, context: _Context
    ) -> None:
        stack: list[ast.AST] = list(definition.body)  # its header ran with the module
        while stack:
            node = stack.pop()
            if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
                self.reached.add(id(node))  # walked here with everything it holds
                self._definition_only(node)
            self._check(node, context)
            stack.extend(ast.iter_child_nodes(node))

    def _define(self, node: _Definition, owner: _Owner) -> None:
        self._definition_only(node)
        if owner is not None:
            self.members.setdefault(id(owner), []).append(node)
            if id(owner) in self.reached:
                self._reach(node, node.lineno)
        if node.decorator_list:  # the decorator gets the object and may call it
            self._reach(node, node.decorator_list[0].lineno)
        elif node.name in self.used:
            self._reach(node, self.used[node.name])
        elif node.name == "__getattr__" and owner is None:
            self._reach(node, node.lineno)  # PEP 562: Alembic's reads may call it

    def _definition_only(self, node: _Definition) -> None:
        self.definitions.setdefault(node.name, []).append(node)

    def _reach(self, node: _Definition, used_on: int) -> None:
        if id(node) in self.reached:
            return
        self.reached.add(id(node))
        self.pending.append((node, used_on))
        for member in self.members.get(id(node), ()):
            self._reach(member, used_on)

    def _use(self, name: str, line: int) -> None:
        if name not in self.used:
            self.used[name] = line
            for definition in self.definitions.get(name, ()):
                self._reach(definition, line)

    def _check(self, node: ast.AST, context: _Context) -> None:
        if isinstance(node, ast.Name):
            self._use(node.id, node.lineno)
            if isinstance(node.ctx, ast.Load):
                self.loaded.setdefault(node.id, (node, context))
            if node.id in _DYNAMIC_NAMES and id(node) not in self.calls:
                self._found(node, f"`{node.id}`", context)
        elif isinstance(node, ast.Attribute):
            self._use(node.attr, node.lineno)
            if _reaches_namespace(node.attr):
                base = f"{node.value.id}." if isinstance(node.value, ast.Name) else ""
                self._found(node, f"`{base}{node.attr}`", context)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            self._call(node, node.func, context)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.partition(".")[0]
                if top in _CODE_RUNNING_MODULES:
                    self.code_modules[alias.asname or top] = alias.name
        elif isinstance(node, ast.ImportFrom):
            self._import_from(node, context)

    def _call(self, node: ast.Call, func: ast.Name, context: _Context) -> None:
        if func.id == "getattr":
            self.calls.add(id(func))
            name = node.args[1] if len(node.args) >= 2 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self._found(node, "`getattr()` with a computed name", context)
            elif _reaches_namespace(name.value):
                self._found(node, f"`getattr(..., {name.value!r})`", context)
        elif func.id in _DYNAMIC_BUILTINS:
            self.calls.add(id(func))
            self._found(node, f"`{func.id}()`", context)

    def _import_from(self, node: ast.ImportFrom, context: _Context) -> None:
        module = node.module or ""
        absolute = not node.level
        for alias in node.names:
            if alias.name == "*" and absolute and module in _STAR_DYNAMIC:
                self._found(node, f"`from {module} import *`", context)
            elif alias.name in _DYNAMIC_ATTRIBUTES or alias.name in _DYNAMIC_BUILTINS:
                self._found(node, f"`from {module} import {alias.name}`", context)
            elif absolute and module.partition(".")[0] in _CODE_RUNNING_MODULES:
                self.code_modules[alias.asname or alias.name] = f"{module}.{alias.name}"

    def _found(self, node: ast.expr | ast.stmt, means: str, context: _Context) -> None:
        function, used_on = context if context else (None, None)
        finding = DynamicBinding(node.lineno, means, function, used_on)
        # ordered by where each spelling ends: `a.b` and `a` start at the same column
        self.found.append((node.end_col_offset or node.col_offset, finding))


def _header(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda,
) -> list[ast.AST]:
    """What runs when a definition is executed: decorators, defaults, annotations, bases."""
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *node.keywords]
    args = node.args
    parts: list[ast.AST] = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
    if isinstance(node, ast.Lambda):
        return parts
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    parts += (arg.annotation for arg in every if arg is not None and arg.annotation is not None)
    return [*node.decorator_list, *parts, *([node.returns] if node.returns else [])]


# The cheap test that lets most files skip the walk: every finding above, and `:=`, needs one of
# these words (or a dunder outside the plain ones, or `import *`) in the text. Sound for a file
# of ASCII bytes in a codec that keeps them: its identifiers are its bytes (NFKC leaves ASCII
# alone), so `ｇｌｏｂａｌｓ` or utf-7 spellings take the walk.
_TRIGGER_WORDS = frozenset(
    word.encode() for word in (*_DYNAMIC_NAMES, *_DYNAMIC_ATTRIBUTES, *_CODE_RUNNING_MODULES)
)
_NOT_IDENTIFIER = bytes(
    byte if chr(byte).isascii() and (chr(byte).isalnum() or chr(byte) == "_") else 32
    for byte in range(256)
)
_DUNDER = re.compile(rb"__\w+__")
_STAR_IMPORT = re.compile(rb"import[\s\\]*\*")


def _may_be_dynamic(data: bytes) -> bool:
    """False only when `data` cannot hold anything `_ImportTimeCode` reports, nor `:=`."""
    if not data.isascii() or b":=" in data:
        return True
    if not _TRIGGER_WORDS.isdisjoint(data.translate(_NOT_IDENTIFIER).split()):
        return True
    if b"__" in data and not _PLAIN_DUNDER_WORDS.issuperset(_DUNDER.findall(data)):
        return True
    return b"*" in data and _STAR_IMPORT.search(data) is not None


def _reaches_namespace(attribute: str) -> bool:
    if attribute in _DYNAMIC_ATTRIBUTES:
        return True
    dunder = len(attribute) > 4 and attribute.startswith("__") and attribute.endswith("__")
    return dunder and attribute not in _PLAIN_DUNDERS  # `_DUNDER` finds the same ones


def _dynamic_problems(found: Iterable[DynamicBinding], path: str) -> list[Problem]:
    """One `dynamic-binding` problem per line (the first few lines), naming what it uses."""
    by_line: dict[tuple[int, str | None, int | None], list[str]] = {}
    for item in found:
        means = by_line.setdefault((item.line, item.function, item.used_on), [])
        if item.means not in means:
            means.append(item.means)
    problems = []
    for (line, function, used_on), means in list(by_line.items())[:_MAX_DYNAMIC_PROBLEMS]:
        where = f"Line {line} uses {_join(means, quote=False)}"
        if function is not None:
            where += (
                f" inside `{function}`, which may run while Alembic imports the file (it is "
                f"used or decorated on line {used_on})"
            )
        message = (
            f"{where}. That can change module globals at import by means the bot cannot "
            "follow: the bot reads revision files without running them, so it trusts none of "
            "this file's `revision`, `down_revision`, `branch_labels` and `depends_on`. Bind "
            "them with plain assignments of literals and keep such code out of revision files."
        )
        problems.append(Problem.of("dynamic-binding", message, path, line))
    return problems


_MAX_DYNAMIC_PROBLEMS = 5


# --- values ----------------------------------------------------------------------------------


def _literal(node: ast.expr) -> _Value:
    """The value of a str / None / tuple-or-list-of-str literal, else why it cannot be read."""
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, str):
            return value
        snippet = _snippet(node)
        return _Unreadable(f"bound to `{snippet}`, {_not_a_value}", literal=snippet)
    if isinstance(node, (ast.Tuple, ast.List)):
        items = []
        for element in node.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                items.append(element.value)
            else:
                sequence = "tuple" if isinstance(node, ast.Tuple) else "list"
                reason = f"bound to a {sequence} holding {_describe(element)}, not a string"
                literal = _snippet(node) if isinstance(element, ast.Constant) else None
                return _Unreadable(reason, literal=literal)
        return tuple(items)
    return _Unreadable(f"bound to {_describe(node)}")


_not_a_value = "which is not a string, None, or a tuple or list of strings"


def _describe(node: ast.expr) -> str:
    snippet = _snippet(node)
    if isinstance(node, ast.Call):
        return f"a function call (`{snippet}`)"
    if isinstance(node, ast.Name):
        return f"the variable `{snippet}`"
    if isinstance(node, ast.Attribute):
        return f"`{snippet}`, an attribute looked up at import time"
    if isinstance(node, ast.JoinedStr):
        return f"an f-string (`{snippet}`)"
    if isinstance(node, ast.Set):
        return f"a set (`{snippet}`), whose order Python does not fix"
    if isinstance(node, ast.Constant):
        return f"`{snippet}`"
    return f"an expression (`{snippet}`)"


def _snippet(node: ast.expr, limit: int = 60) -> str:
    try:
        text = ast.unparse(node)
    except RecursionError:  # ast.unparse recurses: a few hundred nested operators exhaust it
        return "..."
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unreadable_problems(bindings: dict[str, _Binding], path: str) -> list[Problem]:
    """One `non-literal` problem per unreadable binding, attributes sharing a cause merged."""
    groups: dict[tuple[int, str], list[str]] = {}
    for name in ATTRIBUTES:
        binding = bindings.get(name)
        if binding and isinstance(binding.value, _Unreadable) and not binding.value.reported:
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
    if name == "depends_on" and values == ("",):
        # Alembic makes a one-element tuple a scalar, and `if revision.dependencies:` then
        # skips "" as no dependency at all (script/revision.py `_add_depends_on`).
        return ()
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
        '`depends_on` contains the empty string "" beside other ids. Alembic ignores a lone "" '
        "but fails with KeyError: '' on one among several. The bot drops it; remove it."
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
