"""Merge migrations: the file `alembic merge` would write, and re-parent edits.

`render_merge` reproduces Alembic 1.20.1's `command.merge` (`ScriptDirectory.generate_revision`,
`_rev_path`, `util.template_to_file`) byte for byte for the same inputs, but refuses, with a
`MergeError` a user can act on, every case where Alembic would write a file that breaks the tree
(a reused id, a file Alembic would not load back, a file that does not parse).

`reparent` rewrites the parents of an existing revision file in place: only the `down_revision`
value and the docstring's `Revises:` line change, everything else stays byte-identical.

Pure apart from `new_revision_id` (random) and `creation_date` (the process's local time zone, as
Alembic uses it). The repository's `script.py.mako` is rendered with Mako, which runs the Python
the template contains: callers must pass a template from a trusted revision (the base branch).
"""

from __future__ import annotations

import ast
import io
import posixpath
import re
import tokenize
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import PurePosixPath
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mako import exceptions as mako_exceptions
from mako.template import Template

from alembic_heads_bot.engine.model import Environment, Revision
from alembic_heads_bot.templates import generic_template

# Alembic's `_revision_illegal_chars` (script/revision.py): they are revision-range syntax.
_ILLEGAL_REV_CHARS = ("@", "-", "+", ":")
# Beyond Alembic: names its command line resolves specially, and path separators, which would
# put the merge file somewhere else than `file_template` says.
_RESERVED_REV_IDS = frozenset({"head", "heads", "base", "current"})
_SLUG_RE = re.compile(r"\w+")
# Alembic's `_only_source_rev_file` (script/base.py): files it would not load back.
_UNLOADABLE_NAME_RE = re.compile(r"\.#|__init__")
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
_REVISES_RE = re.compile(r"^([ \t]*Revises:)([ \t]*)([^\r\n]*)", re.MULTILINE)
# Module-scope calls that can bind any name, so a later static reading cannot be trusted.
_DYNAMIC_BINDERS = frozenset({"globals", "locals", "vars", "exec", "eval", "setattr"})


@dataclass(frozen=True)
class MergeFile:
    """A new revision file: where it goes, what it says, and what to tell the user about it."""

    path: str
    text: str
    revision: str
    down_revision: tuple[str, ...]
    notes: tuple[str, ...] = ()


class MergeError(Exception):
    """A refusal to write or edit a revision file; the message says what and why."""


class _ConfigUnavailable(Exception):
    """Raised when a template reads `config`, which the bot cannot provide."""


class _NoConfig:
    """Stands in for Alembic's `Config` in templates (Alembic passes it for `multidb`).

    The bot never loads the project's configuration as Alembic does (that runs code), so any use
    of `config` by a template stops the render with a message naming the template line.
    """

    _MESSAGE = (
        "the template uses `config` (Alembic's Config object, e.g. "
        "config.get_main_option(...)), which the bot does not provide because it never runs the "
        "project's configuration; write the merge file with `alembic merge` instead"
    )

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # protocol probes by libraries, not the template
        raise _ConfigUnavailable(self._MESSAGE)

    def __str__(self) -> NoReturn:
        raise _ConfigUnavailable(self._MESSAGE)

    def __repr__(self) -> str:  # kept harmless for debuggers and tracebacks
        return "<config: not available to templates>"

    def __bool__(self) -> NoReturn:
        raise _ConfigUnavailable(self._MESSAGE)

    def __getitem__(self, key: object) -> NoReturn:
        raise _ConfigUnavailable(self._MESSAGE)

    def __iter__(self) -> NoReturn:
        raise _ConfigUnavailable(self._MESSAGE)

    def __call__(self, *args: object, **kwargs: object) -> NoReturn:
        raise _ConfigUnavailable(self._MESSAGE)


# --------------------------------------------------------------------------------------------
# Identifiers, slugs, dates, paths


def new_revision_id() -> str:
    """A fresh id exactly as Alembic makes one (`util.rev_id`): 12 lowercase hex digits."""
    return uuid.uuid4().hex[-12:]


