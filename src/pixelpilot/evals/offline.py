"""Offline benchmarks: each sample is one screenshot plus a goal, predicted in batches."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Sequence

from pixelpilot.actions import Observation
from pixelpilot.errors import PolicyError
from pixelpilot.evals.base import Benchmark, Problems, Record, S
from pixelpilot.model import History, Policy, Prediction


class SampleError(Exception):
    """A sample cannot be run (its image is missing or unreadable); `kind` names the problem."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class OfflineBenchmark(Benchmark[S]):
    """A benchmark whose samples are independent (observation, history) pairs."""

    @abstractmethod
    def observe(self, sample: S) -> tuple[Observation, History]:
        """The observation and history the policy sees. Raises SampleError."""

    @abstractmethod
    def to_record(self, sample: S, prediction: Prediction, observation: Observation) -> Record:
        """The predictions.jsonl record for one prediction (without "correct" and timings)."""

    def predict(self, policy: Policy, batch: Sequence[S], problems: Problems) -> list[Record]:
        """Load every sample's observation, call `policy.predict_batch` once, build records.

        Samples whose observation cannot be built are reported to `problems` and left out.
        Timings per record: "load" (this sample's image), "batch" (the whole batch's
        predict_batch call), "per_sample" (batch / batch size), plus the policy's own.
        """
        ready: list[tuple[S, Observation, History, float]] = []
        for sample in batch:
            start = time.perf_counter()
            try:
                observation, history = self.observe(sample)
            except SampleError as exc:
                problems.add(exc.kind, sample.id, exc.detail)
                continue
            ready.append((sample, observation, history, time.perf_counter() - start))
        if not ready:
            return []
        start = time.perf_counter()
        predictions = policy.predict_batch([(obs, hist) for _, obs, hist, _ in ready])
        elapsed = time.perf_counter() - start
        if len(predictions) != len(ready):
            raise PolicyError(
                f"{policy.spec}: predict_batch returned {len(predictions)} predictions "
                f"for {len(ready)} inputs"
            )
        records = []
        for (sample, observation, _, load), prediction in zip(ready, predictions, strict=True):
            record = self.to_record(sample, prediction, observation)
            record["timings"] = {
                "load": round(load, 4),
                "batch": round(elapsed, 4),
                "per_sample": round(elapsed / len(ready), 4),
                **{k: round(v, 4) for k, v in prediction.timings.items()},
            }
            records.append(record)
        return records
