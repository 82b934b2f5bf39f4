"""Running a benchmark or a task file with many workers, all served by one policy.

Here: `pool` (N worker threads, each with its own environment where the benchmark needs one,
all sharing one policy through `pixelpilot.agent.batching.BatchingPolicy`), `process` and
`process_worker` (N worker processes for a benchmark whose environment is per process, the
desktop: one private display each, the policy answering over a pipe), `ray_backend` and
`ray_tasks` (workers as Ray actors on a cluster), `wire` (observations, histories and run
directories between processes and machines), `jobs` and `jobs_resume` (`run --tasks`: many
independent episodes, resumable), `progress` (the bar: done/total, running metric, ETA,
workers busy).

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
