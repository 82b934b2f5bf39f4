"""A child process for the interrupted-batch test: `run --tasks` with the batch tests' policy,
which stalls (forever) at its STALL-th prediction so the parent can kill it mid-batch.

Usage: STALL=N python -m tests.cli.batch_child RUN_ARGS...
Prints "stalled" once the batch is stuck; the parent then kills it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from pixelpilot.actions import Observation
from pixelpilot.cli import main
from pixelpilot.model import History, Prediction
from tests.cli.test_batch import TwoClicks


class Stalling(TwoClicks):
    def __init__(self, stall_at: int) -> None:
        super().__init__()
        self.stall_at, self.calls = stall_at, 0

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        self.calls += len(items)
        if self.calls >= self.stall_at:
            print("stalled", flush=True)
            while True:
                time.sleep(0.05)
        return super().predict_batch(items)


def run() -> int:
    from pixelpilot.cli import batch

    stall_at = int(os.environ["STALL"])

    def create(spec: str, options: Any) -> Stalling:
        return Stalling(stall_at)

    batch.create_policy = create  # type: ignore[assignment]
    return main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(run())
