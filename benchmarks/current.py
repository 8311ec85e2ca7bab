"""Time `alembic-heads-bot current` against `alembic current` on the same tree and database.

Usage: python benchmarks/current.py [--revisions 10000] [--small 500] [--runs 3]
                                    [--database-url URL]

Each tree is the one benchmarks/heads.py generates, with an env.py that Alembic can run; the
database (a SQLite file by default, or --database-url, whose alembic_version is replaced) is
stamped at the revision halfway up the history. Figures are the best of --runs whole-process
wall times; the printed revisions are checked to be the same.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from heads import best_wall, build
from runs import BIN, alembic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from versiondb import with_version_rows

ENV_PY = """\
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


def middle_revision(root: Path, count: int) -> str:
    step = count // 2
    [path] = (root / "migrations" / "versions").glob(f"*_step_{step}.py")
    return path.name.split("_")[0]


def measure(root: Path, count: int, url: str, runs: int) -> str:
    (root / "migrations" / "env.py").write_text(ENV_PY)
    alembic_url = url.replace("postgresql://", "postgresql+psycopg2://")
    with (root / "alembic.ini").open("a") as ini:
        ini.write(f"sqlalchemy.url = {alembic_url}\n")
    with_version_rows(url, middle_revision(root, count), replace=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(root / ".bench-cache")}
    bot_cmd = [str(BIN / "alembic-heads-bot"), "current", "--database-url", url]
    best_wall(bot_cmd, root, 1, env)  # fill the parse cache: `current` is run warm in practice
    bot, bot_out = best_wall(bot_cmd, root, runs, env)
    reference, alembic_out = best_wall([alembic(), "current"], root, runs, env)
    if _revisions(alembic_out) != _revisions(bot_out):
        raise SystemExit(f"current differs:\nalembic: {alembic_out}\nbot: {bot_out}")
    return f"{count} revisions: bot {bot:.3f} s, alembic {reference:.3f} s ({reference / bot:.1f}x)"


def _revisions(output: str) -> list[str]:
    return re.findall(r"^([0-9a-f]{12})\b", output, re.MULTILINE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", help="default: a SQLite file per tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="current-bench-") as tmp:
        for count in (args.small, args.revisions):
            root = Path(tmp) / str(count)
            build(root, count)
            url = args.database_url or f"sqlite:///{Path(tmp) / f'{count}.db'}"
            print(measure(root, count, url, args.runs), flush=True)


if __name__ == "__main__":
    main()
