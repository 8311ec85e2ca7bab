"""`engine.fix.mergefile` against real Alembic 1.20.1, used only as an oracle on projects
built here.

Each project is made by `alembic init` in a temporary directory, with configuration and revision
files written by the test; Alembic's `merge` writes its file and ours must equal it byte for byte.
The only patch is Alembic's clock (its `datetime` module in alembic.script.base), so both sides
use the same creation instant.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sqlite3
import string
import subprocess
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import alembic
import alembic.script.base as alembic_script_base
import pytest
from alembic import command
from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from alembic_heads_bot.app.fix_inputs import new_revision_id
from alembic_heads_bot.engine.fix.mergefile import (
    MergeError,
    MergeFile,
    creation_date,
    merge_file_path,
    render_merge,
    reparent,
    slugify,
)
from alembic_heads_bot.engine.model import Environment, Revision
from alembic_heads_bot.templates import generic_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).parents[2] / "support" / "fixtures" / "mergefile"
ALEMBIC_TEMPLATES = Path(alembic.__file__).parent / "templates"
NOW = dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.timezone.utc)
NOW_WHOLE_SECOND = dt.datetime(2025, 12, 31, 23, 59, 58, tzinfo=dt.timezone.utc)
VERSIONS = "migrations/versions"
GENERIC = generic_template()  # the built-in template the shell passes in
NETWORKING = "migrations/networking"

REVISION_FILE = '''"""step {rev}

Revision ID: {rev}
Revises: {revises}
"""
from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("t_{rev}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("t_{rev}")
'''


# --------------------------------------------------------------------------------------------
# Projects built with real Alembic


@dataclass(frozen=True)
class Layout:
    """Revision files to write: (directory, id, parents, optional file name)."""

    files: tuple[tuple[str, str, tuple[str, ...], str | None], ...]


TWO_HEADS = Layout(
    (
        (VERSIONS, "aaa111", (), None),
        (VERSIONS, "bbb222", ("aaa111",), None),
        (VERSIONS, "ccc333", ("aaa111",), None),
    )
)
THREE_HEADS_TWO_LOCATIONS = Layout(
    (
        (VERSIONS, "1a", (), None),
        (VERSIONS, "2a", ("1a",), None),
        (VERSIONS, "3a", ("1a",), None),
        (NETWORKING, "9n", (), None),
    )
)
HEADS_IN_SUBDIRECTORIES = Layout(
    (
        (f"{VERSIONS}/2025/01", "aaa111", (), None),
        (f"{VERSIONS}/2025/01", "bbb222", ("aaa111",), None),
        (f"{VERSIONS}/2025/02", "ccc333", ("aaa111",), None),
    )
)


@dataclass
class Setup:
    """How to build one project: the `alembic init` template and the settings to write."""

    template: str = "generic"
    options: dict[str, str] = field(default_factory=dict)  # ini syntax (% doubled)
    locations: tuple[str, ...] = (VERSIONS,)
    script_mako: bytes | None = None
    layout: Layout = TWO_HEADS


@dataclass
class Project:
    root: Path
    config: Config
    env: Environment

    def heads(self) -> list[Revision]:
        """The real heads as records, in the order `alembic merge heads` lists them."""
        scripts = ScriptDirectory.from_config(self.config).revision_map.get_revisions("heads")
        return [self.record(script) for script in scripts]

    def ids(self) -> set[str]:
        return {s.revision for s in ScriptDirectory.from_config(self.config).walk_revisions()}

    def record(self, script: Script) -> Revision:
        parents = script.down_revision
        down = (parents,) if isinstance(parents, str) else tuple(parents or ())
        return Revision(script.revision, down, path=self.relative(script.path))

    def relative(self, path: str | Path) -> str:
        return Path(path).resolve().relative_to(self.root).as_posix()

    def template(self) -> bytes:
        return (self.root / "migrations" / "script.py.mako").read_bytes()


def make_project(tmp_path: Path, setup: Setup) -> Project:
    root = (tmp_path / "project").resolve()
    root.mkdir()
    quiet = argparse.Namespace(quiet=True)
    pyproject = setup.template.startswith("pyproject")
    toml = root / "pyproject.toml" if pyproject else None
    command.init(
        Config(root / "alembic.ini", toml_file=toml, cmd_opts=quiet),
        str(root / "migrations"),
        template=setup.template,
    )
    _write_settings(root, setup, pyproject)
    env_py = root / "migrations" / "env.py"
    # env.py's logging setup would reconfigure the whole test session's loggers.
    env_py.write_text(env_py.read_text().replace("fileConfig(config.config_file_name)", "pass"))
    if setup.script_mako is not None:
        (root / "migrations" / "script.py.mako").write_bytes(setup.script_mako)
    for directory, rev, parents, name in setup.layout.files:
        write_revision(root / directory, rev, parents, name)
    config = Config(root / "alembic.ini", toml_file=toml, cmd_opts=quiet)
    return Project(root, config, environment(setup))


def _write_settings(root: Path, setup: Setup, pyproject: bool) -> None:
    locations = " ".join(f"%(here)s/{loc}" for loc in setup.locations)
    main = {"script_location": "%(here)s/migrations", "version_locations": locations}
    main |= setup.options
    ini = "[alembic]\nsqlalchemy.url = sqlite:///%(here)s/test.db\npath_separator = space\n"
    if not pyproject:
        ini += "".join(f"{key} = {value}\n" for key, value in main.items())
    (root / "alembic.ini").write_text(ini)
    if pyproject:
        lines = [f"{key} = {_toml_value(key, value)}" for key, value in main.items()]
        (root / "pyproject.toml").write_text("[tool.alembic]\n" + "\n".join(lines) + "\n")


def _toml_value(key: str, value: str) -> str:
    if key == "version_locations":
        return "[" + ", ".join(f'"{item}"' for item in value.split()) + "]"
    if value in ("true", "false") or value.isdigit():
        return value
    return '"' + value + '"'


def environment(setup: Setup) -> Environment:
    """The Environment record the configuration reader gives for these settings."""
    opts = {key: value.replace("%%", "%") for key, value in setup.options.items()}
    return Environment(
        name="alembic.ini",
        config_path="alembic.ini",
        section="alembic",
        script_location="migrations",
        version_locations=setup.locations,
        recursive_version_locations=opts.get("recursive_version_locations") == "true",
        file_template=opts.get("file_template", "%(rev)s_%(slug)s"),
        truncate_slug_length=int(opts.get("truncate_slug_length", "40")),
        timezone=opts.get("timezone"),
        output_encoding=opts.get("output_encoding", "utf-8"),
    )


def write_revision(
    directory: Path, rev: str, parents: tuple[str, ...], name: str | None = None
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    down = None if not parents else parents[0] if len(parents) == 1 else parents
    text = REVISION_FILE.format(rev=rev, revises=", ".join(parents), down=down)
    (directory / (name or f"{rev}_step.py")).write_text(text)


class _FrozenDatetime(dt.datetime):
    instant = NOW

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
        if tz is None:
            return cls.instant.astimezone().replace(tzinfo=None)
        return cls.instant.astimezone(tz)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.datetime], None]:
    """Fix Alembic's idea of "now" (its `_generate_create_date` still runs unchanged)."""

    def freeze(instant: dt.datetime) -> None:
        frozen = type("Frozen", (_FrozenDatetime,), {"instant": instant})
        shim = types.SimpleNamespace(datetime=frozen, timezone=dt.timezone)
        monkeypatch.setattr(alembic_script_base, "datetime", shim)

    freeze(NOW)
    return freeze


