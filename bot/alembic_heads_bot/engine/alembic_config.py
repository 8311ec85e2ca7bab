"""Alembic configuration discovery: a tree's environments, read the way Alembic reads them.

Alembic's CLI reads `alembic.ini` (the `[alembic]` section, or the one `-n` names) and
`pyproject.toml` `[tool.alembic]` from its working directory, key by key: the ini section first
(with `[DEFAULT]` inheritance), then the TOML table, then the default. This module replays that
on a `Tree`, never importing or running anything from it:

* every `alembic.ini` gives one environment per section that sets `script_location` (plus
  `[alembic]` when it inherits one from `[DEFAULT]`); a `pyproject.toml` whose `[tool.alembic]`
  sets it gives one more, and an ini and a pyproject.toml in one directory combine per key;
* a directory holding `env.py`, `script.py.mako` and `versions/` that no config names (the
  Flask-Migrate layout, whose `alembic.ini` has no script_location) becomes an environment
  with default settings and an `unconfigured-environment` warning;
* the bot config's `environments` list, when given, replaces the scan.

The scan skips `engine.tree.SKIPPED_DIRS` and virtualenvs (directories holding `pyvenv.cfg`). An
environment is named after the file that sets its script_location, with `:SECTION` appended
for ini sections other than `alembic`; an unconfigured one after its directory. Problems of one
environment sit in `Environment.problems`; a file that cannot be read or parsed at all is a
`Discovery.problems` entry. Both carry the file and, where it can be found, the key's line.
`package:path` values are resolved without importing, by looking for the package's directory
under the prepend_sys_path entries, the config's directory, the tree root and `src/`. The
version table comes from `<script_location>/env.py`, read statically by `engine.env_py` with the
environment's own options (what env.py's `config.get_main_option` would return); what makes
it uncertain is kept in `Environment.version_table_problems`, reported only where a database
is read.

Ini files go through the standard library's ConfigParser, exactly as Alembic builds it, so its
interpolation, comment and duplicate rules hold by construction. The tree sits at a virtual
absolute directory so that `%(here)s` expands to an absolute path, which is then mapped back
to a tree-relative POSIX path. Relative paths are relative to the process's working directory,
which for a config below the root is its own folder (`cd` there, then `alembic`) or the
repository root (`alembic -c path/to/alembic.ini`, as nova does): the one of the two that exists
is used and recorded in `Environment.resolved_from`, with a `config-warning` when both or
neither exist.
`os` as a path separator means `:`, as on the Linux runners CI uses.

A path that names the tree root is ".".

Reading is bounded whatever a file holds, and each bound is a `config-error` naming the file and
the line: files over `MAX_CONFIG_BYTES` are not parsed; TOML nested deeper than `MAX_TOML_NESTING`
(arrays, inline tables, dotted keys) is refused before tomllib sees it, because tomllib recurses
once per level and spends quadratic time and memory on long dotted keys; `%(name)s` references
of an ini file may expand to at most `MAX_INTERPOLATION` characters in all (they can expand
exponentially: each value may name another several times, ten levels deep); and TOML `%`-format
field widths are capped. Ordinary files never come near these bounds, and below them the
results are ConfigParser's and tomllib's own.
"""

from __future__ import annotations

import codecs
import configparser
import posixpath
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import filterfalse, groupby
from operator import itemgetter, methodcaller
from typing import Any

from alembic_heads_bot.engine.bot_config import BOT_CONFIG_PATH, BotConfig, EnvironmentSpec
from alembic_heads_bot.engine.env_py import (
    EnvOptions,
    EnvPy,
    VersionTableSetting,
    cannot_read,
    read_env_py,
)
from alembic_heads_bot.engine.model import Environment, Problem, ResolvedFrom
from alembic_heads_bot.engine.tree import SKIPPED_DIRS, Tree

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

INI_NAME = "alembic.ini"
TOML_NAME = "pyproject.toml"
DEFAULT_FILE_TEMPLATE = "%(rev)s_%(slug)s"

# Bounds on the work one config file may cause (see the module docstring). Real files are a few
# kilobytes, a few levels deep, and expand to a few kilobytes.
MAX_CONFIG_BYTES = 512 * 1024
MAX_TOML_NESTING = 32
MAX_INTERPOLATION = 16 * 1024 * 1024
# What one %(name)s lookup or one value read costs against MAX_INTERPOLATION, in characters:
# lookups of empty values must cost something too.
_LOOKUP_COST = 64
MAX_FORMAT_WIDTH = 9999

# The virtual directory the tree is rooted at while paths are expanded; shown as "<repo>".
_ROOT = "/__alembic_heads_repo__"
_MAX_LINK_HOPS = 40
_ALEMBIC_SECTION = "alembic"
# A default_section name no ini file uses, so a second parser reports only a section's own keys.
_NO_DEFAULTS = "\x00"

# config.py:_get_file_separator_char; "os" is os.pathsep on the POSIX runners CI uses.
_SEPARATORS = {"space": " ", "newline": "\n", "os": ":", ":": ":", ";": ";"}
_LEGACY_SPLIT = re.compile(r", *|(?: +)")
_LEGACY_SYS_PATH_SPLIT = re.compile(r", *|(?: +)|\:")
_TRUE = ("true", "yes", "on", "y", "t", "1")
_FALSE = ("false", "no", "off", "n", "f", "0")

