"""The batching front: one policy instance shared by many workers (threads).

Workers call `predict` / `predict_batch` on a `BatchingPolicy` as if it were the policy. Each
request goes into one queue; a single serving thread takes up to `batch_size` requests (waiting
a short while for more, and not at all once every attached worker is waiting) and calls the
wrapped policy's `predict_batch` once, then hands each answer back to the thread that asked.
A policy that cannot batch (the `PolicyBase` default) is then called one by one inside that
call. History is carried by each request, so every episode keeps its own.

The wait: by default 3/4 of the policy's recent `predict_batch` time (at most 1 s; 10 ms before
the first call). Why adaptive: workers whose actions take less time than a model call drift
into two groups that alternate on the model, each batch half full, unless the front waits for
the stragglers; measured on the fake environment (0.1 s model, 0.05 s actions), a fixed 10 ms
wait gave mean batches of 4.3 at 8 workers (5.2x the sequential rate), 75 ms gave 7.7 (6.7x).
A wait that is a fraction of a model call costs at most that fraction when a worker is slow.

Why one serving thread: a GPU model must not be copied per worker nor entered concurrently, and
`predict_batch` is where a batching backend gains. Errors raised by the wrapped policy reach
every request of the failed batch (re-raised in the worker that asked).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pixelpilot.actions import Observation
from pixelpilot.errors import ConfigError, PolicyError
from pixelpilot.model import History, Policy, Prediction

INITIAL_WAIT = 0.01  # s, before the first call has been timed
WAIT_FRACTION = 0.75  # of the recent predict_batch time
MAX_ADAPTIVE_WAIT = 1.0  # s
ANSWER_SLICE = 0.05  # s: a worker waits for its answer in slices (see predict_batch)


@dataclass
class _Call:
    """One predict_batch call of a worker: how many of its requests are still unanswered."""

    remaining: int


@dataclass
class _Request:
    item: tuple[Observation, History]
    call: _Call
    done: threading.Event = field(default_factory=threading.Event)
    prediction: Prediction | None = None
    error: BaseException | None = None


@dataclass
class FrontStats:
    """What the front did: `calls` to predict_batch, `items` predicted, `largest` batch."""

    calls: int = 0
    items: int = 0
    largest: int = 0

    @property
    def mean_batch(self) -> float:
        """Items per predict_batch call (0.0 before the first)."""
        return self.items / self.calls if self.calls else 0.0


def check_shareable(policy: object, workers: int) -> None:
    """Refuse to share a policy that keeps per-run state between calls (`shareable = False`,
    e.g. the scripted policy, which replays its script call after call) among several workers.

    Raises:
        ConfigError: `workers` > 1 and the policy declares itself not shareable.
    """
    if workers > 1 and getattr(policy, "shareable", True) is False:
        spec = getattr(policy, "spec", type(policy).__name__)
        raise ConfigError(
            f"{spec} keeps its place between calls and cannot serve {workers} workers at once: "
            "give --workers 1"
        )


class BatchingPolicy:
    """A Policy that gathers concurrent requests into `predict_batch` calls of `policy`.

    Args:
        policy: the one policy instance to share (not closed by `close` unless `owns`).
        batch_size: the most items per `predict_batch` call (>= 1).
        max_wait: seconds to wait after the first queued request for more (>= 0); None: adapt
            to the policy's speed (see the module docstring).
        owns: close `policy` when the front is closed.

    Raises:
        ConfigError: batch_size < 1 or max_wait < 0.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        batch_size: int,
        max_wait: float | None = None,
        owns: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
        if max_wait is not None and max_wait < 0:
            raise ConfigError(f"the batching wait must be >= 0 s, got {max_wait}")
        self.policy = policy
        self.spec = policy.spec
        self.image_history = policy.image_history
        self.batch_size = batch_size
        self.max_wait = max_wait
        self._call_seconds: float | None = None  # moving average of predict_batch calls
        self.owns = owns
        self.stats = FrontStats()
        self._queue: list[_Request] = []
        self._cond = threading.Condition()
        self._attached = 0
        self._waiting = 0  # workers blocked on an answer
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="batching-front", daemon=True)
        self._thread.start()

    # --- worker bookkeeping -------------------------------------------------------------------
    def attach(self) -> None:
        """A worker starts using the front (lets the front stop waiting once all have asked)."""
        with self._cond:
            self._attached += 1

    def detach(self) -> None:
        """A worker is done with the front."""
        with self._cond:
            self._attached = max(0, self._attached - 1)
            self._cond.notify_all()

    @property
    def busy(self) -> int:
        """Workers now attached (running an episode or a sample)."""
        return self._attached

    # --- the Policy interface -----------------------------------------------------------------
    def predict(self, observation: Observation, history: History) -> Prediction:
        """See `Policy.predict`; blocks until the serving thread has answered.

        Raises:
            PolicyError: the front is closed, or what the wrapped policy raised.
        """
        return self.predict_batch([(observation, history)])[0]

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        """See `Policy.predict_batch`: the items join the queue (possibly split over several
        calls, possibly batched with other workers' items); answers come back in order."""
        if not items:
            return []
        call = _Call(len(items))
        requests = [_Request(item, call) for item in items]
        with self._cond:
            if self._closed:
                raise PolicyError(f"{self.spec}: the batching front is closed")
            self._queue.extend(requests)
            self._waiting += 1
            self._cond.notify_all()
        for request in requests:
            # In slices, not one blocking wait: the episode's budget can then end a worker whose
            # answer is late (its exception lands between slices; see agent.budget).
            while not request.done.wait(ANSWER_SLICE):
                pass
        out = []
        for request in requests:
            if request.error is not None:
                raise request.error
            assert request.prediction is not None
            out.append(request.prediction)
        return out

    def describe(self) -> dict[str, object]:
        return self.policy.describe()

    def check_ready(self) -> None:
        """The wrapped policy's readiness check, when it has one."""
        check = getattr(self.policy, "check_ready", None)
        if check is not None:
            check()

    def close(self) -> None:
        """Answer what is already queued, then stop (later calls raise PolicyError); closes the
        policy if `owns`. Safe to call twice."""
        with self._cond:
            already, self._closed = self._closed, True
            self._cond.notify_all()
        if already:
            return
        self._thread.join(timeout=5.0)
        if self.owns:
            self.policy.close()

    def __enter__(self) -> BatchingPolicy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_seconds(self) -> float:
        """How long the front now waits for more requests after the first one, seconds."""
        if self.max_wait is not None:
            return self.max_wait
        if self._call_seconds is None:
            return INITIAL_WAIT
        return min(MAX_ADAPTIVE_WAIT, WAIT_FRACTION * self._call_seconds)

    # --- the serving thread -------------------------------------------------------------------
    def _take(self) -> list[_Request] | None:
        """The next batch, or None once closed and drained."""
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None
            deadline = time.monotonic() + self.wait_seconds()
            while len(self._queue) < self.batch_size and not self._closed:
                # Every attached worker is already waiting: nobody else can add to this batch.
                if self._attached and self._waiting >= self._attached:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch, self._queue = self._queue[: self.batch_size], self._queue[self.batch_size :]
            return batch

    def _serve(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            began = time.perf_counter()
            try:
                predictions = self.policy.predict_batch([r.item for r in batch])
                if len(predictions) != len(batch):
                    raise PolicyError(
                        f"{self.spec}: predict_batch returned {len(predictions)} predictions "
                        f"for {len(batch)} inputs"
                    )
            except BaseException as exc:  # handed to the workers that asked, never lost here
                for request in batch:
                    request.error = exc
                self._answer(batch)
                continue
            seconds = time.perf_counter() - began
            last = self._call_seconds
            self._call_seconds = seconds if last is None else 0.7 * last + 0.3 * seconds
            self.stats.calls += 1
            self.stats.items += len(batch)
            self.stats.largest = max(self.stats.largest, len(batch))
            for request, prediction in zip(batch, predictions, strict=True):
                request.prediction = prediction
            self._answer(batch)

    def _answer(self, batch: list[_Request]) -> None:
        # A worker stops counting as waiting here, not when its thread wakes up: otherwise the
        # next batch would be cut short by workers that are about to run their actions.
        with self._cond:
            for request in batch:
                request.call.remaining -= 1
                if request.call.remaining == 0:
                    self._waiting -= 1
        for request in batch:
            request.done.set()
