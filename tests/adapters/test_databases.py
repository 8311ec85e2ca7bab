"""The bot config's databases read into states: which environment, which table, what went wrong."""

from __future__ import annotations

from pathlib import Path

from alembic_heads_bot.adapters.databases import DatabaseReader
from alembic_heads_bot.engine.alembic_config import discover
from alembic_heads_bot.engine.bot_config import DatabaseSpec
from alembic_heads_bot.engine.model import Environment
from memtree import MemoryTree
from versiondb import sqlite_database, with_version_rows


def environments(env_py: str = "", *names: str) -> tuple[Environment, ...]:
    files: dict[str, str] = {}
    for name in names or ("db",):
        files[f"{name}/alembic.ini"] = "[alembic]\nscript_location = .\n"
        files[f"{name}/env.py"] = env_py
        files[f"{name}/script.py.mako"] = ""
        files[f"{name}/versions/a.py"] = "revision = 'a'\ndown_revision = None\n"
    return discover(MemoryTree(files)).environments


def test_each_database_is_read_once_per_run(tmp_path: Path) -> None:
    url = sqlite_database(tmp_path, "a")
    reader = DatabaseReader({"DB": url})
    specs = [DatabaseSpec("production", "DB"), DatabaseSpec("replica", "DB")]
    first = reader.read(specs, environments())
    (tmp_path / "production.db").unlink()  # a second connection would now fail
    again = reader.read(specs, environments())
    assert [(s.name, s.rows, s.error) for s in first] == [
        ("production", ("a",), None),
        ("replica", ("a",), None),
    ]
    assert again == first


def test_the_table_comes_from_env_py_unless_the_entry_names_one(tmp_path: Path) -> None:
    env_py = "from alembic import context\ncontext.configure(version_table='deploys')\n"
    url = with_version_rows(f"sqlite:///{tmp_path / 'x.db'}", "a", table="deploys")
    with_version_rows(url, "zz", table="other")
    reader = DatabaseReader({"DB": url})
    [from_env_py, overridden] = reader.read(
        [DatabaseSpec("p", "DB"), DatabaseSpec("q", "DB", version_table="other")],
        environments(env_py),
    )
    assert (from_env_py.table, from_env_py.rows) == ("deploys", ("a",))
    assert (overridden.table, overridden.rows) == ("other", ("zz",))


def test_a_missing_table_named_by_a_guess_says_it_was_a_guess(tmp_path: Path) -> None:
    env_py = "import os\nfrom alembic import context\n"
    env_py += "context.configure(version_table=os.environ['TABLE'])\n"
    url = with_version_rows(f"sqlite:///{tmp_path / 'x.db'}", "a", table="deploys")
    [state] = DatabaseReader({"DB": url}).read([DatabaseSpec("p", "DB")], environments(env_py))
    assert state.rows is None
    assert (state.error or "").startswith(
        "it has no alembic_version table, and the name is a guess"
    )
    assert "version_table" in (state.error or "")


def test_a_database_alembic_never_ran_on_is_no_error_when_the_table_is_certain(
    tmp_path: Path,
) -> None:
    url = with_version_rows(f"sqlite:///{tmp_path / 'x.db'}", table="unrelated")
    [state] = DatabaseReader({"DB": url}).read([DatabaseSpec("p", "DB")], environments())
    assert (state.rows, state.error) == (None, None)


def test_which_environment_a_database_belongs_to(tmp_path: Path) -> None:
    envs = environments("", "billing", "users")
    reader = DatabaseReader({"DB": sqlite_database(tmp_path, "a")})
    unnamed, named, wrong = reader.read(
        [
            DatabaseSpec("p", "DB"),
            DatabaseSpec("q", "DB", environment="users/alembic.ini"),
            DatabaseSpec("r", "DB", environment="shop"),
        ],
        envs,
    )
    assert unnamed.environment is None
    assert "several Alembic environments (billing/alembic.ini, users/alembic.ini)" in (
        unnamed.error or ""
    )
    assert (named.environment, named.rows) == ("users/alembic.ini", ("a",))
    assert (wrong.error or "").startswith("no single Alembic environment matches 'shop'")


def test_an_unset_or_empty_variable_is_named_and_nothing_is_opened() -> None:
    for environ in ({}, {"DB": "  "}):
        [state] = DatabaseReader(environ).read([DatabaseSpec("p", "DB")], environments())
        assert (state.error or "").startswith("the variable DB is not set")
