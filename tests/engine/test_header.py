"""`engine.header`: reading a revision file from its header gives the full parse's record, or
declines.

The differential test runs both readings over every revision-like text in the tests and over
generated files that put hostile shapes after (and in) the header. Set HEADER_DIFF_FILES for
more generated files than the suite's few hundred; `benchmarks/header_diff.py` runs thousands,
and every .py file under the directories it is given.
"""

from __future__ import annotations

import ast
import os
import random
import textwrap
from pathlib import Path

import pytest
from alembic_heads_bot.engine import header as header_module
from alembic_heads_bot.engine.header import read_revision_header, sound_header
from alembic_heads_bot.engine.model import ParsedFile
from alembic_heads_bot.engine.parse import parse_revision_file
from alembic_heads_bot.engine.pipeline import Options, judge_alone
from alembic_heads_bot.engine.scan import ParseCache, scan_tree
from memtree import MemoryTree

TESTS = Path(__file__).parents[1]
PATH = "migrations/versions/ae1027a6acf_add_column.py"
# Both ways of reading a header, each checked on its own.
READERS = (header_module._read_lines, header_module._read_parsed)


def same_reading(fast: ParsedFile, full: ParsedFile) -> bool:
    lines = (fast.revision.lines if fast.revision else None) == (
        full.revision.lines if full.revision else None
    )
    return fast == full and lines  # `lines` is left out of Revision's equality


def check(data: bytes, path: str = PATH) -> str:
    """Assert that every header reading of `data` equals the full parse; say which was used."""
    full = parse_revision_file(data, path)
    header = sound_header(data, path)
    if header is None:
        return "declined"
    used = "declined"
    for reader in READERS:
        fast = reader(header, path)
        if fast is None:
            continue
        used = used if used != "declined" else reader.__name__
        if any(p.code == "syntax-error" for p in full.problems):
            # Only the rest of the file may fail to parse: the header reading cannot see it,
            # which is why the files a change touches are always parsed whole (scan.py).
            error_line = next(p.line for p in full.problems if p.code == "syntax-error")
            assert error_line is None or error_line > header.count(b"\n"), (data, full)
            continue
        assert same_reading(fast, full), (reader.__name__, data, fast, full)
    assert (read_revision_header(data, path) is None) == (used == "declined")
    return used


# --- every revision-like text the tests hold -------------------------------------------------


def texts_in_tests() -> list[bytes]:
    """Each string constant in the tests that binds `revision` or `down_revision`."""
    found = []
    for source in sorted(TESTS.rglob("*.py")):
        if "node_modules" in source.parts:
            continue
        tree = ast.parse(source.read_bytes())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
                value = node.value if isinstance(node.value, bytes) else node.value.encode()
                if b"revision" in value and b"=" in value:
                    found.append(value)
                    found.append(textwrap.dedent(value.decode("utf-8", "replace")).encode())
    for fixture in sorted((TESTS / "support" / "fixtures").rglob("*.tmpl")):
        found.append(fixture.read_bytes())
    return found


def test_every_revision_text_in_the_tests_reads_the_same():
    texts = texts_in_tests()
    used = [check(text) for text in texts]
    assert len(texts) > 200
    assert used.count("_read_lines") > 20  # the fast grammar is exercised, not always declined


# --- generated files: hostile shapes after, in and around the header -------------------------

