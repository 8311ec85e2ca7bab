"""Merge migrations: the file `alembic merge` would write, and re-parent edits.

`render_merge` reproduces Alembic 1.20.1's `command.merge` (`ScriptDirectory.generate_revision`,
`_rev_path`, `util.template_to_file`) byte for byte for the same inputs, but refuses, with a
`MergeError` a user can act on, every case where Alembic would write a file that breaks the tree
(a reused id, a file Alembic would not load back, a file that does not parse).

`reparent` rewrites the parents of an existing revision file in place: only the `down_revision`
value and the docstring's `Revises:` line change, everything else stays byte-identical.

What the bot writes is data it controls. Revision ids and branch labels come from files of a
pull request and end up in a docstring, in string literals (`"${up_revision}"` in a project's
template), in comments, in the file name and in the commit message, so the few characters the
bot accepts in them are listed (`check_revision_ids`, `plain_id_problem`) rather than the
dangerous ones guessed; a message is reduced to one inert line (`one_line_message`). The result
is then read back with `ast`: it must bind the four attributes Alembic reads to exactly the
intended values, hold nothing at module level that runs code, and have the same syntax tree as
the same template rendered with stand-in values, or nothing is written.

Pure: the random revision id and the built-in template's text come in as arguments (the shell
makes them); `creation_date` reads the process's local time zone, as Alembic does. The
repository's `script.py.mako` is rendered with Mako, which runs the Python the template
contains: callers must pass a template from a trusted revision (the base branch).
"""

from __future__ import annotations

import ast
import io
import posixpath
import re
import tokenize
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
from alembic_heads_bot.engine.parse import find_dynamic_bindings

# Alembic's `_revision_illegal_chars` (script/revision.py): they are revision-range syntax.
_ILLEGAL_REV_CHARS = ("@", "-", "+", ":")
# Beyond Alembic: names its command line resolves specially, and path separators, which would
# put the merge file somewhere else than `file_template` says.
_RESERVED_REV_IDS = frozenset({"head", "heads", "base", "current"})
# The characters the bot writes in revision ids and branch labels (see `plain_id_problem`).
_ID_CHAR_RE = re.compile(r"[\w.]")
_LABEL_CHAR_RE = re.compile(r"[\w.-]")
_SHOWN_ID_LENGTH = 60
_SLUG_RE = re.compile(r"\w+")
# Alembic's `_only_source_rev_file` (script/base.py): files it would not load back.
_UNLOADABLE_NAME_RE = re.compile(r"\.#|__init__")
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
_REVISES_RE = re.compile(r"^([ \t]*Revises:)([ \t]*)([^\r\n]*)", re.MULTILINE)
# Module-scope calls that can bind any name, so a later static reading cannot be trusted.


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


def plain_id_problem(value: str, *, label: bool = False) -> str | None:
    """Why the bot will not write `value` as a revision id (or, with `label`, a branch label).

    The rule: a non-empty string of word characters (`\\w`: letters and digits of any script,
    and `_`) and `.`, starting with a word character; branch labels may also hold `-`.

    Alembic generates ids of 12 lowercase hex digits (`util.rev_id`), and people write ids such
    as `ae1027a6acf_add_users`, `0001` or `v1.2_users`, all of which pass. Alembic itself
    refuses only `@ - + :` in ids (`_revision_illegal_chars`: revision-range syntax) and checks
    nothing in labels, so it accepts ids that close a docstring (a quote, a line break), escape
    a string (a backslash), start a comment (`#`), open an f-string field (`{`), or move a file
    (`/`). Every such character is outside the rule, which the bot applies to each id and label
    it writes into a file: quotes, backslashes, line breaks, control and other unprintable
    characters, spaces, and punctuation Alembic never generates. `-` is kept out of ids as
    Alembic keeps it out; a leading `.` or `-` (a hidden file name, an option) is refused too.
    """
    char = _LABEL_CHAR_RE if label else _ID_CHAR_RE
    if not value:
        return "is empty"
    bad = sorted({c for c in value if not char.fullmatch(c)})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:8]) + (", ..." if len(bad) > 8 else "")
        allowed = "letters, digits, '_', '.'" + (" and '-'" if label else "")
        return f"has characters the bot never writes into a migration file ({shown}); use {allowed}"
    if not _ID_CHAR_RE.fullmatch(value[0]) or value[0] == ".":
        return f"starts with {value[0]!r}; start it with a letter, a digit or '_'"
    return None


