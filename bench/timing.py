"""Timing helpers shared by the bench scripts: interleaved A/B runs, warm-ups, and summaries.

Benchmarks here run on shared, noisy machines. Timing A in one block and then B in another lets
a burst of load on the machine land on one side only; `interleaved` runs A, B, A, B, ... so both
see the same conditions, and `min_median` reports the minimum (the least-disturbed run) beside
the median.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    """Seconds taken by each of `repeats` calls of `fn`, after one untimed warm-up call."""
    fn()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return seconds


def interleaved(fns: Mapping[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each function, called in turn A, B, C, A, B, C, ... `rounds` times.

    Every function is called once untimed first (imports, caches, JIT-like warm-ups).
    """
    for fn in fns.values():
        fn()
    seconds: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def summary(seconds: list[float]) -> tuple[float, float]:
    """(median, 90th percentile) of `seconds`, in milliseconds."""
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p90 * 1000


def min_median(seconds: list[float]) -> tuple[float, float]:
    """(minimum, median) of `seconds`, in milliseconds."""
    return min(seconds) * 1000, statistics.median(seconds) * 1000


def machine() -> str:
    """One line naming when and where a benchmark ran (UTC date, CPU count, Python, OS)."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{now}; {os.cpu_count()} CPUs (load {load:.1f}); Python {platform.python_version()}; "
        f"{platform.system()} {platform.machine()}"
    )
