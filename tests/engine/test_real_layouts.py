"""Layouts of real projects the bot must find as Alembic does: paths relative to where Alembic
runs (nova), revision folders without env.py or config (Flask-Alembic, neutron's release
sub-folders), differently named configs (rucio, mlrun), and the Alembic version a repository
pins (dispatch's `down_revision = ""`)."""

from __future__ import annotations

import json

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic_heads_bot.app.cli import main
from alembic_heads_bot.engine.scan import scan_tree
from memtree import MemoryTree, write_tree


def rev(rid: str, down: str | None) -> str:
    return (
        f'"""step {rid}\n\nRevision ID: {rid}\nRevises: {down}\n"""\n'
        "from alembic import op  # noqa\n\n"
        f"revision = {rid!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
        "depends_on = None\n\n\ndef upgrade():\n    pass\n"
    )


# nova runs `alembic -c nova/db/main/alembic.ini` from the repository root, and its
# script_location is written relative to that root.
NOVA = {
    "nova/__init__.py": "",
    "nova/db/main/alembic.ini": (
        "[alembic]\nscript_location = nova/db/main/migrations\n"
        "prepend_sys_path = .\nsqlalchemy.url = sqlite:///nova.db\n"
    ),
    "nova/db/main/migrations/env.py": "# never run\n",
    "nova/db/main/migrations/script.py.mako": "",
    "nova/db/main/migrations/versions/8f2f1571d55b_initial_version.py": rev("8f2f1571d55b", None),
    "nova/db/main/migrations/versions/16f1fbcab42b_resolve_shadow_table_diffs.py": rev(
        "16f1fbcab42b", "8f2f1571d55b"
    ),
}


def test_script_location_relative_to_the_repository_root_like_nova(tmp_path, monkeypatch):
    (env,) = scan_tree(MemoryTree(NOVA)).environments
    assert env.environment.script_location == "nova/db/main/migrations"
    assert env.environment.resolved_from == "repository-root"
    assert env.problems == ()
    # Alembic, run where nova runs it, reads the same directory
    write_tree(tmp_path, NOVA)
    monkeypatch.chdir(tmp_path)
    script = ScriptDirectory.from_config(Config("nova/db/main/alembic.ini"))
    assert list(env.graph.heads) == script.get_heads() == ["16f1fbcab42b"]


def test_heads_json_says_where_a_relative_script_location_was_found(tmp_path, capsys):
    files = {
        **NOVA,
        "tools/alembic.ini": "[alembic]\nscript_location = migrations\n",
        "tools/migrations/env.py": "",
        "tools/migrations/versions/aa01_first.py": rev("aa01", None),
    }
    write_tree(tmp_path, files)
    assert main(["heads", str(tmp_path), "--json"]) == 0
    envs = {e["name"]: e for e in json.loads(capsys.readouterr().out)["environments"]}
    assert envs["nova/db/main/alembic.ini"]["resolved_from"] == "repository-root"
    assert envs["tools/alembic.ini"]["resolved_from"] == "config-dir"
    assert envs["tools/alembic.ini"]["script_location"] == "tools/migrations"


@pytest.mark.parametrize("both", [True, False])
def test_a_relative_script_location_found_in_both_or_neither_place_is_a_warning(both):
    files = {"db/alembic.ini": "[alembic]\nscript_location = migrations\n"}
    if both:
        files |= {
            "db/migrations/env.py": "",
            "db/migrations/versions/aa01_x.py": rev("aa01", None),
            "migrations/env.py": "",
            "migrations/versions/bb01_x.py": rev("bb01", None),
        }
    (env,) = [e for e in scan_tree(MemoryTree(files)).environments if e.environment.config_path]
    warnings = [p for p in env.problems if p.code == "config-warning"]
    assert len(warnings) == 1
    assert warnings[0].path == "db/alembic.ini" and warnings[0].line == 2
    assert "db/migrations (from the config's folder)" in warnings[0].message
    assert "migrations (from the repository root)" in warnings[0].message
    assert ("both" in warnings[0].message) is both
    assert ("neither" in warnings[0].message) is not both
    if both:
        assert env.environment.script_location == "db/migrations"


# --- folders of revision files that only code configures ------------------------------------


def flask_rev(rid: str, down: str | None) -> str:
    # Flask-Alembic's template: a docstring, imports, then the identifiers
    return (
        f'"""{rid}\n\nRevision: {rid}\nRevises: {down or ""}\nCreated: 2017-05-01\n"""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {rid!r}\ndown_revision = {down!r}\nbranch_labels = ()\n"
        "depends_on = None\n\n\ndef upgrade():\n    pass\n"
    )


# flaskbb/zeus: Flask-Alembic keeps revision files directly in migrations/: no env.py, no
# versions/, no alembic.ini; the app configures Alembic in code.
FLASKBB = {
    "flaskbb/__init__.py": "",
    "flaskbb/app.py": "from flask_alembic import Alembic\nalembic = Alembic()\n",
    "migrations/127be3fb000d_added_m2m_forumgroups_table.py": flask_rev("127be3fb000d", None),
    "migrations/7c3fcf8a3335_add_plugin_tables.py": flask_rev("7c3fcf8a3335", "127be3fb000d"),
    "tests/fixtures/versions/0001_fake.py": flask_rev("0001", None),
}


def test_a_flask_alembic_migrations_folder_is_an_environment():
    scan = scan_tree(MemoryTree(FLASKBB))
    (env,) = scan.environments
    assert env.environment.name == "migrations"
    assert env.environment.version_locations == ("migrations",)
    assert env.graph.heads == ("7c3fcf8a3335",)
    (warning,) = env.problems
    assert warning.code == "unconfigured-environment" and "Flask-Alembic" in warning.message
    assert "no-environment" not in {p.code for p in scan.problems}


