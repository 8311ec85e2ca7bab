"""`make bench` runs: each benchmark, on tiny trees, prints its figures against Alembic's.

The figures themselves are not asserted (speed is measured by running the benchmarks, not in
tests); what is asserted is that each script still runs and checks the bot's answer against
Alembic's, as the README says.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("heads.py", "alembic/bot cold"),
        ("check.py", "alembic/bot check cold"),
        ("current.py", "revisions: bot"),
    ],
)
def test_each_benchmark_runs_and_compares_with_alembic(script, expected):
    done = subprocess.run(
        [sys.executable, script, "--revisions", "24", "--small", "12", "--runs", "1"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
    assert done.stdout.count(expected) == 2  # both sizes