def check_revision_ids(revisions: Iterable[Revision]) -> None:
    """Refuse, naming the file and line, a revision whose id the bot would copy into a file but
    that `plain_id_problem` rejects."""
    for rev in revisions:
        problem = plain_id_problem(rev.revision)
        if problem is not None:
            raise MergeError(
                f"{_location(rev.path, rev.line_of('revision'))}: revision id "
                f"{shown_id(rev.revision)} {problem}. Rename the revision (its `revision` and "
                "the `down_revision` values that name it)."
            )


def shown_id(value: str) -> str:
    """An id or label for a message: quoted with escapes, one line, cut when very long."""
    text = repr(value)
    return text if len(text) <= _SHOWN_ID_LENGTH else text[: _SHOWN_ID_LENGTH - 1] + "…"


def _location(path: str, line: int | None) -> str:
    where = path or "a revision file"
    return f"{where} line {line}" if line else where


def one_line_message(message: str) -> str:
    """`message` as one line that cannot end or escape a string literal in the file.

    Each run of line breaks, tabs, control and other unprintable characters becomes one space
    (none at the ends), a backslash becomes `/` (it would escape the next character, or the
    closing quote), and a run of three or more of the same quote becomes one (a docstring ends
    at three). An ordinary message comes back unchanged, so the file stays `alembic merge`'s.
    """
    # "\n" is unprintable itself, so splitting on it splits on every unprintable run.
    pieces = "".join(c if c.isprintable() else "\n" for c in message).split("\n")
    text = " ".join(piece for piece in pieces if piece) if len(pieces) > 1 else message
    text = text.replace("\\", "/")
    return re.sub(r"\"{3,}|'{3,}", lambda match: match.group()[0], text)


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
    return _check_tree_path(str(PurePosixPath(directory) / name))


def _check_tree_path(path: str) -> str:
    """`path` if it is a plain tree path: relative, normalised, without `..` or unprintable
    characters. The local `merge` writes it under the working tree and the fix commit puts it
    in a git tree; either way it must not name a place outside the repository."""
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts) or not path.isprintable():
        raise MergeError(
            f"The merge file would go to {path!r}, which is not a plain path inside the "
            "repository (it is absolute, or has '..', '.' or empty parts, or unprintable "
            "characters); check version_locations, script_location and file_template"
        )
    return path


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
    builtin_template: str | bytes,
    existing_ids: Collection[str],
    branch_labels: tuple[str, ...] = (),
) -> MergeFile:
    """The merge migration `alembic merge --rev-id REV_ID -m MESSAGE <heads>` would write.

    `heads` in the order the merge lists them (for `merge heads`, Alembic's load order).
    `template` is the repository's `script.py.mako` from a trusted revision; pass its raw bytes
    so that Mako decodes it exactly as Alembic does (encoding comment, BOM, CRLF). None renders
    `builtin_template` instead (the bot ships Alembic 1.20.1's generic template). `message` None
    gives "merge heads <ids>". `branch_labels` are `alembic merge --branch-label` values.

    Every id and label must pass `plain_id_problem` (a head's refusal names its file and line)
    and the message is reduced by `one_line_message` (a note says when it changed). The file is
    then read back (`_check_read_back`) and refused unless it is inert data around the intended
    bindings.

    Like `alembic merge`, this does not pass `imports`/`upgrades`/`downgrades`; unlike it, the
    template's `config` is a stand-in that refuses any use (the bot never loads Alembic's
    Config), and post-write hooks are not run (a note says so).
    """
    parents = tuple(head.revision for head in heads)
    _check_rev_id(rev_id, existing_ids, parents)
    check_revision_ids(heads)
    _check_labels(branch_labels)
    if len(set(parents)) != len(parents):
        raise MergeError(f"Duplicate head revisions specified: {_listing(parents)}")
    given = message if message is not None else _default_message(parents)
    values = _Values(rev_id, parents, branch_labels, one_line_message(given))
    path = merge_file_path(env, heads, rev_id, values.message, create_date)
    source = _template_source(env, template, builtin_template)
    text = _render_values(source, values, create_date)
    _check_read_back(source, _encode(env, text), values, create_date)
    notes = _notes(env, template)
    if values.message != given:
        notes += (_MESSAGE_NOTE,)
    return MergeFile(path, text, rev_id, parents, notes)


