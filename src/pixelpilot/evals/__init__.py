"""Benchmarks: ScreenSpot v1/v2/Pro and AndroidControl (offline), run by one runner.

`create_benchmark(name, options)` builds a benchmark; `evaluate` runs a policy on it and
`rescore` judges a saved predictions.jsonl. See `pixelpilot.evals.base` for the interface a
new benchmark implements. Importing this package imports no model backend.
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
from pixelpilot.evals.registry import BENCHMARKS, create_benchmark
from pixelpilot.evals.runner import EvalResult, evaluate, rescore

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