def slugify(message: str | None, truncate: int) -> str:
    """The `%(slug)s` of a file name, as Alembic's `_rev_path` computes it.

    `truncate` is `truncate_slug_length`; 0 means Alembic's default 40 (`truncate_slug_length or
    40` in `ScriptDirectory.__init__`). A cut slug ends with "_", even when no word boundary was
    found, as in Alembic.
    """
    limit = truncate or 40
    slug = "_".join(_SLUG_RE.findall(message or "")).lower()
    if len(slug) > limit:
        slug = slug[:limit].rsplit("_", 1)[0] + "_"
    return slug


def creation_date(env: Environment, now: datetime) -> datetime:
    """The `create_date` Alembic would use at UTC instant `now` (naive `now` counts as UTC).

    Without `timezone` Alembic takes naive local time; with one, it converts UTC to
    `ZoneInfo(timezone)`, retrying with the name upper-cased (`_generate_create_date`).
    """
    instant = now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
    if env.timezone is None:
        return instant.astimezone().replace(tzinfo=None)
    return instant.astimezone(_zone(env.timezone))


def _zone(name: str) -> ZoneInfo:
    for candidate in (name, name.upper()):
        try:
            return ZoneInfo(candidate)
        except ZoneInfoNotFoundError:
            continue
        except ValueError as err:  # Alembic crashes here with a traceback; say why instead
            raise MergeError(f"Can't locate timezone: {name} ({err})") from None
    raise MergeError(
        f"Can't locate timezone: {name} (the `timezone` setting must be an IANA name such as "
        "'UTC' or 'Europe/Paris')"
    )


def merge_file_path(
    env: Environment,
    heads: Sequence[Revision],
    rev_id: str,
    message: str | None,
    create_date: datetime,
) -> str:
    """The tree-relative path `alembic merge` would write for these heads, in this order.

    Refuses (MergeError) the cases where Alembic fails, and those where it would write a file it
    never loads back (a name it filters out, a subdirectory it does not search).
    """
    directory = _version_directory(env, heads)
    name = _file_name(env, rev_id, message, create_date)
    return str(PurePosixPath(directory) / name)


def _version_locations(env: Environment) -> tuple[str, ...]:
    locations = env.version_locations or (posixpath.join(env.script_location, "versions"),)
    # pathlib, like Alembic's Path(...).absolute(), drops "." segments and doubled or trailing
    # slashes but keeps "..", which then never equals a file's directory (exp C12).
    return tuple(str(PurePosixPath(loc)) for loc in locations)


def _version_directory(env: Environment, heads: Sequence[Revision]) -> str:
    locations = _version_locations(env)
    if len(locations) == 1:
        return locations[0]
    if not heads:
        raise MergeError(
            "Multiple version locations present, please specify --version-path "
            f"(with no head to merge there is no directory to follow among {_listing(locations)})"
        )
    first = heads[0]
    directory = str(PurePosixPath(posixpath.dirname(first.path)))
    if directory not in locations:
        raise MergeError(
            f"Path {directory} is not represented in current version locations. With several "
            "version_locations, Alembic writes a merge file next to the first head it merges "
            f"({first.revision}, {first.path or 'path unknown'}), and that directory must be one "
            f"of {_listing(locations)} itself, not a subdirectory. Move that revision file to the "
            "top of its version location, or run `alembic merge` naming the heads in an order "
            "that starts with one at the top of a location."
        )
    return directory


def _file_name(env: Environment, rev_id: str, message: str | None, create_date: datetime) -> str:
    fields = {
        "rev": rev_id,
        "slug": slugify(message, env.truncate_slug_length),
        "epoch": int(create_date.timestamp()),
        "year": create_date.year,
        "month": create_date.month,
        "day": create_date.day,
        "hour": create_date.hour,
        "minute": create_date.minute,
        "second": create_date.second,
    }
    try:
        name = "%s.py" % (env.file_template % fields)  # Alembic's own formatting
    except (KeyError, ValueError, TypeError) as err:
        raise MergeError(
            f"file_template {env.file_template!r} cannot be filled in ({type(err).__name__}: "
            f"{err}); it may use %(rev)s, %(slug)s, %(epoch)s, %(year)d, %(month).2d, %(day).2d, "
            "%(hour).2d, %(minute).2d and %(second).2d"
        ) from None
    _check_loadable(env, name)
    return name