_SECTION_LINE = re.compile(r"\[(?P<header>.+)\]")
_OPTION_LINE = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")
_TOML_HEADER = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(#.*)?$")
_TOML_KEY = re.compile(r"""^\s*["']?(?P<key>[A-Za-z0-9_-]+)["']?\s*=""")
_TOML_LINE = re.compile(r"at line (\d+)")
# Characters that matter to TOML nesting (strings and comments are skipped whole).
_TOML_SPECIAL = re.compile(r"""[\[\]{}.=,\n#"']""")
_TOML_STRING_ENDS = {
    '"""': re.compile(r'\\.|"{3,5}', re.S),
    "'''": re.compile(r"'{3,5}"),
    '"': re.compile(r'\\.|["\n]'),
    "'": re.compile(r"['\n]"),
}
# A %-format conversion's field width, as Python reads it (%% is a literal percent sign).
_PERCENT_WIDTH = re.compile(r"%%|%(?:\([^)]*\))?[-#0 +]*(?P<width>\d+)")

_ABSENT: Any = object()  # the key is not set in that source
_FAILED: Any = object()  # the key is set but unusable; a problem has been recorded


@dataclass(frozen=True)
class Discovery:
    """The environments of a tree, and the problems that belong to no single environment."""

    environments: tuple[Environment, ...]
    problems: tuple[Problem, ...] = ()


def discover(tree: Tree, bot_config: BotConfig | None = None) -> Discovery:
    """Every Alembic environment of `tree`: the bot config's list when it has one, else a scan."""
    index = _Index.of(tree)
    if bot_config is not None and bot_config.environments:
        return _from_specs(index, bot_config.environments)
    return _scan(index)


def load_config_file(tree: Tree, path: str, section: str | None = None) -> Discovery:
    """The environments of one config file, as `alembic -c FILE [-n SECTION]` would see them.

    Like Alembic, an ini is read together with the pyproject.toml beside it, and a
    pyproject.toml together with the alembic.ini beside it. Without `section`, every section
    that sets script_location is an environment.
    """
    index = _Index.of(tree)
    path = posixpath.normpath(path)
    if path not in index.files:
        return Discovery((), (_error(f"config file {path} not found", path),))
    result = _load_explicit(index, path, section, None)
    return Discovery(tuple(sorted(result.environments, key=_name)), tuple(result.problems))


def select(discovery: Discovery, name: str) -> Environment | None:
    """The one environment `name` designates (its name, else section, script_location or config)."""
    exact = [env for env in discovery.environments if env.name == name]
    if len(exact) == 1:
        return exact[0]
    path = posixpath.normpath(name.strip()) if name.strip() else name
    matches = [
        env
        for env in discovery.environments
        if name == env.section or path in (env.script_location, env.config_path)
    ]
    return matches[0] if len(matches) == 1 else None


# --- the tree -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    """The tree's files and directories, computed once per discovery."""

    tree: Tree
    files: frozenset[str]
    dirs: frozenset[str]
    # directory ("" for the root) -> the names of the files directly in it
    names: Mapping[str, list[str]] = field(default_factory=dict, compare=False)
    # env.py path -> its reading, shared by the environments whose script directory holds it
    env_pys: dict[str, EnvPy] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, tree: Tree) -> _Index:
        paths = tree.paths()
        names: dict[str, list[str]] = {}
        # A tree lists a directory's files together, mostly: each run of them is split from
        # its directory at C speed, and only the runs cost Python (a tree has 10,000s of paths).
        for directory, run in groupby(map(_SPLIT_LAST, paths), _FIRST):
            found = names.get(directory)
            if found is None:
                names[directory] = list(map(_LAST, run))
            else:
                found += map(_LAST, run)
        dirs: set[str] = set()
        for parent in names:
            while parent and parent not in dirs:  # its own parents are in already
                dirs.add(parent)
                parent = parent.rpartition("/")[0]
        return cls(tree, frozenset(paths), frozenset(dirs), names)

    def is_dir(self, path: str) -> bool:
        return path in self.dirs or (path == "." and bool(self.files))

    def follow_links(self, path: str) -> str:
        """`path` with links to directories replaced by their targets (when inside the tree)."""
        for _ in range(_MAX_LINK_HOPS):
            followed = self._follow_first_link(path)
            if followed is None:
                return path
            path = followed
        return path

    def _follow_first_link(self, path: str) -> str | None:
        parts = path.split("/")
        for end in range(1, len(parts) + 1):
            prefix = "/".join(parts[:end])
            if prefix not in self.files:
                continue
            target = self.tree.link(prefix)
            if target is None:
                return None
            resolved = _tree_path(posixpath.join(_ROOT, posixpath.dirname(prefix), target))
            if resolved is None:
                return None
            return posixpath.normpath("/".join([resolved, *parts[end:]]))
        return None


_SPLIT_LAST = methodcaller("rpartition", "/")
_FIRST = itemgetter(0)
_LAST = itemgetter(2)
_PY = methodcaller("endswith", ".py")
_INI = methodcaller("endswith", ".ini")


def _tree_path(absolute: str) -> str | None:
    """The tree-relative form of a path under the virtual root, or None when it is outside."""
    normal = posixpath.normpath(absolute)
    if normal == _ROOT:
        return "."
    if normal.startswith(_ROOT + "/"):
        return normal[len(_ROOT) + 1 :]
    return None


def _virtual(directory: str) -> str:
    """The absolute form of a tree directory, which `%(here)s` expands to."""
    return _ROOT if directory in ("", ".") else f"{_ROOT}/{directory}"


def _shown(text: str) -> str:
    return text.replace(_ROOT, "<repo>")


def _join(directory: str, name: str) -> str:
    return name if directory in ("", ".") else f"{directory}/{name}"


def _skipped(directory: str, venvs: frozenset[str]) -> bool:
    """Whether the files of `directory` ("" for the root) are under a directory that never holds
    the project's own environments (SKIPPED_DIRS, venvs)."""
    parts = directory.split("/") if directory else []
    if not SKIPPED_DIRS.isdisjoint(parts):
        return True
    return bool(venvs) and any("/".join(parts[:end]) in venvs for end in range(1, len(parts) + 1))


def _error(message: str, path: str | None = None, line: int | None = None) -> Problem:
    return Problem.of("config-error", _shown(message), path, line)


def _name(env: Environment) -> str:
    return env.name


# --- reading config files -----------------------------------------------------------------------


def _read_bytes(index: _Index, path: str) -> bytes | OSError:
    """The file's bytes, or the tree's error: callers word the problem for their file."""
    try:
        return index.tree.read(path)
    except OSError as exc:
        return exc


def _read_text(index: _Index, path: str, problems: list[Problem]) -> str | None:
    """The file decoded like Alembic reads it (UTF-8, universal newlines)."""
    data = _read_bytes(index, path)
    if isinstance(data, OSError):
        problems.append(Problem.of("unreadable-file", f"cannot read {path}: {data}", path))
        return None
    if len(data) > MAX_CONFIG_BYTES:
        message = (
            f"{path} is {len(data):,} bytes, more than the {MAX_CONFIG_BYTES:,} bytes the bot "
            "reads in a config file; it was not read"
        )
        problems.append(_error(message, path, 1))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(_error(f"{path} is not valid UTF-8: {exc}", path))
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class _Ini:
    """An ini file parsed by ConfigParser exactly as Alembic's `Config.file_config` parses it."""

    path: str
    parser: configparser.ConfigParser
    own: configparser.ConfigParser  # the same file without [DEFAULT] inheritance
    lines: dict[tuple[str, str], int]

    def line_of(self, section: str, key: str) -> int | None:
        found = self.lines.get((section, key))
        return found if found is not None else self.lines.get(("DEFAULT", key))

    def owns(self, section: str, key: str) -> bool:
        return self.own.has_section(section) and self.own.has_option(section, key)


def _read_ini(index: _Index, path: str, problems: list[Problem]) -> _Ini | None:
    text = _read_text(index, path, problems)
    if text is None:
        return None
    here = _virtual(posixpath.dirname(path))
    parser = configparser.ConfigParser({"here": here}, interpolation=_BoundedInterpolation())
    # Not strict: the first parser has enforced strictness, and here [DEFAULT] is an ordinary
    # section, which ConfigParser would otherwise refuse to see twice.
    own = configparser.ConfigParser(default_section=_NO_DEFAULTS, interpolation=None, strict=False)
    try:
        parser.read_string(text, source=path)
        own.read_string(text, source=path)
    except configparser.Error as exc:
        problems.extend(_ini_syntax_problems(exc, path, text))
        return None
    return _Ini(path, parser, own, _ini_lines(text))


class InterpolationTooLarge(configparser.InterpolationError):
    """The %(name)s references of one file expand to more than MAX_INTERPOLATION characters.

    `first` is False once the file has been reported: every later read fails the same way.
    """

    def __init__(self, option: str, section: str, first: bool) -> None:
        message = (
            f"expanding its %(name)s references takes more than {MAX_INTERPOLATION:,} "
            "characters (counting the values of this file read before it); the bot stops "
            "there, where an interpolation bomb would take Alembic minutes and gigabytes"
        )
        super().__init__(option, section, message)
        self.first = first


