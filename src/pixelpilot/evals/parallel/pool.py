"""The local worker pool: N threads run samples at once, sharing one policy.

The main thread reads the data set in benchmark order and hands samples to a bounded queue;
each worker takes a chunk, runs `benchmark.predict` on it with the shared policy behind a
`BatchingPolicy` (so an offline benchmark's loaders feed one batched model, and online
episodes' single predictions are gathered into batches), scores each record and commits it at
once (predictions.jsonl is appended as samples finish, so `--resume` continues an interrupted
run). An online benchmark gets one copy of itself per worker (`worker_copy()`: MiniWoB++ one
browser each), created, used and closed on the worker's own thread (Playwright's sync API is
bound to its thread).

Results are put back in benchmark order at the end: the caller's report is built from the same
scores in the same order as a sequential run, and problems are ordered by the sample they
concern (those found while reading sample i before those found while running it), as a run with
`--batch-size 1` lists them.

Threads, not processes: the model lives once, in this process. Note that `run_episode`'s
wall-clock budget is enforced between calls (not by SIGALRM) in a worker thread.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pixelpilot.agent.batching import BatchingPolicy
from pixelpilot.errors import ConfigError
from pixelpilot.evals.base import Benchmark, Problem, Problems, Record, Score
from pixelpilot.evals.offline import OfflineBenchmark
from pixelpilot.model import Policy

ScoreFn = Callable[[Benchmark[Any], Any, Record, Problems], Score]
CommitFn = Callable[[Any, Record, Score], None]


@dataclass(frozen=True)
class Finished:
    """One sample's outcome: its position in benchmark order, the sample, record and score."""

    index: int
    sample: Any
    record: Record
    score: Score


def worker_benchmark(benchmark: Benchmark[Any]) -> tuple[Callable[[], Benchmark[Any]], bool]:
    """How a worker gets its benchmark, and whether the worker owns (closes) what it got: the
    shared one for an offline benchmark (its `predict` keeps no state), else a fresh copy from
    `benchmark.worker_copy()` that the worker closes.

    Raises:
        ConfigError: the benchmark runs one episode at a time (it has no `worker_copy`).
    """
    if isinstance(benchmark, OfflineBenchmark):
        return (lambda: benchmark), False
    copy = getattr(benchmark, "worker_copy", None)
    if copy is None:
        raise ConfigError(
            f"{benchmark.name} runs one episode at a time: drop --workers (or give --workers 1)"
        )
    return copy, True


class _Pool:
    def __init__(
        self,
        benchmark: Benchmark[Any],
        front: BatchingPolicy,
        *,
        workers: int,
        strict: bool,
        score: ScoreFn,
        commit: CommitFn,
        on_busy: Callable[[int], None],
    ) -> None:
        self.make, self.owned = worker_benchmark(benchmark)
        self.front = front
        self.strict = strict
        self.score = score
        self.commit = commit
        self.on_busy = on_busy
        self.work: queue.Queue[tuple[int, list[Any]] | None] = queue.Queue(maxsize=2 * workers)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.finished: list[Finished] = []
        self.problems: list[tuple[tuple[int, int, int], Problem]] = []
        self.threads = [
            threading.Thread(target=self._worker, name=f"eval-worker-{k}", daemon=True)
            for k in range(workers)
        ]

    def _worker(self) -> None:
        bench: Benchmark[Any] | None = None
        try:
            bench = self.make()
            while not self.stop.is_set():
                item = self.work.get()
                if item is None:
                    return
                self._run(bench, *item)
        except BaseException as exc:  # re-raised by the main thread
            with self.lock:
                self.errors.append(exc)
            self.stop.set()
        finally:
            if bench is not None and self.owned:
                try:
                    bench.close()
                except Exception as exc:  # a failed close must not hide the run's result
                    with self.lock:
                        self.errors.append(exc)

    def _run(self, bench: Benchmark[Any], first: int, chunk: list[Any]) -> None:
        local = Problems(strict=self.strict)
        self.front.attach()
        self.on_busy(self.front.busy)
        try:
            records = bench.predict(self.front, chunk, local)
        finally:
            self.front.detach()
            self.on_busy(self.front.busy)
        by_id = {record["id"]: record for record in records}
        with self.lock:
            for offset, sample in enumerate(chunk):
                index = first + offset
                record = by_id.get(sample.id)
                if record is not None:
                    score = self.score(bench, sample, record, local)
                    record["correct"] = score.correct
                    self.commit(sample, record, score)
                    self.finished.append(Finished(index, sample, record, score))
            # Problems of a chunk: keyed by the chunk's first sample, in the order they came.
            for seq, problem in enumerate(local.items):
                self.problems.append(((first, 1, seq), problem))

    def feed(self, item: tuple[int, list[Any]]) -> None:
        while not self.stop.is_set():
            try:
                self.work.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        for _ in self.threads:
            while True:
                try:
                    self.work.put(None, timeout=0.1)
                    break
                except queue.Full:
                    if self.stop.is_set():
                        self._drain()
        for thread in self.threads:
            while thread.is_alive():
                thread.join(timeout=0.2)

    def _drain(self) -> None:
        try:
            while True:
                self.work.get_nowait()
        except queue.Empty:
            return