def alembic_merge(project: Project, rev_id: str, message: str | None) -> tuple[str, bytes]:
    script = command.merge(project.config, "heads", message=message, rev_id=rev_id)
    assert script is not None
    return project.relative(script.path), Path(script.path).read_bytes()


def bot_merge(
    project: Project, rev_id: str, message: str | None, now: dt.datetime = NOW
) -> MergeFile:
    return render_merge(
        project.env,
        project.heads(),
        rev_id=rev_id,
        message=message,
        create_date=creation_date(project.env, now),
        template=project.template(),
        builtin_template=GENERIC,
        existing_ids=project.ids(),
    )


# --------------------------------------------------------------------------------------------
# 1. Byte-identical to `alembic merge`

CUSTOM = (FIXTURES / "custom_script.py.mako").read_bytes()
LEGACY = (FIXTURES / "legacy_script.py.mako").read_bytes()
DATED = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s"
LATIN1 = b"## -*- coding: latin-1 -*-\n# -*- coding: latin-1 -*-\n# caf\xe9\n"
LONG = "Add the audit-log tables, their indexes and the retention job " * 4

SCENARIOS = {
    "generic": (Setup(), "merge branches"),
    "async": (Setup(template="async"), "merge branches"),
    "pyproject-dated-names": (
        Setup(template="pyproject", options={"file_template": DATED}),
        "Ünïcödé café: naïve “quotes” & punctuation!!",
    ),
    "pyproject-short-slug": (
        Setup(template="pyproject_async", options={"truncate_slug_length": "12"}),
        LONG,
    ),
    "custom-template": (Setup(script_mako=CUSTOM), "merge: feature/x + feature/y"),
    "legacy-template": (Setup(script_mako=LEGACY), "emoji 🎉 party"),
    "crlf-template": (Setup(script_mako=CUSTOM.replace(b"\n", b"\r\n")), "crlf"),
    "latin1-template": (
        Setup(
            script_mako=LATIN1 + LEGACY,
            options={"output_encoding": "latin-1"},
        ),
        "déjà vu",
    ),
    "two-locations": (
        Setup(locations=(NETWORKING, VERSIONS), layout=THREE_HEADS_TWO_LOCATIONS),
        "merge all the heads",
    ),
    "subdirectories": (
        Setup(
            options={
                "file_template": "%%(year)d/%%(month).2d/%%(rev)s_%%(slug)s",
                "recursive_version_locations": "true",
            },
            layout=HEADS_IN_SUBDIRECTORIES,
        ),
        "merge",
    ),
    "timezone-upper-cased": (
        Setup(options={"timezone": "utc", "file_template": "%%(epoch)s_%%(rev)s"}),
        "with a zone",
    ),
    "timezone-tokyo": (
        Setup(options={"timezone": "Asia/Tokyo", "file_template": DATED}),
        "tokyo",
    ),
    "empty-message": (Setup(), ""),
    "long-message": (Setup(options={"truncate_slug_length": "0"}), "word " * 12),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_render_merge_writes_what_alembic_merge_writes(
    tmp_path: Path, clock: Callable[[dt.datetime], None], name: str
) -> None:
    setup, message = SCENARIOS[name]
    project = make_project(tmp_path, setup)
    heads = tuple(head.revision for head in project.heads())
    ours = bot_merge(project, "f00dfeed0001", message)

    path, content = alembic_merge(project, "f00dfeed0001", message)

    assert ours.path == path
    assert ours.text.encode(project.env.output_encoding) == content
    assert (ours.revision, ours.down_revision) == ("f00dfeed0001", heads)


def test_whole_second_dates_and_a_single_head_render_as_alembic_does(
    tmp_path: Path, clock: Callable[[dt.datetime], None]
) -> None:
    clock(NOW_WHOLE_SECOND)
    layout = Layout(((VERSIONS, "aaa111", (), None), (VERSIONS, "bbb222", ("aaa111",), None)))
    project = make_project(tmp_path, Setup(layout=layout))
    ours = bot_merge(project, "0123456789ab", "only one", now=NOW_WHOLE_SECOND)

    path, content = alembic_merge(project, "0123456789ab", "only one")

    assert (ours.path, ours.text.encode()) == (path, content)
    assert "Create Date: 2025-12-31 23:59:58\n" in ours.text
    assert "down_revision: Union[str, Sequence[str], None] = 'bbb222'\n" in ours.text


def test_timezone_creation_date_matches_alembic(clock: Callable[[dt.datetime], None]) -> None:
    env = environment(Setup(options={"timezone": "Asia/Tokyo"}))
    alembic_date = ScriptDirectory(FIXTURES, timezone="Asia/Tokyo")._generate_create_date()

    ours = creation_date(env, NOW)

    assert ours == alembic_date and ours.utcoffset() == alembic_date.utcoffset()
    assert str(ours) == "2026-03-04 14:06:07.891011+09:00"


def test_naive_now_counts_as_utc() -> None:
    env = environment(Setup(options={"timezone": "UTC"}))
    assert creation_date(env, NOW.replace(tzinfo=None)) == NOW


# --------------------------------------------------------------------------------------------
# Slugs and file names over many messages, against Alembic's `_rev_path`


@given(message=st.one_of(st.none(), st.text(max_size=90)), truncate=st.integers(-3, 60))
@settings(max_examples=300, deadline=None)
def test_slugify_matches_alembic(message: str | None, truncate: int) -> None:
    script_dir = ScriptDirectory(FIXTURES, file_template="%(slug)s", truncate_slug_length=truncate)
    alembic_name = script_dir._rev_path(FIXTURES, "r", message, NOW).name

    assert slugify(message, truncate) + ".py" == alembic_name


TOKENS = ["%(rev)s", "%(slug)s", "%(epoch)s", "%(year)d", "%(month).2d", "%(day).2d"]
TOKENS += ["%(hour).2d", "%(minute).2d", "%(second).2d", "%(year)04d"]
naive_dates = st.datetimes(dt.datetime(1971, 1, 1), dt.datetime(2200, 1, 1))


@given(
    pieces=st.lists(st.sampled_from([*TOKENS, "_", "-", "/", "x"]), min_size=1, max_size=8),
    message=st.text(alphabet=string.printable + "éÆ中😀", max_size=60),
    date=naive_dates,
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_merge_file_path_matches_alembic(
    pieces: list[str], message: str, date: dt.datetime
) -> None:
    template = "%(rev)s" + "".join(pieces)
    if template.endswith("/"):
        template += "%(rev)s"
    env = replace(environment(Setup()), file_template=template, recursive_version_locations=True)
    script_dir = ScriptDirectory(FIXTURES, file_template=template)
    expected = script_dir._rev_path(Path(VERSIONS), "abc123", message, date).as_posix()

    assert merge_file_path(env, [], "abc123", message, date) == expected


# --------------------------------------------------------------------------------------------
# 2. A generated merge works in Alembic and on a database


def _tables(project: Project) -> set[str]:
    with sqlite3.connect(project.root / "test.db") as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows} - {"alembic_version"}


@pytest.mark.parametrize(
    "setup",
    [
        Setup(),
        Setup(script_mako=CUSTOM, template="pyproject"),
        Setup(locations=(NETWORKING, VERSIONS), layout=THREE_HEADS_TWO_LOCATIONS),
        Setup(
            options={
                "file_template": "%%(year)d/%%(rev)s_%%(slug)s",
                "recursive_version_locations": "true",
            },
            layout=HEADS_IN_SUBDIRECTORIES,
        ),
    ],
    ids=["generic", "custom-template", "two-locations", "subdirectories"],
)
def test_generated_merge_leaves_one_head_that_upgrades_and_downgrades(
    tmp_path: Path, setup: Setup
) -> None:
    project = make_project(tmp_path, setup)
    heads = project.heads()
    merge = bot_merge(project, new_revision_id(), None)
    target = project.root / merge.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(merge.text.encode(project.env.output_encoding))

    script_dir = ScriptDirectory.from_config(project.config)
    assert script_dir.get_heads() == [merge.revision]
    assert script_dir.get_revision(merge.revision).down_revision == tuple(h.revision for h in heads)
    command.upgrade(project.config, "heads")
    assert _tables(project) == {f"t_{f[1]}" for f in setup.layout.files}
    command.downgrade(project.config, "base")
    assert _tables(project) == set()


def test_default_message_names_the_heads(tmp_path: Path) -> None:
    project = make_project(tmp_path, Setup())
    merge = bot_merge(project, "abcdef123456", None)

    assert merge.path == "migrations/versions/abcdef123456_merge_heads_bbb222_ccc333.py"
    assert merge.text.startswith('"""merge heads bbb222, ccc333\n')


def test_built_in_template_is_alembics_generic_template(
    tmp_path: Path, clock: Callable[[dt.datetime], None]
) -> None:
    project = make_project(tmp_path, Setup())
    ours = render_merge(
        project.env,
        project.heads(),
        rev_id="f00d",
        message="m",
        create_date=creation_date(project.env, NOW),
        template=None,
        builtin_template=GENERIC,
        existing_ids=project.ids(),
    )

    assert ours.text.encode() == alembic_merge(project, "f00d", "m")[1]
    assert ours.notes == (
        "No script.py.mako was available, so the file uses Alembic 1.20.1's generic template.",
    )


def test_notes_tell_about_post_write_hooks_and_env_py() -> None:
    env = replace(
        environment(Setup()), post_write_hooks=("black", "ruff"), revision_environment=True
    )
    merge = _render(env, template=LEGACY)

    assert merge.notes == (
        "post_write_hooks (black, ruff) are configured; the bot does not run them, because they "
        "are commands from the repository. Run your formatter on the merge file if it should "
        "look like the others.",
        "revision_environment is set: `alembic merge` would run env.py first, which may pass "
        "extra template variables; the bot never runs env.py, so the file may differ.",
    )


def test_a_template_given_as_text_renders_like_its_bytes() -> None:
    assert _render(template=CUSTOM.decode()).text == _render(template=CUSTOM).text


# --------------------------------------------------------------------------------------------
# 4. Refusals of render_merge / merge_file_path / creation_date

HEADS = [Revision("aaa", path=f"{VERSIONS}/aaa_x.py"), Revision("bbb", path=f"{VERSIONS}/b.py")]


def _render(
    env: Environment | None = None,
    heads: Sequence[Revision] = HEADS,
    *,
    rev_id: str = "ccc",
    message: str | None = "m",
    template: str | bytes | None = None,
    existing_ids: Sequence[str] = ("aaa", "bbb"),
) -> MergeFile:
    return render_merge(
        env or environment(Setup()),
        heads,
        rev_id=rev_id,
        message=message,
        create_date=NOW,
        template=template,
        builtin_template=GENERIC,
        existing_ids=existing_ids,
    )


@pytest.mark.parametrize("rev_id", ["a-b", "x@y", "1+2", "a:b:c-d"])
def test_illegal_revision_characters_are_refused_with_alembics_text(rev_id: str) -> None:
    with pytest.raises(RevisionError) as alembic_error:
        Script.verify_rev_id(rev_id)
    with pytest.raises(MergeError) as error:
        _render(rev_id=rev_id)
    assert str(error.value) == str(alembic_error.value)


@pytest.mark.parametrize(
    ("rev_id", "expected"),
    [
        ("", "is empty"),
        ("aaa", "already present"),
        ("bbb", "already present"),
        ("a/b", "path separator"),
        ("a b ", "whitespace"),
        ("heads", "special meaning"),
    ],
)
def test_unusable_revision_ids_are_refused(rev_id: str, expected: str) -> None:
    with pytest.raises(MergeError, match=expected):
        _render(rev_id=rev_id)


def test_duplicate_heads_are_refused() -> None:
    with pytest.raises(MergeError, match="Duplicate head revisions specified: aaa, aaa"):
        _render(heads=[HEADS[0], HEADS[0]])


def test_head_in_a_subdirectory_of_one_of_several_locations_is_refused_like_alembic(
    tmp_path: Path, clock: Callable[[dt.datetime], None]
) -> None:
    layout = Layout(
        (
            (f"{NETWORKING}/sub", "1n", (), None),
            (VERSIONS, "1a", (), None),
        )
    )
    setup = Setup(
        locations=(NETWORKING, VERSIONS),
        options={"recursive_version_locations": "true"},
        layout=layout,
    )
    project = make_project(tmp_path, setup)
    with pytest.raises(CommandError, match="is not represented in current version locations"):
        command.merge(project.config, "heads", message="m", rev_id="mm")

    with pytest.raises(MergeError) as error:
        bot_merge(project, "mm", "m")
    message = str(error.value)
    assert message.startswith(
        f"Path {NETWORKING}/sub is not represented in current version locations."
    )
    assert "1n" in message and "Move that revision file" in message


def test_several_locations_and_no_head_is_refused() -> None:
    env = replace(environment(Setup()), version_locations=(VERSIONS, NETWORKING))
    with pytest.raises(MergeError, match="Multiple version locations present"):
        _render(env, heads=[])


def test_a_location_written_with_dot_dot_never_matches_as_in_alembic() -> None:
    env = replace(
        environment(Setup()), version_locations=("migrations/../migrations/versions", NETWORKING)
    )
    with pytest.raises(MergeError, match="not represented"):
        _render(env)


def test_one_location_and_no_head_writes_a_base() -> None:
    merge = _render(heads=[], message=None, existing_ids=())
    assert merge.path == f"{VERSIONS}/ccc_empty_message.py"
    assert "down_revision: Union[str, Sequence[str], None] = None\n" in merge.text
    assert "Revises: \n" in merge.text


def test_unknown_timezone_is_refused_with_alembics_text() -> None:
    with pytest.raises(CommandError) as alembic_error:
        ScriptDirectory(FIXTURES, timezone="Mars/Olympus")._generate_create_date()
    env = environment(Setup(options={"timezone": "Mars/Olympus"}))

    with pytest.raises(MergeError) as error:
        creation_date(env, NOW)
    assert str(error.value).startswith(str(alembic_error.value) + " (")


def test_empty_timezone_is_refused_instead_of_crashing() -> None:
    with pytest.raises(MergeError, match="Can't locate timezone:  \\(ZoneInfo keys"):
        creation_date(environment(Setup(options={"timezone": ""})), NOW)


@pytest.mark.parametrize(
    ("file_template", "recursive", "expected"),
    [
        ("%(rev)s_%(nope)s", False, "cannot be filled in \\(KeyError"),
        ("%(rev)d", False, "cannot be filled in \\(TypeError"),
        ("%(rev)s_%", False, "cannot be filled in \\(ValueError"),
        ("%(year)d/%(rev)s", False, "recursive_version_locations is not true"),
        ("../%(rev)s", True, "leaves the version location"),
        ("/tmp/%(rev)s", True, "leaves the version location"),
        ("__init__%(rev)s", False, "start with '__init__' or '.#'"),
        (".#%(rev)s", False, "start with '__init__' or '.#'"),
    ],
)
def test_file_templates_that_alembic_cannot_use_are_refused(
    file_template: str, recursive: bool, expected: str
) -> None:
    env = replace(
        environment(Setup()), file_template=file_template, recursive_version_locations=recursive
    )
    with pytest.raises(MergeError, match=expected):
        _render(env)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (b"line one\n${x.}\n", "line 2 \\(`\\$\\{x.\\}`\\): SyntaxException"),
        (b"a\n% if up_revision:\nb\n", "line 2 .*Unterminated control keyword"),
        (b"a\nb\n${1 // 0}\n", "line 3 \\(`\\$\\{1 // 0\\}`\\): ZeroDivisionError"),
        (b"${upgrades}\n", r"line 1 \(`\$\{upgrades\}`\): NameError: Undefined \(.*undefined for"),
        (
            (ALEMBIC_TEMPLATES / "multidb" / "script.py.mako").read_bytes(),
            r"line 34 \(`db_names = config.get_main_option\(\"databases\"\)`\): "
            r"the template uses `config`",
        ),
        (b"<% x = config.get_main_option('x') %>\n", "line 1 .*does not provide"),
        (b"${config}\n", "line 1 .*does not provide"),
    ],
    ids=["syntax", "control-line", "runtime", "bare-upgrades", "multidb", "config-attr", "config"],
)
def test_template_failures_are_refused_with_the_template_line(
    template: bytes, expected: str
) -> None:
    with pytest.raises(MergeError, match=expected) as error:
        _render(template=template)
    assert str(error.value).startswith(
        "Template rendering failed at migrations/script.py.mako line "
    )


