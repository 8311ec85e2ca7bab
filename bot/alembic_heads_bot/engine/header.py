"""Revision file bytes -> the record `parse.parse_revision_file` gives, read from the module
header alone (everything before the first top-level `def`, `class` or decorator), or None.

Alembic reads four module attributes, which real files bind in the header; the functions after
it are most of the bytes, and parsing them is most of a scan's time. This reading is used only
when it provably equals the full parse's (apart from the syntax of the functions, which the
files a change adds or edits still get, see `scan.py`). None means "not shown": the caller then
parses the whole file. Shown when all of these hold:

- the bytes are ASCII, in a codec that keeps ASCII, with no NUL, no carriage return and no
  more than `parse.MAX_FILE_BYTES`: the text is the bytes and lines are split on `\\n` alone;
- nothing in the file can reach module globals by means the reader does not follow, and no
  `:=` (`parse._may_be_dynamic`, the test the full parse uses to skip its walk);
- after the header, the text holds none of the four names (nor `__future__`), and every line
  that starts at column 0 starts a `def`, `class`, `async def` or decorator, or is blank, a
  comment or a closing bracket: so the rest's top-level statements are definitions, whose
  names, decorators, defaults and annotations bind none of the four names;
- the header is read by a strict line grammar (docstring, imports, assignments of literals),
  or else parsed by Python and read by the full parse's own reader.

Why the cut is sound: a header that Python parses ends at a statement boundary. Were the cut
inside a string, a bracket or after a backslash, the header would end inside that construct,
which Python refuses; then the whole file is parsed.
"""

from __future__ import annotations
import __future__  # all_feature_names: what `from __future__ import X` may name

import ast
import codecs
import keyword
import re
import warnings
from typing import NamedTuple, TypeAlias

from alembic_heads_bot.engine.model import ParsedFile, Problem, Revision
from alembic_heads_bot.engine.parse import (
    _ILLEGAL_ID_CHARS,
    _TRACKED,
    ATTRIBUTES,
    MAX_FILE_BYTES,
    _Binding,
    _docstring,
    _may_be_dynamic,
    _Reader,
    source_encoding,
)

# The first line at column 0 that starts a definition or a decorator (after a newline: a
# pattern that starts with a literal is searched for at C speed).
_DEFINITION = rb"(?:def[ \t]|class[ \t]|async[ \t]+def[ \t]|@)"
_CUT = re.compile(rb"\n%s" % _DEFINITION)
_STARTS_DEFINED = re.compile(_DEFINITION)
# A line of the rest at column 0 that may start any other top-level statement.
_OTHER_TOP_LEVEL = re.compile(rb"\n(?![ \t\n#)\]}@]|def[ \t]|class[ \t]|async[ \t]+def[ \t]|\Z)")
_REST_WORDS = (b"revision", b"branch_labels", b"depends_on", b"__future__")
# A definition at column 0 that may run code at import: a class, a decorator, an `async def`
# or a `def` whose line is other than `def name():` or `def name() -> None:` (and a comment).
_NOT_PLAIN_DEFINITION = re.compile(
    rb"\n(?:class|async|@|def(?![ \t]+[A-Za-z_][A-Za-z0-9_]*\(\)[ \t]*(?:->[ \t]*None[ \t]*)?:"
    rb"[ \t]*(?:#[^\n]*)?\n))"
)
_DEFINED = re.compile(rb"\ndef[ \t]+([A-Za-z_][A-Za-z0-9_]*)")
_ASCII_CODECS = frozenset({"iso8859-1", "ascii", "cp1252"})


def read_revision_header(data: bytes, path: str) -> ParsedFile | None:
    """The full parse's record for `data`, read from its header; None when not shown equal."""
    header = sound_header(data, path)
    if header is None:
        return None
    return _read_lines(header, path) or _read_parsed(header, path)


