"""Which revisions a database has applied, read from Alembic's version table.

The only module that talks to databases. Alembic keeps one row per applied head in a table
(`alembic_version` unless env.py names another, optionally in a schema) with one column,
`version_num`. Reading it is:

- read-only: SQLite is opened through a `mode=ro` URI, so a missing file is not created and
  nothing is written; PostgreSQL sessions start with `default_transaction_read_only=on`, and
  the transaction is rolled back, never committed;
- short: one connection without a pool, closed at once; PostgreSQL gets `connect_timeout` and
  a `statement_timeout`, SQLite a lock wait, both from `timeout`. Other dialects get nothing
  extra (their drivers name these settings differently), so only their own defaults bound them;
- quiet about secrets: every failure is a `DatabaseUnreadable` whose text is a fixed reason,
  or the driver's first line with the URL, password, user name and host taken out. The text
  ends up in public pull-request comments and Action logs, so the driver's exception is not
  chained either.

Every PostgreSQL URL (`postgresql://`, `+psycopg`, `+asyncpg`, `+pg8000`) is read with psycopg2,
the driver this package installs (SQLAlchemy 2.1 alone would pick psycopg 3 for the plain
form), and every SQLite URL (`+aiosqlite` too) with the standard library.
"""

from __future__ import annotations

import math
import re
import sqlite3
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import NoSuchModuleError
from sqlalchemy.pool import NullPool
from sqlalchemy.util import asbool

DEFAULT_TABLE = "alembic_version"
# Query-string keys whose values are secrets: shown as *** by safe_url, scrubbed from messages.
_SECRET_KEYS = ("password", "passwd", "pwd", "secret", "token")
# pysqlite's own arguments; every other key of a `uri=true` SQLite URL belongs to the file URI.
_PYSQLITE_KEYS = frozenset(
    ("uri", "timeout", "isolation_level", "detect_types", "check_same_thread", "cached_statements")
)
_DRIVER_HINTS = {
    "mysql": "install mysqlclient or use mysql+pymysql://",
    "mysql+mysqldb": "install mysqlclient or use mysql+pymysql://",
    "mysql+pymysql": "install PyMySQL",
    "mariadb": "install mariadb or use mariadb+pymysql://",
    "mariadb+pymysql": "install PyMySQL",
    "postgresql+psycopg": "install psycopg or use postgresql://",
    "postgresql+pg8000": "install pg8000 or use postgresql://",
    "mssql": "install pyodbc",
    "mssql+pyodbc": "install pyodbc",
    "oracle": "install oracledb",
    "oracle+oracledb": "install oracledb",
}
# libpq's connection failures carry no SQLSTATE; they are told apart by their text. Answers from
# the server come first: with several addresses (localhost is ::1 and 127.0.0.1) libpq joins
# every attempt's failure, and the server's own refusal says the most.
_PG_CONNECT_FAILURES: tuple[tuple[str, str], ...] = (
    (r"password authentication failed", "password authentication failed"),
    (r"no password supplied", "the server asks for a password and the URL gives none"),
    (r'database ".*" does not exist', "database does not exist"),
    (r'role ".*" does not exist', "database role does not exist"),
    (r"no pg_hba\.conf entry", "the server does not accept this client (pg_hba.conf)"),
    (r"too many connections|remaining connection slots", "the server has no free connections"),
    (r"the database system is (starting up|shutting down|in recovery)",
     "the server is starting up or shutting down"),
    (r"server does not support SSL", "the server does not support SSL, which the URL requires"),
    (r"could not translate host name", "the host name could not be resolved"),
    (r"timeout expired", "connection timed out after {connect_timeout} s"),
    (r"connection refused", "connection refused"),
    (r"network is unreachable|no route to host", "network unreachable"),
    (r"server closed the connection unexpectedly", "the server closed the connection"),
)  # fmt: skip
_PG_SQLSTATES = {
    "42501": "permission denied reading the version table",
    "57014": "query timed out after {timeout} s",
    "25006": "reading the version table tried to write, and this session is read-only",
    "42703": "the version table has no version_num column",
}
_SQLITE_FAILURES: tuple[tuple[str, str], ...] = (
    (r"file is not a database", "not a SQLite database file"),
    (r"database disk image is malformed", "the database file is corrupt"),
    (r"database is locked", "the database stayed locked for {timeout} s"),
    (r"no such column", "the version table has no version_num column"),
    (r"readonly database", "reading the version table tried to write, and this file is read-only"),
)
_ANY_URL = re.compile(r"\b[a-z][\w+.-]*://\S+", re.IGNORECASE)
_USERINFO = re.compile(r"[^\s/@:\"']+:[^\s/@\"']*@")