DOCSTRINGS = (
    '"""add a column\n\nRevision ID: abc\nRevises: def\n"""\n',
    '"""docstring holding code\n\ndef upgrade():\n    revision = "x"\n"""\n',
    '"""a "quoted" word and a \\\\ backslash"""\n',
    "'''single quotes'''\n",
    '# a comment first\n"""doc"""\n',
    '"""  \n\n  only blank paragraphs\n"""\n',
    "",
    '"""doc""" + "more"\n',
    '"""doc"""; x = 1\n',
    '"""first"""\n"""second"""\n',
)
PREAMBLES = (
    "",
    "# -*- coding: utf-8 -*-\n",
    "# -*- coding: latin-1 -*-\n",
    "# coding: utf-7\n",
    "# coding: no-such-codec\n",
    "from __future__ import annotations\n",
    "from __future__ import braces\n",
    "from __future__ import not_a_feature\n",
)
IMPORTS = (
    "from alembic import op\nimport sqlalchemy as sa\n",
    "from typing import Sequence, Union\n",
    "from __future__ import annotations\n",
    "import revision\n",
    "from settings import depends_on\n",
    "from settings import branch_labels as labels\n",
    "import revision.sub as other\n",
    "from x import *\n",
    "from os import *\n",
    "import importlib\n",
    "from . import models\n",
    "from .. import models as m, helpers\n",
    "import if\n",
    "from x import (a,\n    b)\n",
    "from x import y as as\n",
    "import a.b.c\n",
)
VALUES = (
    "None", "'abc'", '"abc"', "''", "('a', 'b')", "['a', 'b']", "('a',)", "('a')", "()", "[]",
    "('a', 'b',)", "[ 'a' , ]", "123", "b'x'", "u'abc'", "r'abc'", "'a' 'b'", "f'{x}'",
    "'a-b'", "'a@b'", "('a', 1)", "make()", "other", "'\\x41'", "('', 'a')", "{'a'}",
    "'''abc'''", "('a'\n)",
)  # fmt: skip
ANNOTATIONS = (
    "", ": str", ": Union[str, None]", ": Union[str, Sequence[str], None]", ": str | None",
    ": tuple[str, ...] | None", ": (a, b)", ": a, b", ": 'str'", ": list[str][0]",
    ": globals()", ": f(x)", ": lambda: 1", ": [str]", ": None", ": x.y.z",
    ": (revision := 'q')", ": if", ":",
)  # fmt: skip
NAMES = ("revision", "down_revision", "branch_labels", "depends_on")
OTHER_ASSIGNMENTS = (
    "revid = 'x'\n", "down_rev = 'x'\n", "depend_on = None\n", "table = 'users'\n",
    "None = 1\n", "x = revision = 'chained'\n", "revision, down_revision = 'a', 'b'\n",
    "__getattr__ = None\n", "branch_label = 'x'\n", "Revision = 'x'\n",
)  # fmt: skip
HEADER_STATEMENTS = (
    "if True:\n    revision = 'in_if'\n",
    "try:\n    import revision\nexcept ImportError:\n    pass\n",
    "def helper():\n    global revision\n    revision = 'g'\n",
    "class Meta:\n    revision = 'class_attr'\n",
    "x: int\n",
    "del revision\n",
    "revision += 'x'\n",
    "for depends_on in ():\n    pass\n",
    "return\n",
    "yield 1\n",
    "    indented = 1\n",
    "revision = 'a'\\\n",
    "\x0crevision = 'formfeed'\n",
    "(revision) = 'parens'\n",
)
RESTS = (
    "\n\ndef upgrade():\n    op.add_column('t', sa.Column('c', sa.Integer()))\n",
    "\n\nasync def upgrade():\n    pass\n",
    "\n\ndef upgrade():\n    pass\n\n\nrevision = 'rebound'\n",
    "\n\ndef upgrade():\n    pass\n\n\ndown_revision = None\n",
    "\n\n@(lambda f: globals().update(revision='decorated') or f)\ndef upgrade():\n    pass\n",
    "\n\n@decorate\ndef upgrade():\n    pass\n",
    "\n\ndef upgrade():\n    pass\n\n\nif True:\n    depends_on = 'late'\n",
    "\n\ndef upgrade():\n    pass\n\n\nif x:\n    pass\n",
    "\n\ndef upgrade(x=(y := 1)):\n    pass\n",
    "\n\nclass Model:\n    table = 'users'\n    revid = 'x'\n",
    "\n\nclass Model:\n    revision = 'class attribute'\n",
    "\n\ndef upgrade():\n    global revision\n    revision = 'later'\n",
    "\n\ndef upgrade():\n    global branch_labels\n",
    "\n\ndef __getattr__(name):\n    return 'x'\n",
    "\n\ndef upgrade():\n    op.execute('''\nUPDATE t SET revision = 1\n''')\n",
    "\n\ndef upgrade():\n    op.execute('''\nUPDATE t SET c = 1\n''')\n",
    "\n\ndef upgrade():\n    '''A docstring.\ndef at column 0 inside a string\n'''\n",
    "\n\ndef upgrade():\n    pass\n\n\nrevid = 'misspelt at module level'\n",
    "\n\ndef upgrade():\n    pass\n\n\nreturn\n",
    "\n\ndef upgrade():\n    pass\n\n\nfrom __future__ import annotations\n",
    "\n\ndef upgrade():\n    pass\n\n\nfrom x import *\n",
    "\n\ndef upgrade(\n) -> None:\n    pass\n",
    "\n\ndef upgrade() -> None:\n    x = [\n1, 2]\n",
    "\n\ndef upgrade():\n    exec('revision = 1')\n",
    "\n\ndef upgrade():\n    pass\n\n\nupgrade()\n",
    "\n\ndef upgrade():\n    pass\n\n\n\x0cx = 1\n",
    "\n\ndef upgrade():\n    pass\n\n\nfor depends_on in ['a']:\n    pass\n",
    "\n\ndef upgrade():\n    pass\n\n\ndel revision\n",
    "\n\ndef upgrade():\n    pass\n\n\nimport revision\n",
    "\n\ndef upgrade(:\n    pass\n",  # a syntax error after the header
    "\n\ndefinitely = 'not a def'\n",
    "\n\nclassy = 'not a class'\n",
    "\n\n@\n",
    "",
    "\n\ndef upgrade(): pass; revision = 'semicolon'\n",
    "\n\ndef upgrade():\n\tpass\n",
    "\n\ndef upgrade():\n    return 'caf\u00e9'\n",
    # Inert rests (plain functions, never run at import) with dynamic code in their bodies,
    # and what stops a rest from being inert: a name the header uses, a dunder, parameters.
    "\n\ndef upgrade() -> None:\n    globals()['depends' + '_on'] = 'x'\n",
    "\n\ndef upgrade():\n    if (y := 1):\n        exec(y)\n\n\ndef downgrade():  # c\n    pass\n",
    "\n\ndef Union():\n    globals().update({'down_' + 'revision': None})\n",
    "\n\ndef str() -> None:\n    globals()['branch_' + 'labels'] = 'x'\n",
    "\n\ndef op():\n    vars()\n",
    "\n\ndef __getattr__():\n    return globals()\n",
    "\n\ndef upgrade(x=exec('rev' + 'ision = 1')):\n    pass\n",
    "\n\ndef upgrade() -> exec('rev' + 'ision = 1'):\n    pass\n",
    "\n\ndef upgrade(): globals()\n",
    "\n\ndef upgrade():\n    pass\n\n\nclass X:\n    exec('x')\n",
    "\n\ndef upgrade():\n    pass\n\n\nasync def downgrade():\n    vars()\n",
)