# A project template that copies the message into one-line string literals: a quote in the
# message ends them (a docstring survives quotes, see `one_line_message`).
TITLED = b"""revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
TITLE = '${message}'
SUBTITLE = "${message}"
"""


def test_rendered_file_that_is_not_python_is_refused() -> None:
    with pytest.raises(MergeError, match=r"not valid Python .*quotes or a backslash"):
        _render(message="it's", template=TITLED)
    with pytest.raises(MergeError, match=r"not valid Python .*quotes or a backslash"):
        _render(message='say "hi', template=TITLED)


def test_non_utf8_output_without_an_encoding_declaration_is_refused(
    tmp_path: Path, clock: Callable[[dt.datetime], None]
) -> None:
    project = make_project(
        tmp_path, Setup(script_mako=LEGACY, options={"output_encoding": "latin-1"})
    )
    with pytest.raises(MergeError, match=r"not valid Python .*declare an encoding"):
        bot_merge(project, "abc", "déjà vu")
    with pytest.raises(SyntaxError, match="can't decode byte 0xe9"):  # Alembic writes it anyway
        alembic_merge(project, "abc", "déjà vu")


def test_template_that_does_not_bind_the_parents_is_refused() -> None:
    template = b"revision = ${repr(up_revision)}\ndown_revision = tuple(${repr(down_revision)})\n"
    with pytest.raises(MergeError, match="does not bind down_revision to a literal reading aaa"):
        _render(template=template)


