"""Whole-process runs for the benchmarks: wall time and peak memory, cold and warm, several
installations of the bot measured in turn on the same tree (so a busy machine slows all alike).

Cold means what a CI container gets: no parse cache for the bot, and no `__pycache__` beside
the revision files for Alembic (whose import writes one, which the next run reads). Bytecode is
written whatever the caller's PYTHONDONTWRITEBYTECODE says, so that warm runs are warm.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float  # user + system, its children's included: steadier than wall on a busy machine
    peak_mb: float
    status: int
    out: str


def run(command: list[str], cwd: Path, env: dict[str, str]) -> Run:
    """One whole process: wall time, peak resident memory (its own and its children's)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss / 1024, process.returncode, text)


@dataclass
class Figures:
    """Every run of one command, cold and warm."""

    cold: list[Run] = field(default_factory=list)
    warm: list[Run] = field(default_factory=list)

    @staticmethod
    def spread(runs: list[Run]) -> str:
        walls = sorted(r.wall for r in runs)
        cpu = min(r.cpu for r in runs)
        return f"{walls[0]:.3f} s (worst {walls[-1]:.3f}, cpu {cpu:.3f})"

    def best(self, warm: bool = False) -> float:
        return min(r.wall for r in (self.warm if warm else self.cold))

    def best_cpu(self, warm: bool = False) -> float:
        return min(r.cpu for r in (self.warm if warm else self.cold))

    def peak(self) -> float:
        return max(r.peak_mb for r in (*self.cold, *self.warm))

    def line(self) -> str:
        return (
            f"cold {self.spread(self.cold)}, warm {self.spread(self.warm)}, "
            f"peak {self.peak():.0f} MB"
        )


def environment(cache: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def bytecode_dirs(root: Path) -> Iterator[Path]:
    # .git is pruned, not walked and filtered: a `git gc --auto` running in the background
    # deletes object directories under a walk (FileNotFoundError).
    for directory, subdirs, _ in os.walk(root):
        if "__pycache__" in subdirs:
            yield Path(directory, "__pycache__")
        subdirs[:] = [name for name in subdirs if name not in (".git", "__pycache__")]


def measure(
    commands: dict[str, tuple[list[str], Path]], runs: int, cache: Path
) -> dict[str, Figures]:
    """Each command (argv, working directory) `runs` times cold, then `runs` times warm,
    taking turns."""
    env = environment(cache)
    figures = {name: Figures() for name in commands}
    for warm in (False, True):
        for _ in range(runs):
            for name, (command, cwd) in commands.items():
                if not warm:
                    shutil.rmtree(cache, ignore_errors=True)
                    for directory in list(bytecode_dirs(cwd)):
                        shutil.rmtree(directory)
                done = run(command, cwd, env)
                (figures[name].warm if warm else figures[name].cold).append(done)
    return figures


def alembic() -> str:
    """The `alembic` command beside this interpreter: the reference every figure is set against."""
    command = BIN / "alembic"
    if not command.exists():
        raise SystemExit(
            f"no alembic beside {sys.executable}: run the benchmarks with the Python of a "
            "virtualenv that has Alembic installed (`make bench` uses the project's)"
        )
    return str(command)


def bots(specs: list[str]) -> dict[str, Path]:
    """`--bot LABEL=BIN_DIR` options; the running interpreter's installation by default."""
    if not specs:
        return {"bot": BIN}
    found = {}
    for spec in specs:
        label, _, directory = spec.partition("=")
        found[label] = Path(directory)
    return found