class DatabaseUnreadable(Exception):
    """The version table could not be read. `str()` is one line, safe to publish: it never
    holds the URL, password, user name or host."""


def read_applied(
    url: str, table: str = DEFAULT_TABLE, schema: str | None = None, *, timeout: float = 10.0
) -> tuple[str, ...] | None:
    """The `version_num` values in `table`, as the database returns them, or None when the
    table does not exist (a database Alembic never touched).

    The order carries no meaning: Alembic keeps no order among its rows (one per applied
    head), so neither does this. Every failure, including a malformed URL or a missing
    driver, raises DatabaseUnreadable.
    """
    parsed = _parse(url)
    try:
        engine = _engine(parsed, timeout)
    except DatabaseUnreadable:
        raise
    except Exception as error:
        raise DatabaseUnreadable(_driver_reason(parsed, error, url)) from None
    try:
        return _select(engine, table, schema)
    except Exception as error:
        raise DatabaseUnreadable(_reason(error, parsed, url, timeout)) from None
    finally:
        engine.dispose()


def safe_url(url: str) -> str:
    """`url` as it may be shown back to whoever typed it: passwords (also `?password=`) as
    ***; a URL that does not parse as just its scheme."""
    try:
        parsed = sa.make_url(url)
    except Exception:
        scheme = re.match(r"([a-z][\w+.-]*)://", url, re.IGNORECASE)
        return f"<invalid {scheme.group(1)} URL>" if scheme else "<invalid URL>"
    # A placeholder that URL quoting leaves alone, so the query shows *** and not %2A%2A%2A.
    hidden = "HIDDENSECRETVALUE"
    masked = {key: hidden for key in parsed.query if _is_secret_key(key)}
    rendered = parsed.update_query_dict(masked).render_as_string(hide_password=True)
    return rendered.replace(hidden, "***")


def _select(engine: Engine, table: str, schema: str | None) -> tuple[str, ...] | None:
    # The connection's transaction is rolled back when the block ends: nothing is committed.
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table(table, schema=schema):
            return None
        version = sa.table(table, sa.column("version_num"), schema=schema)
        return tuple(connection.execute(sa.select(version.c.version_num)).scalars())


def _parse(url: str) -> URL:
    try:
        parsed = sa.make_url(url)
    except Exception:
        raise DatabaseUnreadable("not a valid database URL") from None
    return _installed_driver(parsed)


# The secret holding a database's URL is usually the application's own, with whatever driver
# the application uses (asyncpg, psycopg 3, aiosqlite). Reading one table needs none of their
# features, so each family goes through the driver installed here; asyncpg's `ssl` becomes
# libpq's `sslmode`.
_POSTGRES_DRIVERS = ("psycopg", "asyncpg", "pg8000", "psycopg2cffi")
_ASYNCPG_SSL = {"true": "require", "false": "disable", "1": "require", "0": "disable"}


def _installed_driver(url: URL) -> URL:
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite":
        return url.set(drivername="sqlite")
    if backend != "postgresql" or driver not in ("", *_POSTGRES_DRIVERS):
        return url
    ssl = url.query.get("ssl")
    if isinstance(ssl, str) and "sslmode" not in url.query:
        sslmode = _ASYNCPG_SSL.get(ssl.lower(), ssl)
        url = url.difference_update_query(["ssl"]).update_query_dict({"sslmode": sslmode})
    return url.set(drivername="postgresql+psycopg2")


def _engine(url: URL, timeout: float) -> Engine:
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        uri = _sqlite_uri(url)
        # A creator, so that the URI is exactly ours and not rebuilt by SQLAlchemy.
        return sa.create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, timeout=timeout),
            poolclass=NullPool,
        )
    connect_args = _psycopg2_args(url, timeout) if url.drivername == "postgresql+psycopg2" else {}
    return sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)


def _psycopg2_args(url: URL, timeout: float) -> dict[str, object]:
    """libpq settings bounding the connection and every statement, and making it read-only.
    A later `-c` wins, so ours go after any `options` the URL carries."""
    ours = f"-c default_transaction_read_only=on -c statement_timeout={max(1, int(timeout * 1000))}"
    given = url.query.get("options")
    given_text = " ".join(given) if isinstance(given, tuple) else given
    return {
        "connect_timeout": _connect_timeout(timeout),
        "options": f"{given_text} {ours}" if given_text else ours,
    }