def test_output_encoding_problems_are_refused() -> None:
    latin1 = environment(Setup(options={"output_encoding": "latin-1"}))
    with pytest.raises(MergeError, match="cannot be written in output_encoding latin-1: '🎉'"):
        _render(latin1, message="party 🎉")
    with pytest.raises(MergeError, match="'klingon' is not a known encoding"):
        _render(replace(latin1, output_encoding="klingon"))


# --------------------------------------------------------------------------------------------
# 3. reparent

GENERIC_FILE = '''"""add users

Revision ID: ccc333
Revises: aaa111
Create Date: 2026-03-04 05:06:07.891011

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'ccc333'
down_revision: Union[str, Sequence[str], None] = 'aaa111'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    down_revision = "not this one"


def downgrade() -> None:
    """Downgrade schema."""
    pass
'''


def test_reparent_changes_only_the_value_and_the_revises_line() -> None:
    result = reparent(GENERIC_FILE, "v/c.py", ("aaa111",), ("bbb222", "fff999"))

    expected = GENERIC_FILE.replace("Revises: aaa111", "Revises: bbb222, fff999").replace(
        "None] = 'aaa111'", "None] = ('bbb222', 'fff999')"
    )
    assert result == expected


@pytest.mark.parametrize(
    ("before", "old", "new", "after"),
    [
        ('down_revision = "a1"\n', ("a1",), ("b2",), 'down_revision = "b2"\n'),
        ("down_revision = u'a1'\n", ("a1",), ("b2",), "down_revision = u'b2'\n"),
        (
            'down_revision: str | None = "a1"  # parent\n',
            ("a1",),
            ("b2", "c3"),
            'down_revision: str | None = ("b2", "c3")  # parent\n',
        ),
        ("down_revision = ('a1', 'b2')\n", ("a1", "b2"), ("c3",), "down_revision = 'c3'\n"),
        (
            'down_revision = ["a1", "b2"]\n',
            ("a1", "b2"),
            ("c3", "d4"),
            'down_revision = ["c3", "d4"]\n',
        ),
        (
            'down_revision = "a1", "b2"\n',
            ("a1", "b2"),
            ("c3", "d4"),
            'down_revision = "c3", "d4"\n',
        ),
        (
            'down_revision = (\n    "a1",\n    "b2",\n)\nx = 1\n',
            ("a1", "b2"),
            ("c3", "d4", "e5"),
            'down_revision = (\n    "c3",\n    "d4",\n    "e5",\n)\nx = 1\n',
        ),
        ("down_revision = 'a1'\r\nx = 1\r\n", ("a1",), (), "down_revision = None\r\nx = 1\r\n"),
        (
            'revision = "z9"\ndown_revision = None\n',
            (),
            ("a1",),
            'revision = "z9"\ndown_revision = "a1"\n',
        ),
        (
            'x = "é€"; down_revision = "a1"; y = "😀"\n',
            ("a1",),
            ("b2",),
            'x = "é€"; down_revision = "b2"; y = "😀"\n',
        ),
        ('\ufeffdown_revision = "a1"\n', ("a1",), ("b2",), '\ufeffdown_revision = "b2"\n'),
        (
            'down_revision = "old"\ndown_revision = "a1"\n',
            ("a1",),
            ("b2",),
            'down_revision = "old"\ndown_revision = "b2"\n',
        ),
        (
            'down_revision = "a1"\nids = [x for down_revision in "ab"]\n',
            ("a1",),
            ("b2",),
            'down_revision = "b2"\nids = [x for down_revision in "ab"]\n',
        ),
    ],
    ids=[
        "double-quotes",
        "u-prefix",
        "annotated-str-to-tuple",
        "tuple-to-str",
        "list-stays-list",
        "bare-tuple",
        "vertical-tuple",
        "crlf-to-none",
        "none-takes-revision-quotes",
        "non-ascii-columns",
        "bom",
        "last-binding-wins",
        "comprehension-target-is-local",
    ],
)
def test_reparent_keeps_the_formatting(
    before: str, old: tuple[str, ...], new: tuple[str, ...], after: str
) -> None:
    assert reparent(before, "v/x.py", old, new) == after