_MESSAGE_NOTE = (
    "The message was reduced to one line for the file: line breaks, tabs and control "
    "characters became spaces, backslashes became '/', and runs of three quotes became one."
)


@dataclass(frozen=True)
class _Values:
    """What the template receives from the user and the tree: the new id, its parents, its
    branch labels and its message (all checked before they get here)."""

    revision: str
    parents: tuple[str, ...]
    labels: tuple[str, ...]
    message: str

    def stand_ins(self) -> _Values:
        """Values of the same shape (count, length, spaces) made only of letters."""
        return _Values(
            "r" * len(self.revision),
            tuple(_letters(p, i) for i, p in enumerate(self.parents)),
            tuple(_letters(label, i) for i, label in enumerate(self.labels)),
            re.sub(r"\S", "m", self.message),
        )


def _letters(value: str, index: int) -> str:
    return chr(ord("a") + index % 26) * len(value)


def _check_labels(labels: tuple[str, ...]) -> None:
    for label in labels:
        problem = plain_id_problem(label, label=True)
        if problem is not None:
            raise MergeError(f"Branch label {shown_id(label)} {problem}")


def _render_values(source: _Source, values: _Values, create_date: datetime) -> str:
    return _render(
        source,
        up_revision=str(values.revision),
        down_revision=_as_scalar(values.parents),
        branch_labels=values.labels or None,  # Alembic's util.to_tuple(branch_labels)
        depends_on=None,
        create_date=create_date,
        comma=_format_as_comma,
        message=values.message,
        refresh=True,
        config=_NoConfig(),
    )


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
    problem = plain_id_problem(rev_id)
    if problem is not None:
        raise MergeError(f"Revision identifier {shown_id(rev_id)} {problem}")
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


def _template_source(
    env: Environment, template: str | bytes | None, builtin: str | bytes
) -> _Source:
    if template is not None:
        return _Source(template, posixpath.join(env.script_location, "script.py.mako"))
    return _Source(builtin, "the built-in generic template")


@cache
def _compiled(source: _Source) -> Template:
    """The template compiled once: the read-back check renders it a second time."""
    return Template(text=source.content)


def _render(source: _Source, **variables: object) -> str:
    """Mako as Alembic's `template_to_file` runs it: default Template options, render_unicode."""
    try:
        text: str = _compiled(source).render_unicode(**variables)
    except Exception as err:  # a template is arbitrary code: any failure is the template's
        raise MergeError(_template_failure(source, err)) from None
    return text


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


# --------------------------------------------------------------------------------------------
# Reading the rendered file back

_BINDINGS = ("revision", "down_revision", "branch_labels", "depends_on")


def _check_read_back(
    source: _Source, encoded: bytes, values: _Values, create_date: datetime
) -> None:
    """Refuse a file that would not load back as the intended revision, or whose import could
    run anything.

    1. The bytes parse as Python will read them, so a file in a non-UTF-8 output_encoding
       without an encoding declaration is caught too.
    2. `revision`, `down_revision`, `branch_labels` and `depends_on` are each bound once, by a
       plain top-level assignment of a literal reading exactly the intended value; the last
       two may be missing when they are empty (Alembic reads them with a None default).
    3. Module level holds only what runs no code when imported (`_statement_problem`): the
       docstring, imports, function definitions and assignments of literals. Function bodies
       run only when Alembic migrates, and the template (from a trusted revision) wrote them.
    4. The same template filled with stand-in values (letters, same lengths and counts) gives
       the same syntax tree once string contents are set aside: wherever the template puts an
       id, a label or the message, it stays text and never becomes code.
    """
    where = f"The merge file rendered from {source.where}"
    try:
        module = _parse(encoded)
    except SyntaxError as err:
        raise MergeError(
            f"{where} is not valid Python "
            f"(line {err.lineno}: {err.msg}).{_syntax_hint(encoded, values.message)}"
        ) from None
    _check_bindings(where, module, values)
    for index, stmt in enumerate(module.body):
        problem = _statement_problem(stmt, first=index == 0)
        if problem is not None:
            raise MergeError(
                f"{where} has {problem} at module level (line {_first_line(stmt)}), which would "
                "run when Alembic imports it. The bot writes only a docstring, imports, function "
                "definitions and literal assignments there, so it wrote nothing."
            )
    _check_same_shape(where, module, _stand_in_module(source, values, create_date))