def sound_header(data: bytes, path: str) -> bytes | None:
    """The header of `data` when reading it alone reads the whole file (see above), else None.

    Its reading may still fail (it is not Python, or the grammar does not cover it)."""
    if (
        len(data) > MAX_FILE_BYTES
        or b"\0" in data
        or b"\r" in data
        or not data.isascii()
        or (b"coding" in data and not _keeps_ascii(data, path))
    ):
        return None
    end = _header_end(data)
    header = data[:end]
    if end < len(data):
        if any(data.find(word, end) >= 0 for word in _REST_WORDS):
            return None
        if _OTHER_TOP_LEVEL.search(data, max(end - 1, 0)):
            return None
    # Code that never runs at import cannot reach module globals: of an inert rest, only the
    # header is asked (most of the bytes are function bodies).
    if _may_be_dynamic(header if _inert(header, data, end) else data):
        return None
    return header


def _inert(header: bytes, data: bytes, end: int) -> bool:
    """Whether the rest of the file (a run of top-level definitions, see above) runs nothing at
    import and leads the full parse to walk none of it: each definition is a plain function
    with no decorator, parameter or annotation but `-> None`, whose name the header does not
    spell (`parse._ImportTimeCode` walks a function used by name in code that runs) and that
    is no dunder (`__getattr__` runs on Alembic's reads)."""
    if end == 0 or _NOT_PLAIN_DEFINITION.search(data, end - 1):
        return False  # (a file that starts with a definition has no newline before it)
    return not any(
        name.startswith(b"__") or name in header for name in _DEFINED.findall(data, end - 1)
    )


def _header_end(data: bytes) -> int:
    if _STARTS_DEFINED.match(data):
        return 0
    cut = _CUT.search(data)
    return cut.start() + 1 if cut else len(data)


def _keeps_ascii(data: bytes, path: str) -> bool:
    encoding = source_encoding(data, path)
    if isinstance(encoding, Problem):
        return False  # the full parse reports it
    return encoding.codec is None or codecs.lookup(encoding.codec).name in _ASCII_CODECS