def _check_loadable(env: Environment, name: str) -> None:
    parts = name.split("/")
    if name.startswith("/") or ".." in parts:
        raise MergeError(
            f"file_template gives the file name {name!r}, which leaves the version location; "
            "Alembic would not load the merge file from there"
        )
    if len([p for p in parts if p not in ("", ".")]) > 1 and not env.recursive_version_locations:
        raise MergeError(
            f"file_template gives the file name {name!r} in a subdirectory, but "
            "recursive_version_locations is not true, so Alembic would never load the merge file; "
            "set recursive_version_locations = true or drop the '/' from file_template"
        )
    if _UNLOADABLE_NAME_RE.match(parts[-1]):
        raise MergeError(
            f"file_template gives the file name {name!r}; Alembic ignores files whose names start "
            "with '__init__' or '.#', so it would never load the merge file"
        )


def _listing(items: Iterable[str]) -> str:
    return ", ".join(items)


# --------------------------------------------------------------------------------------------
# Rendering


def render_merge(
    env: Environment,
    heads: Sequence[Revision],
    *,
    rev_id: str,
    message: str | None,
    create_date: datetime,
    template: str | bytes | None,
    existing_ids: Collection[str],
) -> MergeFile:
    """The merge migration `alembic merge --rev-id REV_ID -m MESSAGE <heads>` would write.

    `heads` in the order the merge lists them (for `merge heads`, Alembic's load order).
    `template` is the repository's `script.py.mako` from a trusted revision; pass its raw bytes
    so that Mako decodes it exactly as Alembic does (encoding comment, BOM, CRLF). None renders
    Alembic 1.20.1's generic template. `message` None gives "merge heads <ids>".

    Like `alembic merge`, this does not pass `imports`/`upgrades`/`downgrades`; unlike it, the
    template's `config` is a stand-in that refuses any use (the bot never loads Alembic's
    Config), and post-write hooks are not run (a note says so).
    """
    parents = tuple(head.revision for head in heads)
    _check_rev_id(rev_id, existing_ids, parents)
    if len(set(parents)) != len(parents):
        raise MergeError(f"Duplicate head revisions specified: {_listing(parents)}")
    text_message = message if message is not None else _default_message(parents)
    path = merge_file_path(env, heads, rev_id, text_message, create_date)
    source = _template_source(env, template)
    text = _render(
        source,
        up_revision=str(rev_id),
        down_revision=_as_scalar(parents),
        branch_labels=None,
        depends_on=None,
        create_date=create_date,
        comma=_format_as_comma,
        message=text_message,
        refresh=True,
        config=_NoConfig(),
    )
    _check_rendered(source, _encode(env, text), rev_id, parents, text_message)
    return MergeFile(path, text, rev_id, parents, _notes(env, template))


def _check_rev_id(rev_id: str, existing_ids: Collection[str], parents: tuple[str, ...]) -> None:
    if not rev_id:
        raise MergeError("The revision id is empty; give a non-empty id or let the bot make one")
    illegal = sorted(set(rev_id).intersection(_ILLEGAL_REV_CHARS))
    if illegal:  # Alembic's `verify_rev_id` text
        raise MergeError(
            "Character(s) '%s' not allowed in revision identifier '%s'"  # noqa: UP031
            % (", ".join(illegal), rev_id)
        )
    if "/" in rev_id or "\\" in rev_id or not rev_id.isprintable() or rev_id != rev_id.strip():
        raise MergeError(
            f"Revision identifier {rev_id!r} has a path separator, whitespace at its ends or an "
            "unprintable character; it would change where the file goes or how it is named"
        )
    if rev_id in _RESERVED_REV_IDS:
        raise MergeError(
            f"Revision identifier {rev_id!r} is a name Alembic's commands give a special meaning"
        )
    if rev_id in existing_ids or rev_id in parents:
        raise MergeError(
            f"Revision {rev_id} is already present in this environment; a second file with this "
            "id would make Alembic pick one of them silently. Choose another id."
        )


def _default_message(parents: tuple[str, ...]) -> str:
    return f"merge heads {_listing(parents)}" if parents else "empty message"