@pytest.mark.parametrize(
    ("docstring", "new", "expected"),
    [
        ('"""m\n\nRevises: stale\n"""\n', ("b2",), '"""m\n\nRevises: b2\n"""\n'),
        ('"""m\n\nRevises: a1\n"""\n', (), '"""m\n\nRevises: \n"""\n'),
        ('"""m\n\nRevises: \n"""\n', ("b2", "c3"), '"""m\n\nRevises: b2, c3\n"""\n'),
        ("'''m\r\nRevises:a1'''\r\n", ("b2",), "'''m\r\nRevises: b2'''\r\n"),
        ('"""no such line"""\n', ("b2",), '"""no such line"""\n'),
        ('# no docstring, "Revises: a1"\n', ("b2",), '# no docstring, "Revises: a1"\n'),
    ],
)
def test_reparent_updates_the_revises_line(
    docstring: str, new: tuple[str, ...], expected: str
) -> None:
    value = {(): "None", ("b2",): "'b2'", ("b2", "c3"): "('b2', 'c3')"}[new]
    result = reparent(docstring + "down_revision = 'a1'\n", "v/x.py", ("a1",), new)
    assert result == expected + f"down_revision = {value}\n"


def test_reparented_file_loads_in_alembic_with_the_new_parent(tmp_path: Path) -> None:
    project = make_project(tmp_path, Setup())
    merge = bot_merge(project, "dddd4444", "merge")
    (project.root / merge.path).write_text(merge.text)
    write_revision(project.root / VERSIONS, "eee555", ("aaa111",))
    path = project.root / VERSIONS / "eee555_step.py"

    path.write_text(reparent(path.read_text(), "x", ("aaa111",), ("dddd4444",)))

    script_dir = ScriptDirectory.from_config(project.config)
    assert script_dir.get_heads() == ["eee555"]
    assert script_dir.get_revision("eee555").down_revision == "dddd4444"
    command.upgrade(project.config, "heads")
    assert "t_eee555" in _tables(project)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("revision = 'a'\n", "x.py: cannot locate down_revision statically: .*not assigned"),
        ("down_revision: str\n", "not assigned at module level"),
        ("if True:\n    down_revision = 'a1'\n", "x.py line 2: .*not a plain top-level"),
        ("revision, down_revision = 'b', 'a1'\n", "line 1: .*not a plain top-level"),
        ("revision = down_revision = 'a1'\n", "line 1: .*not a plain top-level"),
        ("down_revision = 'a1'\ndown_revision += ''\n", "line 2: .*not a plain top-level"),
        ("down_revision = 'a1'\nfrom m import *\n", "line 2: .*not a plain top-level"),
        ("down_revision = 'a1'\nglobals()['x'] = 1\n", "line 2: .*may rebind"),
        ("down_revision = 'a1'\ndef f():\n    global down_revision\n", "global down_revision"),
        ("down_revision = 'a1'\nfor down_revision in []: pass\n", "line 2: .*not a plain"),
        ("down_revision = 'a1'\n[down_revision := 'b']\n", "line 2: .*not a plain"),
        ("down_revision = 'a1'\nwith x as down_revision: pass\n", "line 2: .*not a plain"),
        ("down_revision = 'a1'\ntry: pass\nexcept E as down_revision: pass\n", "line 3: "),
        ("down_revision = 'a1'\nimport down_revision\n", "line 2: .*not a plain"),
        ("revision = 'b2'\ndown_revision = 'a1'\n", "revision b2 cannot be its own parent"),
        ("down_revision = f'a{1}'\n", "line 1: down_revision is not a literal"),
        ("down_revision = PARENT\n", "line 1: down_revision is not a literal"),
        ("down_revision = 'zz'\n", "line 1: down_revision is zz, not a1; the file changed"),
        ("down_revision = (\n", "x.py line 1: cannot parse the file"),
    ],
)
def test_reparent_refuses_what_it_cannot_edit_statically(source: str, expected: str) -> None:
    with pytest.raises(MergeError, match=expected):
        reparent(source, "x.py", ("a1",), ("b2",))