class _BoundedInterpolation(configparser.BasicInterpolation):
    """ConfigParser's own interpolation, run unchanged, with a budget for the whole file.

    BasicInterpolation stops at ten levels of references, but each level may name the one below
    several times, so a few lines can expand exponentially. Every value read and every
    reference looked up is charged its length (and `_LOOKUP_COST`); past `MAX_INTERPOLATION`
    the read raises `InterpolationTooLarge`. Below the budget the result is BasicInterpolation's,
    because it is BasicInterpolation that computes it.
    """

    def __init__(self) -> None:
        self.spent = 0
        self.reported = False

    def before_get(
        self,
        parser: Any,
        section: str,
        option: str,
        value: str,
        defaults: Mapping[str, str],
    ) -> str:
        self.charge(len(value), option, section)
        charged = _ChargedLookups(defaults, self, option, section)
        result: str = super().before_get(parser, section, option, value, charged)
        return result

    def charge(self, length: int, option: str, section: str) -> None:
        self.spent += length + _LOOKUP_COST
        if self.spent > MAX_INTERPOLATION:
            first, self.reported = not self.reported, True
            raise InterpolationTooLarge(option, section, first)


class _ChargedLookups(Mapping[str, str]):
    """The values a reference may name; each lookup is charged to the file's budget."""

    def __init__(
        self, values: Mapping[str, str], budget: _BoundedInterpolation, option: str, section: str
    ) -> None:
        self.inner = values
        self.budget = budget
        self.option = option
        self.section = section

    def __getitem__(self, key: str) -> str:
        value = self.inner[key]
        self.budget.charge(len(value), self.option, self.section)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.inner)

    def __len__(self) -> int:
        return len(self.inner)


def _ini_syntax_problems(exc: configparser.Error, path: str, text: str) -> list[Problem]:
    if isinstance(exc, configparser.DuplicateOptionError):
        message = f"option {exc.option!r} in section {exc.section!r} already exists"
        return [_error(f"{message} (ConfigParser DuplicateOptionError)", path, exc.lineno)]
    if isinstance(exc, configparser.DuplicateSectionError):
        message = f"section {exc.section!r} already exists (ConfigParser DuplicateSectionError)"
        return [_error(message, path, exc.lineno)]
    if isinstance(exc, configparser.MissingSectionHeaderError):
        message = f"file contains no section headers: line {exc.lineno} is {exc.line.rstrip()!r}"
        if text.startswith("\ufeff"):
            message += " (the file starts with a UTF-8 byte order mark, which ConfigParser rejects)"
        return [_error(message, path, exc.lineno)]
    if isinstance(exc, configparser.ParsingError):
        lines = text.split("\n")
        return [
            _error(
                f"cannot parse {lines[lineno - 1].strip()!r}: not a [section] header, a "
                "key = value line or an indented continuation",
                path,
                lineno,
            )
            for lineno, _ in exc.errors
        ]
    return [_error(f"cannot parse {path}: {exc}", path)]  # pragma: no cover - future Pythons


def _ini_lines(text: str) -> dict[tuple[str, str], int]:
    """(section, option) -> line of its first definition, following ConfigParser._read's rules."""
    lines: dict[tuple[str, str], int] = {}
    section: str | None = None
    option: str | None = None
    indent = 0
    for number, line in enumerate(text.split("\n"), start=1):
        value = line.strip()
        if not value or value.startswith(("#", ";")):
            continue
        current = len(line) - len(line.lstrip())
        if section is not None and option is not None and current > indent:
            continue  # a continuation of the option's value
        indent = current
        header = _SECTION_LINE.match(value)
        if header:
            section, option = header.group("header"), None
            continue
        match = _OPTION_LINE.match(value)
        if section is not None and match:
            option = match.group("option").rstrip().lower()
            lines.setdefault((section, option), number)
    return lines


@dataclass(frozen=True)
class _Toml:
    """The `[tool.alembic]` table of a pyproject.toml, with Alembic's `toml_args`."""

    path: str
    table: dict[str, Any]
    args: dict[str, str]
    lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key, self.lines.get(""))


def _read_toml(index: _Index, path: str, problems: list[Problem], explicit: bool) -> _Toml | None:
    """The [tool.alembic] table; None when the file has none (or cannot be read)."""
    local: list[Problem] = []
    text = _read_text(index, path, local)
    if text is None:
        problems.extend(local)
        return None
    # A broken pyproject.toml that never mentions alembic is not ours to report.
    ours = explicit or _may_mention_alembic(text)
    too_deep = _toml_too_deep(text)
    if too_deep is not None:
        if ours:
            problems.append(_error(f"{too_deep[1]}; it was not parsed", path, too_deep[0]))
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if ours:
            found = _TOML_LINE.search(str(exc))
            line = int(found.group(1)) if found else None
            problems.append(_error(f"invalid TOML: {exc}", path, line))
        return None
    except (RecursionError, MemoryError) as exc:  # the pre-scan should make this unreachable
        if ours:
            problems.append(_error(f"cannot parse TOML ({type(exc).__name__})", path, 1))
        return None
    tool = data.get("tool")
    if not isinstance(tool, dict) or "alembic" not in tool:
        return None
    lines = _toml_lines(text)
    if not isinstance(tool["alembic"], dict):
        problems.append(_error("Incorrect TOML format: [tool.alembic] must be a table", path))
        return None
    args = {"here": _virtual(posixpath.dirname(path))}
    return _Toml(path, tool["alembic"], args, lines)


def _may_mention_alembic(text: str) -> bool:
    """Whether the text may name [tool.alembic]: literally, or through a quoted key's escapes
    (`[tool."alembi\\u0063"]`)."""
    return "alembic" in text or "\\u" in text or "\\U" in text


def _toml_too_deep(text: str) -> tuple[int, str] | None:
    """(line, reason) where the text nests deeper than MAX_TOML_NESTING, or None.

    Counts `[` and `{` (arrays, inline tables, table headers) and the dots of one dotted key,
    outside strings and comments. In TOML these characters mean nothing else there, so the
    count is what tomllib would recurse or loop over.
    """
    depth = dots = 0
    position = 0
    while (match := _TOML_SPECIAL.search(text, position)) is not None:
        char, position = match.group(), match.end()
        if char in "[{":
            depth, dots = depth + 1, 0
            if depth > MAX_TOML_NESTING:
                reason = f"arrays and inline tables nested more than {MAX_TOML_NESTING} deep"
                return _line_at(text, match.start()), reason
        elif char in "]}":
            depth, dots = max(depth - 1, 0), 0
        elif char == ".":
            dots += 1
            if dots >= MAX_TOML_NESTING:
                reason = f"a dotted key of more than {MAX_TOML_NESTING} parts"
                return _line_at(text, match.start()), reason
        elif char in "=,\n":
            dots = 0
        elif char == "#":
            newline = text.find("\n", position)
            position = len(text) if newline < 0 else newline
        else:
            position = _toml_string_end(text, match.start())
    return None