def _as_scalar(parents: tuple[str, ...]) -> str | tuple[str, ...] | None:
    """Alembic's `tuple_rev_as_scalar`: None, a str, or the tuple."""
    if not parents:
        return None
    return parents[0] if len(parents) == 1 else parents


def _format_as_comma(value: str | Iterable[str] | None) -> str:
    """Alembic's `util.format_as_comma`, the `comma` filter of the templates."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        return ", ".join(value)
    raise ValueError(f"Don't know how to comma-format {value!r}")


@dataclass(frozen=True)
class _Source:
    """A template and the name to show in messages."""

    content: str | bytes
    where: str


def _template_source(env: Environment, template: str | bytes | None) -> _Source:
    if template is not None:
        return _Source(template, posixpath.join(env.script_location, "script.py.mako"))
    return _Source(generic_template(), "the built-in generic template")


@cache
def _render(source: _Source, **variables: object) -> str:
    """Mako as Alembic's `template_to_file` runs it: default Template options, render_unicode."""
    try:
        return Template(text=source.content).render_unicode(**variables)
    except Exception as err:  # a template is arbitrary code: any failure is the template's
        raise MergeError(_template_failure(source, err)) from None


def _template_failure(source: _Source, err: Exception) -> str:
    try:
        trace = mako_exceptions.RichTraceback(err, err.__traceback__)
        lineno = int(trace.lineno)
        text = trace.source if isinstance(trace.source, str) else ""
    except Exception:  # the traceback helper itself failing must not hide the real error
        lineno, text = 0, ""
    lines = _LINE_BREAK_RE.split(text)
    where = f"{source.where} line {lineno}" if lineno else source.where
    shown = f" (`{lines[lineno - 1].strip()}`)" if 0 < lineno <= len(lines) else ""
    detail = str(err) if isinstance(err, _ConfigUnavailable) else f"{type(err).__name__}: {err}"
    if isinstance(err, NameError) and str(err) == "Undefined":  # Mako's UNDEFINED was printed
        detail += (
            " (a variable `alembic merge` does not pass: imports, upgrades and downgrades are "
            'undefined for merges, so write e.g. ${upgrades if upgrades else "pass"})'
        )
    return f"Template rendering failed at {where}{shown}: {detail}"


def _encode(env: Environment, text: str) -> bytes:
    try:
        return text.encode(env.output_encoding)
    except LookupError:
        raise MergeError(
            f"output_encoding {env.output_encoding!r} is not a known encoding"
        ) from None
    except UnicodeEncodeError as err:
        raise MergeError(
            f"The merge file cannot be written in output_encoding {env.output_encoding}: "
            f"{text[err.start : err.end]!r} has no encoding there; change the message"
        ) from None


def _check_rendered(
    source: _Source, encoded: bytes, rev_id: str, parents: tuple[str, ...], message: str
) -> None:
    """Refuse a file that would not load back as the intended revision.

    The bytes are parsed as Python will read them, so a file in a non-UTF-8 output_encoding
    without an encoding declaration is caught too.
    """
    try:
        module = _parse(encoded)
    except SyntaxError as err:
        raise MergeError(
            f"The merge file rendered from {source.where} is not valid Python "
            f"(line {err.lineno}: {err.msg}).{_syntax_hint(encoded, message)}"
        ) from None
    for name, expected in (("revision", (rev_id,)), ("down_revision", parents)):
        binding = _last_binding(module, name)
        found = _literal_ids(binding.value) if isinstance(binding, _Found) else None
        if found != expected:
            raise MergeError(
                f"The merge file rendered from {source.where} does not bind {name} to a literal "
                f"reading {_listing(expected) or 'None'}, so the revision could not be read back"
            )


def _syntax_hint(encoded: bytes, message: str) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(encoded).readline)
        encoded.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return (
            " Python reads a file as UTF-8 unless its first lines declare an encoding "
            "(# -*- coding: NAME -*-); make script.py.mako write one for output_encoding, or "
            "keep the message ASCII."
        )
    if any(char in message for char in "\\\"'"):
        return (
            " The message has quotes or a backslash, which end or break the docstring; "
            "change the message."
        )
    return ""