# --------------------------------------------------------------------------------------------
# 5. Hostile input stays inert: ids, labels and messages reach the file as data, never as code

MARKER = "alembic_heads_bot_ran_code"
# An id Alembic accepts (no @ - + :) that closes the docstring and runs a statement.
BREAKOUT = f'x"""\nopen({MARKER!r}, "w").close()\n"""'
HOSTILE_FILE = f'''"""a pull request's revision"""
revision = {BREAKOUT!r}
down_revision = "aaa111"


def upgrade():
    pass


def downgrade():
    pass
'''


def import_in_subprocess(tmp_path: Path, content: str | bytes) -> tuple[int, bool]:
    """Run the file as Alembic's import would, in a fresh Python and an empty directory: its
    exit code, and whether it created the marker file."""
    where = tmp_path / "import-here"
    where.mkdir(exist_ok=True)
    target = where / "migration.py"
    target.write_bytes(content.encode() if isinstance(content, str) else content)
    code = "import runpy, sys; runpy.run_path(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-c", code, str(target)], cwd=where, capture_output=True, check=False
    )
    return done.returncode, (where / MARKER).exists()


def test_an_id_that_closes_the_docstring_is_refused_with_its_file_and_line(
    tmp_path: Path, clock: Callable[[dt.datetime], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # Alembic imports the file it wrote: its marker lands here
    project = make_project(tmp_path, Setup())
    (project.root / VERSIONS / "evil.py").write_text(HOSTILE_FILE)
    heads = [
        replace(head, lines={"revision": 2}) if head.revision == BREAKOUT else head
        for head in project.heads()
    ]
    assert BREAKOUT in [head.revision for head in heads]
    # The danger, shown by Alembic: its merge copies the id into the docstring as code.
    _, written = alembic_merge(project, "ddd444", "merge")
    assert import_in_subprocess(tmp_path, written) == (0, True)

    with pytest.raises(MergeError) as error:
        render_merge(
            project.env,
            heads,
            rev_id="eee555",
            message="merge",
            create_date=NOW,
            template=project.template(),
            builtin_template=GENERIC,
            existing_ids=project.ids(),
        )
    assert str(error.value).startswith(f'{VERSIONS}/evil.py line 2: revision id \'x"""\\nopen(')
    assert "has characters the bot never writes into a migration file" in str(error.value)
    assert "'\\n'" in str(error.value) and "'\"'" in str(error.value)


@pytest.mark.parametrize(
    ("head_id", "shown"),
    [
        ('a"b', "('\"')"),
        ("a'b", '("\'")'),
        ("a\\b", "('\\\\')"),
        ("a\nb", "('\\n')"),
        ("a\rb", "('\\r')"),
        ("a\u2028b", "('\\u2028')"),
        ("a\x00b", "('\\x00')"),
        ("a#b", "('#')"),
        ("a{b}", "('{', '}')"),
        ("a b", "(' ')"),
        ("a/b", "('/')"),
        ("a,b", "(',')"),
        ("a%b", "('%')"),
        ("a-b", "('-')"),
        ("a\u202eb", "('\\u202e')"),
    ],
)
def test_head_ids_outside_the_plain_rule_are_refused(head_id: str, shown: str) -> None:
    heads = [HEADS[0], Revision(head_id, path=f"{VERSIONS}/h.py", lines={"revision": 7})]
    with pytest.raises(MergeError) as error:
        _render(heads=heads, existing_ids=("aaa", head_id))
    message = str(error.value)
    assert message.startswith(f"{VERSIONS}/h.py line 7: revision id {head_id!r} has characters")
    assert f"migration file {shown}; use letters, digits, '_', '.'" in message


def test_a_head_id_starting_with_a_dot_is_refused() -> None:
    heads = [HEADS[0], Revision(".hidden", path=f"{VERSIONS}/h.py")]
    with pytest.raises(
        MergeError, match=r"^migrations/versions/h.py: revision id '.hidden' starts"
    ):
        _render(heads=heads)


def test_a_very_long_hostile_id_is_shown_cut_on_one_line() -> None:
    head_id = "a\n" * 500
    heads = [HEADS[0], Revision(head_id, path=f"{VERSIONS}/h.py", lines={"revision": 3})]
    with pytest.raises(MergeError) as error:
        _render(heads=heads)
    message = str(error.value)
    assert "\n" not in message and len(message) < 400
    assert message.startswith(f"{VERSIONS}/h.py line 3: revision id 'a\\na\\n")


@pytest.mark.parametrize("rev_id", ['a"b', "a'b", "a#b", "a{x}", "a,b", ".a", "é-", "a\\b"])
def test_a_rev_id_outside_the_plain_rule_is_refused(rev_id: str) -> None:
    with pytest.raises(MergeError, match=r"^(Revision identifier|Character)"):
        _render(rev_id=rev_id)


USER_IDS = Layout(
    (
        (VERSIONS, "0001", (), None),
        (VERSIONS, "ae1027a6acf_add_users", ("0001",), None),
        (VERSIONS, "v1.2_users", ("0001",), None),
        (VERSIONS, "révision_1", ("0001",), None),
    )
)


def test_hand_written_ids_pass_and_render_as_alembic_merge_does(
    tmp_path: Path, clock: Callable[[dt.datetime], None]
) -> None:
    project = make_project(tmp_path, Setup(layout=USER_IDS))
    ours = bot_merge(project, "0002_merge.v2", "join users")

    path, content = alembic_merge(project, "0002_merge.v2", "join users")

    assert (ours.path, ours.text.encode()) == (path, content)
    assert set(ours.down_revision) == {"ae1027a6acf_add_users", "v1.2_users", "révision_1"}


def test_branch_labels_render_as_alembic_merge_branch_label_does(
    tmp_path: Path, clock: Callable[[dt.datetime], None]
) -> None:
    project = make_project(tmp_path, Setup())
    ours = render_merge(
        project.env,
        project.heads(),
        rev_id="f00d",
        message="m",
        create_date=creation_date(project.env, NOW),
        template=project.template(),
        builtin_template=GENERIC,
        existing_ids=project.ids(),
        branch_labels=("release-2.1",),
    )
    script = command.merge(project.config, "heads", "m", branch_label="release-2.1", rev_id="f00d")
    assert script is not None

    assert ours.text.encode() == Path(script.path).read_bytes()
    assert "branch_labels: Union[str, Sequence[str], None] = ('release-2.1',)\n" in ours.text


@pytest.mark.parametrize("label", ['x"', "x'", "a\nb", "a@head", "-x", ".x", "a b", "a:b"])
def test_branch_labels_outside_the_plain_rule_are_refused(label: str) -> None:
    with pytest.raises(MergeError, match=f"^Branch label {re.escape(repr(label))} "):
        render_merge(
            environment(Setup()),
            HEADS,
            rev_id="ccc",
            message="m",
            create_date=NOW,
            template=None,
            builtin_template=GENERIC,
            existing_ids=("aaa", "bbb"),
            branch_labels=(label,),
        )


@pytest.mark.parametrize(
    ("message", "reduced"),
    [
        ("a\nb", "a b"),
        ("\n  indented\r\n\ttext\n", "  indented text"),
        ('say """hi"""', 'say "hi"'),
        ("''''quoted''''", "'quoted'"),
        ("C:\\Users\\new\\", "C:/Users/new/"),
        ("\x1b[31mred\x1b[0m\x00", "[31mred [0m"),
        ("zero\u200bwidth\u2028line", "zero width line"),
        ("plain: ünï “quotes” & \"two\" 'one'  spaces", None),
    ],
)
def test_messages_are_reduced_to_one_inert_line(message: str, reduced: str | None) -> None:
    merge = _render(message=message)

    assert merge.text.startswith(f'"""{reduced if reduced is not None else message}\n')
    changed = any("The message was reduced to one line" in note for note in merge.notes)
    assert changed == (reduced is not None)


def test_a_message_that_closes_the_docstring_runs_nothing(
    tmp_path: Path, clock: Callable[[dt.datetime], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # Alembic imports the file it wrote: its marker lands here
    message = f'join"""\nopen({MARKER!r}, "w").close()\n"""'
    project = make_project(tmp_path, Setup())
    _, alembic_written = alembic_merge(project, "ddd444", message)
    assert import_in_subprocess(tmp_path, alembic_written) == (0, True)  # Alembic's file runs it
    (tmp_path / "import-here" / MARKER).unlink()

    ours = bot_merge(project, "eee555", message)

    assert import_in_subprocess(tmp_path, ours.text) == (0, False)
    assert ours.text.startswith('"""join" open(\'alembic_heads_bot_ran_code\', "w").close() "\n')


PLAIN = b"revision = ${repr(up_revision)}\ndown_revision = ${repr(down_revision)}\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (b"print('hi')\n", "an expression statement at module level \\(line 3\\)"),
        (b"'not first'\n", "an expression statement at module level \\(line 3\\)"),
        (b"@decorate\ndef upgrade():\n    pass\n", "a decorated function .*line 3"),
        (b"def upgrade(x=open('f')):\n    pass\n", "a function default that is not a literal"),
        (b"def upgrade() -> print():\n    pass\n", "a function annotation that computes"),
        (b"def upgrade(x: f()):\n    pass\n", "a function annotation that computes"),
        (b"class Up:\n    pass\n", "a `ClassDef` statement at module level \\(line 3\\)"),
        (b"x = len('a')\n", "an assignment of a non-literal"),
        (b"x = y = 1\n", "an assignment of a non-literal"),
        (b"x = f'{1}'\n", "an assignment of a non-literal"),
        (b"x: open('f') = 1\n", "an annotation that computes"),
        (b"x: int\n", "an annotated assignment of a non-literal"),
        (b"for i in []:\n    pass\n", "a `For` statement"),
        (b"if TYPE_CHECKING:\n    import os\nelse:\n    pass\n", "a `If` statement"),
        (b"if TYPE_CHECKING:\n    print()\n", "a `If` statement"),
        (b"with f():\n    pass\n", "a `With` statement"),
    ],
)
def test_templates_whose_files_run_code_at_import_are_refused(extra: bytes, expected: str) -> None:
    with pytest.raises(MergeError, match=expected) as error:
        _render(template=PLAIN + extra)
    assert str(error.value).startswith(
        "The merge file rendered from migrations/script.py.mako has "
    )
    assert str(error.value).endswith("so it wrote nothing.")


def test_inert_module_level_statements_are_accepted() -> None:
    extra = (
        b"from __future__ import annotations\n"
        b"from typing import TYPE_CHECKING\n"
        b"import typing\n"
        b"if TYPE_CHECKING:\n    from collections.abc import Sequence\n"
        b"if typing.TYPE_CHECKING:\n    import os\n"
        b"branch_labels: str | Sequence[str] | None = None\n"
        b"depends_on: typing.Optional[typing.Tuple[str, ...]] = ()\n"
        b"SETTINGS = ('a', 1, -2, 3.5, {'k': None}, [b'x'], {1})\n"
        b"pass\n"
        b"def upgrade(engine_name: str = 'main', *a: int, k: 'list[str]' = None, **kw) -> None:\n"
        b"    globals()['upgrade_%s' % engine_name]()\n"
        b"async def downgrade() -> typing.Any:\n    print('runs only when migrating')\n"
    )
    merge = _render(template=PLAIN + extra)
    assert merge.text.endswith("print('runs only when migrating')\n")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (PLAIN + b"revision = 'ccc'\n", "does not bind revision .* \\(it binds it at line 1, 3\\)"),
        (PLAIN + b"def revision():\n    pass\n", "does not bind revision .*line 1, 3"),
        (PLAIN + b"import revision\n", "does not bind revision"),
        (PLAIN + b"from os import *\n", "does not bind revision .*line 1, 3"),
        (b"revision = (${repr(up_revision)},)\n" + PLAIN[PLAIN.index(b"\n") + 1 :], "revision"),
        (PLAIN + b"depends_on = 'aaa'\n", "does not bind depends_on to a literal reading None"),
        (PLAIN + b"branch_labels = ('x',)\n", "does not bind branch_labels .*reading None"),
    ],
)
def test_templates_must_bind_exactly_the_four_attributes(template: bytes, expected: str) -> None:
    with pytest.raises(MergeError, match=expected):
        _render(template=template)


