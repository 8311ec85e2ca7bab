"""Time `alembic-heads-bot check` on a large repository with a small pull request.

Usage: python benchmarks/check.py [--revisions 10000] [--runs 3]

Builds a git repository whose main branch holds --revisions revisions and a feature branch
adding 3 on an older revision (so the merge has two heads), then prints the best whole-process
wall time of `check --base main` (parse cache cold and warm) and, for comparison, of
`alembic heads` on a checkout of the merged tree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from heads import BIN, REVISION, best_wall, build

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


def make_repository(root: Path, count: int) -> str:
    """main with `count` revisions; feature (checked out) adds three on revision count-10."""
    build(root, count)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "history")
    versions = root / "migrations" / "versions"
    fork_point = sorted(versions.glob(f"*_step_{count - 10}.py"))[0].name[:12]
    git(root, "checkout", "-q", "-b", "feature")
    parent = fork_point
    for i in range(3):
        rev = f"feed{i:08x}"
        (versions / f"{rev}_feature_{i}.py").write_text(
            REVISION.format(i=f"f{i}", rev=rev, down=parent)
        )
        parent = rev
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feature: three revisions")
    tree = git(root, "merge-tree", "--write-tree", "main", "feature").splitlines()[0]
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="check-bench-") as tmp:
        root = Path(tmp) / "repo"
        merged_tree = make_repository(root, args.revisions)
        cache = Path(tmp) / "cache"
        env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
        check = [str(BIN / "alembic-heads-bot"), "check", "--base", "main"]
        cold = float("inf")
        for _ in range(args.runs):
            shutil.rmtree(cache, ignore_errors=True)
            wall, out = best_wall(check, root, 1, env)
            cold = min(cold, wall)
        if "new head feed00000002" not in out:
            raise SystemExit(f"unexpected check output:\n{out}")
        warm, _ = best_wall(check, root, args.runs, env)
        merged = Path(tmp) / "merged"
        git(root, "worktree", "add", "-q", "--detach", str(merged), "main")
        git(merged, "read-tree", "-u", "--reset", merged_tree)
        alembic, heads = best_wall([str(BIN / "alembic"), "heads"], merged, args.runs, env)
        print(
            f"{args.revisions} revisions + a 3-revision pull request: check cold {cold:.3f} s, "
            f"warm {warm:.3f} s (4 trees: base tip, merge base, PR head, merged); alembic heads "
            f"on the merged tree {alembic:.3f} s; alembic/check cold {alembic / cold:.1f}x, "
            f"warm {alembic / warm:.1f}x"
        )
        print(f"alembic heads printed: {' '.join(heads.split())}")


if __name__ == "__main__":
    main()
