"""`adapters.version_table` against real databases: SQLite files and a PostgreSQL server
(pgserver)."""

from __future__ import annotations

import re
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import alembic.command
import alembic.config
import pytest
import sqlalchemy as sa
from alembic_heads_bot.adapters.version_table import DatabaseUnreadable, read_applied, safe_url
from pgserver import run_sql

ENV_PY = """\
import sqlalchemy as sa
from alembic import context

config = context.config
engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(
        connection=connection,
        version_table=config.get_main_option("version_table"),
        version_table_schema=config.get_main_option("version_table_schema") or None,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
"""
REVISION = """\
revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
"""
# A base and two branches on top of it: two heads.
TWO_HEADS = {"a0": None, "a1": "a0", "b1": "a0"}


def alembic_stamp(
    tmp_path: Path,
    url: str,
    revisions: dict[str, str | None],
    table: str = "alembic_version",
    schema: str | None = None,
) -> None:
    """`alembic stamp heads` with a minimal project of the test's own."""
    script = tmp_path / "migrations"
    (script / "versions").mkdir(parents=True)
    (script / "env.py").write_text(ENV_PY)
    for revision, down_revision in revisions.items():
        text = REVISION.format(revision=revision, down_revision=down_revision)
        (script / "versions" / f"{revision}_step.py").write_text(text)
    config = alembic.config.Config()
    config.set_main_option("script_location", str(script))
    # SQLAlchemy 2.1 reads plain postgresql:// as psycopg 3, which is not installed.
    config.set_main_option("sqlalchemy.url", url.replace("postgresql://", "postgresql+psycopg2://"))
    config.set_main_option("version_table", table)
    config.set_main_option("version_table_schema", schema or "")
    alembic.command.stamp(config, "heads")


def unreadable(url: str, *, timeout: float = 10.0) -> str:
    """The message read_applied fails with, checked to be publishable: it names none of the
    URL, password, user name or host, and the driver's exception is not chained for a
    traceback to print."""
    with pytest.raises(DatabaseUnreadable) as raised:
        read_applied(url, timeout=timeout)
    message = str(raised.value)
    assert "\n" not in message
    error = raised.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    leaks = [url, *re.findall(r"[^\s/@:]+:[^\s/@]*@", url)]
    try:
        parsed = sa.make_url(url)
        leaks += [str(parsed.password or ""), parsed.username or "", parsed.host or ""]
    except Exception:
        leaks += [url.partition("://")[2]]
    for leak in filter(None, leaks):
        assert leak not in message, (leak, message)
    return message


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# --- SQLite ------------------------------------------------------------------------------------


def test_sqlite_two_heads_stamped_by_alembic_are_both_read(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "app.db")
    alembic_stamp(tmp_path, url, TWO_HEADS)
    applied = read_applied(url)
    assert applied is not None and sorted(applied) == ["a1", "b1"]