def _notes(env: Environment, template: str | bytes | None) -> tuple[str, ...]:
    notes = []
    if env.post_write_hooks:
        notes.append(
            f"post_write_hooks ({_listing(env.post_write_hooks)}) are configured; the bot does "
            "not run them, because they are commands from the repository. Run your formatter "
            "on the merge file if it should look like the others."
        )
    if env.revision_environment:
        notes.append(
            "revision_environment is set: `alembic merge` would run env.py first, which may pass "
            "extra template variables; the bot never runs env.py, so the file may differ."
        )
    if template is None:
        notes.append(
            "No script.py.mako was available, so the file uses Alembic 1.20.1's generic template."
        )
    return tuple(notes)


# --------------------------------------------------------------------------------------------
# Static reading of module-level bindings (shared by the render check and reparent)


def _parse(text: str | bytes) -> ast.Module:
    try:
        return ast.parse(text)
    except ValueError as err:  # null bytes, unencodable surrogates
        raise SyntaxError(str(err)) from None


@dataclass(frozen=True)
class _Found:
    """The binding that decides a module attribute: a plain `name = <expr>` at top level."""

    value: ast.expr


@dataclass(frozen=True)
class _Unreadable:
    """Why the attribute cannot be located statically, and where."""

    reason: str
    line: int | None


def _last_binding(module: ast.Module, name: str) -> _Found | _Unreadable:
    """The top-level `name = ...` / `name: T = ...` Alembic would read, or why there is none."""
    last: tuple[ast.AST, bool] | None = None
    for stmt, top in _module_statements(module.body, top=True):
        if _global_declared(stmt, name):
            return _Unreadable(f"a function declares `global {name}`", _line(stmt))
        if _binds(stmt, name):
            last = (stmt, top)
        elif last is not None and _rebinds_dynamically(stmt):
            return _Unreadable(f"a later statement may rebind {name}", _line(stmt))
    if last is None:
        return _Unreadable(f"{name} is not assigned at module level", None)
    stmt, top = last
    if top and isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        return _Found(stmt.value)
    if top and isinstance(stmt, ast.Assign) and _assigns_only(stmt, name):
        return _Found(stmt.value)
    return _Unreadable(
        f"the last binding of {name} is not a plain top-level `{name} = ...`", _line(stmt)
    )


def _assigns_only(stmt: ast.Assign, name: str) -> bool:
    """`name = value`; not `a = name = value` nor `a, name = ...`, whose value is shared."""
    return len(stmt.targets) == 1 and _is_name(stmt.targets[0], name)


def _line(node: ast.AST) -> int | None:
    return getattr(node, "lineno", None)


def _module_statements(body: Sequence[ast.AST], *, top: bool) -> Iterator[tuple[ast.AST, bool]]:
    """Module-scope statements (and except clauses, which bind like statements) in source
    order, with whether each sits directly at top level."""
    for stmt in body:
        yield stmt, top
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _module_statements(getattr(stmt, field, ()), top=False)
        for handler in getattr(stmt, "handlers", ()):
            yield handler, False
            yield from _module_statements(handler.body, top=False)
        for case in getattr(stmt, "cases", ()):
            yield from _module_statements(case.body, top=False)


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _binds(stmt: ast.AST, name: str) -> bool:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name == name
    if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
        return False  # an annotation alone creates no attribute
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return any(
            alias.name == "*" or (alias.asname or alias.name.split(".")[0]) == name
            for alias in stmt.names
        )
    if isinstance(stmt, ast.ExceptHandler):
        return stmt.name == name
    return any(_binding_node(node, name) for node in _own_nodes(stmt))


def _binding_node(node: ast.AST, name: str) -> bool:
    if isinstance(node, ast.Name):
        return node.id == name and isinstance(node.ctx, (ast.Store, ast.Del))
    if isinstance(node, (ast.MatchAs, ast.MatchStar)):
        return node.name == name
    if isinstance(node, ast.MatchMapping):
        return node.rest == name
    return False


def _own_nodes(stmt: ast.AST) -> Iterator[ast.AST]:
    """The nodes of one statement, without nested statements or function/lambda bodies."""
    stack = [stmt]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.stmt, ast.ExceptHandler, ast.Lambda)):
                continue
            if isinstance(child, ast.match_case):
                stack.append(child.pattern)
            elif isinstance(child, ast.comprehension):
                stack.extend([child.iter, *child.ifs])  # its target is local to the comprehension
            else:
                stack.append(child)


