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
