"""Time scanning a generated tree, without compiling, compiling every file, and compiling the
files a change touches (what the pull-request check does).

Usage: python benchmarks/parse.py [--revisions 10000] [--changed 3] [--runs 5]

In process, parse cache cold each run, best of --runs. The tree is `heads.py`'s: one
environment, a chain with a branch and a merge every 50 revisions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Collection
from pathlib import Path

from alembic_heads_bot.adapters.disk import DiskTree
from alembic_heads_bot.engine.scan import ParseCache, TreeScan, scan_tree
from heads import build


class _Base:
    """The tree before a change: the same files, except `changed` (content ids differ)."""

    def __init__(self, tree: DiskTree, changed: Collection[str]) -> None:
        self.tree = tree
        self.changed = frozenset(changed)

    def paths(self) -> Collection[str]:
        return self.tree.paths()

    def link(self, path: str) -> str | None:
        return self.tree.link(path)

    def oid(self, path: str) -> str:
        return "before" if path in self.changed else self.tree.oid(path)

    def read(self, path: str) -> bytes:
        return self.tree.read(path)


def best(runs: int, scans: dict[str, Callable[[], TreeScan]]) -> dict[str, float]:
    """The best time of each scan, run in turn so that a busy machine slows all alike."""
    figures: dict[str, list[float]] = {name: [] for name in scans}
    for _ in range(runs):
        for name, scan in scans.items():
            started = time.perf_counter()
            scan()
            figures[name].append(time.perf_counter() - started)
    return {name: min(times) for name, times in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parse-bench-") as tmp:
        root = Path(tmp)
        build(root, args.revisions)
        tree = DiskTree(root)
        files = sorted(p for p in tree.paths() if p.endswith(".py") and "/versions/" in p)
        everything = _Base(tree, files)
        some = _Base(tree, files[-args.changed :])
        figures = best(
            args.runs,
            {
                "nothing compiled": lambda: scan_tree(tree, cache=ParseCache()),
                "every file compiled": lambda: scan_tree(
                    tree, cache=ParseCache(), changed_from=everything
                ),
                f"{args.changed} changed files compiled": lambda: scan_tree(
                    tree, cache=ParseCache(), changed_from=some
                ),
            },
        )
    plain = figures["nothing compiled"]
    print(f"{len(files)} revision files, scan with a cold parse cache, best of {args.runs}:")
    for name, seconds in figures.items():
        print(f"  {name:26} {seconds:.3f} s ({seconds / plain - 1:+.0%})")


if __name__ == "__main__":
    main()