def _check_bindings(where: str, module: ast.Module, values: _Values) -> None:
    expected = {
        "revision": (values.revision,),
        "down_revision": values.parents,
        "branch_labels": values.labels,
        "depends_on": (),
    }
    for name in _BINDINGS:
        statements = [s for s, _ in _module_statements(module.body, top=True) if _binds(s, name)]
        want = expected[name]
        if not statements and name in ("branch_labels", "depends_on") and not want:
            continue  # Alembic reads a missing one as None
        value = _only_assignment(module, statements, name)
        found = _literal_ids(value) if value is not None else None
        if name == "revision" and value is not None and not _is_str(value):
            found = None  # Alembic needs the id itself, not a tuple holding it
        if found != want:
            lines = ", ".join(str(_line(s)) for s in statements)
            raise MergeError(
                f"{where} does not bind {name} to a literal reading {_listing(want) or 'None'}, "
                "so the revision could not be read back"
                + (f" (it binds it at line {lines})" if statements else "")
            )


def _only_assignment(module: ast.Module, statements: list[ast.AST], name: str) -> ast.expr | None:
    """The value of the one plain top-level `name = ...` binding `name`, else None."""
    if len(statements) != 1:
        return None
    binding = _last_binding(module, name)
    return binding.value if isinstance(binding, _Found) else None


def _statement_problem(stmt: ast.stmt, *, first: bool) -> str | None:
    """What in a module-level statement runs code when the file is imported, or None."""
    if isinstance(stmt, ast.Expr):
        return None if first and _is_str(stmt.value) else "an expression statement"
    if isinstance(stmt, (ast.Import, ast.Pass)):
        return None
    if isinstance(stmt, ast.ImportFrom):
        return "a star import" if any(a.name == "*" for a in stmt.names) else None
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return _function_problem(stmt)
    if isinstance(stmt, ast.Assign):
        plain = len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        return None if plain and _is_literal(stmt.value) else "an assignment of a non-literal"
    if isinstance(stmt, ast.AnnAssign):
        if not (isinstance(stmt.target, ast.Name) and stmt.value and _is_literal(stmt.value)):
            return "an annotated assignment of a non-literal"
        return None if _is_inert_annotation(stmt.annotation) else "an annotation that computes"
    if _is_type_checking_imports(stmt):
        return None
    return f"a `{type(stmt).__name__}` statement"


def _first_line(stmt: ast.stmt) -> int:
    """The statement's first line, its decorators included."""
    decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
    return min([stmt.lineno, *(decorator.lineno for decorator in decorators)])


def _function_problem(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """Decorators, defaults and annotations are evaluated when the `def` runs, at import."""
    if func.decorator_list:
        return "a decorated function"
    args = func.args
    defaults = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
    if not all(_is_literal(default) for default in defaults):
        return "a function default that is not a literal"
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    annotations = [p.annotation for p in params if p is not None and p.annotation is not None]
    if func.returns is not None:
        annotations.append(func.returns)
    if not all(_is_inert_annotation(annotation) for annotation in annotations):
        return "a function annotation that computes"
    return None


def _is_literal(node: ast.expr) -> bool:
    """A constant or a container of constants: evaluating it calls nothing."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_literal(elt) for elt in node.elts)
    if isinstance(node, ast.Dict):
        keys_plain = all(key is not None and _is_literal(key) for key in node.keys)
        return keys_plain and all(_is_literal(value) for value in node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float)
    return False


def _is_inert_annotation(node: ast.expr) -> bool:
    """Names, dotted names, subscripts and `|` unions of them (`Union[str, None]`,
    `str | Sequence[str] | None`): no call, no comprehension, no walrus."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, ast.Attribute):
        return _is_inert_annotation(node.value)
    if isinstance(node, ast.Subscript):
        return _is_inert_annotation(node.value) and _is_inert_annotation(node.slice)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_is_inert_annotation(elt) for elt in node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _is_inert_annotation(node.left) and _is_inert_annotation(node.right)
    return False


def _is_type_checking_imports(stmt: ast.stmt) -> bool:
    """`if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`) holding only imports, without `else`."""
    if not isinstance(stmt, ast.If) or stmt.orelse:
        return False
    test = stmt.test
    named = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )
    return named and all(
        _statement_problem(inner, first=False) is None
        and isinstance(inner, (ast.Import, ast.ImportFrom))
        for inner in stmt.body
    )


