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

Threads, not processes: the model lives once, in this process. In a worker thread
`run_episode`'s wall-clock budget is enforced by the budget's watchdog, not by SIGALRM (see
`pixelpilot.agent.budget` for what it can and cannot cut).
"""

from __future__ import annotations

import collections
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from pixelpilot.agent.batching import BatchingPolicy, check_shareable
from pixelpilot.errors import ConfigError
from pixelpilot.evals.base import Benchmark, Problem, Problems, Record, Score
from pixelpilot.evals.offline import OfflineBenchmark
from pixelpilot.evals.parallel.progress import EvalProgress
from pixelpilot.evals.records import PredictionWriter
from pixelpilot.model import Policy

ScoreFn = Callable[[Benchmark[Any], Any, Record, Problems], Score]
RETRIES = 1  # a chunk whose worker died runs once more on another worker, then is a problem


class WorkerLost(Exception):
    """A worker died while running a chunk (a Ray actor killed, a node lost)."""


class Executor(Protocol):
    """Where chunks run: `open(k)` on worker thread k returns its handle (a benchmark copy, a
    Ray actor), `predict(handle, chunk, problems)` returns the records of the chunk's samples
    that ran (raises WorkerLost when the worker is gone), `close(handle)` releases it."""

    workers: int
    online: bool

    def open(self, k: int) -> Any: ...

    def predict(self, handle: Any, chunk: list[Any], problems: Problems) -> list[Record]: ...

    def close(self, handle: Any) -> None: ...

    def shutdown(self) -> None: ...


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


class LocalExecutor:
    """Worker threads in this process sharing `policy` through one `BatchingPolicy` (started
    with the first worker, stopped by `shutdown`).

    Raises:
        ConfigError: workers < 1, or the benchmark cannot run on several workers.
    """

    def __init__(
        self, benchmark: Benchmark[Any], policy: Policy, *, workers: int, batch_size: int
    ) -> None:
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        check_shareable(policy, workers)
        self.make, self.owned = worker_benchmark(benchmark)
        self.workers = workers
        self.online = not isinstance(benchmark, OfflineBenchmark)
        self.policy = policy
        self.batch_size = batch_size
        self.front: BatchingPolicy | None = None
        self._lock = threading.Lock()

    def open(self, k: int) -> Benchmark[Any]:
        with self._lock:
            if self.front is None:
                self.front = BatchingPolicy(self.policy, batch_size=self.batch_size)
        return self.make()

    def predict(self, handle: Any, chunk: list[Any], problems: Problems) -> list[Record]:
        front = self.front
        assert front is not None, "open() starts the front"
        front.attach()
        try:
            records: list[Record] = handle.predict(front, chunk, problems)
            return records
        finally:
            front.detach()

    def close(self, handle: Any) -> None:
        if self.owned:
            handle.close()

    def shutdown(self) -> None:
        """Stop the batching front (the policy itself stays open). Safe to call twice."""
        if self.front is not None:
            self.front.close()


@dataclass(frozen=True)
class _Chunk:
    first: int  # position of the chunk's first sample in benchmark order
    samples: list[Any]
    attempt: int = 0


class _Pool:
    def __init__(
        self,
        executor: Executor,
        *,
        strict: bool,
        score: ScoreFn,
        commit: CommitFn,
        on_busy: Callable[[int], None],
        benchmark: Benchmark[Any],
    ) -> None:
        self.executor = executor
        self.benchmark = benchmark
        self.strict = strict
        self.score = score
        self.commit = commit
        self.on_busy = on_busy
        workers = executor.workers
        self.work: queue.Queue[_Chunk | None] = queue.Queue(maxsize=2 * workers)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.finished: list[Finished] = []
        self.problems: list[tuple[tuple[int, int, int], Problem]] = []
        self.alive = workers
        self.busy = 0
        self.pending = 0  # chunks handed out and not yet kept (a retry stays pending)
        self.retries: collections.deque[_Chunk] = collections.deque()
        self.threads = [
            threading.Thread(target=self._worker, args=(k,), name=f"eval-worker-{k}", daemon=True)
            for k in range(workers)
        ]

    def _fail(self, exc: BaseException) -> None:
        with self.lock:
            self.errors.append(exc)
        self.stop.set()

    def _worker(self, k: int) -> None:
        handle: Any = None
        try:
            handle = self.executor.open(k)
            while not self.stop.is_set():
                item = self._next()
                if item is None:
                    return
                if not self._run(k, handle, item):
                    return  # this worker is gone: its chunk went to the others
        except BaseException as exc:  # re-raised by the main thread
            self._fail(exc)
        finally:
            with self.lock:
                self.alive -= 1
                stranded = self.alive == 0 and self.pending > 0
            if stranded and not self.stop.is_set():
                self._fail(WorkerLost("every worker died; finished samples are saved: --resume"))
            if handle is not None:
                try:
                    self.executor.close(handle)
                except Exception as exc:  # a failed close must not hide the run's result
                    self._fail(exc)

    def _next(self) -> _Chunk | None:
        """A retry first, else the next new chunk; None at the end or when stopped."""
        while not self.stop.is_set():
            with self.lock:
                if self.retries:
                    return self.retries.popleft()
            try:
                return self.work.get(timeout=0.05)
            except queue.Empty:
                continue
        return None

    def _set_busy(self, delta: int) -> None:
        with self.lock:
            self.busy += delta
            busy = self.busy
        self.on_busy(busy)

    def _run(self, k: int, handle: Any, chunk: _Chunk) -> bool:
        """Run one chunk; False when the worker died (the chunk is retried or listed)."""
        local = Problems(strict=self.strict)
        self._set_busy(1)
        try:
            records = self.executor.predict(handle, chunk.samples, local)
        except WorkerLost as exc:
            if chunk.attempt < RETRIES and self.alive > 1:
                # Never blocks (a full queue of new chunks must not strand a retry); this
                # thread stops, so another worker takes it.
                with self.lock:
                    self.retries.append(_Chunk(chunk.first, chunk.samples, chunk.attempt + 1))
            else:
                for sample in chunk.samples:
                    local.add("worker died", sample.id, f"{exc} (retried {chunk.attempt}x)")
                self._keep([], chunk, local)
            return False
        finally:
            self._set_busy(-1)
        self._keep(records, chunk, local)
        return True

    def _keep(self, records: list[Record], chunk: _Chunk, local: Problems) -> None:
        by_id = {record["id"]: record for record in records}
        with self.lock:
            for offset, sample in enumerate(chunk.samples):
                record = by_id.get(sample.id)
                if record is not None:
                    score = self.score(self.benchmark, sample, record, local)
                    record["correct"] = score.correct
                    self.commit(sample, record, score)
                    self.finished.append(Finished(chunk.first + offset, sample, record, score))
            # Problems of a chunk: keyed by the chunk's first sample, in the order they came.
            for seq, problem in enumerate(local.items):
                self.problems.append(((chunk.first, 1, seq), problem))
            self.pending -= 1

    def hand_out(self, item: _Chunk) -> None:
        """Queue a new chunk (main thread)."""
        with self.lock:
            self.pending += 1
        self.put(item)

    def put(self, item: _Chunk) -> None:
        while not self.stop.is_set():
            try:
                self.work.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        # Retries may still join the queue: stop the workers only once every chunk is kept.
        while self.pending > 0 and self.alive > 0 and not self.stop.is_set():
            time.sleep(0.02)
        for _ in self.threads:
            while any(thread.is_alive() for thread in self.threads):
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
    executor: Executor,
    samples: Iterable[Any],
    problems: Problems,
    *,
    batch_size: int,
    take_saved: Callable[[Any], tuple[Score, Record] | None],
    score: ScoreFn,
    writer: PredictionWriter,
    bar: EvalProgress,
    on_batch: Callable[[list[Record]], None] | None = None,
) -> list[Finished]:
    """Run every sample not already saved on the executor's workers; every outcome, in order.

    Args:
        benchmark: the benchmark (scores on this thread's side; the executor runs `predict`).
        executor: where chunks run (`LocalExecutor`, or the Ray one).
        samples: the samples in benchmark order (read lazily, on this thread).
        problems: the run's problems; problems found on workers are merged into it in
            benchmark order when the run ends.
        batch_size: the policy's batch size; an offline benchmark's workers take chunks of
            ceil(batch_size / workers) samples, an online one's one episode at a time.
        take_saved: a saved (resumed) sample's score and record, or None to run it.
        score: judges one record (may add a problem to the Problems it is given).
        writer: predictions.jsonl; each finished sample's record is appended at once.
        bar: the progress bar (finished and saved samples, busy workers).
        on_batch: called with each finished sample's record (under the pool's lock).

    Raises:
        Whatever a worker raised first (PolicyError, EvalDataError with strict, WorkerLost when
        every worker died, ...): the other workers finish their current chunk, then stop.
    """

    def commit(sample: Any, record: Record, score: Score) -> None:
        writer.write([record])
        bar.advance(1, [score])
        if on_batch is not None:
            on_batch([record])

    workers = executor.workers
    chunk_size = 1 if executor.online else max(1, math.ceil(batch_size / workers))
    pool = _Pool(
        executor,
        strict=problems.strict,
        score=score,
        commit=commit,
        on_busy=bar.set_busy,
        benchmark=benchmark,
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
            if done is not None:
                bar.advance(1, [done[0]])
            tags.extend([index] * (len(problems.items) - base - len(tags)))
            if done is not None:
                saved.append(Finished(index, sample, done[1], done[0]))
                continue
            if not chunk:
                first = index
            chunk.append(sample)
            if len(chunk) >= chunk_size:
                pool.hand_out(_Chunk(first, chunk))
                chunk = []
        tags.extend([index + 1] * (len(problems.items) - base - len(tags)))
        if chunk and not pool.stop.is_set():
            pool.hand_out(_Chunk(first, chunk))
    except BaseException:
        pool.stop.set()
        raise
    finally:
        pool.finish()
    if pool.errors:
        raise pool.errors[0]
    keyed = [
        ((tag, 0, seq), p)
        for seq, (tag, p) in enumerate(zip(tags, problems.items[base:], strict=True))
    ]
    merged = sorted([*keyed, *pool.problems], key=lambda pair: pair[0])
    problems.items[base:] = [problem for _, problem in merged]
    return sorted([*saved, *pool.finished], key=lambda item: item.index)
