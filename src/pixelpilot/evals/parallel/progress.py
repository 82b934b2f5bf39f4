"""The live progress bar of an evaluation (stderr): done/total, running metric, ETA, busy."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from pixelpilot.evals.base import Score


class EvalProgress:
    """A rich progress bar: done/total, running accuracy, workers busy, elapsed and ETA.

    Args:
        title: the benchmark's title.
        total: how many samples, when known.
        enabled: draw the bar (off: only count).
        workers: how many workers run (the "busy k/N" column is shown when > 1).

    Thread-safe: workers may call `advance` and `set_busy` concurrently.
    """

    def __init__(self, title: str, total: int | None, *, enabled: bool, workers: int = 1) -> None:
        self.enabled = enabled
        self.workers = workers
        self.done = 0
        self.correct = 0
        self._lock = threading.Lock()
        columns = [
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("acc {task.fields[acc]}"),
        ]
        if workers > 1:
            columns.append(TextColumn("busy {task.fields[busy]}/" + str(workers)))
        self.bar = Progress(
            *columns,
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not enabled,
        )
        self.task = self.bar.add_task(title, total=total, acc="-", busy=0)

    def advance(self, count: int, scores: Iterable[Score]) -> None:
        """Count `count` finished samples whose scores are `scores`."""
        with self._lock:
            for score in scores:
                self.done += 1
                self.correct += score.correct
            acc = f"{100 * self.correct / self.done:.1f}%" if self.done else "-"
            self.bar.update(self.task, advance=count, acc=acc)

    def set_busy(self, busy: int) -> None:
        """Show how many workers are running a sample now."""
        with self._lock:
            self.bar.update(self.task, busy=busy)

    def __enter__(self) -> EvalProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()
