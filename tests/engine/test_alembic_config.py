"""Tests for `engine.alembic_config`: Alembic configuration discovery, checked against real
Alembic."""

from __future__ import annotations

import os
import re
import sys
import textwrap
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic_heads_bot.adapters.disk import DiskTree
from alembic_heads_bot.engine.alembic_config import (
    MAX_CONFIG_BYTES,
    MAX_INTERPOLATION,
    MAX_TOML_NESTING,
    Discovery,
    discover,
    load_config_file,
    select,
)
from alembic_heads_bot.engine.bot_config import BOT_CONFIG_PATH, BotConfig, EnvironmentSpec
from alembic_heads_bot.engine.model import Environment, Problem
from budget import cost_of
from memtree import MemoryTree, write_tree
from sqlalchemy import create_engine, inspect
from sqlalchemy.util import asbool

Files = Mapping[str, str | bytes]


def script_dir(path: str, *revisions: str) -> dict[str, str]:
    """The files `alembic init` leaves in a script directory, plus revision files."""
    files = {f"{path}/env.py": "", f"{path}/script.py.mako": "", f"{path}/README": ""}
    files.update({f"{path}/versions/{name}": "" for name in revisions or ("r1_first.py",)})
    return files


def ini(body: str) -> str:
    """An ini (or TOML) text written as an indented triple-quoted block."""
    return textwrap.dedent(body).strip("\n") + "\n"


GENERIC_INI = ini("""
[alembic]
script_location = %(here)s/alembic
prepend_sys_path = .
path_separator = os
sqlalchemy.url = driver://user:pass@localhost/dbname

[loggers]
keys = root,sqlalchemy,alembic

[logger_root]
level = WARNING
handlers = console
qualname =
""")

# branches.rst "Working with Multiple Bases", with a working separator line.
NETWORKING_INI = ini("""
[alembic]
script_location = alembic
# A separator for the location paths must be defined first.
path_separator = os
version_locations = %(here)s/model/networking:%(here)s/alembic/versions
""")

COOKBOOK_INI = ini("""
[DEFAULT]
# all defaults shared between environments go here
sqlalchemy.url = postgresql://scott:tiger@hostname/mydatabase

[schema1]
# path to env.py and migration scripts for schema1
script_location = myproject/revisions/schema1

[schema2]
script_location = myproject/revisions/schema2
file_template = %%(rev)s_two_%%(slug)s

[schema3]
script_location = myproject/revisions/db2
sqlalchemy.url = postgresql://scott:tiger@hostname/myotherdatabase
""")


def found(files: Files, bot_config: BotConfig | None = None) -> Discovery:
    return discover(MemoryTree(files), bot_config)


def only(discovery: Discovery) -> Environment:
    assert len(discovery.environments) == 1, discovery
    return discovery.environments[0]


def named(discovery: Discovery, name: str) -> Environment:
    matches = [env for env in discovery.environments if env.name == name]
    assert matches, [env.name for env in discovery.environments]
    return matches[0]


def codes(problems: tuple[Problem, ...]) -> list[str]:
    return [problem.code for problem in problems]


def single_problem(problems: tuple[Problem, ...], code: str = "config-error") -> Problem:
    matching = [problem for problem in problems if problem.code == code]
    assert len(matching) == 1, problems
    return matching[0]


# --- the oracle: real Alembic, run on the same files written to a temporary directory ----------


