"""The built-in example repository: the classic two-heads case, made in a temporary directory.

main: A -> B -> C -> D; the branch `feature` starts at C and adds E -> F. Each branch alone has
one head; merged, the graph has two (D and F) and `alembic upgrade head` would fail. A SQLite
"production" database, named in the bot config, has applied main up to D.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from alembic_heads_bot.templates import generic_template

Command = Callable[[list[str]], int]

ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
path_separator = os
"""

ENV_PY = '''\
"""Alembic's env.py. The demo never runs it: the bot reads revision files statically."""
'''

REVISION = '''\
"""{message}

Revision ID: {rev}
Revises: {down}
Create Date: 2026-11-0{day} 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = {rev!r}
down_revision: Union[str, Sequence[str], None] = {down!r}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table("{table}", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("{table}")
'''

DATABASE_VARIABLE = "DEMO_PRODUCTION_DATABASE_URL"
BOT_CONFIG = f"""\
# The databases whose applied revisions the bot weighs; the URL comes from a secret.
databases:
  - name: production
    url_env: {DATABASE_VARIABLE}
"""

# (revision id, parent, message, table)
MAIN = [
    ("1a0a0a0a0a0a", None, "create users", "users"),
    ("2b0b0b0b0b0b", "1a0a0a0a0a0a", "create orders", "orders"),
    ("3c0c0c0c0c0c", "2b0b0b0b0b0b", "create invoices", "invoices"),
]
MAIN_AFTER_BRANCH = [("4d0d0d0d0d0d", "3c0c0c0c0c0c", "create payments", "payments")]
FEATURE = [
    ("5e0e0e0e0e0e", "3c0c0c0c0c0c", "create coupons", "coupons"),
    ("6f0f0f0f0f0f", "5e0e0e0e0e0e", "create coupon uses", "coupon_uses"),
]


def _git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Demo",
        "GIT_AUTHOR_EMAIL": "demo@example.com",
        "GIT_COMMITTER_NAME": "Demo",
        "GIT_COMMITTER_EMAIL": "demo@example.com",
        "GIT_AUTHOR_DATE": "2026-11-01T10:00:00Z",
        "GIT_COMMITTER_DATE": "2026-11-01T10:00:00Z",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def _add_revisions(repo: Path, revisions: Sequence[tuple[str, str | None, str, str]]) -> None:
    for day, (rev, down, message, table) in enumerate(revisions, start=1):
        text = REVISION.format(rev=rev, down=down, message=message, table=table, day=day)
        slug = message.replace(" ", "_")
        (repo / "migrations" / "versions" / f"{rev}_{slug}.py").write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", f"Add migrations: {', '.join(r[2] for r in revisions)}")


def build_demo_repository(repo: Path) -> None:
    """Create the example at `repo` (an empty or missing directory) with `feature` checked out,
    using Alembic's generic script.py.mako, as `alembic init` writes it."""
    template = generic_template().decode("utf-8")
    (repo / "migrations" / "versions").mkdir(parents=True)
    (repo / "alembic.ini").write_text(ALEMBIC_INI)
    (repo / "migrations" / "env.py").write_text(ENV_PY)
    (repo / "migrations" / "script.py.mako").write_text(template)
    (repo / ".github").mkdir()
    (repo / ".github" / "alembic-heads.yml").write_text(BOT_CONFIG)
    _git(repo, "init", "-q", "-b", "main")
    _add_revisions(repo, MAIN)
    _git(repo, "branch", "feature")
    _add_revisions(repo, MAIN_AFTER_BRANCH)
    _git(repo, "checkout", "-q", "feature")
    _add_revisions(repo, FEATURE)


def build_production_database(path: Path) -> str:
    """A SQLite database as `alembic upgrade head` on main leaves it: at D. Its URL."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES (?)", (MAIN_AFTER_BRANCH[-1][0],))
    connection.close()
    return f"sqlite:///{path}"


def run_demo_steps(main: Command, keep: str | None = None) -> int:
    """Build the classic two-heads example, show the failing check, fix it, check again. With
    `keep`, the example is built in that directory (new or empty) and left there."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="alembic-heads-demo-") as tmp:
            return _demo_in(main, Path(tmp))
    folder = Path(keep).absolute()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        print(f"alembic-heads-bot: error: demo --keep {folder}: not an empty directory",
              file=sys.stderr)  # fmt: skip
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    status = _demo_in(main, folder)
    print(f"\nThe example is kept in {folder}: cd {shlex.quote(str(folder / 'shop'))}")
    return status


def _demo_in(main: Command, folder: Path) -> int:
    repo = folder / "shop"
    build_demo_repository(repo)
    url = build_production_database(folder / "production.db")
    print(f"Example repository: {repo}")
    print("main: A -> B -> C -> D; branch feature (from C, checked out): E -> F")
    print(f"production database ({url}): at D; {DATABASE_VARIABLE} holds its URL\n")
    saved = os.environ.get(DATABASE_VARIABLE)
    os.environ[DATABASE_VARIABLE] = url
    try:
        return _run_steps(main, repo, url)
    finally:
        if saved is None:
            del os.environ[DATABASE_VARIABLE]
        else:
            os.environ[DATABASE_VARIABLE] = saved


def _run_steps(main: Command, repo: Path, url: str) -> int:
    """Check, fix and check again; `current` shows the database once the branch holds D."""
    steps = [
        ("heads of feature alone: one head, so its own CI is green", ["heads", str(repo)]),
        ("check feature as merged into main", ["check", "--repo", str(repo), "--base", "main"]),
        (
            "merge: refused while feature lacks D",
            ["merge", "--repo", str(repo), "--base", "main"],
        ),
    ]
    for title, argv in steps:
        _step(main, title, argv)
    print("$ git merge main")
    _git(repo, "merge", "main")
    _step(
        main,
        "current: what production has applied, without running env.py",
        ["current", str(repo), "--database-url", url],
    )
    _step(
        main,
        "merge: writes the merge migration",
        ["merge", "--repo", str(repo), "--base", "main", "-m", "merge payments and coupons"],
    )
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Add merge migration")
    print("$ git add -A && git commit -m 'Add merge migration'")
    status = _step(main, "check again", ["check", "--repo", str(repo), "--base", "main"])
    _step(main, "the graph now", ["graph", str(repo)])
    return status


def _step(main: Command, title: str, argv: list[str]) -> int:
    print(f"\n== {title}\n$ alembic-heads-bot {shlex.join(argv)}", flush=True)
    status = main(argv)
    sys.stderr.flush()
    print(f"(exit {status})", flush=True)
    return status