def _read_parsed(header: bytes, path: str) -> ParsedFile | None:
    """The header parsed by Python and read by the full parse's reader (no dynamic walk: the
    file holds nothing it would find)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = ast.parse(header, filename=path)
        reader = _Reader(path, find_globals=b"global" in header, find_dynamic=False)
        reader.read(module)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # the full parse says what is wrong, and where
    return reader.result(_docstring(module))


# --- the line grammar: what real headers hold ------------------------------------------------

_NAME = rb"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = rb"%s(?:\.%s)*" % (_NAME, _NAME)
_END = rb"[ \t]*(?:#[^\n]*)?\n"
_COMMA = rb"[ \t]*,[ \t]*"
_STRING = rb"(?:'[^'\\\n]*'|\"[^\"\\\n]*\")"
_ITEMS = rb"%s(?:%s%s)*" % (_STRING, _COMMA, _STRING)
_VALUE = rb"|".join(
    (
        rb"None",
        _STRING,
        rb"\(\)",
        rb"\[\]",
        rb"\([ \t]*%s[ \t]*,[ \t]*\)" % _STRING,  # a one-item tuple needs its comma
        rb"\([ \t]*%s%s%s(?:[ \t]*,)?[ \t]*\)" % (_STRING, _COMMA, _ITEMS),
        rb"\[[ \t]*%s(?:[ \t]*,)?[ \t]*\]" % _ITEMS,
    )
)
_GAP = rb"(?:[ \t]*(?:#[^\n]*)?\n)*"  # blank lines and comments
_DOCSTRING = re.compile(rb'%s"""([^"\\]*)"""%s' % (_GAP, _END))
# One line of a header after its docstring (without its newline).
_LINE = re.compile(
    rb"(?P<target>%s)[ \t]*(?::(?P<annotation>[^=\n#]*))?=[ \t]*(?P<value>%s)%s"
    rb"|(?P<import>(?:import|from)[ \t][^\n#]*?)%s|%s"
    % (_NAME, _VALUE, _END[:-2], _END[:-2], _END[:-2])
)
_ALIASES = rb"%s(?:[ \t]+as[ \t]+%s)?(?:%s%s(?:[ \t]+as[ \t]+%s)?)*"
_IMPORT = re.compile(
    rb"import[ \t]+(?P<modules>%s)|from[ \t]+(?P<module>\.*%s|\.+)[ \t]+import[ \t]+(?P<names>%s)"
    % (
        _ALIASES % (_DOTTED, _NAME, _COMMA, _DOTTED, _NAME),
        _DOTTED,
        _ALIASES % (_NAME, _NAME, _COMMA, _NAME, _NAME),
    )
)
_STRINGS = re.compile(rb"'([^'\\\n]*)'|\"([^\"\\\n]*)\"")
_INTERESTING = _TRACKED | {"__getattr__"}
_FUTURE_OK = frozenset(__future__.all_feature_names)

_Literal: TypeAlias = "str | tuple[str, ...] | None"


class _Line(NamedTuple):
    """What a header line does: "skip" (blank or comment), "future" (a valid future import),
    "import" (an import binding none of the interesting names), "bind" (a literal assigned to
    one of the four) or "other" (a literal assigned to another name)."""

    what: str
    name: str = ""
    value: _Literal = None


# By text, remembered across files (most lines of a project's headers are the same); None for
# a line of another kind, left to Python's parser.
_Kind: TypeAlias = "_Line | None"
_KINDS: dict[bytes, _Kind] = {}
_UNKNOWN = _Line("unknown")  # not in _KINDS (whose values may be None)


def _read_lines(header: bytes, path: str) -> ParsedFile | None:
    """The header read line by line when each line is of the grammar above, else None."""
    doc, start = "", 0
    docstring = _DOCSTRING.match(header)
    if docstring is not None:
        doc = docstring[1].decode().strip().split("\n\n", 1)[0]  # as parse._docstring
        start = docstring.end()
    lines = header[start:].split(b"\n")
    if lines.pop():
        return None  # no newline at the end of the file: Python reads it
    values: dict[str, _Literal] = {}  # the last binding of each of the four, and its line
    numbers: dict[str, int] = {}
    others: list[tuple[str, int]] = []  # other names assigned: `_Reader.near_misses`
    preamble_done = False
    for number, text in enumerate(lines, header.count(b"\n", 0, start) + 1):
        kind = _KINDS.get(text, _UNKNOWN)
        if kind is _UNKNOWN:
            kind = _remember(text)
        if kind is None:
            return None
        what = kind.what
        if what == "skip":
            continue
        if what == "future":
            if preamble_done:
                return None  # a late future import is a compiler error: the full parse says so
            continue
        preamble_done = True
        if what == "bind":
            values[kind.name] = kind.value
            numbers[kind.name] = number
        elif what == "other":
            others.append((kind.name, number))
    quick = None if others else _quick_result(values, numbers, path, doc)
    if quick is not None:
        return quick
    reader = _Reader(path, find_globals=False, find_dynamic=False)
    reader.bindings = {name: _Binding(numbers[name], value) for name, value in values.items()}
    reader.near_misses = others
    return reader.result(doc)


def _remember(text: bytes) -> _Kind:
    kind = _kind(text)
    if kind is not None and kind.what == "bind" and kind.value is not None:
        return kind  # a revision id: this file's own
    if len(_KINDS) >= 8192:
        _KINDS.clear()
    _KINDS[text] = kind
    return kind


def _kind(text: bytes) -> _Kind:
    match = _LINE.fullmatch(text)
    if match is None:
        return None
    if match["import"] is not None:
        return _import_kind(match["import"])
    if match["target"] is None:
        return _Line("skip")
    name = match["target"].decode()
    annotation = match["annotation"]
    if keyword.iskeyword(name) or (annotation is not None and not _plain_annotation(annotation)):
        return None
    if name in _TRACKED:
        return _Line("bind", name, _value(match["value"]))
    if name == "__getattr__":  # a dunder: `_may_be_dynamic` sends such files to the full parse
        return None
    return _Line("other", name)


def _quick_result(
    values: dict[str, _Literal], numbers: dict[str, int], path: str, doc: str
) -> ParsedFile | None:
    """`_Reader.result` for the usual file (four literals, nothing to report), built directly;
    None for any other."""
    revision = values.get("revision")
    if (
        not isinstance(revision, str)
        or not revision
        or "down_revision" not in values
        or not _ILLEGAL_ID_CHARS.isdisjoint(revision)
    ):
        return None
    down_revision, branch_labels, depends_on = (
        _as_tuple(values.get(name)) for name in ATTRIBUTES[1:]
    )
    if "" in down_revision or "" in branch_labels or "" in depends_on:
        return None  # reported as empty-revision
    record = Revision(
        revision, down_revision, branch_labels, depends_on, path, numbers, doc, complete=True
    )
    return ParsedFile(path, record, ())


def _as_tuple(value: _Literal) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else (value or ())


def _import_kind(text: bytes) -> _Kind:
    match = _IMPORT.fullmatch(text)
    if match is None:
        return None
    module = match["module"]
    aliases = _aliases(match["modules"] if module is None else match["names"])
    if aliases is None or (module is not None and not _names_ok(module.split(b"."))):
        return None
    if module == b"__future__":
        return _Line("future") if _FUTURE_OK.issuperset(name for name, _ in aliases) else None
    # `_Reader._import`: the name bound, or the top package of a plain `import a.b`.
    bound = ((asname or name).partition(".")[0] for name, asname in aliases)
    return _Line("import") if _INTERESTING.isdisjoint(bound) else None


def _aliases(text: bytes) -> list[tuple[str, str | None]] | None:
    """(name, as-name) of each imported name; None when one is a keyword (a syntax error)."""
    aliases = []
    for item in text.split(b","):
        words = item.split()
        name, bound = words[0], (words[2] if len(words) == 3 else None)
        if not _names_ok([*name.split(b"."), *([bound] if bound else [])]):
            return None
        aliases.append((name.decode(), bound.decode() if bound else None))
    return aliases


def _names_ok(names: list[bytes]) -> bool:
    return not any(keyword.iskeyword(name.decode()) for name in names if name)


def _value(text: bytes) -> _Literal:
    if text == b"None":
        return None
    if text[:1] in (b"'", b'"'):  # one string, with no quote or backslash inside (`_STRING`)
        return text[1:-1].decode()
    found: list[tuple[bytes, bytes]] = _STRINGS.findall(text)
    items = tuple((a or b).decode() for a, b in found)  # one group is empty
    if text[:1] in b"([":
        return items
    return items[0]


_ANNOTATIONS: dict[bytes, bool] = {}
_ANNOTATION_NODES = (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Load, ast.BitOr)


def _plain_annotation(text: bytes) -> bool:
    """Whether `text` is a type annotation of names, attributes, subscripts, `|` and constants
    (so it binds nothing and is valid syntax); asked of Python once per spelling."""
    known = _ANNOTATIONS.get(text)
    if known is None:
        known = _ANNOTATIONS[text] = _check_annotation(text.strip())
        if len(_ANNOTATIONS) > 4096:
            _ANNOTATIONS.clear()
    return known


def _check_annotation(text: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    if isinstance(tree.body, ast.Tuple):
        return False  # `x: a, b = 1` is not an annotation
    for node in ast.walk(tree.body):
        if isinstance(node, ast.Tuple):
            continue  # inside a subscript: `Union[str, None]`
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            continue
        if not isinstance(node, _ANNOTATION_NODES):
            return False
    return True
