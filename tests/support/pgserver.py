"""A real PostgreSQL server for the tests: the `postgres_url` and `postgres_database` fixtures.

Enable it with `pytest_plugins = ["pgserver"]` in tests/conftest.py. With the environment
variable ALEMBIC_HEADS_BOT_TEST_POSTGRES set to a superuser URL that carries a password
(`postgresql://USER:PASSWORD@HOST:PORT/postgres`), the tests use that server. Otherwise one
fresh cluster is made per session with the installed PostgreSQL (`make test` installs
Debian's `postgresql`): password authentication (SCRAM) only, TCP on a free loopback port,
its unix socket and log in a temporary directory that is removed at the end. No PostgreSQL
means the fixture fails: the database tests are never skipped.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

ENV = "ALEMBIC_HEADS_BOT_TEST_POSTGRES"
USER = "heads_admin"
PASSWORD = "Pg-Secret-7f3a"  # distinctive, so a leak into a message is easy to spot
DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
# Durability is worthless for a throw-away cluster; turning it off makes startup and DDL fast.
FAST = ("-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off")


class ServerError(Exception):
    """The test server could not be set up; the message says why and where the log is."""


def binaries() -> Path:
    """The newest PostgreSQL's bin directory: Debian's versioned ones first, then PATH."""

    def version(bindir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))

    debian = [p for p in Path("/").glob(DEBIAN_BINARIES.lstrip("/")) if (p / "initdb").is_file()]
    if debian:
        return max(debian, key=version)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise ServerError(
        f"PostgreSQL is not installed: no initdb under {DEBIAN_BINARIES} or on PATH. "
        f"Run `make test` (it installs Debian's postgresql), or set {ENV} to a superuser URL."
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    """A throw-away cluster in `root` (data, password file, log, unix socket)."""

    root: Path
    bindir: Path
    port: int = 0

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def run(self, *argv: str) -> None:
        """A PostgreSQL program as the cluster's owner: the server refuses to run as root."""
        command = [str(self.bindir / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = as_postgres(command)
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=60, check=False, cwd=self.root
        )
        if done.returncode != 0:
            raise ServerError(
                f"{shlex.join(command)} exited with {done.returncode}:\n"
                f"{done.stdout}{done.stderr}\nserver log: {self.log}\n{self.log_tail()}"
            )

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log written)"

    def init(self) -> None:
        password_file = self.root / "password"
        password_file.write_text(PASSWORD + "\n")
        password_file.chmod(0o600)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.root, password_file):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self.run(
            "initdb", "--pgdata", str(self.root / "data"), "--username", USER,
            f"--pwfile={password_file}", "--auth=scram-sha-256", "--encoding=UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        password_file.unlink()

    def start(self, attempts: int = 3) -> None:
        """Start on a free port; another process may take the port between the probe and the
        bind, so a failed bind is retried on a new one."""
        for attempt in range(1, attempts + 1):
            self.port = free_port()
            options = ["-p", str(self.port), "-h", "127.0.0.1", "-k", str(self.root), *FAST]
            try:
                self.run(
                    "pg_ctl", "start", "--pgdata", str(self.root / "data"), "--wait",
                    "--timeout=30", f"--log={self.log}", "-o", shlex.join(options),
                )  # fmt: skip
                return
            except ServerError:
                if attempt == attempts or "could not bind" not in self.log_tail():
                    raise

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "stop", "--pgdata", str(self.root / "data"), "--mode=immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def as_postgres(command: list[str]) -> list[str]:
    """`command` run as the `postgres` system user that Debian's package creates."""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ServerError(
            "running as root, and PostgreSQL refuses to run as root: there is no `postgres` "
            f"user to run it as (install Debian's postgresql package, or set {ENV})"
        ) from None
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *command]
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]


def start_cluster() -> Cluster:
    # Not under pytest's basetemp: that is private to root, and the server runs as `postgres`.
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="alembic-heads-bot-pg-")), binaries())
    try:
        cluster.init()
        cluster.start()
    except BaseException:
        shutil.rmtree(cluster.root, ignore_errors=True)
        raise
    return cluster


def run_sql(url: str, *statements: str) -> None:
    """Each statement in its own transaction (autocommit: CREATE DATABASE needs it)."""
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":  # SQLAlchemy 2.1's default driver is psycopg 3
        parsed = parsed.set(drivername="postgresql+psycopg2")
    engine = sa.create_engine(parsed, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def database_name(test_name: str) -> str:
    """A database name from a test's name: PostgreSQL's 63-byte limit, lower case."""
    return re.sub(r"[^a-z0-9_]+", "_", test_name.lower())[:63]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A superuser URL with a password: `postgresql://bot:PASSWORD@127.0.0.1:PORT/postgres`,
    or the value of ALEMBIC_HEADS_BOT_TEST_POSTGRES."""
    given = os.environ.get(ENV)
    if given:
        if not sa.make_url(given).password:
            pytest.fail(f"{ENV} must carry a password: the tests check that none leaks")
        yield given
        return
    started = time.monotonic()
    try:
        cluster = start_cluster()
    except ServerError as error:
        pytest.fail(f"could not start a PostgreSQL server for the tests: {error}")
    print(f"PostgreSQL on port {cluster.port} in {time.monotonic() - started:.1f} s")
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def postgres_database(postgres_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A URL to a new, empty database named after the test, dropped afterwards."""
    name = database_name(request.node.name)
    quoted = '"' + name + '"'
    run_sql(postgres_url, f"DROP DATABASE IF EXISTS {quoted}", f"CREATE DATABASE {quoted}")
    try:
        yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        run_sql(postgres_url, f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
