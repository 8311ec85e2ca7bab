"""Real Alembic on a commit of the fake GitHub: load its migrations and upgrade SQLite."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from shop import SHOP, Shop

ENV_PY = """\
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""


def upgrade_on_sqlite(shop: Shop, sha: str, tmp: Path) -> list[str]:
    """Check the commit out, let real Alembic load it and upgrade an empty SQLite database;
    the heads Alembic sees."""
    where = tmp / f"checkout-{sha[:8]}"
    where.mkdir()
    archive = subprocess.run(
        ["git", "--git-dir", str(shop.fake.repo(SHOP).bare.path), "archive", sha],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    (where / "migrations" / "env.py").write_text(ENV_PY)
    shutil.copy(
        Path(command.__file__).parent / "templates" / "generic" / "script.py.mako",
        where / "migrations" / "script.py.mako",
    )
    config = Config()
    config.set_main_option("script_location", str(where / "migrations"))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{where / 'test.db'}")
    heads = ScriptDirectory.from_config(config).get_heads()
    command.upgrade(config, "heads")
    with sqlite3.connect(where / "test.db") as db:
        [(applied,)] = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert [applied] == heads
    return heads