def _stand_in_module(source: _Source, values: _Values, create_date: datetime) -> ast.Module:
    why = "rendering the template again with stand-in values, to check that the ids and the "
    try:
        return _parse(_render_values(source, values.stand_ins(), create_date))
    except MergeError as err:
        raise MergeError(f"{err} (while {why}message cannot change its code)") from None
    except SyntaxError as err:
        raise MergeError(
            f"{source.where} gives invalid Python (line {err.lineno}: {err.msg}) when {why}"
            "message cannot change its code; the bot wrote nothing"
        ) from None


def _check_same_shape(where: str, module: ast.Module, stand_in: ast.Module) -> None:
    ours, theirs = module.body, stand_in.body
    for index in range(max(len(ours), len(theirs))):
        mine = ours[index] if index < len(ours) else None
        other = theirs[index] if index < len(theirs) else None
        if mine is None or other is None or _shape(mine) != _shape(other):
            line = _line(mine) if mine is not None else _line(ours[-1]) if ours else 1
            raise MergeError(
                f"{where} has other code at line {line} than the same template filled with "
                "stand-in values: an id, a label or the message would become code, not text, "
                "so the bot wrote nothing"
            )


def _shape(node: object, *, strings: bool = False, hidden: frozenset[int] = frozenset()) -> object:
    """A syntax tree as nested tuples, without positions. The contents of string and bytes
    constants are left out unless `strings`; nodes whose `id` is in `hidden` are left out."""
    if isinstance(node, ast.AST) and id(node) in hidden:
        return "..."
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and not strings:
        return ("Constant", type(node.value).__name__, node.kind)
    if isinstance(node, ast.AST):
        fields = (getattr(node, field, None) for field in node._fields)
        return (type(node).__name__, *(_shape(f, strings=strings, hidden=hidden) for f in fields))
    if isinstance(node, list):
        return tuple(_shape(item, strings=strings, hidden=hidden) for item in node)
    return node


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
            " The message has quotes or a backslash, which end or break a string in the "
            "template; change the message."
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
    for parent in new_parents:
        problem = plain_id_problem(parent)
        if problem is not None:
            raise MergeError(f"{path}: the new parent {shown_id(parent)} {problem}")
    _check_no_self_loop(module, path, new_parents)
    offsets = _Offsets(body)
    quote = _quote_style(body, offsets, value, module)
    edits = [(*offsets.span(value), _render_parents(body, offsets, value, new_parents, quote))]
    edits.extend(_revises_edit(body, offsets, module, new_parents))
    edited = _apply(body, edits)
    _check_reparented(module, value, edited, path, new_parents)
    return bom + edited


def _reparent_target(module: ast.Module, path: str) -> ast.expr:
    dynamic = find_dynamic_bindings(module)
    if dynamic:  # the bot cannot know what the file really binds, so it edits nothing
        first = dynamic[0]
        raise MergeError(
            f"{path} line {first.line}: cannot locate down_revision statically: "
            f"{first.means} may rebind the module's globals at import"
        )
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


def _check_reparented(
    before: ast.Module, old_value: ast.expr, text: str, path: str, parents: tuple[str, ...]
) -> None:
    """The edit must read back as the new parents and change nothing else the file does: the
    same syntax tree, string contents included, apart from down_revision's value and the
    docstring. Anything else is a bug to report, not ship."""
    try:
        after = _parse(text)
    except SyntaxError as err:
        raise MergeError(f"{path}: re-parenting produced invalid Python ({err.msg})") from None
    binding = _last_binding(after, "down_revision")
    found = _literal_ids(binding.value) if isinstance(binding, _Found) else None
    if not isinstance(binding, _Found) or found != tuple(parents):
        raise MergeError(f"{path}: re-parenting did not produce down_revision {parents!r}")
    if _edited_shape(before, old_value) != _edited_shape(after, binding.value):
        raise MergeError(
            f"{path}: re-parenting would change more than down_revision and the docstring's "
            "Revises line, so the bot left the file alone"
        )


def _edited_shape(module: ast.Module, value: ast.expr) -> object:
    hidden = {id(value)}
    first = module.body[0] if module.body else None
    if isinstance(first, ast.Expr) and _is_str(first.value):
        hidden.add(id(first.value))
    return _shape(module, strings=True, hidden=frozenset(hidden))