def _global_declared(stmt: ast.AST, name: str) -> bool:
    if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    return any(isinstance(node, ast.Global) and name in node.names for node in ast.walk(stmt))


def _rebinds_dynamically(stmt: ast.AST) -> bool:
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _DYNAMIC_BINDERS
        for node in _own_nodes(stmt)
    )


def _literal_ids(node: ast.expr) -> tuple[str, ...] | None:
    """Alembic's `to_tuple` of a literal value, or None when the value is not such a literal."""
    if isinstance(node, ast.Constant) and node.value is None:
        return ()
    if _is_str(node):
        return (node.value,)  # type: ignore[attr-defined]
    if isinstance(node, (ast.Tuple, ast.List)) and all(_is_str(elt) for elt in node.elts):
        return tuple(elt.value for elt in node.elts)  # type: ignore[attr-defined]
    return None


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


# --------------------------------------------------------------------------------------------
# Re-parenting


def reparent(
    source: str, path: str, old_parents: tuple[str, ...], new_parents: tuple[str, ...]
) -> str:
    """`source` with `down_revision` changed from `old_parents` to `new_parents`.

    Only the value after the last top-level `down_revision =` and the docstring's `Revises:`
    line change; quotes, string prefix, annotation, brackets and line layout are kept. One
    parent is written as a string and none as None, as Alembic renders them. `path` names the
    file in messages. MergeError when the value cannot be located statically or is not
    `old_parents` (the file changed since it was read).
    """
    bom = "\ufeff" if source.startswith("\ufeff") else ""
    body = source[len(bom) :]
    try:
        module = _parse(body)
    except SyntaxError as err:
        raise MergeError(f"{path} line {err.lineno}: cannot parse the file: {err.msg}") from None
    value = _reparent_target(module, path)
    current = _literal_ids(value)
    if current is None:
        raise MergeError(
            f"{path} line {value.lineno}: down_revision is not a literal (None, a string, or a "
            "tuple or list of strings), so it cannot be rewritten safely"
        )
    if current != tuple(old_parents):
        raise MergeError(
            f"{path} line {value.lineno}: down_revision is {_listing(current) or 'None'}, not "
            f"{_listing(old_parents) or 'None'}; the file changed since it was read"
        )
    _check_no_self_loop(module, path, new_parents)
    offsets = _Offsets(body)
    quote = _quote_style(body, offsets, value, module)
    edits = [(*offsets.span(value), _render_parents(body, offsets, value, new_parents, quote))]
    edits.extend(_revises_edit(body, offsets, module, new_parents))
    edited = _apply(body, edits)
    _check_reparented(edited, path, new_parents)
    return bom + edited


def _reparent_target(module: ast.Module, path: str) -> ast.expr:
    binding = _last_binding(module, "down_revision")
    if isinstance(binding, _Unreadable):
        where = f"{path} line {binding.line}" if binding.line else path
        raise MergeError(f"{where}: cannot locate down_revision statically: {binding.reason}")
    return binding.value


def _check_no_self_loop(module: ast.Module, path: str, parents: tuple[str, ...]) -> None:
    revision = _last_binding(module, "revision")
    own = _literal_ids(revision.value) if isinstance(revision, _Found) else None
    if own is not None and len(own) == 1 and own[0] in parents:
        raise MergeError(f"{path}: revision {own[0]} cannot be its own parent")


