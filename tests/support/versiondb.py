"""Databases in the state Alembic leaves them: a version table holding some rows.

The table is made the way Alembic makes it (one `version_num` column); tests that need Alembic
itself to have written it use `alembic.command.stamp` (tests/test_versiontable.py).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy


def with_version_rows(
    url: str,
    *rows: str,
    table: str = "alembic_version",
    schema: str | None = None,
    replace: bool = False,
) -> str:
    """Create the version table at `url` holding `rows` (dropping one there with `replace`);
    returns `url`."""
    target = sqlalchemy.make_url(url)
    if target.drivername == "postgresql":  # the driver this package installs, not 2.1's default
        target = target.set(drivername="postgresql+psycopg2")
    engine = sqlalchemy.create_engine(target)
    metadata = sqlalchemy.MetaData(schema=schema)
    versions = sqlalchemy.Table(
        table, metadata, sqlalchemy.Column("version_num", sqlalchemy.String(32), nullable=False)
    )
    with engine.begin() as conn:
        if replace:
            metadata.drop_all(conn)
        metadata.create_all(conn)
        for row in rows:
            conn.execute(versions.insert().values(version_num=row))
    engine.dispose()
    return url


def sqlite_database(directory: Path, *rows: str, name: str = "production") -> str:
    """A SQLite file in `directory` whose version table holds `rows`; its URL."""
    return with_version_rows(f"sqlite:///{directory / f'{name}.db'}", *rows)
