"""`current`: what a database has applied, read without running env.py, against the code.

Alembic's own `alembic current` is the oracle for the lines printed; the databases are real
(SQLite files, and the PostgreSQL server tests/pgserver.py starts).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic_heads_bot.app.cli import main
from sqlalchemy.engine import make_url
from versiondb import sqlite_database, with_version_rows

ALEMBIC_TEMPLATES = Path(command.__file__).parent / "templates" / "generic"


def revision(rev: str, down: str | tuple[str, ...] | None, labels: str | None = None) -> str:
    return (
        f'"""step {rev}"""\nrevision = {rev!r}\ndown_revision = {down!r}\n'
        f"branch_labels = {labels!r}\ndepends_on = None\n\n"
        "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    )


def project(root: Path, revisions: dict[str, str | tuple[str, ...] | None]) -> Path:
    """An Alembic project with the generic template's env.py: Alembic can run it."""
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    for name in ("env.py", "script.py.mako"):
        (root / "migrations" / name).write_text((ALEMBIC_TEMPLATES / name).read_text())
    for rev, down in revisions.items():
        (root / "migrations" / "versions" / f"{rev}.py").write_text(revision(rev, down))
    return root


def current(capsys, root: Path, url: str, *extra: str) -> tuple[int, str, str]:
    code = main(["current", str(root), "--database-url", url, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def alembic_current(root: Path, url: str) -> set[str]:
    """What `alembic current` prints (in no set order: Alembic keeps the rows in a set)."""
    out = io.StringIO()
    config = Config(stdout=out)  # no file: the template's env.py then skips logging setup
    config.set_main_option("script_location", str(root / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    command.current(config)
    return set(out.getvalue().splitlines())


BRANCHED = {"a": None, "b": "a", "c": "b", "d": "b", "m": ("c", "d"), "e": "m"}


@pytest.mark.parametrize(
    ("rows", "summary"),
    [
        (("a",), "5 not applied yet: b, c, d, m, e"),
        (("b",), "4 not applied yet: c, d, m, e"),
        (("c", "d"), "2 not applied yet: m, e"),
        (("m",), "1 not applied yet: e"),
        (("e",), "up to date: every revision is applied"),
    ],
)
def test_lines_match_alembic_current_and_say_what_is_left(tmp_path, capsys, rows, summary):
    root = project(tmp_path, BRANCHED)
    url = sqlite_database(tmp_path, *rows)
    code, out, err = current(capsys, root, url)
    assert code == 0
    assert set(out.splitlines()) == alembic_current(root, url)
    assert f"alembic-heads-bot: {summary}" in err


def test_a_row_the_code_lacks_is_shown_and_fails(tmp_path, capsys):
    root = project(tmp_path, {"a": None})
    code, out, err = current(capsys, root, sqlite_database(tmp_path, "a", "f00d"))
    assert code == 1
    assert out.splitlines() == ["a (head)", "f00d (not in the code)"]
    assert "the database records f00d, which the code does not have" in err


def test_json_lists_rows_marks_unknown_and_pending(tmp_path, capsys):
    root = project(tmp_path, BRANCHED)
    code, out, _ = current(capsys, root, sqlite_database(tmp_path, "c", "d"), "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["current"] == [
        {"revision": "c", "marks": []},
        {"revision": "d", "marks": []},
    ]
    assert (shown["pending"], shown["unknown"], shown["table_exists"]) == (["m", "e"], [], True)
    assert shown["version_table"] == "alembic_version"


def test_a_database_alembic_never_touched_has_no_rows(tmp_path, capsys):
    root = project(tmp_path, {"a": None})
    url = with_version_rows(f"sqlite:///{tmp_path / 'other.db'}", table="unrelated")
    code, out, err = current(capsys, root, url)
    assert (code, out) == (0, "")
    assert "no alembic_version table: Alembic has not run on this database" in err


def test_a_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path, capsys):
    root = project(tmp_path, {"a": None})
    missing = tmp_path / "nowhere.db"
    code, out, err = current(capsys, root, f"sqlite:///{missing}")
    assert (code, out) == (2, "")
    assert err.startswith("alembic-heads-bot: error: cannot read sqlite:///")
    assert not missing.exists()


def test_env_py_names_the_table_and_is_never_run(tmp_path, capsys):
    root = project(tmp_path, {"a": None, "b": "a"})
    marker = tmp_path / "env-py-ran"
    (root / "migrations" / "env.py").write_text(
        f"from alembic import context\nopen({str(marker)!r}, 'w').write('ran')\n"
        "context.configure(url='x', version_table='deploys', version_table_schema=None)\n"
    )
    url = with_version_rows(f"sqlite:///{tmp_path / 'db.sqlite'}", "a", table="deploys")
    code, out, err = current(capsys, root, url)
    assert (code, out) == (0, "a\n")
    assert "1 not applied yet: b" in err
    assert not marker.exists()


def test_several_environments_need_env(tmp_path, capsys):
    for name in ("billing", "users"):
        project(tmp_path / name, {"a": None})
    code, _, err = current(capsys, tmp_path, sqlite_database(tmp_path, "a"))
    assert code == 2
    assert "current reads one environment's database: pass --env (" in err
    assert (
        current(capsys, tmp_path, sqlite_database(tmp_path, "a"), "--env", "billing/alembic.ini")[0]
        == 0
    )


def test_postgresql_with_a_schema_and_no_password_in_any_output(
    tmp_path, capsys, postgres_database
):
    root = project(tmp_path, {"a": None, "b": "a"})
    with_version_rows(postgres_database, "b", table="versions", schema="public")
    code, out, err = current(
        capsys, root, postgres_database, "--version-table", "versions",
        "--version-table-schema", "public",
    )  # fmt: skip
    assert (code, out) == (0, "b (head)\n")
    assert "up to date" in err


def test_a_wrong_password_is_refused_without_showing_it(tmp_path, capsys, postgres_database):
    root = project(tmp_path, {"a": None})
    url = make_url_with_password(postgres_database, "not-the-password")
    code, out, err = current(capsys, root, url)
    assert (code, out) == (2, "")
    assert "password authentication failed" in err
    assert "not-the-password" not in err
    assert ":***@" in err


def make_url_with_password(url: str, password: str) -> str:
    return make_url(url).set(password=password).render_as_string(hide_password=False)


# --- the URL from the environment: no password in the process list ---------------------------


def test_the_url_comes_from_database_url_when_none_is_given(tmp_path, capsys, monkeypatch):
    root = project(tmp_path, BRANCHED)
    url = sqlite_database(tmp_path, "c", "d")
    monkeypatch.setenv("DATABASE_URL", url)
    code = main(["current", str(root)])
    captured = capsys.readouterr()
    assert code == 0
    assert set(captured.out.splitlines()) == alembic_current(root, url)
    assert "2 not applied yet: m, e" in captured.err


def test_database_url_env_names_the_variable_that_holds_it(tmp_path, capsys, monkeypatch):
    root = project(tmp_path, BRANCHED)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'not-this-one.db'}")
    monkeypatch.setenv("STAGING_DB", sqlite_database(tmp_path, "e"))
    code = main(["current", str(root), "--database-url-env", "STAGING_DB"])
    assert (code, capsys.readouterr().out) == (0, "e (head)\n")


def test_no_url_anywhere_says_which_variable_to_set(tmp_path, capsys, monkeypatch):
    root = project(tmp_path, {"a": None})
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("STAGING_DB", raising=False)
    assert main(["current", str(root)]) == 2
    assert capsys.readouterr().err == (
        "alembic-heads-bot: error: current reads the database's URL from DATABASE_URL, which is "
        "not set (or name another with --database-url-env NAME)\n"
    )
    assert main(["current", str(root), "--database-url-env", "STAGING_DB"]) == 2
    assert capsys.readouterr().err == (
        "alembic-heads-bot: error: current reads the database's URL from STAGING_DB, which is "
        "not set\n"
    )
    with pytest.raises(SystemExit):  # one or the other, not both
        main(["current", str(root), "--database-url", "sqlite://", "--database-url-env", "X"])


def test_a_wrong_password_from_the_environment_is_not_shown_either(
    tmp_path, capsys, monkeypatch, postgres_database
):
    root = project(tmp_path, {"a": None})
    monkeypatch.setenv("DATABASE_URL", make_url_with_password(postgres_database, "hunter2-x9"))
    assert main(["current", str(root)]) == 2
    captured = capsys.readouterr()
    assert "password authentication failed" in captured.err
    assert "hunter2-x9" not in captured.out + captured.err