def _connect_timeout(timeout: float) -> int:
    # libpq counts whole seconds and treats anything below 2 as 2.
    return max(2, math.ceil(timeout))


def _sqlite_uri(url: URL) -> str:
    """A `file:` URI opening the database read-only, whatever mode the URL asked for."""
    database = url.database or ""
    params = {k: v for k, v in url.query.items() if k not in _PYSQLITE_KEYS}
    if asbool(url.query.get("uri", False)):
        path = database.removeprefix("file:")  # already URI-quoted by whoever wrote it
    elif database in ("", ":memory:"):
        path = ":memory:"
    else:
        path = urllib.parse.quote(str(Path(database).absolute()))
    if path in ("", ":memory:") or params.get("mode") == "memory":
        raise DatabaseUnreadable("an in-memory SQLite database has no deployed state to read")
    params["mode"] = "ro"
    return f"file:{path}?{urllib.parse.urlencode(params, doseq=True)}"


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if asbool(url.query.get("uri", False)):
        return Path(urllib.parse.unquote(database.removeprefix("file:")))
    return Path(database)


def _driver_reason(url: URL, error: Exception, raw: str) -> str:
    if isinstance(error, NoSuchModuleError):
        if url.drivername == "postgres":  # Heroku's spelling, which SQLAlchemy dropped
            return "unknown database type postgres:// (write postgresql://)"
        return f"unknown database type {url.get_backend_name()}:// (no SQLAlchemy dialect for it)"
    if isinstance(error, ImportError):
        hint = _DRIVER_HINTS.get(url.drivername, f"the Python module {error.name} is missing")
        return f"no driver for {url.drivername} is installed ({hint})"
    return _unrecognised(error, url, raw)


def _reason(error: Exception, url: URL, raw: str, timeout: float) -> str:
    """A fixed reason for the failures this module knows, else the scrubbed first line."""
    original = getattr(error, "orig", None) or error
    text = str(original)
    values = {"timeout": f"{timeout:g}", "connect_timeout": str(_connect_timeout(timeout))}
    if url.get_backend_name() == "postgresql":
        known = _PG_SQLSTATES.get(getattr(original, "pgcode", None) or "")
        known = known or _first_match(_PG_CONNECT_FAILURES, text)
    elif url.get_backend_name() == "sqlite":
        known = _first_match(_SQLITE_FAILURES, text)
        if known is None and "unable to open database file" in text:
            missing = not _sqlite_path(url).exists()
            known = "database file does not exist" if missing else "cannot open the database file"
    else:
        known = None
    return known.format(**values) if known else _unrecognised(original, url, raw)


def _first_match(patterns: Sequence[tuple[str, str]], text: str) -> str | None:
    for pattern, reason in patterns:
        if re.search(pattern, text, re.IGNORECASE):
            return reason
    return None


def _unrecognised(error: BaseException, url: URL, raw: str) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    first = _scrub(lines[0], url, raw) if lines else "no message"
    return f"{type(error).__name__}: {first[:200]}"


def _scrub(text: str, url: URL, raw: str) -> str:
    """`text` without the URL, its password, user name or host, or any `user:password@`."""
    rendered = url.render_as_string(hide_password=False)
    secrets = [raw, rendered, url.password, *_query_values(url, _is_secret_key)]
    secrets += [urllib.parse.quote(str(s), safe="") for s in secrets if s]
    for secret in sorted({str(s) for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _USERINFO.sub("***@", _ANY_URL.sub("<URL>", text))
    names = [(url.username, "<user>"), (url.host, "<host>")]
    names += [(v, "<user>") for v in _query_values(url, lambda key: key == "user")]
    names += [(v, "<host>") for v in _query_values(url, lambda key: key in ("host", "hostaddr"))]
    for name, placeholder in names:
        if name:
            text = re.sub(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", placeholder, text)
    return text


def _query_values(url: URL, wanted: Callable[[str], bool]) -> list[str]:
    values: list[str] = []
    for key, value in url.query.items():
        if wanted(key.lower()):
            values.extend(value if isinstance(value, tuple) else (value,))
    return values


def _is_secret_key(key: str) -> bool:
    return any(word in key.lower() for word in _SECRET_KEYS)