def test_sqlite_custom_table_with_a_relative_path_that_needs_quoting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows come as stored; the table name needs quoting and the file name URI escaping."""
    monkeypatch.chdir(tmp_path)
    with sqlite3.connect("deploy #1 ?50%.db") as database:
        database.execute('CREATE TABLE "my versions" (version_num VARCHAR(32) PRIMARY KEY)')
        database.execute("""INSERT INTO "my versions" VALUES ('b2'), ('a2')""")
    database.close()
    url = "sqlite:///deploy #1 %3F50%25.db"  # a URL's ? and % are written escaped
    assert read_applied(url, "my versions") == ("b2", "a2")
    assert read_applied(url) is None


def test_sqlite_database_alembic_never_touched_has_none(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "app.db") as database:
        database.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    database.close()
    assert read_applied(sqlite_url(tmp_path / "app.db")) is None


@pytest.mark.parametrize(
    "template",
    ["sqlite:///{path}", "sqlite:///file:{path}?mode=rwc&uri=true"],
    ids=["path", "uri-asking-to-create"],
)
def test_a_missing_sqlite_file_is_unreadable_and_not_created(tmp_path: Path, template: str) -> None:
    missing = tmp_path / "no-such.db"
    message = unreadable(template.format(path=missing))
    assert message == "database file does not exist"
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("these are not the tables you are looking for\n" * 20)
    assert unreadable(sqlite_url(notes)) == "not a SQLite database file"


def test_a_version_table_without_version_num(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "app.db") as database:
        database.execute("CREATE TABLE alembic_version (revision VARCHAR(32))")
    database.close()
    message = unreadable(sqlite_url(tmp_path / "app.db"))
    assert message == "the version table has no version_num column"


def test_a_locked_sqlite_database_waits_for_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        writer.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        assert unreadable(sqlite_url(path), timeout=0.3) == "the database stayed locked for 0.3 s"
        assert 0.25 < time.monotonic() - started < 2
    finally:
        writer.close()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_sqlite_database_is_refused(url: str) -> None:
    assert unreadable(url) == "an in-memory SQLite database has no deployed state to read"


# --- PostgreSQL --------------------------------------------------------------------------------


def test_postgres_two_heads_stamped_by_alembic_are_both_read(
    postgres_database: str, tmp_path: Path
) -> None:
    alembic_stamp(tmp_path, postgres_database, TWO_HEADS)
    applied = read_applied(postgres_database)
    assert applied is not None and sorted(applied) == ["a1", "b1"]


def test_postgres_custom_table_in_another_schema(postgres_database: str, tmp_path: Path) -> None:
    """Names that only work quoted, as Alembic itself creates them."""
    run_sql(postgres_database, 'CREATE SCHEMA "Ops"')
    alembic_stamp(tmp_path, postgres_database, {"c0": None}, "deploy versions", "Ops")
    assert read_applied(postgres_database, "deploy versions", "Ops") == ("c0",)
    assert read_applied(postgres_database, "deploy versions") is None
    assert read_applied(postgres_database) is None


@pytest.mark.parametrize(
    ("driver", "query"),
    [("psycopg", ""), ("asyncpg", "?ssl=false"), ("pg8000", ""), ("psycopg2", "")],
)
def test_the_applications_own_postgres_url_works_whatever_its_driver(
    postgres_database: str, driver: str, query: str
) -> None:
    """The secret is usually the app's URL: async and newer drivers are read with psycopg2."""
    run_sql(postgres_database, "CREATE TABLE alembic_version (version_num VARCHAR(32))")
    run_sql(postgres_database, "INSERT INTO alembic_version VALUES ('e5')")
    url = postgres_database.replace("postgresql://", f"postgresql+{driver}://") + query
    assert read_applied(url) == ("e5",)


def test_an_aiosqlite_url_is_read_with_the_standard_library(tmp_path: Path) -> None:
    alembic_stamp(tmp_path, sqlite_url(tmp_path / "app.db"), {"f6": None})
    assert read_applied(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}") == ("f6",)


def test_postgres_rows_come_as_stored(postgres_database: str) -> None:
    run_sql(
        postgres_database,
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
        "INSERT INTO alembic_version VALUES ('f9'), ('0a')",
    )
    assert read_applied(postgres_database) == ("f9", "0a")


def test_postgres_database_alembic_never_touched_has_none(postgres_database: str) -> None:
    run_sql(postgres_database, "CREATE TABLE users (id INTEGER PRIMARY KEY)")
    assert read_applied(postgres_database) is None


def test_postgres_wrong_password(postgres_url: str) -> None:
    wrong = sa.make_url(postgres_url).set(password="Not-The-Password-42")
    url = wrong.render_as_string(hide_password=False)
    assert unreadable(url) == "password authentication failed"