class _Offsets:
    """Maps ast positions (1-based line, UTF-8 byte column) to offsets into the source string."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts = [0] + [m.end() for m in _LINE_BREAK_RE.finditer(text)]

    def at(self, line: int, byte_col: int) -> int:
        start = self._starts[line - 1]
        end = self._starts[line] if line < len(self._starts) else len(self._text)
        prefix = self._text[start:end].encode("utf-8")[:byte_col]
        return start + len(prefix.decode("utf-8"))

    def span(self, node: ast.expr) -> tuple[int, int]:
        assert node.end_lineno is not None and node.end_col_offset is not None
        return self.at(node.lineno, node.col_offset), self.at(node.end_lineno, node.end_col_offset)

    def line_start(self, offset: int) -> int:
        return max(s for s in self._starts if s <= offset)


@dataclass(frozen=True)
class _Quote:
    prefix: str
    char: str

    def __call__(self, value: str) -> str:
        text = repr(value)
        if self.char == '"' and text[0] == "'" and '"' not in value:
            text = f'"{text[1:-1]}"'
        return self.prefix + text


def _quote_style(body: str, offsets: _Offsets, value: ast.expr, module: ast.Module) -> _Quote:
    """The quotes of the old value's first string, else of `revision`'s, else Alembic's repr."""
    candidates: list[ast.expr] = [value, *getattr(value, "elts", ())]
    revision = _last_binding(module, "revision")
    if isinstance(revision, _Found):
        candidates.append(revision.value)
    for node in candidates:
        if _is_str(node):
            start, end = offsets.span(node)
            literal = body[start:end]
            opening = min((i for i in (literal.find("'"), literal.find('"')) if i >= 0), default=0)
            prefix = literal[:opening] if literal[:opening] in ("u", "U") else ""
            return _Quote(prefix, literal[opening] if literal[opening] in "'\"" else "'")
    return _Quote("", "'")


def _render_parents(
    body: str, offsets: _Offsets, old: ast.expr, parents: tuple[str, ...], quote: _Quote
) -> str:
    if not parents:
        return "None"
    if len(parents) == 1:
        return quote(parents[0])
    items = [quote(p) for p in parents]
    start = offsets.span(old)[0]
    opening, closing = ("[", "]") if isinstance(old, ast.List) else ("(", ")")
    if isinstance(old, ast.Tuple) and body[start] != "(":
        return ", ".join(items)  # a bare `a, b` tuple stays bare
    layout = _vertical_layout(body, offsets, old)
    if layout is None:
        return f"{opening}{', '.join(items)}{closing}"
    indent, closing_indent, eol = layout
    lines = "".join(f"{indent}{item},{eol}" for item in items)
    return f"{opening}{eol}{lines}{closing_indent}{closing}"


def _vertical_layout(body: str, offsets: _Offsets, old: ast.expr) -> tuple[str, str, str] | None:
    """Element indent, closing-bracket indent and line break of a one-item-per-line value."""
    elts = getattr(old, "elts", [])
    if not elts or elts[0].lineno == old.lineno:
        return None
    first = offsets.span(elts[0])[0]
    end = offsets.span(old)[1]
    indent = body[offsets.line_start(first) : first]
    closing_indent = body[offsets.line_start(end - 1) : end - 1]
    if indent.strip() or closing_indent.strip():
        return None
    eol = _LINE_BREAK_RE.search(body, offsets.span(old)[0], end)
    return indent, closing_indent, eol.group() if eol else "\n"


def _revises_edit(
    body: str, offsets: _Offsets, module: ast.Module, parents: tuple[str, ...]
) -> list[tuple[int, int, str]]:
    """The edit of the docstring's first `Revises:` line, if the module has one."""
    first = module.body[0] if module.body else None
    if not (isinstance(first, ast.Expr) and _is_str(first.value)):
        return []
    start, end = offsets.span(first.value)
    literal = body[start:end]
    quote_at = min(i for i in (literal.find("'"), literal.find('"')) if i >= 0)
    width = 3 if literal[quote_at : quote_at + 3] in ('"""', "'''") else 1
    inner_start, inner_end = start + quote_at + width, end - width
    match = _REVISES_RE.search(body, inner_start, inner_end)
    if match is None:
        return []
    content = _format_as_comma(parents)
    value_end = min(match.end(3), inner_end)
    spacing = match.group(2) or (" " if content else "")
    return [(match.start(2), value_end, spacing + content)]


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _check_reparented(text: str, path: str, parents: tuple[str, ...]) -> None:
    """The edit must read back as the new parents; anything else is a bug to report, not ship."""
    try:
        binding = _last_binding(_parse(text), "down_revision")
    except SyntaxError as err:
        raise MergeError(f"{path}: re-parenting produced invalid Python ({err.msg})") from None
    found = _literal_ids(binding.value) if isinstance(binding, _Found) else None
    if found != tuple(parents):
        raise MergeError(f"{path}: re-parenting did not produce down_revision {parents!r}")
