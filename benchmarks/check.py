"""Time `alembic-heads-bot check` on a large repository with a small pull request.

Usage: python benchmarks/check.py [--revisions 10000] [--small 500] [--runs 3]
                                  [--bot LABEL=BIN_DIR ...]

Builds git repositories whose main branch holds --small and --revisions real-size revisions and
a feature branch adding 3 on an older revision while main gained one (so the merge has two
heads, and base tip, merge base, head and merged tree all differ), then prints the
whole-process wall time (best and worst of --runs) and peak memory of `check --base main`,
cold (no parse cache) and warm, and for comparison of `alembic heads` on a checkout of the
merged tree, cold (no __pycache__) and warm; see runs.py.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

from heads import REAL_REVISION, build, compare, tree_size
from runs import alembic, bots, measure

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    # No `git gc --auto` in the background after a commit: the repository is packed once, below.
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "gc.auto",
    "GIT_CONFIG_VALUE_0": "0",
}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


def make_repository(root: Path, count: int) -> str:
    """main with `count` revisions, then one more; feature (checked out), made before that
    one, adds three on revision count-10."""
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
            REAL_REVISION.format(i=f"f{i}", rev=rev, down=parent)
        )
        parent = rev
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feature: three revisions")
    # main moves on meanwhile, so that the four trees a check reads are four different ones
    git(root, "checkout", "-q", "main")
    head = sorted(versions.glob(f"*_step_{count - 1}.py"))[0].name[:12]
    (versions / "beef00000000_main.py").write_text(
        REAL_REVISION.format(i="m", rev="beef00000000", down=head)
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "main: one more revision")
    git(root, "checkout", "-q", "feature")
    tree = git(root, "merge-tree", "--write-tree", "main", "feature").splitlines()[0]
    # Packed, as a CI checkout is (and before the runs: with 10,000 loose objects, an automatic
    # gc would pack them in the background while the runs are measured).
    git(root, "gc", "--quiet")
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--bot", action="append", default=[], metavar="LABEL=BIN_DIR",
        help="an installation to measure (repeat to compare); this interpreter's by default",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="check-bench-") as tmp:
        for count in (args.small, args.revisions):
            root = Path(tmp) / str(count) / "repo"
            merged_tree = make_repository(root, count)
            merged = Path(tmp) / str(count) / "merged"
            git(root, "worktree", "add", "-q", "--detach", str(merged), "main")
            git(merged, "read-tree", "-u", "--reset", merged_tree)
            commands = {
                f"{label} check": (
                    [str(directory / "alembic-heads-bot"), "check", "--base", "main"],
                    root,
                )
                for label, directory in bots(args.bot).items()
            }
            commands["alembic"] = ([alembic(), "heads"], merged)
            figures = measure(commands, args.runs, Path(tmp) / "cache")
            for name, figure in figures.items():
                expected = "feed00000002" if name == "alembic" else "new head feed00000002"
                if any(expected not in done.out for done in (*figure.cold, *figure.warm)):
                    raise SystemExit(f"unexpected output of {name}:\n{figure.cold[0].out}")
            print(
                f"{count} revisions + a 3-revision pull request ({tree_size(root)}), best of "
                f"{args.runs}; check reads 4 trees (base tip, merge base, head, merged), "
                "alembic heads the merged one:"
            )
            print("\n".join(compare(figures)))


if __name__ == "__main__":
    main()
