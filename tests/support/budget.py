"""What one call costs in time and memory, for the tests that bound the work of hostile input."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Cost:
    seconds: float  # CPU time of this process, so a loaded machine does not fail the bound
    peak_mb: float  # the largest amount of memory Python had allocated at once


def cost_of(work: Callable[[], T]) -> tuple[T, Cost]:
    """`work()`'s result and cost: CPU time of one run, then the peak allocation of a second
    run under tracemalloc (measured apart because tracemalloc slows allocation down).

    CPU time, not wall time: the bound is on the work hostile input makes, and other processes
    on a shared CI machine only stretch the wall clock."""
    started = time.process_time()
    result = work()
    seconds = time.process_time() - started
    tracemalloc.start()
    try:
        work()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, Cost(seconds, peak / 2**20)