def _toml_string_end(text: str, start: int) -> int:
    """Where the string opening at `start` ends (an unterminated one ends at its line's end)."""
    quote = text[start]
    opener = quote * 3 if text.startswith(quote * 3, start) else quote
    for match in _TOML_STRING_ENDS[opener].finditer(text, start + len(opener)):
        if match.group()[0] != "\\":
            return match.end()
    return len(text)


def _line_at(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _toml_lines(text: str) -> dict[str, int]:
    """Key -> line inside [tool.alembic] ("" -> the header's line), for problem locations."""
    lines: dict[str, int] = {}
    inside = False
    for number, line in enumerate(text.split("\n"), start=1):
        header = _TOML_HEADER.match(line)
        if header:
            name = re.sub(r"\s*\.\s*", ".", header.group("name"))
            inside = name == "tool.alembic"
            if inside:
                lines.setdefault("", number)
            elif name.startswith("tool.alembic."):
                lines.setdefault(name.split(".")[2], number)
            continue
        key = _TOML_KEY.match(line)
        if inside and key:
            lines.setdefault(key.group("key"), number)
    return lines


# --- looking keys up the way Alembic does ---------------------------------------------------------


class _Sources:
    """One environment's keys: the ini section, then [tool.alembic] (Config.get_alembic_option)."""

    def __init__(self, ini: _Ini | None, section: str, toml: _Toml | None) -> None:
        self.ini = ini
        self.section = section
        self.toml = toml
        self.problems: list[Problem] = []

    @property
    def directory(self) -> str:
        source = self.ini or self.toml
        return posixpath.dirname(source.path) if source is not None else "."

    def in_ini(self, key: str) -> bool:
        return self.ini is not None and self.ini.parser.has_option(self.section, key)

    def where(self, key: str) -> tuple[str | None, int | None]:
        if self.ini is not None and self.in_ini(key):
            return self.ini.path, self.ini.line_of(self.section, key)
        if self.toml is not None:
            return self.toml.path, self.toml.line_of(key)
        return None, None

    def error(self, key: str, message: str) -> None:
        path, line = self.where(key)
        self.problems.append(_error(message, path, line))

    def warning(self, key: str, message: str) -> None:
        path, line = self.where(key)
        self.problems.append(Problem.of("config-warning", _shown(message), path, line))

    def ini_value(self, key: str, section: str | None = None) -> str | None:
        """ConfigParser.get with interpolation; None (and a problem) when it raises."""
        assert self.ini is not None
        section = section or self.section
        try:
            return self.ini.parser.get(section, key, fallback=None)
        except InterpolationTooLarge as exc:
            self.too_large(exc, key, section)
            return None
        except configparser.InterpolationError as exc:
            line = self.ini.line_of(section, key)
            message = f"{key} in [{section}]: {exc.message} ({type(exc).__name__})"
            self.problems.append(_error(message, self.ini.path, line))
            return None

    def too_large(self, exc: InterpolationTooLarge, key: str, section: str) -> None:
        """The file's interpolation budget is spent: one problem per file, on the first key."""
        if exc.first and self.ini is not None:
            message = f"{key} in [{section}]: {exc.message}"
            self.problems.append(_error(message, self.ini.path, self.ini.line_of(section, key)))

    def toml_value(self, key: str) -> Any:
        """Config._get_toml_config_value: values %-formatted with toml_args, ints unchanged."""
        if self.toml is None or key not in self.toml.table:
            return _ABSENT
        value, args = self.toml.table[key], self.toml.args
        try:
            if isinstance(value, str):
                return _percent(value, args)
            if isinstance(value, list) and value and isinstance(value[0], dict):
                return [{k: _percent(v, args) for k, v in item.items()} for item in value]
            if isinstance(value, list):
                return [_percent(item, args) for item in value]
            if isinstance(value, dict):
                return {k: _percent(v, args) for k, v in value.items()}
            if isinstance(value, int):
                return value
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            self.error(key, _toml_format_message(key, value, exc))
            return _FAILED
        self.error(key, f"unsupported TOML value type for key: {key!r} ({type(value).__name__})")
        return _FAILED

    def written(self, key: str) -> object:
        """The value as the file spells it, before interpolation (for messages)."""
        if self.ini is not None and self.in_ini(key):
            return self.ini.parser.get(self.section, key, raw=True)
        return self.toml.table.get(key) if self.toml is not None else None

    def value(self, key: str) -> Any:
        """get_alembic_option: the ini value (None if broken), else the TOML value or _ABSENT."""
        return self.ini_value(key) if self.in_ini(key) else self.toml_value(key)

    def text(self, key: str, default: str | None) -> str | None:
        """A string option (Config.get_alembic_option)."""
        if self.in_ini(key):
            found = self.ini_value(key)
            return default if found is None else found
        value = self.toml_value(key)
        if value is _ABSENT or value is _FAILED:
            return default
        if not isinstance(value, str):
            self.error(key, f"{key} in [tool.alembic] must be a string, not {_toml_type(value)}")
            return default
        return value

    def flag(self, key: str) -> bool:
        """Config.get_alembic_boolean_option: ini exactly "true"; TOML a real boolean."""
        if self.in_ini(key):
            return self.ini_value(key) == "true"
        if self.toml is None:
            return False
        value = self.toml.table.get(key, False)
        if not isinstance(value, bool):
            self.error(key, f"boolean value expected for TOML parameter {key!r}, got {value!r}")
            return False
        return value

    def truncate_slug_length(self) -> int:
        """script/base.py: int(value), then 0 (or absent) -> 40."""
        raw = self.value("truncate_slug_length")
        if raw is None or raw is _ABSENT or raw is _FAILED:
            return 40
        if isinstance(raw, (list, dict)):
            self.error("truncate_slug_length", f"truncate_slug_length must be an int, not {raw!r}")
            return 40
        try:
            return int(raw) or 40
        except ValueError as exc:
            self.error("truncate_slug_length", f"truncate_slug_length is not an integer: {exc}")
            return 40

    def revision_environment(self) -> bool:
        """util.asbool(get_alembic_option("revision_environment"))."""
        value = self.value("revision_environment")
        if value is None or value is _ABSENT or value is _FAILED:
            return False
        if not isinstance(value, str):
            return bool(value)
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        self.error(
            "revision_environment",
            f"revision_environment = {value!r}: String is not true/false: {word!r} "
            f"(expected one of {', '.join(_TRUE + _FALSE)})",
        )
        return False

    def separator(self, *keys: str) -> Any:
        """Config._get_file_separator_char: the first separator key set, validated."""
        for key in keys:
            value = self.ini_value(key) if self.in_ini(key) else None
            if value is not None:
                break
        else:
            return None
        if value in _SEPARATORS:
            return _SEPARATORS[value]
        message = (
            f"{value!r} is not a valid value for {key}; expected 'space', 'newline', 'os', ':', ';'"
        )
        if re.search(r"\s[#;]", value):
            message += " (an .ini file has no inline comments: put the comment on its own line)"
        self.error(key, message)
        return _FAILED

    def path_list(self, key: str, separators: tuple[str, ...], legacy: re.Pattern[str]) -> Any:
        """Config.get_version_locations_list / get_prepend_sys_paths_list: ini, then TOML."""
        raw = self.ini_value(key) if self.in_ini(key) else ""
        if raw is None:
            return _FAILED
        if raw:
            separator = self.separator(*separators)
            if separator is _FAILED:
                return _FAILED
            if separator is None:
                return legacy.split(raw)
            return [piece.strip() for piece in raw.split(separator) if piece]
        value = self.toml_value(key)
        if value is _ABSENT or value is _FAILED:
            return None if value is _ABSENT else _FAILED
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        extra = " (Alembic would read a string character by character)"
        extra = extra if isinstance(value, str) else ""
        self.error(key, f"{key} in [tool.alembic] must be an array of strings{extra}: {value!r}")
        return _FAILED

    def hooks(self) -> tuple[str, ...]:
        """Config.get_hooks_list: the ini's [post_write_hooks] section wins over TOML entirely."""
        if self.ini is not None and self.ini.parser.has_section("post_write_hooks"):
            # Alembic interpolates every key of the section, so one bad key breaks it.
            options = self.ini.parser.options("post_write_hooks")
            values = {key: self.ini_value(key, "post_write_hooks") for key in options}
            return tuple(name for name in _LEGACY_SPLIT.split(values.get("hooks") or "") if name)
        value = self.toml_value("post_write_hooks")
        if value is _ABSENT or value is _FAILED or value == []:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.error(
                "post_write_hooks",
                "post_write_hooks in [tool.alembic] must be an array of tables "
                "([[tool.alembic.post_write_hooks]]), each with a name",
            )
            return ()
        if not all(isinstance(item.get("name"), str) for item in value):
            self.error("post_write_hooks", "each [[tool.alembic.post_write_hooks]] needs a name")
            return ()
        return tuple(item["name"] for item in value)


def _toml_type(value: object) -> str:
    return {str: "a string", int: "an integer", bool: "a boolean", list: "an array"}.get(
        type(value), type(value).__name__
    )


class _TooWide(ValueError):
    """A %-format field width that would build a string of millions of characters."""


def _percent(value: Any, args: dict[str, str]) -> Any:
    """`value % args`, as Alembic formats TOML values (`Config._get_toml_config_value`), except
    that a field width over MAX_FORMAT_WIDTH (`%(here)999999999s`) is refused, not built."""
    if isinstance(value, str):
        for match in _PERCENT_WIDTH.finditer(value):
            width = match.group("width")
            if width is not None and (len(width) > 9 or int(width) > MAX_FORMAT_WIDTH):
                raise _TooWide(
                    f"the field width {width[:20]} of a %-format conversion would build a "
                    f"string that long; the bot refuses widths over {MAX_FORMAT_WIDTH:,}"
                )
    return value % args


def _toml_format_message(key: str, value: object, exc: Exception) -> str:
    """Why `value % toml_args` failed, the way Alembic would have failed on it."""
    if isinstance(exc, _TooWide):
        return f"{key} in [tool.alembic]: Alembic %-formats TOML strings, and {exc}"
    problem = f"unknown %-key {exc}" if isinstance(exc, KeyError) else str(exc)
    return (
        f"{key} = {value!r} in [tool.alembic]: Alembic %-formats TOML strings and this fails "
        f"with {type(exc).__name__}: {problem}; write %% for a literal %"
    )


# --- building environments ----------------------------------------------------------------------


@dataclass
class _Result:
    environments: list[Environment]
    problems: list[Problem]
    unused: list[str] = field(default_factory=list)  # read fine, but no script_location anywhere


def _environment_sections(ini: _Ini | None, toml: _Toml | None) -> list[str]:
    """Sections that are environments: those setting script_location (and [alembic] by
    [DEFAULT] inheritance), plus [alembic] when only [tool.alembic] sets it."""
    sections: list[str] = []
    if ini is not None:
        sections = [
            name
            for name in ini.parser.sections()
            if ini.owns(name, "script_location")
            or (name == _ALEMBIC_SECTION and ini.parser.has_option(name, "script_location"))
        ]
    has_toml_script = toml is not None and "script_location" in toml.table
    if has_toml_script and _ALEMBIC_SECTION not in sections:
        sections.append(_ALEMBIC_SECTION)
    return sections


def _directory_environments(
    index: _Index,
    ini_path: str | None,
    toml_path: str | None,
    *,
    section: str | None = None,
    script_override: str | None = None,
    name: str | None = None,
    explicit: bool = False,
) -> _Result:
    """The environments an ini and/or a pyproject.toml in one directory define.

    `script_override` is a tree path that replaces script_location, as Flask-Migrate's
    `set_main_option("script_location", ...)` does. `explicit` files must define something.
    """
    problems: list[Problem] = []
    ini = _read_ini(index, ini_path, problems) if ini_path else None
    if ini_path and ini is None:
        return _Result([], problems)  # Alembic cannot get past a broken ini
    toml = _read_toml(index, toml_path, problems, explicit) if toml_path else None
    sections = [section] if section else _environment_sections(ini, toml)
    if not sections and script_override is not None:
        sections = [_ALEMBIC_SECTION]
    envs = []
    for current in sections:
        sources = _Sources(ini, current, toml)
        if script_override is None and not _has_script_location(sources):
            if explicit:
                problems.append(_no_script_location(ini_path or toml_path, ini, current))
            continue
        envs.append(_environment(index, sources, script_override, name))
    if not sections and explicit:
        problems.append(_no_script_location(ini_path or toml_path, ini, _ALEMBIC_SECTION))
    read = [source.path for source in (ini, toml) if source is not None]
    return _Result(envs, problems, [] if envs or problems else read)


def _has_script_location(sources: _Sources) -> bool:
    return sources.in_ini("script_location") or (
        sources.toml is not None and "script_location" in sources.toml.table
    )


def _no_script_location(path: str | None, ini: _Ini | None, section: str) -> Problem:
    message = "No 'script_location' key found in configuration."
    if ini is not None and not ini.parser.has_section(section):
        message += f" ({ini.path} has no [{section}] section)"
    return _error(message, path)


def _origin(sources: _Sources, overridden: bool) -> tuple[str | None, str | None, str]:
    """(config_path, section, default name): the file that sets script_location."""
    ini, toml = sources.ini, sources.toml
    ini_sets_it = sources.in_ini("script_location") or (
        overridden and ini is not None and ini.parser.has_section(sources.section)
    )
    if ini is not None and (ini_sets_it or toml is None):
        suffix = "" if sources.section == _ALEMBIC_SECTION else f":{sources.section}"
        return ini.path, sources.section, ini.path + suffix
    if toml is not None:
        return toml.path, None, toml.path
    return None, None, "."


def _environment(
    index: _Index, sources: _Sources, script_override: str | None, name: str | None
) -> Environment:
    """One environment, reading keys in the order ScriptDirectory.from_config reads them."""
    config_path, section, default_name = _origin(sources, script_override is not None)
    tsl = sources.truncate_slug_length()
    sys_paths = sources.path_list("prepend_sys_path", ("path_separator",), _LEGACY_SYS_PATH_SPLIT)
    recursive = sources.flag("recursive_version_locations")
    locator = _Locator(index, sources, sys_paths if isinstance(sys_paths, list) else [])
    if script_override is not None:
        raw_script: str | None = script_override
        script: str | None = index.follow_links(script_override)
    else:
        raw_script = sources.text("script_location", None)
        script = None if raw_script is None else locator.locate("script_location", raw_script)
    file_template = sources.text("file_template", DEFAULT_FILE_TEMPLATE)
    sourceless = sources.flag("sourceless")
    encoding = sources.text("output_encoding", "utf-8")
    versions = _version_locations(sources, locator, script)
    timezone = sources.text("timezone", None)
    hooks = sources.hooks()
    revision_environment = sources.revision_environment()
    if script_override is None:
        _check_script_dir(index, sources, script)
    _check_encoding(sources, encoding)
    version_table = _version_table(index, sources, script)
    return Environment(
        name=name or default_name,
        config_path=config_path,
        section=section,
        script_location=script if script is not None else _shown(raw_script or ""),
        version_locations=versions,
        recursive_version_locations=recursive,
        sourceless=sourceless,
        file_template=file_template if file_template is not None else DEFAULT_FILE_TEMPLATE,
        truncate_slug_length=tsl,
        timezone=timezone,
        output_encoding=encoding if encoding is not None else "utf-8",
        revision_environment=revision_environment,
        post_write_hooks=hooks,
        version_table=version_table.table,
        version_table_schema=version_table.schema,
        problems=tuple(sources.problems),
        version_table_problems=version_table.problems,
        prepend_sys_path=locator.sys_path_dirs(),
        resolved_from=locator.resolved_from,
    )


def _version_table(index: _Index, sources: _Sources, script: str | None) -> VersionTableSetting:
    """What <script_location>/env.py passes to context.configure, read without running it."""
    path = index.follow_links(_join(script, "env.py")) if script is not None else None
    if path is None or path not in index.files:
        return VersionTableSetting()  # Alembic's defaults
    env_py = index.env_pys.get(path)
    if env_py is None:
        data = _read_bytes(index, path)
        if isinstance(data, OSError):
            return cannot_read(path, f"the file cannot be read ({data})")
        env_py = index.env_pys[path] = read_env_py(data, path)
    return env_py.version_table(_env_py_options(sources))


def _env_py_options(sources: _Sources) -> EnvOptions:
    """What env.py's `config` holds: the ini section (get_main_option, with [DEFAULT]
    inheritance) and the string values of [tool.alembic] (get_alembic_option's fallback).

    Looked up only for the keys env.py names, as Alembic does: a file may hold many keys,
    and many sections inheriting them. Values that fail to interpolate are left out: Alembic
    would raise on them in env.py.
    """
    ini, section, toml = sources.ini, sources.section, sources.toml

    def main(key: str) -> str | None:
        if ini is None or not ini.parser.has_section(section):
            return None
        try:
            return ini.parser.get(section, key, fallback=None)
        except InterpolationTooLarge as exc:  # reported: Alembic would hang, not raise
            sources.too_large(exc, key, section)
            return None
        except configparser.InterpolationError:
            return None

    def tool_alembic(key: str) -> str | None:
        value = toml.table.get(key) if toml is not None else None
        if not isinstance(value, str) or toml is None:
            return None
        try:
            formatted: str = _percent(value, toml.args)
        except (KeyError, ValueError, TypeError):
            return None
        return formatted

    return EnvOptions(main, tool_alembic)


def _version_locations(sources: _Sources, locator: _Locator, script: str | None) -> tuple[str, ...]:
    """Config.get_version_locations_list, resolved; default <script_location>/versions."""
    raw = sources.path_list(
        "version_locations", ("path_separator", "version_path_separator"), _LEGACY_SPLIT
    )
    if raw is _FAILED:
        return ()
    if not raw:
        if script is None:
            return ()
        return (locator.index.follow_links(_join(script, "versions")),)
    found = (locator.locate("version_locations", value) for value in raw)
    return tuple(dict.fromkeys(path for path in found if path is not None))


def _missing_script_dir(path: str) -> str:
    """ScriptDirectory.__init__'s wording (two spaces included), with the tree path."""
    return (
        f"Path doesn't exist: {path}.  Please use the 'init' command to create a new "
        "scripts folder."
    )


def _check_script_dir(index: _Index, sources: _Sources, script: str | None) -> None:
    if script is None or index.is_dir(script):
        return
    written = sources.written("script_location")
    sources.error(
        "script_location", f"{_missing_script_dir(script)} (script_location = {written!r})"
    )


def _check_encoding(sources: _Sources, encoding: str | None) -> None:
    """Alembic needs output_encoding only to write a file, so a bad one is a warning here."""
    if encoding is None:
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        sources.warning(
            "output_encoding",
            f"unknown output_encoding {encoding!r}: Alembic cannot write revision files with it",
        )


class _Locator:
    """Turns script_location and version_locations values into tree paths.

    The counterpart of util.coerce_resource_to_filename, which imports `package:path` values.
    """

    def __init__(self, index: _Index, sources: _Sources, sys_paths: list[str]) -> None:
        self.index = index
        self.sources = sources
        self.directory = sources.directory
        self.sys_paths = sys_paths
        # Where the first relative path was found (Environment.resolved_from).
        self.resolved_from: ResolvedFrom | None = None

    def locate(self, key: str, value: str) -> str | None:
        if not posixpath.isabs(value) and ":" in value:
            return self._resource(key, value)
        if not posixpath.isabs(value):
            value = self._relative(key, value)
        absolute = posixpath.join(_virtual(self.directory), value)
        found = _tree_path(absolute)
        if found is None:
            written = self.sources.written(key)
            self.sources.error(
                key,
                f"{key} = {written!r}: {_shown(posixpath.normpath(absolute))!r} is outside the "
                "repository",
            )
            return None
        return self.index.follow_links(found)

    def _relative(self, key: str, value: str) -> str:
        """A relative path is relative to the directory Alembic runs in: the config's folder
        (`alembic -c` from there, or the default alembic.ini) or the repository root (nova's
        `alembic -c nova/db/main/alembic.ini`). Whichever exists, as an absolute path."""
        from_config = _tree_path(posixpath.join(_virtual(self.directory), value))
        from_root = _tree_path(posixpath.join(_ROOT, value))
        in_config = from_config is not None and self.index.is_dir(from_config)
        in_root = from_root is not None and self.index.is_dir(from_root)
        origin: ResolvedFrom = "config-dir"
        written = self.sources.written(key)
        if self.directory in ("", ".") or from_config == from_root:
            pass  # one place: the config sits at the repository root
        elif in_config and in_root:
            self.sources.warning(
                key,
                f"{key} = {written!r} is relative to the directory Alembic runs in, and both "
                f"{from_config} (from the config's folder) and {from_root} (from the repository "
                f"root) exist; checking {from_config}. Write %(here)s/... to make it one place.",
            )
        elif in_root:
            origin = "repository-root"
        elif not in_config:
            self.sources.warning(
                key,
                f"{key} = {written!r} is relative to the directory Alembic runs in, and neither "
                f"{from_config or value} (from the config's folder) nor {from_root or value} "
                "(from the repository root) exists.",
            )
        if self.resolved_from is None:
            self.resolved_from = origin
        if origin == "repository-root":
            return posixpath.join(_ROOT, value)
        return value

    def _resource(self, key: str, value: str) -> str | None:
        """`package:path` without importing: find the package's directory under likely roots."""
        package, *rest = value.split(":")
        roots = self._package_roots()
        if package:
            for root in roots:
                base = _tree_path(posixpath.join(_virtual(root), *package.split(".")))
                if base is not None and self.index.is_dir(base):
                    found = _tree_path(posixpath.join(_virtual(base), *rest))
                    if found is None:
                        break
                    return self.index.follow_links(found)
        searched = ", ".join(roots)
        self.sources.error(
            key,
            f"{key} entry {value!r} names package {package!r}, which is not a directory of the "
            f"repository under any of: {searched} (it is resolved without importing it)",
        )
        return None

    def sys_path_dirs(self) -> tuple[str, ...]:
        """prepend_sys_path entries as tree directories (Alembic puts them first on sys.path)."""
        found = (_tree_path(posixpath.join(_virtual(self.directory), e)) for e in self.sys_paths)
        return tuple(dict.fromkeys(path for path in found if path is not None))

    def _package_roots(self) -> list[str]:
        """prepend_sys_path entries, the config's directory, the tree root and src/."""
        roots = []
        for entry in self.sys_paths:
            found = _tree_path(posixpath.join(_virtual(self.directory), entry))
            if found is not None:
                roots.append(found)
        roots += [posixpath.normpath(self.directory or "."), ".", "src"]
        return list(dict.fromkeys(roots))


# --- discovery ----------------------------------------------------------------------------------


def _scan(index: _Index) -> Discovery:
    venvs = frozenset(_dirs_holding(index.names, "pyvenv.cfg"))
    # Directories and their file names: the per-file work is C's (`names` in `_Index.of`).
    visible = {d: names for d, names in index.names.items() if not _skipped(d, venvs)}
    ini_dirs = _dirs_holding(visible, INI_NAME)
    toml_dirs = _dirs_holding(visible, TOML_NAME)
    envs: list[Environment] = []
    problems: list[Problem] = []
    unused: list[str] = []
    for directory in sorted(ini_dirs | toml_dirs):
        ini = _join(directory, INI_NAME) if directory in ini_dirs else None
        toml = _join(directory, TOML_NAME) if directory in toml_dirs else None
        result = _directory_environments(index, ini, toml)
        envs += result.environments
        problems += result.problems
        unused += result.unused
    envs += _other_configs(index, visible, envs, problems)
    envs += _unconfigured(index, visible, envs, unused)
    envs = _with_revision_folders(index, visible, envs)
    problems += [_unused_config(path) for path in unused]
    if not envs:
        problems.append(_no_environment())
    return Discovery(tuple(sorted(envs, key=_name)), tuple(problems))


def _dirs_holding(names: Mapping[str, list[str]], filename: str) -> set[str]:
    """Directories ("" for the root) holding a file of that name."""
    return {directory for directory, found in names.items() if filename in found}


def _unconfigured(
    index: _Index, visible: Mapping[str, list[str]], envs: list[Environment], unused: list[str]
) -> list[Environment]:
    """Script directories no config names (Flask-Migrate, programmatic configuration).

    Flask-Migrate's `migrations/alembic.ini` sets everything but script_location, which the
    app sets in code, so that ini's settings apply and it is no longer "unused".
    """
    named = {env.script_location for env in envs}
    for path in named:  # an ini inside a named script directory is not a config of its own
        if _join(path, INI_NAME) in unused:
            unused.remove(_join(path, INI_NAME))
    found = []
    for directory in sorted(_dirs_holding(visible, "env.py")):
        path = directory or "."
        if path in named or not _looks_like_script_dir(index, path):
            continue
        ini = _join(path, INI_NAME)
        if ini in unused:
            unused.remove(ini)
            result = _directory_environments(
                index, ini, None, section=_ALEMBIC_SECTION, script_override=path, name=path
            )
            env = result.environments[0]
        else:
            env = _environment(index, _Sources(None, _ALEMBIC_SECTION, None), path, path)
        found.append(replace(env, problems=(_unconfigured_warning(path, env), *env.problems)))
    return found


def _looks_like_script_dir(index: _Index, path: str) -> bool:
    return _join(path, "script.py.mako") in index.files and index.is_dir(_join(path, "versions"))


def _unconfigured_warning(path: str, env: Environment) -> Problem:
    settings = f"the other settings of {env.config_path}" if env.config_path else "default settings"
    return Problem.of(
        "unconfigured-environment",
        f"{path} holds env.py, script.py.mako and versions/ but no alembic.ini or "
        f"pyproject.toml sets it as script_location; checking it with {settings}. "
        f"List it under environments in {BOT_CONFIG_PATH} to make this explicit.",
        path,
    )


def _unused_config(path: str) -> Problem:
    return Problem.of(
        "config-warning",
        f"{path} sets no script_location, so Alembic cannot use it on its own "
        "(\"No 'script_location' key found in configuration.\"); ignoring it",
        path,
    )


def _no_environment() -> Problem:
    return Problem.of(
        "no-environment",
        "no Alembic environment found: no alembic.ini or pyproject.toml [tool.alembic] sets "
        "script_location, and no directory holds env.py, script.py.mako and versions/. "
        f"Name one under environments in {BOT_CONFIG_PATH}.",
    )


# --- explicit configuration (CLI --config, bot config environments) -----------------------------


def _load_explicit(
    index: _Index,
    path: str,
    section: str | None,
    script_override: str | None,
    name: str | None = None,
) -> _Result:
    """A named config file, read with its sibling as Alembic's CLI would (CWD = its directory)."""
    directory = posixpath.dirname(path)
    if posixpath.basename(path) == TOML_NAME:
        ini_path: str | None = _join(directory, INI_NAME)
        toml_path: str | None = path
    else:
        ini_path, toml_path = path, _join(directory, TOML_NAME)
    return _directory_environments(
        index,
        ini_path if ini_path in index.files else None,
        toml_path if toml_path in index.files else None,
        section=section,
        script_override=script_override,
        name=name,
        explicit=True,
    )


def _from_specs(index: _Index, specs: tuple[EnvironmentSpec, ...]) -> Discovery:
    envs: list[Environment] = []
    problems: list[Problem] = []
    for spec in specs:
        found, spec_problems = _from_spec(index, spec)
        envs += found
        problems += spec_problems
    problems += _duplicate_names(envs)
    return Discovery(tuple(sorted(envs, key=_name)), tuple(problems))


def _from_spec(index: _Index, spec: EnvironmentSpec) -> tuple[list[Environment], list[Problem]]:
    """The environments one bot-config entry names; its mistakes point at the bot config."""
    if spec.config is not None and spec.config not in index.files:
        message = f"environment config file {spec.config} not found"
        return [], [_error(message, BOT_CONFIG_PATH, spec.line)]
    if spec.config is None:
        assert spec.script_location is not None
        sources = _Sources(None, _ALEMBIC_SECTION, None)
        name = spec.name or spec.script_location
        result = _Result([_environment(index, sources, spec.script_location, name)], [])
    else:
        section = spec.section or (_ALEMBIC_SECTION if spec.script_location else None)
        result = _load_explicit(index, spec.config, section, spec.script_location, spec.name)
    if spec.name and len(result.environments) > 1:
        names = ", ".join(env.name for env in result.environments)
        message = f"{spec.config} defines several environments ({names}); add a section"
        return [], [*result.problems, _error(message, BOT_CONFIG_PATH, spec.line)]
    envs = [_apply_spec(index, env, spec) for env in result.environments]
    return envs, result.problems


def _apply_spec(index: _Index, env: Environment, spec: EnvironmentSpec) -> Environment:
    """The spec's version_locations, and a check that its script_location exists."""
    problems = env.problems
    if spec.script_location is not None and not index.is_dir(env.script_location):
        message = _missing_script_dir(env.script_location)
        problems = (*problems, _error(message, BOT_CONFIG_PATH, spec.line))
    versions = env.version_locations
    if spec.version_locations is not None:
        versions = tuple(dict.fromkeys(map(index.follow_links, spec.version_locations)))
    return replace(env, version_locations=versions, problems=problems)


def _duplicate_names(envs: list[Environment]) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for env in envs:
        if env.name in seen:
            message = f"two environments are named {env.name!r}; give each a unique name"
            problems.append(_error(message, BOT_CONFIG_PATH))
        seen.add(env.name)
    return problems


# --- layouts only code describes ----------------------------------------------------------------

# Module-level `revision = ...` and `down_revision = ...` (annotated or not): what makes a .py
# file an Alembic revision file. A cheap test on bytes; the parser reads the file properly later.
_BINDS_REVISION = re.compile(rb"^revision[ \t]*(?::[^=\n]*)?=", re.M)
_BINDS_DOWN_REVISION = re.compile(rb"^down_revision[ \t]*(?::[^=\n]*)?=", re.M)
# Files read per directory to decide whether it holds revision files.
_PROBES_PER_DIR = 3
_NOT_REVISION_FILES = frozenset({"__init__.py", "env.py", "setup.py", "conftest.py", "manage.py"})
# Folders whose revision files are test data or documentation, not a project's migrations (a
# folder holding env.py is still found there, as before).
_DATA_DIRS = frozenset({"tests", "test", "testing", "fixtures", "docs", "doc", "examples"})
# A config under another name (`alembic -c alembic_mysql.ini`): alembic*.ini anywhere, or any
# *.ini beside a folder holding env.py or revision files, once it mentions script_location.
_ALEMBIC_INI = re.compile(r"alembic[^/]*\.ini")


def _other_configs(
    index: _Index,
    visible: Mapping[str, list[str]],
    envs: list[Environment],
    problems: list[Problem],
) -> list[Environment]:
    """Environments of ini files other than alembic.ini that set script_location, except one
    that repeats an environment already found (mlrun's alembic.ini and alembic_mysql.ini)."""
    seen = {(env.script_location, env.version_locations) for env in envs}
    script_parents = {posixpath.dirname(d) for d in _dirs_holding(visible, "env.py")}
    found: list[Environment] = []
    inis = (_join(d, name) for d, names in visible.items() for name in filter(_INI, names))
    for path in sorted(inis):
        directory, _, name = path.rpartition("/")
        if name == INI_NAME:
            continue
        if not (_ALEMBIC_INI.fullmatch(name) or directory in script_parents):
            continue
        data = _read_bytes(index, path)
        if isinstance(data, OSError) or b"script_location" not in data:
            continue
        result = _directory_environments(index, path, None)
        new = [
            e for e in result.environments if (e.script_location, e.version_locations) not in seen
        ]
        seen.update((e.script_location, e.version_locations) for e in new)
        found += new
        if new:
            problems += result.problems
    return found


def _revision_folders(index: _Index, visible: Mapping[str, list[str]]) -> list[str]:
    """Directories whose .py files bind `revision` and `down_revision` at module level."""
    folders = []
    for directory, names in sorted((d or ".", names) for d, names in visible.items()):
        if not _DATA_DIRS.isdisjoint(directory.split("/")):
            continue
        sources = sorted(filterfalse(_NOT_REVISION_FILES.__contains__, filter(_PY, names)))
        for name in sources[:_PROBES_PER_DIR]:
            data = _read_bytes(index, _join(directory, name))
            if isinstance(data, bytes) and _is_revision_file(data):
                folders.append(directory)
                break
    return folders


def _is_revision_file(data: bytes) -> bool:
    return bool(_BINDS_REVISION.search(data) and _BINDS_DOWN_REVISION.search(data))


def _with_revision_folders(
    index: _Index, visible: Mapping[str, list[str]], envs: list[Environment]
) -> list[Environment]:
    """Every folder of revision files checked somewhere.

    A folder below an environment's version location (neutron's `versions/<release>/expand`,
    listed by neutron-db-manage in code) joins that environment, as recursive_version_locations
    would have it; any other (Flask-Alembic's `migrations/`, no env.py, no config) becomes an
    environment of its own with its sub-folders, with an `unconfigured-environment` warning.
    """
    folders = [f for f in _revision_folders(index, visible) if not _covered(f, envs)]
    if not folders:
        return envs
    result = []
    for env in envs:
        below = [f for f in folders if _below_any(f, env.version_locations)]
        if below and not env.recursive_version_locations:
            env = replace(
                env,
                version_locations=(*env.version_locations, *below),
                problems=(*env.problems, _sub_folders_warning(env, below)),
            )
        folders = [f for f in folders if f not in below]
        result.append(env)
    tops = [f for f in folders if not any(_below(f, other) for other in folders)]
    for top in tops:
        env = _environment(index, _Sources(None, _ALEMBIC_SECTION, None), top, top)
        env = replace(env, version_locations=(top,), recursive_version_locations=True)
        result.append(replace(env, problems=(_revision_folder_warning(top), *env.problems)))
    return result


def _covered(folder: str, envs: list[Environment]) -> bool:
    """Already listed: a version location itself, or below a recursive one."""
    return any(
        folder in env.version_locations
        or (env.recursive_version_locations and _below_any(folder, env.version_locations))
        for env in envs
    )


def _below(path: str, directory: str) -> bool:
    return directory == "." or path.startswith(directory + "/")


def _below_any(path: str, directories: tuple[str, ...]) -> bool:
    return any(_below(path, directory) for directory in directories)


def _sub_folders_warning(env: Environment, folders: list[str]) -> Problem:
    shown = ", ".join(folders[:3]) + (f" and {len(folders) - 3} more" if len(folders) > 3 else "")
    return Problem.of(
        "unconfigured-environment",
        f"{len(folders)} folder(s) below the version locations of {env.name} ({shown}) hold "
        "revision files that "
        "Alembic's own CLI does not list with this configuration (neither version_locations nor "
        "recursive_version_locations names them); checking them as part of this environment, as "
        "a tool that sets version_locations in code (neutron-db-manage) does. Name them under "
        f"environments in {BOT_CONFIG_PATH} (version_locations) to make this explicit.",
        env.config_path or env.script_location,
    )


def _revision_folder_warning(path: str) -> Problem:
    return Problem.of(
        "unconfigured-environment",
        f"{path} holds Alembic revision files but no env.py, and no config names it (a layout "
        "set up in code, like Flask-Alembic's); checking it, with its sub-folders, as one "
        f"environment with default settings. Name it under environments in {BOT_CONFIG_PATH} "
        "(script_location, version_locations) to make this explicit.",
        path,
    )