def test_postgres_url_without_a_password(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libpq would otherwise look for one in the environment and ~/.pgpass.
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    given = sa.make_url(postgres_url)
    url = sa.URL.create(given.drivername, given.username, None, given.host, given.port, "postgres")
    message = unreadable(url.render_as_string())
    assert message == "the server asks for a password and the URL gives none"


def test_postgres_url_requiring_ssl_of_a_server_without_it(postgres_url: str) -> None:
    message = unreadable(postgres_url + "?sslmode=require")
    assert message == "the server does not support SSL, which the URL requires"


def test_postgres_version_table_without_version_num(postgres_database: str) -> None:
    run_sql(postgres_database, "CREATE TABLE alembic_version (revision VARCHAR(32))")
    assert unreadable(postgres_database) == "the version table has no version_num column"


def test_postgres_database_does_not_exist(postgres_url: str) -> None:
    url = sa.make_url(postgres_url).set(database="no_such_database")
    assert unreadable(url.render_as_string(hide_password=False)) == "database does not exist"


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_postgres_closed_port_is_refused_at_once(free_port: int) -> None:
    started = time.monotonic()
    message = unreadable(f"postgresql://someone:Pw-123@127.0.0.1:{free_port}/db", timeout=5)
    assert message == "connection refused"
    assert time.monotonic() - started < 1


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port whose connections the kernel completes and nobody ever answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_postgres_server_that_never_answers_times_out(silent_server: int) -> None:
    started = time.monotonic()
    message = unreadable(f"postgresql://someone:Pw-123@127.0.0.1:{silent_server}/db", timeout=2)
    elapsed = time.monotonic() - started
    assert message == "connection timed out after 2 s"
    assert 1.5 < elapsed < 4


def test_postgres_statement_timeout_bounds_the_read(postgres_database: str) -> None:
    run_sql(
        postgres_database,
        "CREATE VIEW alembic_version AS SELECT 'x'::varchar AS version_num FROM pg_sleep(30)",
    )
    started = time.monotonic()
    assert unreadable(postgres_database, timeout=0.5) == "query timed out after 0.5 s"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "query", ["", "?options=-c%20default_transaction_read_only%3Doff"], ids=["plain", "url-options"]
)
def test_postgres_session_is_read_only(postgres_database: str, query: str) -> None:
    """A version table that writes when read (a view over a function that inserts): a
    session that could write would return its row. Options in the URL cannot undo it."""
    run_sql(
        postgres_database,
        "CREATE TABLE reads (n INTEGER)",
        "CREATE FUNCTION note_read() RETURNS varchar LANGUAGE sql VOLATILE"
        " AS $$ INSERT INTO reads VALUES (1) RETURNING 'r1'::varchar $$",
        "CREATE VIEW alembic_version AS SELECT note_read() AS version_num",
    )
    message = unreadable(postgres_database + query)
    assert message == "reading the version table tried to write, and this session is read-only"


def test_postgres_role_without_select_permission(postgres_url: str, postgres_database: str) -> None:
    role, password = "heads_reader_without_grant", "Reader-Pw-77"
    run_sql(
        postgres_database,
        f"DROP ROLE IF EXISTS {role}",
        f"CREATE ROLE {role} LOGIN PASSWORD '{password}'",
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
    )
    try:
        url = sa.make_url(postgres_database).set(username=role, password=password)
        message = unreadable(url.render_as_string(hide_password=False))
        assert message == "permission denied reading the version table"
    finally:
        run_sql(postgres_url, f"DROP ROLE {role}")


def test_an_unrecognised_failure_names_its_class_and_hides_the_host(postgres_url: str) -> None:
    """A unix socket directory with no server in it: libpq's text, with the host scrubbed."""
    socket_dir = "/nonexistent-socket-dir"
    url = sa.make_url(postgres_url).set(host=None, port=None, query={"host": socket_dir})
    message = unreadable(url.render_as_string(hide_password=False))
    assert message.startswith("OperationalError: connection to server on socket")
    assert socket_dir not in message


# --- URLs and drivers --------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["not a url", "postgresql://u:p@host:notaport/db", ""])
def test_a_malformed_url_is_unreadable(url: str) -> None:
    message = unreadable(url)
    assert message == "not a valid database URL"
    assert "notaport" not in message


def test_a_missing_driver_says_what_to_install() -> None:
    message = unreadable("mysql://deployer:My-Pw-9@db.internal/app")
    assert (
        message == "no driver for mysql is installed (install mysqlclient or use mysql+pymysql://)"
    )


@pytest.mark.parametrize(
    ("scheme", "reason"),
    [("nosuchdb", "no SQLAlchemy dialect for it"), ("postgres", "write postgresql://")],
)
def test_an_unknown_database_type(scheme: str, reason: str) -> None:
    message = unreadable(f"{scheme}://deployer:My-Pw-9@db.internal/app")
    assert message == f"unknown database type {scheme}:// ({reason})"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:Secret-1@db:5432/app", "postgresql://u:***@db:5432/app"),
        ("postgresql://u:p%40ss%2Fx@db/app", "postgresql://u:***@db/app"),
        (
            "postgresql://u@db/app?password=Secret-1&sslmode=require",
            "postgresql://u@db/app?password=***&sslmode=require",
        ),
        ("sqlite:///migrations/app.db", "sqlite:///migrations/app.db"),
        ("postgresql://u:Secret-1@db:notaport/app", "<invalid postgresql URL>"),
        ("not a url: Secret-1", "<invalid URL>"),
    ],
)
def test_safe_url(url: str, shown: str) -> None:
    assert safe_url(url) == shown