def run_pool(
    benchmark: Benchmark[Any],
    policy: Policy,
    samples: Iterable[Any],
    problems: Problems,
    *,
    workers: int,
    batch_size: int,
    take_saved: Callable[[Any], tuple[Score, Record] | None],
    score: ScoreFn,
    commit: CommitFn,
    on_busy: Callable[[int], None],
) -> list[Finished]:
    """Run every sample not already saved on `workers` threads; every outcome, in order.

    Args:
        benchmark: the benchmark (shared, or copied per worker: see `worker_benchmark`).
        policy: the one policy; wrapped in a `BatchingPolicy` of `batch_size` for the run.
        samples: the samples in benchmark order (read lazily, on this thread).
        problems: the run's problems; problems found on workers are merged into it in
            benchmark order when the run ends.
        workers: worker threads (>= 1).
        batch_size: the most items per `predict_batch` call of the policy.
        take_saved: a saved (resumed) sample's score and record, or None to run it.
        score: judges one record (may add a problem to the Problems it is given).
        commit: called once per finished sample, under a lock (writes predictions.jsonl).
        on_busy: called with the number of busy workers when it changes.

    Raises:
        ConfigError: workers < 1, or the benchmark cannot run on several workers.
        Whatever a worker raised first (PolicyError, EvalDataError with strict, ...): the
        other workers finish their current sample, then stop.
    """
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    online = not isinstance(benchmark, OfflineBenchmark)
    chunk_size = 1 if online else max(1, math.ceil(batch_size / workers))
    front = BatchingPolicy(policy, batch_size=batch_size)
    pool = _Pool(
        benchmark,
        front,
        workers=workers,
        strict=problems.strict,
        score=score,
        commit=commit,
        on_busy=on_busy,
    )
    base = len(problems.items)
    tags: list[int] = []  # sample position of each problem the main thread found
    saved: list[Finished] = []
    for thread in pool.threads:
        thread.start()
    try:
        chunk: list[Any] = []
        first = 0
        index = -1
        for index, sample in enumerate(samples):
            tags.extend([index] * (len(problems.items) - base - len(tags)))
            if pool.stop.is_set():
                break
            done = take_saved(sample)
            tags.extend([index] * (len(problems.items) - base - len(tags)))
            if done is not None:
                saved.append(Finished(index, sample, done[1], done[0]))
                continue
            if not chunk:
                first = index
            chunk.append(sample)
            if len(chunk) >= chunk_size:
                pool.feed((first, chunk))
                chunk = []
        tags.extend([index + 1] * (len(problems.items) - base - len(tags)))
        if chunk and not pool.stop.is_set():
            pool.feed((first, chunk))
    except BaseException:
        pool.stop.set()
        raise
    finally:
        pool.finish()
        front.close()
    if pool.errors:
        raise pool.errors[0]
    keyed = [
        ((tag, 0, seq), p)
        for seq, (tag, p) in enumerate(zip(tags, problems.items[base:], strict=True))
    ]
    merged = sorted([*keyed, *pool.problems], key=lambda pair: pair[0])
    problems.items[base:] = [problem for _, problem in merged]
    return sorted([*saved, *pool.finished], key=lambda item: item.index)