def test_a_requested_branch_label_needs_a_template_that_writes_it() -> None:
    with pytest.raises(MergeError, match="does not bind branch_labels to a literal reading rel"):
        render_merge(
            environment(Setup()),
            HEADS,
            rev_id="ccc",
            message="m",
            create_date=NOW,
            template=PLAIN,
            builtin_template=GENERIC,
            existing_ids=(),
            branch_labels=("rel",),
        )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (b"TITLE = '${message}'\n", "'; import this; x = '"),
        (b"def upgrade():\n    op.execute(f'-- ${message}')\n", '{open("marker", "w")}'),
        (b"def upgrade():\n    op.execute('${message}')\n", "'); open('x', 'w'); ('"),
    ],
    ids=["statement", "f-string-in-function", "call-in-function"],
)
def test_a_message_that_would_become_code_in_the_template_is_refused(
    extra: bytes, message: str
) -> None:
    with pytest.raises(MergeError) as error:
        _render(template=PLAIN + extra, message=message)
    assert str(error.value) == (
        "The merge file rendered from migrations/script.py.mako has other code at line 3 than "
        "the same template filled with stand-in values: an id, a label or the message would "
        "become code, not text, so the bot wrote nothing"
    )


def test_a_message_in_a_comment_stays_a_comment() -> None:
    template = PLAIN + b"# ${up_revision}: ${message}\nX = 1\n"
    assert _render(template=template, message="x = 1").text.endswith("# ccc: x = 1\nX = 1\n")