def pick(rng: random.Random, choices: tuple[str, ...], usual: int = 1) -> str:
    """One of `choices`: as often one of the `usual` first ones as any other."""
    return rng.choice(choices[:usual] if rng.random() < 0.5 else choices)


def assignment(rng: random.Random) -> str:
    name = rng.choice(NAMES)
    return f"{name}{pick(rng, ANNOTATIONS, 6)} = {pick(rng, VALUES, 11)}\n"


def generated_file(rng: random.Random) -> bytes:
    parts = [rng.choice(PREAMBLES) if rng.random() < 0.3 else ""]
    parts.append(pick(rng, DOCSTRINGS, 1) if rng.random() < 0.9 else "")
    parts.extend(pick(rng, IMPORTS, 3) for _ in range(rng.randint(0, 3)))
    body = [f"revision = '{rng.getrandbits(48):012x}'\n", "down_revision = 'cafe00000001'\n"]
    body += [assignment(rng) for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.3:
        body.append(rng.choice(OTHER_ASSIGNMENTS))
    if rng.random() < 0.2:
        body.append(rng.choice(HEADER_STATEMENTS))
    rng.shuffle(body)
    parts += body
    parts.append(pick(rng, RESTS, 2))
    text = "".join(parts)
    if rng.random() < 0.05:
        text = text.replace("\n", "\r\n")
    if rng.random() < 0.05:
        text = text.rstrip("\n")
    return text.encode("utf-8")


def generated_files(count: int, seed: int = 18) -> list[bytes]:
    rng = random.Random(seed)
    return [generated_file(rng) for _ in range(count)]


def test_generated_files_read_the_same_or_are_declined():
    count = int(os.environ.get("HEADER_DIFF_FILES", "400"))
    used = [check(data) for data in generated_files(count)]
    # Both readers are exercised, and hostile shapes are declined.
    assert used.count("_read_lines") > count // 20
    assert used.count("_read_parsed") > count // 20
    assert used.count("declined") > count // 4


# --- each hostile shape on its own: declined, or read as the full parse reads it -------------

BASE = b'"""doc"""\nrevision = "aaa"\ndown_revision = None\n'


@pytest.mark.parametrize("rest", RESTS)
def test_each_shape_after_the_header(rest):
    check(BASE + rest.encode())


@pytest.mark.parametrize(
    "rest",
    [
        "\n\ndef upgrade():\n    pass\n\n\nrevision = 'rebound'\n",
        "\n\n@(lambda f: globals().update(revision='x') or f)\ndef upgrade():\n    pass\n",
        "\n\ndef upgrade():\n    pass\n\n\nif True:\n    depends_on = 'late'\n",
        "\n\ndef upgrade(x=(y := 1)):\n    pass\n",
        "\n\ndef upgrade():\n    global revision\n    revision = 'later'\n",
        "\n\ndef __getattr__(name):\n    return 'x'\n",
        "\n\ndef upgrade():\n    pass\n\n\nrevid = 'misspelt'\n",
        "\n\ndef upgrade():\n    pass\n\n\nfrom x import *\n",
    ],
)
def test_what_may_bind_after_the_header_sends_the_file_to_the_full_parse(rest):
    assert sound_header(BASE + rest.encode(), PATH) is None


@pytest.mark.parametrize(
    ("rest", "used"),
    [
        ("\n\ndef upgrade() -> None:\n    getattr(op, 'x')()\n", "_read_lines"),
        ("\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    exec('x')\n", "_read_lines"),
        ("\n\ndef upgrade(x=1):\n    exec('x')\n", "declined"),
        ("\n\ndef op():\n    exec('x')\n", "declined"),
        ("\n\n@op\ndef upgrade():\n    exec('x')\n", "declined"),
    ],
)
def test_dynamic_code_in_functions_that_never_run_at_import_is_read_from_the_header(rest, used):
    """A rest of plain functions runs nothing when the file is imported: what their bodies do
    cannot bind the four names, so only the header is searched for dynamic code."""
    header = b'"""doc"""\nfrom alembic import op\nrevision = "aaa"\ndown_revision = None\n'
    assert check(header + rest.encode()) == used


def test_a_docstring_with_def_at_column_0_goes_to_the_full_parse():
    """The cut lands inside the docstring, so the header is not Python: the file is parsed
    whole, and reads as it should."""
    data = (
        b'"""doc\ndef upgrade():\n"""\nrevision = "aaa"\ndown_revision = None\n\n\ndef f(): pass\n'
    )
    assert check(data) == "declined"
    tree = MemoryTree({"alembic.ini": "[alembic]\nscript_location = m\n", "m/versions/a.py": data})
    (env,) = scan_tree(tree, cache=ParseCache()).environments
    (parsed,) = env.files
    assert parsed.revision is not None
    assert (parsed.revision.revision, parsed.revision.doc) == ("aaa", "doc\ndef upgrade():")


def test_a_scan_reads_changed_files_whole_and_reports_their_syntax_errors():
    """The one thing a header reading cannot see, a syntax error in a function, is still found
    in the files a change adds or edits."""
    broken = BASE + b"\n\ndef upgrade(:\n    pass\n"
    tree = MemoryTree(
        {"alembic.ini": b"[alembic]\nscript_location = m\n", "m/versions/a.py": broken}
    )
    base = MemoryTree({"alembic.ini": b"[alembic]\nscript_location = m\n"})
    unchanged = scan_tree(tree, cache=ParseCache())
    changed = scan_tree(tree, cache=ParseCache(), changed_from=base)
    assert [p.code for p in unchanged.all_problems()] == []
    assert [(p.code, p.line) for p in changed.all_problems()] == [("syntax-error", 6)]


def test_a_tree_judged_alone_reports_a_syntax_error_in_any_revision_file():
    """With no base to vouch for a file (a check without a base, a nightly run on main), every
    revision file is read whole, so a function Alembic could not load fails the verdict; a
    caller that only reads the heads keeps the header reading."""
    broken = BASE + b"\n\ndef upgrade(:\n    pass\n"
    tree = MemoryTree(
        {"alembic.ini": b"[alembic]\nscript_location = m\n", "m/versions/a.py": broken}
    )
    judged = judge_alone(tree, Options())
    [env] = judged.environments
    assert judged.failed_rules == ("problems",)
    assert [(p.problem.code, p.problem.line) for p in env.problems] == [("syntax-error", 6)]
    assert judge_alone(tree, Options(), heads_only=True).failed_rules == ()
