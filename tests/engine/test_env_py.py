"""`engine.env_py`: the version table env.py configures, read statically and checked against
Alembic.

Real Alembic runs only on env.py files these tests write themselves (the oracle at the end).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from functools import partial
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic_heads_bot.engine.env_py import (
    MAX_ENV_PY_BYTES,
    MAX_NAME_HOPS,
    VersionTableSetting,
    read_version_table,
)
from alembic_heads_bot.engine.model import Problem
from alembic_heads_bot.engine.parse import MAX_FILE_BYTES
from budget import cost_of
from hypothesis import given, settings
from hypothesis import strategies as st
from memtree import write_tree
from sqlalchemy import create_engine, inspect

PATH = "migrations/env.py"
HINT = "under `databases` in .github/alembic-heads.yml"


def read(
    source: str | bytes,
    options: Mapping[str, str] | None = None,
    toml: Mapping[str, str] | None = None,
) -> VersionTableSetting:
    data = textwrap.dedent(source).encode() if isinstance(source, str) else source
    return read_version_table(data, PATH, options or {}, toml)


def configured(arguments: str, prelude: str = "") -> str:
    """An env.py whose online function calls context.configure(connection=..., <arguments>)."""
    return (
        "from alembic import context\n"
        "config = context.config\n"
        f"{prelude}"
        "def run_migrations_online():\n"
        f"    context.configure(connection=None, {arguments})\n"
    )


def table_of(setting: VersionTableSetting) -> tuple[str, str | None]:
    return setting.table, setting.schema


def warning(setting: VersionTableSetting) -> Problem:
    """The single problem, which must be a config-warning naming env.py and the bot config."""
    assert len(setting.problems) == 1, setting.problems
    problem = setting.problems[0]
    assert (problem.code, problem.severity, problem.path) == ("config-warning", "warning", PATH)
    assert HINT in problem.message
    return problem


# --- values the reader understands -----------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("target_metadata=None", ("alembic_version", None)),
        ('version_table="custom_versions"', ("custom_versions", None)),
        ('version_table_schema="audit"', ("alembic_version", "audit")),
        ('version_table="v", version_table_schema=None', ("v", None)),
        ("version_table='it''s'", ("its", None)),
        ('**{"version_table": "from_dict_literal"}', ("from_dict_literal", None)),
    ],
)
def test_literals(arguments: str, expected: tuple[str, str | None]) -> None:
    setting = read(configured(arguments))
    assert table_of(setting) == expected
    assert setting.problems == ()


@pytest.mark.parametrize(
    ("arguments", "options", "expected"),
    [
        ('version_table=config.get_main_option("version_table")', {"version_table": "ini"}, "ini"),
        ('version_table=config.get_main_option("Version_Table")', {"version_table": "ini"}, "ini"),
        ('version_table=config.get_main_option("vt", "fallback")', {}, "fallback"),
        ('version_table=config.get_main_option("vt", default="fallback")', {}, "fallback"),
        ('version_table=config.get_main_option("vt", "fallback")', {"vt": "set"}, "set"),
        ('version_table=config.get_main_option("vt") or "fallback"', {}, "fallback"),
        ('version_table=context.config.get_main_option("vt")', {"vt": "chained"}, "chained"),
        (
            'version_table=config.get_section_option(config.config_ini_section, "vt")',
            {"vt": "section"},
            "section",
        ),
        (
            'version_table=config.get_section_option(config.config_ini_section, "vt", "d")',
            {},
            "d",
        ),
    ],
)
def test_main_options(arguments: str, options: dict[str, str], expected: str) -> None:
    setting = read(configured(arguments), options)
    assert table_of(setting) == (expected, None)
    assert setting.problems == ()


def test_missing_schema_option_is_no_schema() -> None:
    source = configured('version_table_schema=config.get_main_option("schema")')
    assert table_of(read(source)) == ("alembic_version", None)
    assert read(source).problems == ()


def test_get_alembic_option_prefers_the_ini_then_tool_alembic() -> None:
    source = configured('version_table=config.get_alembic_option("version_table")')
    toml = {"version_table": "from_toml"}
    assert read(source, {}, toml).table == "from_toml"
    assert read(source, {"version_table": "from_ini"}, toml).table == "from_ini"
    # get_main_option "does NOT consume from the pyproject.toml file" (Alembic's docstring)
    main = configured('version_table=config.get_main_option("version_table", "main_default")')
    assert read(main, {}, toml).table == "main_default"


def test_module_constants() -> None:
    prelude = (
        'VERSION_TABLE = "constant_versions"\n'
        "SCHEMA: str | None = None\n"
        'PREFIX = config.get_main_option("prefix", "p")\n'
    )
    setting = read(configured("version_table=VERSION_TABLE, version_table_schema=SCHEMA", prelude))
    assert table_of(setting) == ("constant_versions", None)
    assert setting.problems == ()
    chained = configured("version_table=TABLE", f"{prelude}TABLE = VERSION_TABLE\n")
    assert read(chained).table == "constant_versions"
    assert read(configured("version_table=PREFIX", prelude), {"prefix": "x"}).table == "x"


def test_alembic_spellings_of_configure() -> None:
    sources = [
        'import alembic\nalembic.context.configure(version_table="t")\n',
        'import alembic.context as ac\nac.configure(version_table="t")\n',
        'from alembic import context as ctx\nctx.configure(version_table="t")\n',
        'from alembic.context import configure\nconfigure(version_table="t")\n',
        'from alembic.context import configure as setup\nsetup(version_table="t")\n',
        'with EnvironmentContext(cfg, script) as env:\n    env.configure(version_table="t")\n',
    ]
    for source in sources:
        setting = read(source)
        assert (setting.table, setting.problems) == ("t", ()), source


def test_other_configure_calls_are_not_alembics() -> None:
    source = (
        "import structlog\nfrom sqlalchemy.orm import sessionmaker\n"
        "structlog.configure(processors=[])\nSession = sessionmaker()\nSession.configure(bind=1)\n"
        + configured('version_table="t"')
    )
    setting = read(source)
    assert (setting.table, setting.problems) == ("t", ())


@pytest.mark.parametrize("template", ["generic", "async", "multidb", "pyproject"])
def test_alembic_templates_configure_the_default_table(template: str) -> None:
    env_py = Path(command.__file__).parent / "templates" / template / "env.py"
    setting = read_version_table(env_py.read_bytes(), PATH, {"sqlalchemy.url": "sqlite://"})
    assert setting == VersionTableSetting("alembic_version", None, ())


def test_online_and_offline_calls_that_agree() -> None:
    source = """\
        from alembic import context
        TABLE = "shared_versions"

        def run_migrations_offline():
            context.configure(url="sqlite://", version_table=TABLE, literal_binds=True)

        def run_migrations_online():
            context.configure(connection=None, version_table="shared_versions")

        if context.is_offline_mode():
            run_migrations_offline()
        else:
            run_migrations_online()
        """
    setting = read(source)
    assert table_of(setting) == ("shared_versions", None)
    assert setting.problems == ()


def test_calls_that_disagree_use_the_first_and_name_both_lines() -> None:
    source = """\
        from alembic import context

        def run_migrations_offline():
            context.configure(url="sqlite://", version_table="offline_versions")

        def run_migrations_online():
            context.configure(
                connection=None,
                version_table="online_versions",
                version_table_schema="app",
            )
        """
    setting = read(source)
    assert table_of(setting) == ("offline_versions", None)
    problem = warning(setting)
    assert problem.line == 7
    assert "line 4 ('offline_versions') and line 7 ('app.online_versions')" in problem.message
    assert "uses the first" in problem.message


# --- values it cannot know: Alembic's default, and a warning with path and line --------------


@pytest.mark.parametrize(
    ("arguments", "prelude", "words"),
    [
        ('version_table=f"{PREFIX}_versions"', 'PREFIX = "app"\n', "is an f-string"),
        ('version_table=os.environ["TABLE"]', "import os\n", "is a subscript"),
        ('version_table=os.getenv("TABLE", "t")', "import os\n", "is a function call"),
        ("version_table=settings.VERSION_TABLE", "import settings\n", "is an attribute"),
        ('version_table="a" + "b"', "", "is an expression"),
        ("version_table=42", "", "`42` is not a string"),
        ("version_table=None", "", "`None` gives None, which Alembic cannot use as a table"),
        (
            'version_table=config.get_main_option("vt")',
            "",
            "gives None, which Alembic cannot use as a table name",
        ),
        ("version_table=UNDEFINED", "", "`UNDEFINED` is not a module-level constant"),
        ("version_table=TABLE", 'TABLE = "a"\nTABLE = "b"\n', "not a module-level constant"),
        ("version_table=TABLE", 'TABLE = "a"\nif x:\n    TABLE = "b"\n', "not a module-level"),
        (
            "version_table=TABLE",
            'TABLE = "a"\ndef rename():\n    global TABLE\n    TABLE = "b"\n',
            "not a module-level constant",
        ),
        ("version_table=TABLE", 'TABLE = "a"\nfrom settings import *\n', "not a module-level"),
        ("version_table=TABLE", "TABLE = f'{config}'\n", "`TABLE` holds a value that cannot"),
        (
            "version_table=config.get_main_option(KEY)",
            "KEY = compute()\n",
            "names its option with something other than a string",
        ),
        (
            'version_table=config.get_section_option("other", "vt")',
            "",
            "reads a section other than the environment's own",
        ),
        (
            'version_table=config.get_main_option("vt", os.getenv("X"))',
            "import os\n",
            "has a default that cannot be read",
        ),
        ("version_table=config.get_main_option(*args)", "", "has arguments that cannot be read"),
    ],
)
def test_unreadable_values_keep_the_default_and_warn(
    arguments: str, prelude: str, words: str
) -> None:
    source = configured(arguments, prelude)
    setting = read(source)
    assert table_of(setting) == ("alembic_version", None)
    problem = warning(setting)
    line = source.splitlines().index(f"    context.configure(connection=None, {arguments})") + 1
    assert problem.line == line
    assert problem.message.startswith(f"{PATH} line {line}: the version_table passed to")
    assert words in problem.message
    assert "assumes Alembic's default 'alembic_version'" in problem.message


def test_a_local_variable_is_not_the_module_constant() -> None:
    source = """\
        from alembic import context
        TABLE = "module_level"

        def run_migrations_online():
            TABLE = context.get_x_argument(as_dictionary=True).get("table", "x")
            context.configure(connection=None, version_table=TABLE)
        """
    problem = warning(read(source))
    assert "`TABLE` is a variable set inside run_migrations_online" in problem.message
    parameter = configured("version_table=table").replace("online()", "online(table)")
    assert "`table` is a variable set inside" in warning(read(parameter)).message


def test_unknown_schema_keeps_no_schema() -> None:
    setting = read(configured('version_table="t", version_table_schema=target_metadata.schema'))
    assert table_of(setting) == ("t", None)
    problem = warning(setting)
    assert "the version_table_schema passed to" in problem.message
    assert "assumes Alembic's default, no schema" in problem.message


def test_mapping_spread_is_one_warning_unless_the_keyword_is_explicit() -> None:
    # Flask-Migrate's env.py: context.configure(..., **current_app.extensions[...].configure_args)
    spread = read(configured("target_metadata=None, **conf_args"))
    assert table_of(spread) == ("alembic_version", None)
    problem = warning(spread)
    assert "the version_table and version_table_schema passed to" in problem.message
    assert "`**conf_args` is a mapping the bot cannot see into" in problem.message
    explicit = read(configured('version_table="t", version_table_schema=None, **conf_args'))
    assert (table_of(explicit), explicit.problems) == (("t", None), ())


def test_every_unreadable_call_warns_at_its_own_line() -> None:
    source = configured("version_table=f'{a}'") + "    context.configure(version_table=f'{a}')\n"
    setting = read(source)
    assert [problem.line for problem in setting.problems] == [4, 5]


def test_no_configure_call_in_a_module_that_runs_code() -> None:
    setting = read("from myapp.migrations import run\nrun()\n")
    assert table_of(setting) == ("alembic_version", None)
    problem = warning(setting)
    assert problem.message.startswith(f"{PATH} has no context.configure(...) call")


@pytest.mark.parametrize("source", ["", "# never run\n", '"""Not run."""\n', "pass\n"])
def test_an_env_py_that_runs_nothing_is_the_default_silently(source: str) -> None:
    assert read(source) == VersionTableSetting()


# --- files that cannot be read at all ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"from alembic import context\ncontext.configure(\n", 2, "Python cannot parse it"),
        (b"x = 1\n\xff = 2\n", 2, "Byte 0xff on line 2 is not UTF-8"),
        (b"x = 1\nimport\x00os\n", 2, "NUL byte"),
        (b"# coding: klingon\nx = 1\n", 1, "unknown encoding 'klingon'"),
        (b"def f(:\n", 1, "Python cannot parse it"),
        (b"print 'python 2'\n", 1, "Python cannot parse it"),
        (b"x = " + b"(" * 300 + b")" * 300 + b"\n", 1, "Python cannot parse it"),
    ],
)
def test_malformed_env_py_is_defaults_and_one_warning(data: bytes, line: int, words: str) -> None:
    setting = read(data)
    assert table_of(setting) == ("alembic_version", None)
    problem = warning(setting)
    assert problem.line == line
    assert problem.message.startswith(f"{PATH} line {line}: ")
    assert words in problem.message
    assert "assumes Alembic's default 'alembic_version' (no schema)" in problem.message


@pytest.mark.parametrize("size", [MAX_ENV_PY_BYTES + 1, MAX_FILE_BYTES + 1])
def test_huge_env_py_is_not_parsed(size: int) -> None:
    # env.py has its own limit, below the revision files': walking a multi-megabyte syntax tree
    # takes seconds (an `or` chain of 4 MB: 5.5 s).
    source = configured('version_table="t"').encode()
    assert read(source + b"#" * (MAX_ENV_PY_BYTES - len(source))).table == "t"
    setting = read(source + b"#" * (size - len(source)))
    assert table_of(setting) == ("alembic_version", None)
    assert f"it is {size:,} bytes, more than the {MAX_ENV_PY_BYTES:,} bytes parsed" in (
        warning(setting).message
    )


def chain(length: int) -> str:
    """X0 = X1, X1 = X2, ..., the last one "t": `length` names lead to the table."""
    names = "".join(f"X{i} = X{i + 1}\n" for i in range(length - 1))
    return names + f'X{length - 1} = "t"\n'


def test_a_constant_is_followed_through_a_bounded_number_of_names() -> None:
    assert read(configured("version_table=X0", chain(MAX_NAME_HOPS))).table == "t"
    # 5,000 names made the reader itself recurse too deeply, reported as unparseable
    setting = read(configured("version_table=X0", chain(5_000)))
    problem = warning(setting)
    assert problem.line == 5_000 + 4
    assert f"`X{MAX_NAME_HOPS}` is reached through more than {MAX_NAME_HOPS} names" in (
        problem.message
    )


def test_an_expression_too_deep_to_show_is_still_a_located_warning() -> None:
    # Python parses 1,000 attributes deep; ast.unparse recurses once per level and fails.
    setting = read(configured("version_table=" + "a." * 1_000 + "b"))
    problem = warning(setting)
    assert problem.line == 4
    assert "the version_table passed to context.configure() cannot be read" in problem.message
    assert "an attribute too deeply nested to show" in problem.message


def fill(size: int, unit: str, prefix: str, suffix: str = "") -> bytes:
    """`prefix`, `unit` repeated, `suffix`: up to `size` bytes."""
    room = size - len(prefix) - len(suffix)
    return (prefix + unit * (room // len(unit)) + suffix).encode()


IMPORT, CONFIGURE_X = "from alembic import context\n", "\ncontext.configure(version_table=x)\n"


@pytest.mark.parametrize(
    ("unit", "prefix", "suffix"),
    [
        ("None or ", IMPORT + "context.configure(version_table=", "1)"),
        ("x = 'a' + 'b'\n", IMPORT, ""),
        ("'a'+", "x = ", "'a'" + CONFIGURE_X),
        ("a.", "x = ", "b" + CONFIGURE_X),
    ],
    ids=["or-chain", "statements", "sum", "attributes"],
)
def test_an_env_py_costs_little_whatever_its_size(unit: str, prefix: str, suffix: str) -> None:
    # At the revision files' 4 MB limit these took 0.6 to 5.5 s and up to 450 MB.
    for size in (MAX_ENV_PY_BYTES, MAX_FILE_BYTES):
        setting, cost = cost_of(partial(read, fill(size, unit, prefix, suffix)))
        assert cost.seconds < 2.0, (size, cost)
        assert cost.peak_mb < 50, (size, cost)
        assert table_of(setting) == ("alembic_version", None)


_ENV_PY_PIECES = st.sampled_from(
    [
        "from alembic import context\n",
        "context.configure(version_table='t')\n",
        "context.configure(**{'version_table': X, **k})\n",
        "X = config.get_main_option(X, *a)\n",
        "def f(X):\n    global X\n    context.configure(version_table=X or None)\n",
        "lambda: context.configure(version_table=X)\n",
        "class C:\n    X = 1\n    context.configure(version_table_schema=X)\n",
        "match x:\n    case {**X}:\n        configure(version_table=X)\n",
        "from x import *\n",
        "(\n",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ENV_PY_PIECES, max_size=6), st.binary(max_size=40))
def test_never_raises(pieces: list[str], noise: bytes) -> None:
    for data in ("".join(pieces).encode(), noise, "".join(pieces).encode() + noise):
        setting = read(data)
        assert isinstance(setting.table, str)
        assert all(problem.code == "config-warning" for problem in setting.problems)


def test_source_encodings_are_decoded_like_python() -> None:
    latin = b"# -*- coding: latin-1 -*-\nfrom alembic import context\n"
    latin += b'context.configure(version_table="caf\xe9")\n'
    assert read(latin).table == "café"
    bom = b"\xef\xbb\xbf" + configured('version_table="bom"').encode()
    assert read(bom).table == "bom"


# --- the oracle: real Alembic creates the table the reader names ------------------------------

ORACLE_ENV_PY = """\
from alembic import context
from sqlalchemy import create_engine