def test_release_sub_folders_join_their_environment_like_neutron_db_manage():
    script = "neutron/db/migration/alembic_migrations"
    files = {
        f"{script}/env.py": "",
        f"{script}/script.py.mako": "",
        f"{script}/versions/kilo_initial.py": rev("kilo", None),
        f"{script}/versions/liberty/expand/354db87e3225_nsxv.py": rev("354db87e3225", "kilo"),
        f"{script}/versions/liberty/contract/30018084ec99_initial.py": rev("30018084ec99", "kilo"),
        f"{script}/versions/mitaka/expand/0e66c5227a8a_add_desc.py": rev(
            "0e66c5227a8a", "354db87e3225"
        ),
    }
    (env,) = scan_tree(MemoryTree(files)).environments
    assert set(env.graph.heads) == {"0e66c5227a8a", "30018084ec99"}
    assert not [p for p in env.problems if p.severity == "error"]
    warning = next(p for p in env.problems if "neutron-db-manage" in p.message)
    assert f"{script}/versions/liberty/expand" in warning.message


def test_an_ini_under_another_name_is_read_as_a_config():
    # rucio/mlrun: `alembic -c alembic_mysql.ini`; the default alembic.ini is absent
    files = {
        "server/alembic_mysql.ini": (
            "[alembic]\nscript_location = %(here)s/migrations\nversion_table = mysql_version\n"
        ),
        "server/migrations/env.py": "",
        "server/migrations/script.py.mako": "",
        "server/migrations/versions/aa01_first.py": rev("aa01", None),
        "tox.ini": "[tox]\nenvlist = py311\n",
    }
    scan = scan_tree(MemoryTree(files))
    (env,) = scan.environments
    assert env.environment.name == "server/alembic_mysql.ini"
    assert env.environment.config_path == "server/alembic_mysql.ini"
    assert env.problems == ()
    assert scan.problems == ()
    # mlrun: alembic.ini beside it names the same script directory: one environment, not two
    files["server/alembic.ini"] = "[alembic]\nscript_location = %(here)s/migrations\n"
    names = [e.environment.name for e in scan_tree(MemoryTree(files)).environments]
    assert names == ["server/alembic.ini"]


# --- the Alembic version a repository pins ---------------------------------------------------

DISPATCH_VERSIONS = "src/dispatch/database/revisions/core/versions"
DISPATCH = {
    "src/dispatch/alembic.ini": (
        "[core]\nscript_location = %(here)s/database/revisions/core\n"
        "version_locations = %(here)s/database/revisions/core/versions\n"
    ),
    "src/dispatch/database/revisions/core/env.py": "",
    # dispatch's first core revision, as it stood until 2024
    f"{DISPATCH_VERSIONS}/2021-06-15_5e2e9d4d0c1a.py": (
        '"""Initial core schema\n\nRevision ID: 5e2e9d4d0c1a\nRevises:\n"""\n'
        "revision = '5e2e9d4d0c1a'\ndown_revision = ''\nbranch_labels = None\n"
        "depends_on = None\n"
    ),
    f"{DISPATCH_VERSIONS}/2021-07-01_6f3f0e5e1d2b.py": rev("6f3f0e5e1d2b", "5e2e9d4d0c1a"),
}


def empty_down_revision_problem(files):
    (env,) = scan_tree(MemoryTree(files)).environments
    (problem,) = env.problems
    assert problem.code == "empty-revision" and problem.line == 7
    return env, problem


def test_an_old_pinned_alembic_reads_an_empty_down_revision_as_a_base():
    files = {**DISPATCH, "requirements-base.txt": "aiofiles==0.8.0\nalembic==1.11.1\n"}
    env, problem = empty_down_revision_problem(files)
    assert problem.severity == "warning"
    assert "Alembic 1.11.1 (pinned in requirements-base.txt) treats it as a base" in (
        problem.message
    )
    assert env.graph.heads == ("6f3f0e5e1d2b",) and env.graph.bases == ("5e2e9d4d0c1a",)


def test_a_newer_pinned_alembic_fails_on_an_empty_down_revision_as_alembic_does(tmp_path):
    lock = (
        '[[package]]\nname = "aiosqlite"\nversion = "0.19.0"\n\n'
        '[[package]]\nname = "alembic"\nversion = "1.13.1"\ndescription = "A database migration '
        'tool for SQLAlchemy."\n'
    )
    files = {**DISPATCH, "pyproject.toml": "[tool.poetry]\nname = 'bodhi'\n", "poetry.lock": lock}
    _, problem = empty_down_revision_problem(files)
    assert problem.severity == "error"
    assert "Alembic 1.13.1 (pinned in poetry.lock) fails with KeyError: ''" in problem.message
    # the Alembic installed here (1.20.1) fails on it too
    write_tree(tmp_path, files)
    config = Config(str(tmp_path / "src/dispatch/alembic.ini"), ini_section="core")
    with pytest.warns(UserWarning, match="is not present"), pytest.raises(KeyError):
        ScriptDirectory.from_config(config).get_heads()


def test_without_a_pin_an_empty_down_revision_keeps_the_version_independent_error():
    files = {**DISPATCH, "requirements.txt": "alembic>=1.10\n"}  # a range pins nothing
    _, problem = empty_down_revision_problem(files)
    assert problem.severity == "error"
    assert "1.12.1" in problem.message and "pinned" not in problem.message
