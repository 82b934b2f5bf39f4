"""Benchmarks: ScreenSpot v1/v2/Pro and AndroidControl (offline), MiniWoB++ (online), one runner.

`create_benchmark(name, options)` builds a benchmark; `evaluate` runs a policy on it and
`rescore` judges a saved predictions.jsonl. See `pixelpilot.evals.base` for the interface a
new benchmark implements. Here: `base` (the interface), `runner`, `offline` (batched one-screen
benchmarks), `records` (predictions.jsonl and provenance), `scoring`, `report`, `registry`; one
subpackage per benchmark: `screenspot/`, `androidcontrol/`, `miniwob/`.

May import: `pixelpilot.actions`, `pixelpilot.model`, `pixelpilot.agent` and (online benchmarks)
`pixelpilot.env`. Importing this package imports no model backend.
"""

from pixelpilot.evals.base import (
    Benchmark,
    Dataset,
    EvalDataError,
    Problem,
    Problems,
    Score,
    Summary,
    Table,
)
from pixelpilot.evals.outcome import EvalResult
from pixelpilot.evals.registry import BENCHMARKS, create_benchmark
from pixelpilot.evals.runner import evaluate, rescore

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "Dataset",
    "EvalDataError",
    "EvalResult",
    "Problem",
    "Problems",
    "Score",
    "Summary",
    "Table",
    "create_benchmark",
    "evaluate",
    "rescore",
]