config = context.config
{prelude}

def run_migrations_online():
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=None,
            version_table={table},
            version_table_schema=None,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
"""

REVISION = 'revision = "a1"\ndown_revision = None\n\ndef upgrade():\n    pass\n'


@pytest.mark.parametrize(
    ("prelude", "table", "expected"),
    [
        ("", '"custom_versions"', "custom_versions"),
        ('VERSION_TABLE = "constant_versions"', "VERSION_TABLE", "constant_versions"),
        ("", 'config.get_main_option("version_table")', "ini_versions"),
        ("", 'config.get_main_option("unset", "fallback_versions")', "fallback_versions"),
    ],
)
def test_alembic_creates_the_table_the_reader_names(
    prelude: str, table: str, expected: str, tmp_path: Path
) -> None:
    env_py = ORACLE_ENV_PY.format(prelude=prelude, table=table)
    options = {"script_location": str(tmp_path / "migrations"), "version_table": "ini_versions"}
    write_tree(tmp_path, {"migrations/env.py": env_py, "migrations/versions/a1_.py": REVISION})
    setting = read_version_table(env_py.encode(), "migrations/env.py", options)
    assert setting == VersionTableSetting(expected, None, ())

    url = f"sqlite:///{tmp_path / 'oracle.db'}"
    config = Config()
    for key, value in {**options, "sqlalchemy.url": url}.items():
        config.set_main_option(key, value)
    command.stamp(config, "head")

    engine = create_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    assert tables == [setting.table]  # what Alembic created is what the reader said
