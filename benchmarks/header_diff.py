"""The differential test of `engine.header` at scale: the header reading against the full
parse over many generated hostile files, and over every .py file under the directories given.

Usage: python benchmarks/header_diff.py [--files 20000] [--seed 18] [DIRECTORY ...]

Run from the repository root (it uses the test suite's generator, tests/engine/test_header.py).
Prints how many files each reader took and how many were declined; any difference fails.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "engine"), str(ROOT / "tests" / "support")]

from test_header import check, generated_files  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("directories", nargs="*", type=Path)
    args = parser.parse_args()
    used = collections.Counter(check(data) for data in generated_files(args.files, args.seed))
    print(f"{args.files} generated files: {dict(used)}")
    for directory in args.directories:
        files = sorted(directory.rglob("*.py"))
        used = collections.Counter(check(f.read_bytes(), f.as_posix()) for f in files)
        print(f"{len(files)} files under {directory}: {dict(used)}")


if __name__ == "__main__":
    main()
