"""Running a benchmark with many workers: the local worker pool and the live progress bar.

Here: `pool` (N worker threads, each with its own environment where the benchmark needs one,
all sharing one policy through `pixelpilot.agent.batching.BatchingPolicy`), `progress` (the
bar: done/total, running metric, ETA, workers busy).

May import: `pixelpilot.evals.base`, `pixelpilot.evals.offline`, `pixelpilot.agent`,
`pixelpilot.model` and the shared modules (never `pixelpilot.evals.runner` or `cli`).
"""

from pixelpilot.evals.parallel.pool import (
    Executor,
    Finished,
    LocalExecutor,
    WorkerLost,
    run_pool,
    worker_benchmark,
)
from pixelpilot.evals.parallel.progress import EvalProgress

__all__ = [
    "EvalProgress",
    "Executor",
    "Finished",
    "LocalExecutor",
    "WorkerLost",
    "run_pool",
    "worker_benchmark",
]