def alembic_settings(
    root: Path, files: Files, config: str, section: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, object]:
    """What Alembic's Config + ScriptDirectory.from_config make of `config`, run from its dir."""
    write_tree(root, files)
    directory = (root / config).parent
    monkeypatch.chdir(directory)
    name = Path(config).name
    cfg = Config(
        "alembic.ini" if name == "pyproject.toml" else name,
        toml_file="pyproject.toml",
        ini_section=section,
    )
    saved_path = sys.path[:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            script = ScriptDirectory.from_config(cfg)
            revision_environment = asbool(cfg.get_alembic_option("revision_environment"))
    finally:
        sys.path[:] = saved_path

    def tree_path(path: object) -> str:
        absolute = os.path.normpath(directory / str(path))
        return Path(os.path.relpath(absolute, root)).as_posix()

    return {
        "script_location": tree_path(script.dir),
        "version_locations": tuple(dict.fromkeys(map(tree_path, script._version_locations))),
        "file_template": script.file_template,
        "truncate_slug_length": script.truncate_slug_length,
        "sourceless": script.sourceless,
        "recursive_version_locations": script.recursive_version_locations,
        "output_encoding": script.output_encoding,
        "timezone": script.timezone,
        "post_write_hooks": tuple(hook["_hook_name"] for hook in script.hooks),
        "revision_environment": revision_environment,
    }


def alembic_failure(
    root: Path, files: Files, config: str, section: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The text of the exception Alembic raises on `config`."""
    with pytest.raises(Exception) as caught:
        alembic_settings(root, files, config, section, monkeypatch)
    return str(caught.value)


def settings_of(env: Environment) -> dict[str, object]:
    return {
        "script_location": env.script_location,
        "version_locations": env.version_locations,
        "file_template": env.file_template,
        "truncate_slug_length": env.truncate_slug_length,
        "sourceless": env.sourceless,
        "recursive_version_locations": env.recursive_version_locations,
        "output_encoding": env.output_encoding,
        "timezone": env.timezone,
        "post_write_hooks": env.post_write_hooks,
        "revision_environment": env.revision_environment,
    }


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]
    env_name: str  # the environment's name in our discovery
    config: str = "alembic.ini"  # the file Alembic is pointed at (-c)
    section: str = "alembic"  # -n
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def all_files(self) -> dict[str, str]:
        return {**self.files, **self.extra}


SAME_AS_ALEMBIC = [
    Case("generic-1.16-init", {"alembic.ini": GENERIC_INI, **script_dir("alembic")}, "alembic.ini"),
    Case(
        "pre-1.16-relative-script-location",
        {"alembic.ini": ini("[alembic]\nscript_location = alembic\n"), **script_dir("alembic")},
        "alembic.ini",
    ),
    Case(
        "nested-config-relative-to-its-directory",
        {"svc/alembic.ini": ini("[alembic]\nscript_location = db\n"), **script_dir("svc/db")},
        "svc/alembic.ini",
        config="svc/alembic.ini",
    ),
    Case(
        "networking-multiple-bases",
        {
            "alembic.ini": NETWORKING_INI,
            **script_dir("alembic"),
            "model/networking/3cac04ae8714_create_networking_branch.py": "",
        },
        "alembic.ini",
    ),
    Case(
        "legacy-space-split",
        {
            "alembic.ini": ini(
                """
                [alembic]
                script_location = alembic
                version_locations = %(here)s/model/networking %(here)s/alembic/versions
                """
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    Case(
        "legacy-comma-split",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\nversion_locations = a,b, c  d ,e\n"
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    Case(
        "deprecated-version-path-separator",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\nversion_path_separator = ;\n"
                "version_locations = a;b ; alembic/versions\n"
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    Case(
        "path-separator-wins-over-version-path-separator",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\npath_separator = space\n"
                "version_path_separator = ;\nversion_locations = a;b c\n"
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    Case(
        "newline-separator-multi-line-value",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\npath_separator = newline\n"
                "version_locations =\n    %(here)s/one dir\n    %(here)s/two\n"
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    Case(
        "blank-piece-is-the-working-directory-and-duplicates-dropped",
        {
            "sub/alembic.ini": ini(
                "[alembic]\nscript_location = alembic\npath_separator = :\n"
                "version_locations = a: :a:../b\n"
            ),
            **script_dir("sub/alembic"),
        },
        "sub/alembic.ini",
        config="sub/alembic.ini",
    ),
    Case(
        "default-section-inherited-by-alembic",
        {
            "alembic.ini": ini(
                "[DEFAULT]\nscript_location = %(here)s/alembic\ntruncate_slug_length = 12\n"
                "[alembic]\nsqlalchemy.url = x\n"
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    Case(
        "default-section-twice",
        {
            "alembic.ini": ini(
                """
                [DEFAULT]
                base = %(here)s
                [alembic]
                script_location = %(base)s/alembic
                [DEFAULT]
                truncate_slug_length = 7
                """
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    Case(
        "other-key-interpolation-case-insensitive-keys-colon-delimiter",
        {
            "alembic.ini": ini(
                "[DEFAULT]\nbase = %(here)s/db\n[alembic]\nScript_Location: %(base)s\n"
                "FILE_TEMPLATE = %%(year)d_%%(rev)s_%%(slug)s\n"
            ),
            **script_dir("db"),
        },
        "alembic.ini",
    ),
    Case(
        "flags-exactly-true-and-other-settings",
        {
            "alembic.ini": ini(
                """
                [alembic]
                script_location = alembic
                recursive_version_locations = True
                sourceless = true
                truncate_slug_length = 0
                timezone = Europe/Paris
                output_encoding = latin-1
                revision_environment = Yes
                """
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    Case(
        "post-write-hooks-section",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\n[post_write_hooks]\n"
                "hooks = black,  ruff\nblack.type = console_scripts\nruff.type = exec\n"
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    *[
        Case(
            f"cookbook-{section}",
            {
                "alembic.ini": COOKBOOK_INI,
                **script_dir("myproject/revisions/schema1"),
                **script_dir("myproject/revisions/schema2"),
                **script_dir("myproject/revisions/db2"),
            },
            f"alembic.ini:{section}",
            section=section,
        )
        for section in ("schema1", "schema2", "schema3")
    ],
    Case(
        "pyproject-template",
        {
            "alembic.ini": ini("[alembic]\nsqlalchemy.url = driver://u:p@h/db\n"),
            "pyproject.toml": ini(
                """
                [project]
                name = "app"

                [tool.alembic]
                script_location = "%(here)s/alembic"
                prepend_sys_path = ["."]
                file_template = "%%(rev)s-%%(slug)s"
                truncate_slug_length = 20
                recursive_version_locations = true
                revision_environment = true

                [[tool.alembic.post_write_hooks]]
                name = "ruff"
                type = "exec"
                executable = "%(here)s/.venv/bin/ruff"
                """
            ),
            **script_dir("alembic"),
        },
        "pyproject.toml",
    ),
    Case(
        "ini-wins-per-key-then-toml",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\nfile_template = ini_%%(rev)s\n"
                "version_locations =\n"
            ),
            "pyproject.toml": ini(
                """
                [tool.alembic]
                script_location = "elsewhere"
                file_template = "toml_%%(rev)s"
                version_locations = ["%(here)s/alembic/versions", "extra/versions"]
                sourceless = true
                timezone = "UTC"
                """
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    Case(
        "ini-post-write-hooks-section-hides-toml-hooks",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\n[post_write_hooks]\nhooks = black\n"
            ),
            "pyproject.toml": ini(
                '[tool.alembic]\n[[tool.alembic.post_write_hooks]]\nname = "ruff"\n'
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    Case(
        # Ten levels of references, each naming the one below three times: the deepest
        # ConfigParser allows, well inside the bot's interpolation budget.
        "interpolation-ten-levels-deep-and-three-wide",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\nfile_template = %(v9)s\nv0 = ab\n"
                + "".join(f"v{i} = %(v{i - 1})s-%(v{i - 1})s-%(v{i - 1})s\n" for i in range(1, 10))
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
    ),
    Case(
        "package-resource-script-location",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = heads_bot_pkg_a.db:migrations\n"
                "prepend_sys_path = src\npath_separator = os\n"
            ),
            "src/heads_bot_pkg_a/__init__.py": "",
            "src/heads_bot_pkg_a/db/__init__.py": "",
            **script_dir("src/heads_bot_pkg_a/db/migrations"),
        },
        "alembic.ini",
    ),
]


@pytest.mark.parametrize("case", SAME_AS_ALEMBIC, ids=lambda case: case.id)
def test_settings_match_alembic(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = named(found(case.all_files), case.env_name)
    oracle = alembic_settings(tmp_path, case.all_files, case.config, case.section, monkeypatch)
    for module in [name for name in sys.modules if name.startswith("heads_bot_pkg")]:
        del sys.modules[module]
    assert settings_of(env) == oracle
    assert not [problem for problem in env.problems if problem.severity == "error"]


@pytest.mark.parametrize(
    "template", ["generic", "async", "multidb", "pyproject", "pyproject_async"]
)
def test_alembic_init_output_is_discovered_like_alembic_reads_it(
    template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path.resolve()
    monkeypatch.chdir(root)
    command.init(Config("alembic.ini", toml_file="pyproject.toml"), "db/migrations", template)
    env = only(discover(DiskTree(root)))
    oracle = alembic_settings(root, {}, "alembic.ini", "alembic", monkeypatch)
    assert settings_of(env) == oracle
    assert env.script_location == "db/migrations"
    assert env.name == ("pyproject.toml" if template.startswith("pyproject") else "alembic.ini")
    assert env.problems == ()


def test_networking_layout_reads_both_version_directories() -> None:
    env = only(found({"alembic.ini": NETWORKING_INI, **script_dir("alembic")}))
    assert env.version_locations == ("model/networking", "alembic/versions")
    assert env.name == "alembic.ini"
    assert env.config_path == "alembic.ini"
    assert env.section == "alembic"


# --- problems that Alembic raises too: same words -------------------------------------------------


@dataclass(frozen=True)
class Failure:
    id: str
    files: dict[str, str]
    path: str  # where our problem points
    line: int | None
    config: str = "alembic.ini"
    section: str = "alembic"


FAILS_LIKE_ALEMBIC = [
    Failure(
        "interpolation-eleven-levels-deep",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\nfile_template = %(v10)s\nv0 = ab\n"
                + "".join(f"v{i} = %(v{i - 1})s\n" for i in range(1, 11))
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
        3,
    ),
    Failure(
        "inline-comment-on-path-separator (branches.rst as written)",
        {
            "alembic.ini": NETWORKING_INI.replace(
                "path_separator = os", "path_separator = os  # Use os.pathsep."
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
        4,
    ),
    Failure(
        "invalid-version-path-separator",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\nversion_path_separator = comma\n"
                "version_locations = a,b\n"
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
        3,
    ),
    Failure(
        "lone-percent-in-file-template",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\nfile_template = 100%_%%(rev)s\n"
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
        3,
    ),
    Failure(
        "unknown-interpolation-key-in-default-section",
        {
            "alembic.ini": ini(
                """
                [DEFAULT]
                file_template = %(rev)s_%(slug)s
                [alembic]
                script_location = alembic
                """
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
        2,
    ),
    Failure(
        "truncate-slug-length-not-an-integer",
        {
            "alembic.ini": ini("[alembic]\nscript_location = alembic\ntruncate_slug_length = ab\n"),
            **script_dir("alembic"),
        },
        "alembic.ini",
        3,
    ),
    Failure(
        "script-directory-missing",
        {"alembic.ini": ini("[alembic]\n\nscript_location = mig\n")},
        "alembic.ini",
        3,
    ),
    Failure(
        "toml-string-boolean",
        {
            "pyproject.toml": ini(
                '[tool.alembic]\nscript_location = "alembic"\nsourceless = "true"\n'
            ),
            **script_dir("alembic"),
        },
        "pyproject.toml",
        3,
        config="pyproject.toml",
    ),
    Failure(
        "toml-float",
        {
            "pyproject.toml": ini(
                '[tool.alembic]\nscript_location = "alembic"\n\ntruncate_slug_length = 4.5\n'
            ),
            **script_dir("alembic"),
        },
        "pyproject.toml",
        4,
        config="pyproject.toml",
    ),
    Failure(
        "toml-single-percent-file-template",
        {
            "pyproject.toml": ini(
                '[tool.alembic]\nscript_location = "alembic"\nfile_template = "%(rev)s_%(slug)s"\n'
            ),
            **script_dir("alembic"),
        },
        "pyproject.toml",
        3,
        config="pyproject.toml",
    ),
    Failure(
        "revision-environment-not-a-boolean",
        {
            "alembic.ini": ini(
                "[alembic]\nscript_location = alembic\nrevision_environment = sure\n"
            ),
            **script_dir("alembic"),
        },
        "alembic.ini",
        3,
    ),
]


@pytest.mark.parametrize("case", FAILS_LIKE_ALEMBIC, ids=lambda case: case.id)
def test_errors_carry_alembics_words_and_the_key_line(
    case: Failure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    discovery = load_config_file(MemoryTree(case.files), case.config, case.section)
    problem = single_problem(only(discovery).problems)
    oracle = alembic_failure(tmp_path, case.files, case.config, case.section, monkeypatch)
    assert oracle in problem.message
    assert (problem.path, problem.line, problem.severity) == (case.path, case.line, "error")


def test_missing_script_directory_is_reported_with_the_environment_kept() -> None:
    env = only(found({"sub/alembic.ini": ini("[alembic]\nscript_location = %(here)s/mig\n")}))
    problem = single_problem(env.problems)
    assert problem.message == (
        "Path doesn't exist: sub/mig.  Please use the 'init' command to create a new scripts "
        "folder. (script_location = '%(here)s/mig')"
    )
    assert (env.name, env.script_location, env.version_locations) == (
        "sub/alembic.ini",
        "sub/mig",
        ("sub/mig/versions",),
    )


def test_toml_string_boolean_message_is_alembics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        "pyproject.toml": ini(
            '[tool.alembic]\nscript_location = "a"\nrecursive_version_locations = 1\n'
        ),
        **script_dir("a"),
    }
    problem = single_problem(only(found(files)).problems)
    oracle = alembic_failure(tmp_path, files, "pyproject.toml", "alembic", monkeypatch)
    assert oracle == "boolean value expected for TOML parameter 'recursive_version_locations'"
    assert problem.message.startswith(oracle)


@pytest.mark.parametrize(
    ("section", "hint"),
    [
        ("nosuch", " (alembic.ini has no [nosuch] section)"),
        ("Alembic", " (alembic.ini has no [Alembic] section)"),
    ],
)
def test_missing_section_is_no_script_location(
    section: str, hint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"alembic.ini": ini("[alembic]\nscript_location = a\n"), **script_dir("a")}
    discovery = load_config_file(MemoryTree(files), "alembic.ini", section)
    oracle = alembic_failure(tmp_path, files, "alembic.ini", section, monkeypatch)
    assert discovery.environments == ()
    problem = single_problem(discovery.problems)
    assert problem.message == oracle + hint
    assert problem.path == "alembic.ini"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "[alembic]\nscript_location = a\nscript_location = b\n",
            3,
            "option 'script_location' in section 'alembic' already exists",
        ),
        ("[alembic]\nscript_location = a\n[alembic]\n", 3, "section 'alembic' already exists"),
        ("script_location = a\n[alembic]\n", 1, "file contains no section headers"),
        (
            "[alembic]\nscript_location = a\nthis line has no delimiter\n",
            3,
            "cannot parse 'this line has no delimiter'",
        ),
    ],
)
def test_ini_syntax_errors_are_file_problems_with_their_line(
    text: str, line: int, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"alembic.ini": text, **script_dir("a")}
    discovery = found(files)
    problem = single_problem(discovery.problems)
    assert words in problem.message
    assert (problem.path, problem.line) == ("alembic.ini", line)
    # Alembic fails on the same files; ConfigParser's exception names the same line.
    oracle = alembic_failure(tmp_path, files, "alembic.ini", "alembic", monkeypatch)
    assert re.search(rf"line:?\s+{line}\b", oracle)
    # The script directory is still checked, as an unconfigured environment.
    assert [env.name for env in discovery.environments] == ["a"]


def test_byte_order_mark_is_explained() -> None:
    problem = single_problem(
        found({"alembic.ini": "\ufeff[alembic]\nscript_location = a\n"}).problems
    )
    assert "byte order mark" in problem.message
    assert problem.line == 1


def test_undecodable_and_unreadable_ini_are_file_problems() -> None:
    tree = MemoryTree(
        {"a/alembic.ini": b"[alembic]\nscript_location = \xff\n"}, unreadable=["b/alembic.ini"]
    )
    discovery = discover(tree)
    assert sorted((p.code, p.path) for p in discovery.problems) == [
        ("config-error", "a/alembic.ini"),
        ("no-environment", None),
        ("unreadable-file", "b/alembic.ini"),
    ]
    decode = single_problem(discovery.problems)
    assert "not valid UTF-8" in decode.message


def test_crlf_line_endings_read_like_universal_newlines() -> None:
    files = {
        "alembic.ini": "[alembic]\r\nscript_location = a\r\nfile_template = x_%%(rev)s\r\n",
        **script_dir("a"),
    }
    env = only(found(files))
    assert (env.script_location, env.file_template) == ("a", "x_%(rev)s")


# --- our own checks (Alembic does not fail on these, or fails elsewhere) --------------------------


def test_inline_comment_hint() -> None:
    files = {
        "alembic.ini": ini(
            """
            [alembic]
            script_location = a
            path_separator = os ; os.pathsep
            prepend_sys_path = .
            """
        ),
        **script_dir("a"),
    }
    problem = single_problem(only(found(files)).problems)
    assert problem.message == (
        "'os ; os.pathsep' is not a valid value for path_separator; expected 'space', 'newline', "
        "'os', ':', ';' (an .ini file has no inline comments: put the comment on its own line)"
    )
    assert problem.line == 3


def test_path_separator_is_only_read_when_a_path_list_needs_it() -> None:
    files = {
        "alembic.ini": ini("[alembic]\nscript_location = a\npath_separator = bogus\n"),
        **script_dir("a"),
    }
    assert only(found(files)).problems == ()


def test_toml_version_locations_string_is_an_error() -> None:
    files = {
        "pyproject.toml": ini(
            '[tool.alembic]\nscript_location = "a"\nversion_locations = "a/versions"\n'
        ),
        **script_dir("a"),
    }
    env = only(found(files))
    problem = single_problem(env.problems)
    assert (
        "must be an array of strings (Alembic would read a string character by character)"
        in problem.message
    )
    assert (problem.path, problem.line) == ("pyproject.toml", 3)
    assert env.version_locations == ()


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        (
            "script_location = 5",
            "script_location in [tool.alembic] must be a string, not an integer",
        ),
        (
            'script_location = "a"\ntimezone = ["UTC"]',
            "timezone in [tool.alembic] must be a string, not an array",
        ),
        (
            'script_location = "a"\nversion_locations = ["a", 3]',
            "unsupported operand type(s) for %: 'int' and 'dict'",
        ),
        ('script_location = "a"\ntruncate_slug_length = "x%s"', "10: \"x{'here': '<repo>'}\""),
        ('script_location = "a"\npost_write_hooks = ["ruff"]', "must be an array of tables"),
        ('script_location = "a"\n[[tool.alembic.post_write_hooks]]\ntype = "exec"', "needs a name"),
        (
            'script_location = "a"\nrevision_environment = "perhaps"',
            "String is not true/false: 'perhaps'",
        ),
        ('script_location = "a"\nfile_template = "%(nope)s"', "unknown %-key 'nope'"),
    ],
)
def test_toml_type_problems(toml: str, words: str) -> None:
    files = {"pyproject.toml": f"[tool.alembic]\n{toml}\n", **script_dir("a")}
    problem = single_problem(named(found(files), "pyproject.toml").problems)
    assert words in problem.message
    assert problem.path == "pyproject.toml"


def test_toml_revision_environment_and_truncate_accept_native_types() -> None:
    files = {
        "pyproject.toml": ini(
            """
            [tool.alembic]
            script_location = "a"
            revision_environment = true
            truncate_slug_length = "12"
            """
        ),
        **script_dir("a"),
    }
    env = only(found(files))
    assert (env.revision_environment, env.truncate_slug_length, env.problems) == (True, 12, ())


def test_bad_toml_mentioning_alembic_is_reported_with_its_line() -> None:
    files = {
        "pyproject.toml": '[tool.alembic]\nscript_location = "a\n',
        "lib/pyproject.toml": "[x\n",
        **script_dir("a"),
    }
    discovery = found(files)
    problem = single_problem(discovery.problems)
    assert (problem.path, problem.line) == ("pyproject.toml", 2)
    assert problem.message.startswith("invalid TOML:")


def test_tool_alembic_not_a_table() -> None:
    problem = single_problem(found({"pyproject.toml": "[tool]\nalembic = 3\n"}).problems)
    assert problem.message.startswith("Incorrect TOML format")


def test_outside_the_repository() -> None:
    files = {"sub/alembic.ini": ini("[alembic]\nscript_location = %(here)s/../../elsewhere\n")}
    env = only(found(files))
    problem = single_problem(env.problems)
    assert problem.message == (
        "script_location = '%(here)s/../../elsewhere': '/elsewhere' is outside the repository"
    )
    assert (problem.path, problem.line) == ("sub/alembic.ini", 2)


def test_absolute_version_location_is_outside_the_repository() -> None:
    files = {
        "alembic.ini": ini(
            """
            [alembic]
            script_location = a
            path_separator = os
            version_locations = /srv/app/versions:a/versions
            """
        ),
        **script_dir("a"),
    }
    env = only(found(files))
    assert env.version_locations == ("a/versions",)
    problem = single_problem(env.problems)
    assert (
        problem.message
        == "version_locations = '/srv/app/versions:a/versions': '/srv/app/versions' is outside "
        "the repository"
    )
    assert problem.line == 4


def test_package_resource_found_without_importing() -> None:
    files = {
        "alembic.ini": ini(
            """
            [alembic]
            script_location = app.db:migrations
            version_locations = app.db:extra app:migrations/versions
            """
        ),
        "src/app/db/__init__.py": "raise SystemExit('never imported')",
        "src/app/__init__.py": "",
        **script_dir("src/app/db/migrations"),
        "src/app/db/extra/x.py": "",
    }
    env = only(found(files))
    assert env.script_location == "src/app/db/migrations"
    assert env.version_locations == ("src/app/db/extra", "src/app/migrations/versions")


def test_package_resource_not_found() -> None:
    files = {
        "alembic.ini": ini(
            "[alembic]\nscript_location = nowhere.pkg:migrations\nprepend_sys_path = lib\n"
        )
    }
    env = only(found(files))
    problem = single_problem(env.problems)
    assert problem.message == (
        "script_location entry 'nowhere.pkg:migrations' names package 'nowhere.pkg', which is not "
        "a directory of the repository under any of: lib, ., src (it is resolved without "
        "importing it)"
    )
    assert problem.line == 2


def test_symlinked_script_directory_is_followed() -> None:
    tree = MemoryTree(
        {
            "alembic.ini": ini("[alembic]\nscript_location = migrations\n"),
            **script_dir("shared/migrations"),
        },
        links={"migrations": "shared/migrations"},
    )
    env = only(discover(tree))
    assert (env.script_location, env.version_locations, env.problems) == (
        "shared/migrations",
        ("shared/migrations/versions",),
        (),
    )


def test_unknown_output_encoding_is_a_warning() -> None:
    files = {
        "alembic.ini": ini("[alembic]\nscript_location = a\noutput_encoding = klingon\n"),
        **script_dir("a"),
    }
    problem = single_problem(only(found(files)).problems, "config-warning")
    assert (problem.severity, problem.line) == ("warning", 3)
    assert "klingon" in problem.message


# --- discovery -----------------------------------------------------------------------------------


def test_several_sections_and_names_sorted() -> None:
    files = {
        "alembic.ini": COOKBOOK_INI,
        **script_dir("myproject/revisions/schema1"),
        **script_dir("myproject/revisions/schema2"),
        **script_dir("myproject/revisions/db2"),
    }
    discovery = found(files)
    assert [(env.name, env.section, env.script_location) for env in discovery.environments] == [
        ("alembic.ini:schema1", "schema1", "myproject/revisions/schema1"),
        ("alembic.ini:schema2", "schema2", "myproject/revisions/schema2"),
        ("alembic.ini:schema3", "schema3", "myproject/revisions/db2"),
    ]
    assert discovery.problems == ()


def test_default_script_location_does_not_make_every_section_an_environment() -> None:
    files = {
        "alembic.ini": ini(
            """
            [DEFAULT]
            script_location = a
            [alembic]
            [loggers]
            keys = root
            [extra]
            script_location = b
            """
        ),
        **script_dir("a"),
        **script_dir("b"),
    }
    assert [env.name for env in found(files).environments] == ["alembic.ini", "alembic.ini:extra"]


def test_default_script_location_without_alembic_section_is_not_an_environment() -> None:
    files = {"alembic.ini": ini("[DEFAULT]\nscript_location = a\n[loggers]\nkeys = root\n")}
    discovery = found(files)
    assert discovery.environments == ()
    assert codes(discovery.problems) == ["config-warning", "no-environment"]


def test_pyproject_alone_and_beside_an_ini() -> None:
    files = {
        "a/pyproject.toml": ini('[tool.alembic]\nscript_location = "%(here)s/db"\n'),
        **script_dir("a/db"),
        "b/alembic.ini": ini("[alembic]\nscript_location = db\n"),
        "b/pyproject.toml": ini('[tool.alembic]\nscript_location = "ignored"\ntimezone = "UTC"\n'),
        **script_dir("b/db"),
        "c/pyproject.toml": ini('[project]\nname = "c"\n'),
    }
    discovery = found(files)
    assert [
        (env.name, env.config_path, env.section, env.timezone) for env in discovery.environments
    ] == [
        ("a/pyproject.toml", "a/pyproject.toml", None, None),
        ("b/alembic.ini", "b/alembic.ini", "alembic", "UTC"),
    ]
    assert discovery.problems == ()


def test_named_ini_section_falls_back_to_toml() -> None:
    files = {
        "alembic.ini": ini("[alembic]\nsqlalchemy.url = x\n[other]\nscript_location = o\n"),
        "pyproject.toml": ini(
            '[tool.alembic]\nscript_location = "m"\nfile_template = "t_%%(rev)s"\n'
        ),
        **script_dir("m"),
        **script_dir("o"),
    }
    discovery = found(files)
    assert [
        (env.name, env.script_location, env.file_template) for env in discovery.environments
    ] == [
        ("alembic.ini:other", "o", "t_%(rev)s"),
        ("pyproject.toml", "m", "t_%(rev)s"),
    ]


def test_skipped_directories_and_virtualenvs() -> None:
    inside = ini("[alembic]\nscript_location = %(here)s/m\n")
    files = {
        "app/alembic.ini": inside,
        **script_dir("app/m"),
        "env/pyvenv.cfg": "home = /usr/bin",
        "env/lib/python3.11/alembic.ini": inside,
        **script_dir("env/lib/python3.11/m"),
        "node_modules/x/alembic.ini": inside,
        ".tox/py/alembic.ini": inside,
        "lib/site-packages/alembic/templates/generic/env.py": "",
        "lib/site-packages/alembic/templates/generic/script.py.mako": "",
        "lib/site-packages/alembic/templates/generic/versions/x.py": "",
    }
    discovery = found(files)
    assert [env.name for env in discovery.environments] == ["app/alembic.ini"]
    assert discovery.problems == ()


def test_flask_migrate_layout() -> None:
    files = {
        "migrations/alembic.ini": ini(
            """
            [alembic]
            # template used to generate migration files
            file_template = %%(rev)s_flask

            [loggers]
            keys = root
            """
        ),
        **script_dir("migrations"),
    }
    discovery = found(files)
    env = only(discovery)
    assert (env.name, env.config_path, env.section, env.script_location, env.file_template) == (
        "migrations",
        "migrations/alembic.ini",
        "alembic",
        "migrations",
        "%(rev)s_flask",
    )
    warning = single_problem(env.problems, "unconfigured-environment")
    assert warning.severity == "warning"
    assert warning.path == "migrations"
    assert BOT_CONFIG_PATH in warning.message
    assert discovery.problems == ()  # the ini without script_location is not reported


def test_flask_migrate_directory_named_by_another_config() -> None:
    files = {
        "alembic.ini": ini("[alembic]\nscript_location = migrations\n"),
        "migrations/alembic.ini": ini("[alembic]\nfile_template = %%(rev)s_flask\n"),
        **script_dir("migrations"),
    }
    discovery = found(files)
    assert [(env.name, env.file_template) for env in discovery.environments] == [
        ("alembic.ini", "%(rev)s_%(slug)s")
    ]
    assert discovery.problems == ()


def test_script_directory_without_any_config() -> None:
    env = only(found(script_dir("db/migrations")))
    assert (env.name, env.config_path, env.section) == ("db/migrations", None, None)
    assert env.version_locations == ("db/migrations/versions",)
    assert codes(env.problems) == ["unconfigured-environment"]
    assert "default settings" in env.problems[0].message


def test_configured_script_directory_is_not_also_unconfigured() -> None:
    files = {
        "alembic.ini": GENERIC_INI,
        **script_dir("alembic"),
        **script_dir("tests/fixtures/env"),
    }
    assert [env.name for env in found(files).environments] == ["alembic.ini", "tests/fixtures/env"]


def test_env_py_without_versions_directory_is_not_an_environment() -> None:
    discovery = found(
        {"pkg/templates/generic/env.py": "", "pkg/templates/generic/script.py.mako": ""}
    )
    assert discovery.environments == ()
    assert codes(discovery.problems) == ["no-environment"]


def test_no_environment_warning() -> None:
    discovery = found({"README.md": "hello"})
    problem = single_problem(discovery.problems, "no-environment")
    assert problem.severity == "warning"
    assert BOT_CONFIG_PATH in problem.message


def test_ini_without_script_location_elsewhere_is_a_warning() -> None:
    discovery = found({"alembic.ini": ini("[alembic]\nsqlalchemy.url = x\n"), **script_dir("db")})
    problem = single_problem(discovery.problems, "config-warning")
    assert problem.path == "alembic.ini"
    assert "No 'script_location' key found in configuration." in problem.message
    assert [env.name for env in discovery.environments] == ["db"]


def test_environment_problems_do_not_hide_other_environments() -> None:
    files = {
        "a/alembic.ini": "[alembic\n",
        "b/alembic.ini": ini("[alembic]\nscript_location = m\ntruncate_slug_length = x\n"),
        **script_dir("b/m"),
        "c/alembic.ini": ini("[alembic]\nscript_location = m\n"),
        **script_dir("c/m"),
    }
    discovery = found(files)
    assert [env.name for env in discovery.environments] == ["b/alembic.ini", "c/alembic.ini"]
    assert codes(named(discovery, "b/alembic.ini").problems) == ["config-error"]
    assert [(p.path, p.line) for p in discovery.problems] == [("a/alembic.ini", 1)]


def test_root_script_location_is_dot() -> None:
    files = {
        "alembic.ini": ini("[alembic]\nscript_location = %(here)s\n"),
        "env.py": "",
        "versions/a.py": "",
    }
    env = only(found(files))
    assert (env.script_location, env.version_locations, env.problems) == (".", ("versions",), ())


# --- load_config_file and select -----------------------------------------------------------------


def test_load_config_file_reads_one_file_with_its_sibling() -> None:
    files = {
        "alembic.ini": COOKBOOK_INI,
        "svc/pyproject.toml": ini('[tool.alembic]\nfile_template = "t"\n'),
        "svc/db.ini": ini("[alembic]\nscript_location = m\n"),
        **script_dir("svc/m"),
    }
    tree = MemoryTree(files)
    env = only(load_config_file(tree, "svc/db.ini"))
    assert (env.name, env.file_template) == ("svc/db.ini", "t")
    assert only(load_config_file(tree, "alembic.ini", "schema2")).name == "alembic.ini:schema2"
    assert len(load_config_file(tree, "alembic.ini").environments) == 3


def test_load_config_file_missing_file() -> None:
    discovery = load_config_file(MemoryTree({}), "./conf/alembic.ini")
    problem = single_problem(discovery.problems)
    assert (problem.message, problem.path) == (
        "config file conf/alembic.ini not found",
        "conf/alembic.ini",
    )


def test_load_config_file_without_script_location_is_an_error() -> None:
    discovery = load_config_file(
        MemoryTree({"pyproject.toml": '[project]\nname = "x"\n'}), "pyproject.toml"
    )
    assert (
        single_problem(discovery.problems).message
        == "No 'script_location' key found in configuration."
    )


def test_select() -> None:
    files = {
        "alembic.ini": COOKBOOK_INI,
        **script_dir("myproject/revisions/schema1"),
        **script_dir("myproject/revisions/schema2"),
        **script_dir("myproject/revisions/db2"),
        "other/alembic.ini": ini("[schema1]\nscript_location = x\n"),
        **script_dir("other/x"),
    }
    discovery = found(files)
    assert select(discovery, "alembic.ini:schema2").name == "alembic.ini:schema2"
    assert select(discovery, "schema3").name == "alembic.ini:schema3"
    assert select(discovery, "./myproject/revisions/db2/").name == "alembic.ini:schema3"
    assert select(discovery, "schema1") is None  # two sections are named schema1
    assert select(discovery, "nothing") is None


# --- the bot config's environments ---------------------------------------------------------------


def spec(line: int = 3, **fields: object) -> BotConfig:
    return BotConfig(environments=(EnvironmentSpec(**fields, line=line),))  # type: ignore[arg-type]


def test_bot_config_environments_replace_the_scan() -> None:
    files = {
        "alembic.ini": COOKBOOK_INI,
        **script_dir("myproject/revisions/schema1"),
        **script_dir("myproject/revisions/schema2"),
        **script_dir("myproject/revisions/db2"),
        **script_dir("unrelated"),
    }
    config = BotConfig(
        environments=(
            EnvironmentSpec(config="alembic.ini", section="schema2", name="two"),
            EnvironmentSpec(script_location="legacy", version_locations=("legacy/v1", "legacy/v2")),
        )
    )
    discovery = found({**files, "legacy/v1/a.py": ""}, config)
    assert [
        (env.name, env.script_location, env.version_locations) for env in discovery.environments
    ] == [
        ("legacy", "legacy", ("legacy/v1", "legacy/v2")),
        ("two", "myproject/revisions/schema2", ("myproject/revisions/schema2/versions",)),
    ]
    assert named(discovery, "two").file_template == "%(rev)s_two_%(slug)s"
    assert discovery.problems == ()


def test_bot_config_flask_migrate_config_with_script_location() -> None:
    files = {
        "app/migrations/alembic.ini": ini("[alembic]\ntruncate_slug_length = 9\n"),
        **script_dir("app/migrations"),
    }
    env = only(
        found(files, spec(config="app/migrations/alembic.ini", script_location="app/migrations"))
    )
    assert (env.name, env.script_location, env.truncate_slug_length, env.problems) == (
        "app/migrations/alembic.ini",
        "app/migrations",
        9,
        (),
    )


def test_bot_config_missing_config_file() -> None:
    discovery = found({}, spec(line=4, config="db/alembic.ini"))
    problem = single_problem(discovery.problems)
    assert (problem.message, problem.path, problem.line) == (
        "environment config file db/alembic.ini not found",
        BOT_CONFIG_PATH,
        4,
    )


def test_bot_config_missing_script_location() -> None:
    env = only(found({}, spec(line=7, script_location="gone")))
    problem = single_problem(env.problems)
    assert problem.message.startswith("Path doesn't exist: gone.  Please use the 'init' command")
    assert (problem.path, problem.line) == (BOT_CONFIG_PATH, 7)


def test_bot_config_name_needs_a_section_when_the_file_has_several() -> None:
    files = {"alembic.ini": COOKBOOK_INI}
    discovery = found(files, spec(config="alembic.ini", name="main"))
    assert discovery.environments == ()
    problem = single_problem(discovery.problems)
    assert "defines several environments" in problem.message
    assert (problem.path, problem.line) == (BOT_CONFIG_PATH, 3)


def test_bot_config_duplicate_names() -> None:
    config = BotConfig(
        environments=(
            EnvironmentSpec(script_location="a", name="db"),
            EnvironmentSpec(script_location="b", name="db"),
        )
    )
    discovery = found({**script_dir("a"), **script_dir("b")}, config)
    assert "two environments are named 'db'" in single_problem(discovery.problems).message


def test_empty_bot_config_environments_scan_the_tree() -> None:
    files = {"alembic.ini": GENERIC_INI, **script_dir("alembic")}
    assert only(found(files, BotConfig())).name == "alembic.ini"


# --- the version table env.py configures (`engine.env_py`) ----------------------------------------

ENV_PY_MAIN_OPTION = """\
from alembic import context
from sqlalchemy import create_engine

config = context.config


def run_migrations_online():
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            version_table=config.get_main_option("version_table", "env_py_default"),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
"""

SECTIONS_INI = ini("""
[DEFAULT]
version_table = shared_versions
sqlalchemy.url = sqlite:///%(here)s/oracle.db

[first]
script_location = %(here)s/migrations

[second]
script_location = %(here)s/migrations
version_table = second_versions
""")


def test_environments_get_the_version_table_their_env_py_configures() -> None:
    env_py = "from alembic import context\ncontext.configure(version_table='app_versions')\n"
    files = {
        "alembic.ini": ini("[alembic]\nscript_location = db\n"),
        **script_dir("db"),
        "db/env.py": env_py,
    }
    env = only(found(files))
    assert (env.version_table, env.version_table_schema, env.problems) == ("app_versions", None, ())


def test_env_py_options_are_the_environments_ini_section() -> None:
    discovery = found({"alembic.ini": SECTIONS_INI, "migrations/env.py": ENV_PY_MAIN_OPTION})
    assert [(env.name, env.version_table) for env in discovery.environments] == [
        ("alembic.ini:first", "shared_versions"),  # from [DEFAULT]
        ("alembic.ini:second", "second_versions"),
    ]


@pytest.mark.parametrize("section", ["first", "second"])
def test_env_py_version_table_matches_alembic_stamp(
    section: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real Alembic, run on this test's own env.py, creates the table discovery names."""
    files = {
        "alembic.ini": SECTIONS_INI,
        "migrations/env.py": ENV_PY_MAIN_OPTION,
        "migrations/versions/a1_first.py": 'revision = "a1"\ndown_revision = None\n',
    }
    env = named(found(files), f"alembic.ini:{section}")
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    command.stamp(Config("alembic.ini", ini_section=section), "head")
    engine = create_engine(f"sqlite:///{tmp_path / 'oracle.db'}")
    try:
        assert inspect(engine).get_table_names() == [env.version_table]
    finally:
        engine.dispose()


def test_pyproject_environment_reads_tool_alembic_through_get_alembic_option() -> None:
    files = {
        "pyproject.toml": ini("""
            [tool.alembic]
            script_location = "%(here)s/migrations"
            version_table = "toml_versions"
            version_table_schema = "audit"
            """),
        **script_dir("migrations"),
        "migrations/env.py": (
            "from alembic import context\nconfig = context.config\ncontext.configure(\n"
            '    version_table=config.get_alembic_option("version_table"),\n'
            '    version_table_schema=config.get_main_option("version_table_schema"),\n'
            ")\n"
        ),
    }
    env = only(found(files))
    # get_main_option never reads pyproject.toml, so the schema stays Alembic's default.
    assert (env.version_table, env.version_table_schema, env.problems) == (
        "toml_versions",
        None,
        (),
    )


def test_unconfigured_and_bot_config_environments_read_env_py() -> None:
    env_py = 'from alembic import context\ncontext.configure(version_table_schema="legacy")\n'
    files = {**script_dir("legacy"), "legacy/env.py": env_py}
    scanned = only(found(files))
    assert (scanned.version_table, scanned.version_table_schema) == ("alembic_version", "legacy")
    assert codes(scanned.problems) == ["unconfigured-environment"]
    listed = only(found(files, spec(script_location="legacy")))
    assert (listed.version_table, listed.version_table_schema) == ("alembic_version", "legacy")
    flask = only(
        found(
            {**files, "legacy/alembic.ini": ini("[alembic]\n")},
            spec(config="legacy/alembic.ini", script_location="legacy"),
        )
    )
    assert flask.version_table_schema == "legacy"


def test_symlinked_env_py_is_followed() -> None:
    env_py = 'from alembic import context\ncontext.configure(version_table="shared")\n'
    files = {
        "alembic.ini": ini("[alembic]\nscript_location = db\n"),
        **script_dir("db"),
        "shared/env.py": env_py,
    }
    del files["db/env.py"]
    env = only(discover(MemoryTree(files, links={"db/env.py": "../shared/env.py"})))
    assert (env.version_table, env.problems) == ("shared", ())


def test_unusable_env_py_is_a_warning_and_the_environment_is_kept() -> None:
    """The warnings wait in version_table_problems: only a database of the environment that
    lacks the guessed table makes them worth saying (`adapters.databases`)."""
    files = {"alembic.ini": ini("[alembic]\nscript_location = db\n"), **script_dir("db")}
    broken = only(found({**files, "db/env.py": "def run(:\n    pass\n"}))
    assert broken.problems == ()
    problem = single_problem(broken.version_table_problems, "config-warning")
    assert (problem.path, problem.line, problem.severity) == ("db/env.py", 1, "warning")
    assert problem.message.startswith("db/env.py line 1: Python cannot parse it")
    assert broken.version_table == "alembic_version"
    del files["db/env.py"]
    unreadable = only(discover(MemoryTree(files, unreadable=["db/env.py"])))
    problem = single_problem(unreadable.version_table_problems, "config-warning")
    assert "db/env.py: the file cannot be read (" in problem.message
    assert codes(unreadable.version_table_problems) == ["config-warning"]


def test_missing_env_py_is_the_default_without_a_problem() -> None:
    files = {"alembic.ini": ini("[alembic]\nscript_location = db\n"), "db/versions/a.py": ""}
    env = only(found(files))
    assert (env.version_table, env.version_table_schema, env.problems) == (
        "alembic_version",
        None,
        (),
    )


# --- bounded work: hostile config files cost a bounded time and memory -------------------------

# Loose bounds on what reading one hostile file may cost; ordinary files cost a fraction.
SECONDS, MEGABYTES = 2.0, 50.0
DEEP = 50_000


def bounded_discovery(files: Files) -> Discovery:
    """The discovery of `files`, asserted to stay within SECONDS and MEGABYTES."""
    discovery, cost = cost_of(lambda: found(files))
    assert cost.seconds < SECONDS, cost
    assert cost.peak_mb < MEGABYTES, cost
    return discovery


TOML_HEAD = '[tool.alembic]\nscript_location = "a"\n'


@pytest.mark.parametrize(
    ("bomb", "line", "words"),
    [
        ("x = " + "[" * DEEP + "]" * DEEP, 4, "arrays and inline tables nested more than 32 deep"),
        ("x = " + "{y = " * DEEP + "1" + "}" * DEEP, 4, "arrays and inline tables nested more"),
        ("x" + ".y" * DEEP + " = 1", 4, "a dotted key of more than 32 parts"),
        ("[x" + ".y" * DEEP + "]", 4, "a dotted key of more than 32 parts"),
        # one bracket a line: the 33rd opens on line 4 + 32
        ("x = [\n" + "[\n" * DEEP + "]\n" * DEEP + "]", 36, "arrays and inline tables nested"),
    ],
    ids=["array", "inline-table", "dotted-key", "dotted-header", "array-over-lines"],
)
def test_deeply_nested_pyproject_is_a_problem_on_its_line(bomb: str, line: int, words: str) -> None:
    # tomllib recurses once per level (a RecursionError past ~330) and spends quadratic memory
    # on dotted keys (40 GB for 100,000 parts, 10 GB for these): neither may reach it.
    files = {"pyproject.toml": TOML_HEAD + "[tool.other]\n" + bomb + "\n", **script_dir("a")}
    assert len(files["pyproject.toml"]) < MAX_CONFIG_BYTES
    problem = single_problem(bounded_discovery(files).problems)
    assert (problem.path, problem.line) == ("pyproject.toml", line)
    assert words in problem.message
    assert problem.message.endswith("it was not parsed")


def test_deeply_nested_pyproject_that_never_names_alembic_is_ignored_like_a_broken_one() -> None:
    files = {
        "pyproject.toml": "x = " + "[" * DEEP + "]" * DEEP + "\n",
        "alembic.ini": ini("[alembic]\nscript_location = a\n"),
        **script_dir("a"),
    }
    discovery = bounded_discovery(files)
    assert [env.name for env in discovery.environments] == ["alembic.ini"]
    assert discovery.problems == ()


def test_nesting_is_counted_outside_strings_and_comments_only() -> None:
    brackets = "[" * 100 + "{" * 100
    lines = [
        f'basic = "{brackets}\\"{brackets}"',
        f"literal = '{brackets}'",
        f'multi = """\n{brackets}\\"""{brackets}\n"""',
        f"multi_literal = '''\n{brackets}\n'''",
        f"# {brackets}",
        f'dotted = "{"." * 100}"',
        "deep = " + "[" * MAX_TOML_NESTING + "]" * MAX_TOML_NESTING,
        "a" + ".b" * (MAX_TOML_NESTING - 1) + " = 1.5",
    ]
    text = TOML_HEAD + "\n".join(lines) + "\n"
    env = only(bounded_discovery({"pyproject.toml": text, **script_dir("a")}))
    assert (env.name, env.problems) == ("pyproject.toml", ())
    # one level more, after all of that, is the first place found too deep
    too_deep = text + "deeper = " + "[" * (MAX_TOML_NESTING + 1) + "]" * (MAX_TOML_NESTING + 1)
    problem = single_problem(bounded_discovery({"pyproject.toml": too_deep}).problems)
    assert problem.line == text.count("\n") + 1


def test_pyproject_naming_alembic_through_an_escape_is_reported() -> None:
    files = {
        "pyproject.toml": '[tool."alembi\\u0063"]\nx = ' + "[" * DEEP + "]" * DEEP + "\n",
        **script_dir("a"),
    }
    problem = single_problem(bounded_discovery(files).problems)
    assert (problem.path, problem.line) == ("pyproject.toml", 2)


@pytest.mark.parametrize("name", ["alembic.ini", "pyproject.toml"])
def test_config_file_over_the_size_limit_is_not_parsed(name: str) -> None:
    padding = "# padding\n" * (MAX_CONFIG_BYTES // 10)
    text = ini("[alembic]\nscript_location = a\n") if name == "alembic.ini" else TOML_HEAD
    files = {name: text + padding, **script_dir("a")}
    problem = single_problem(bounded_discovery(files).problems)
    assert (problem.path, problem.line) == (name, 1)
    size = len((text + padding).encode())
    assert problem.message == (
        f"{name} is {size:,} bytes, more than the {MAX_CONFIG_BYTES:,} bytes the bot reads in "
        "a config file; it was not read"
    )


def interpolation_bomb(leaf: str, width: int = 9) -> str:
    """An ini whose file_template names v9, which names v8 `width` times, and so on: it
    expands to width**9 copies of `leaf` (387 million for 9)."""
    lines = ["[alembic]", "script_location = a", "file_template = %(v9)s", f"v0 = {leaf}"]
    lines += [f"v{i} = " + f"%(v{i - 1})s" * width for i in range(1, 10)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("leaf", ["x" * 100, ""], ids=["growing", "empty-leaves"])
def test_interpolation_bomb_is_a_problem_on_the_key_that_expands_it(leaf: str) -> None:
    files = {"alembic.ini": interpolation_bomb(leaf), **script_dir("a")}
    env = only(bounded_discovery(files))
    problem = single_problem(env.problems)
    assert (problem.path, problem.line) == ("alembic.ini", 3)
    assert problem.message.startswith(
        f"file_template in [alembic]: expanding its %(name)s references takes more than "
        f"{MAX_INTERPOLATION:,} characters"
    )
    assert env.file_template == "%(rev)s_%(slug)s"  # Alembic's default stands in


@pytest.mark.parametrize(("read", "problems"), [("t", 0), ("unused", 1)])
def test_interpolation_bomb_costs_only_when_env_py_reads_it(read: str, problems: int) -> None:
    # Alembic expands a value only when asked for it; so does the bot, env.py's reads included.
    env_py = "from alembic import context\n"
    env_py += f"context.configure(version_table=context.config.get_main_option({read!r}))\n"
    text = interpolation_bomb("x" * 100).replace("file_template =", "unused =") + "t = tbl\n"
    env = only(bounded_discovery({"alembic.ini": text, **script_dir("a"), "a/env.py": env_py}))
    assert len(env.problems) == problems
    if problems:
        assert (env.problems[0].line, env.version_table) == (3, "alembic_version")
        assert env.problems[0].message.startswith("unused in [alembic]: expanding its")
    else:
        assert env.version_table == "tbl"


def test_interpolation_bomb_is_reported_once_per_file() -> None:
    text = interpolation_bomb("x" * 100).replace(
        "file_template = %(v9)s", "file_template = %(v9)s\ntimezone = %(v9)s"
    )
    sections = "".join(f"[s{i}]\nscript_location = a\n" for i in range(3))
    env_problems = [
        env.problems
        for env in found({"alembic.ini": text + sections, **script_dir("a")}).environments
    ]
    assert sum(len(problems) for problems in env_problems) == 1


@pytest.mark.parametrize(
    ("sections", "defaults"), [(2_000, 0), (2_000, 2_000)], ids=["sections", "with-defaults"]
)
def test_many_environments_sharing_one_env_py_read_it_once(sections: int, defaults: int) -> None:
    # Each section is an environment, and each inherits every [DEFAULT] key: env.py is parsed
    # once, and its options are looked up only for the keys it names.
    env_py = "from alembic import context\n" + "".join(f"X{i} = 'v{i}'\n" for i in range(500))
    env_py += "context.configure(version_table=X1)\n"
    text = "[DEFAULT]\n" + "".join(f"k{i} = %(here)s/{i}\n" for i in range(defaults))
    text += "".join(f"[s{i}]\nscript_location = a\n" for i in range(sections))
    discovery = bounded_discovery({"alembic.ini": text, **script_dir("a"), "a/env.py": env_py})
    assert len(discovery.environments) == sections
    assert {env.version_table for env in discovery.environments} == {"v1"}


def test_toml_format_width_bomb_is_refused() -> None:
    # Alembic %-formats [tool.alembic] strings: this one would be a 999,999,999-character string.
    text = TOML_HEAD + 'file_template = "%(here)999999999s"\n'
    env = only(bounded_discovery({"pyproject.toml": text, **script_dir("a")}))
    problem = single_problem(env.problems)
    assert (problem.path, problem.line) == ("pyproject.toml", 3)
    assert problem.message == (
        "file_template in [tool.alembic]: Alembic %-formats TOML strings, and the field width "
        "999999999 of a %-format conversion would build a string that long; the bot refuses "
        "widths over 9,999"
    )