@pytest.mark.parametrize(
    "location",
    ["migrations/../migrations/versions", "../outside/versions", "/srv/versions"],
)
def test_a_merge_path_outside_the_tree_or_not_normalised_is_refused(location: str) -> None:
    env = replace(environment(Setup()), version_locations=(location,))
    with pytest.raises(MergeError, match="is not a plain path inside the repository"):
        _render(env)


def test_reparent_refuses_a_hostile_new_parent() -> None:
    with pytest.raises(MergeError, match=r"^v/x.py: the new parent 'b\"\"\"\\n' has characters"):
        reparent('down_revision = "a1"\n', "v/x.py", ("a1",), ('b"""\n',))


def test_reparent_refuses_an_edit_that_would_turn_text_into_code(tmp_path: Path) -> None:
    # A docstring made of two literals: the Revises line edit takes the first one's closing
    # quotes, and a string further down would end early, running what it held.
    source = (
        "\"\"\"m\nRevises: a1\"\"\" '''\n'''\n"
        f'x = """\nopen({MARKER!r}, "w").close()\n#"""\n'
        'down_revision = "a1"\n'
    )
    assert import_in_subprocess(tmp_path, source) == (0, False)
    with pytest.raises(MergeError, match=r"^v/x.py: re-parenting would change more than"):
        reparent(source, "v/x.py", ("a1",), ("b2",))
