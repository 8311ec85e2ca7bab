"""Time `alembic-heads-bot heads` against `alembic heads` on the same generated environments.

Usage: python benchmarks/heads.py [--revisions 10000] [--small 500] [--runs 3]

Each figure is the best of --runs whole-process wall times (interpreter start included), with
the bot's parse cache cold (a fresh cache directory each run) and, separately, warm.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent

REVISION = '''"""step {i}

Revision ID: {rev}
Revises: {down}
Create Date: 2026-11-22 11:09:10.247384

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
    op.create_table(
        "t{i}",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )
    op.create_index("ix_t{i}_name", "t{i}", ["name"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_t{i}_name", "t{i}")
    op.drop_table("t{i}")
'''


def build(root: Path, count: int) -> None:
    """One environment: a chain of `count` revisions with a branch and a merge every 50."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text("# not run by either tool\n")
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\npath_separator = os\n"
    )
    prev: str | tuple[str, ...] | None = None
    for i in range(count):
        rev = f"{(i * 2654435761) % 16**12:012x}"
        if i % 50 == 49 and isinstance(prev, str):
            side = f"{(i * 40503 + 7) % 16**12:012x}"
            (versions / f"{side}_side_{i}.py").write_text(
                REVISION.format(i=f"{i}s", rev=side, down=prev)
            )
            prev = (prev, side)
        (versions / f"{rev}_step_{i}.py").write_text(REVISION.format(i=i, rev=rev, down=prev))
        prev = rev


def best_wall(command: list[str], cwd: Path, runs: int, env: dict[str, str]) -> tuple[float, str]:
    best, out = float("inf"), ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
        best = min(best, time.perf_counter() - start)
        out = done.stdout
    return best, out


def measure(root: Path, runs: int, with_alembic: bool) -> dict[str, float]:
    figures: dict[str, float] = {}
    cache = root / ".bench-cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    bot = [str(BIN / "alembic-heads-bot"), "heads"]
    cold = float("inf")
    for _ in range(runs):
        shutil.rmtree(cache, ignore_errors=True)
        wall, bot_out = best_wall(bot, root, 1, env)
        cold = min(cold, wall)
    figures["bot cold"] = cold
    figures["bot warm"], _ = best_wall(bot, root, runs, env)
    if with_alembic:
        figures["alembic"], alembic_out = best_wall(
            [str(BIN / "alembic"), "heads"], root, runs, env
        )
        if alembic_out.split() != bot_out.split():
            raise SystemExit(f"heads differ:\nalembic: {alembic_out}\nbot: {bot_out}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="heads-bench-") as tmp:
        for count in (args.small, args.revisions):
            root = Path(tmp) / str(count)
            build(root, count)
            figures = measure(root, args.runs, with_alembic=True)
            line = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in figures.items())
            ratios = (
                f"alembic/bot cold {figures['alembic'] / figures['bot cold']:.1f}x, "
                f"warm {figures['alembic'] / figures['bot warm']:.1f}x"
            )
            print(f"{count} revisions: {line}; {ratios}")


if __name__ == "__main__":
    main()
