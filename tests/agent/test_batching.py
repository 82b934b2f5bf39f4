"""The batching front: concurrent requests gathered into predict_batch calls, answers routed
back to the thread that asked, errors reaching every caller of the failed batch."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest
from PIL import Image

from pixelpilot.actions import Click, Observation
from pixelpilot.agent.batching import BatchingPolicy, check_shareable
from pixelpilot.errors import ConfigError, PolicyError
from pixelpilot.model import History, HistoryEntry, PolicyBase, Prediction


def observation(width: int) -> Observation:
    return Observation(Image.new("RGB", (width, 10)), platform="desktop")


class EchoBatch(PolicyBase):
    """Clicks x = screenshot width - 1, echoes the goal and history length; records batch
    sizes; sleeps `latency` seconds per call (a fixed-latency model)."""

    def __init__(self, latency: float = 0.05, fail: bool = False) -> None:
        self.spec = "test:echo"
        self.latency = latency
        self.fail = fail
        self.sizes: list[int] = []
        self.threads: set[str] = set()

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        self.sizes.append(len(items))
        self.threads.add(threading.current_thread().name)
        time.sleep(self.latency)
        if self.fail:
            raise PolicyError("backend died")
        return [
            Prediction(Click(x=obs.size.width - 1, y=0), raw_text=f"{hist.goal}|{len(hist.steps)}")
            for obs, hist in items
        ]


class OneByOne(PolicyBase):
    """Cannot batch: only predict (PolicyBase calls it per item)."""

    spec = "test:one"

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, observation: Observation, history: History) -> Prediction:
        self.calls += 1
        return Prediction(Click(x=observation.size.width - 1, y=0), raw_text=history.goal)


def run_workers(front: BatchingPolicy, workers: int, steps: int) -> dict[int, list[str]]:
    """Each worker runs an 'episode' of `steps` predictions with its own history; returns
    each worker's raw texts, and checks every answer matches the worker's own observation."""
    out: dict[int, list[str]] = {}
    failures: list[str] = []

    def episode(k: int) -> None:
        front.attach()
        try:
            entries: list[HistoryEntry] = []
            texts = []
            for _ in range(steps):
                prediction = front.predict(observation(10 + k), History(f"g{k}", tuple(entries)))
                if not isinstance(prediction.action, Click) or prediction.action.x != 9 + k:
                    failures.append(f"worker {k} got {prediction.action}")
                texts.append(prediction.raw_text)
                entries.append(HistoryEntry(prediction.action, prediction.raw_text))
            out[k] = texts
        finally:
            front.detach()

    threads = [threading.Thread(target=episode, args=(k,)) for k in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures
    return out


def test_concurrent_requests_are_batched_and_answers_go_back_to_their_worker() -> None:
    policy = EchoBatch()
    with BatchingPolicy(policy, batch_size=8, max_wait=0.5) as front:
        texts = run_workers(front, workers=4, steps=3)
    # Per-episode history: each worker saw its own goal and its own step count.
    assert texts == {k: [f"g{k}|0", f"g{k}|1", f"g{k}|2"] for k in range(4)}
    assert sum(policy.sizes) == 12
    assert max(policy.sizes) > 1 and len(policy.sizes) < 12
    assert front.stats.items == 12 and front.stats.largest == max(policy.sizes)
    # One serving thread calls the model.
    assert policy.threads == {"batching-front"}


def test_batches_never_exceed_batch_size() -> None:
    policy = EchoBatch(latency=0.02)
    with BatchingPolicy(policy, batch_size=2, max_wait=0.2) as front:
        run_workers(front, workers=5, steps=2)
    assert max(policy.sizes) <= 2 and sum(policy.sizes) == 10


def test_all_workers_waiting_ends_the_wait_early() -> None:
    policy = EchoBatch(latency=0.0)
    with BatchingPolicy(policy, batch_size=16, max_wait=5.0) as front:
        start = time.monotonic()
        run_workers(front, workers=2, steps=3)
        elapsed = time.monotonic() - start
    # Without the early end every call would wait 5 s for 14 more requests.
    assert elapsed < 5.0


def test_a_policy_that_cannot_batch_is_called_one_by_one() -> None:
    policy = OneByOne()
    with BatchingPolicy(policy, batch_size=4, max_wait=0.2) as front:
        texts = run_workers(front, workers=3, steps=2)
    assert policy.calls == 6
    assert texts == {k: [f"g{k}", f"g{k}"] for k in range(3)}


def test_a_failing_backend_reaches_every_caller() -> None:
    with BatchingPolicy(EchoBatch(fail=True), batch_size=4, max_wait=0.2) as front:
        errors: list[BaseException] = []

        def ask() -> None:
            try:
                front.predict(observation(10), History("g"))
            except PolicyError as exc:
                errors.append(exc)

        threads = [threading.Thread(target=ask) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert len(errors) == 3 and all("backend died" in str(e) for e in errors)


def test_settings_are_checked_and_a_closed_front_refuses() -> None:
    with pytest.raises(ConfigError, match="--batch-size must be at least 1"):
        BatchingPolicy(EchoBatch(), batch_size=0)
    policy = EchoBatch()
    front = BatchingPolicy(policy, batch_size=2)
    assert (
        front.predict_batch([(observation(5), History("a")), (observation(6), History("b"))])[
            1
        ].raw_text
        == "b|0"
    )
    assert front.describe() == policy.describe() and front.spec == "test:echo"
    front.close()
    front.close()
    with pytest.raises(PolicyError, match="closed"):
        front.predict(observation(5), History("a"))


def test_the_wait_adapts_to_the_policys_speed() -> None:
    with BatchingPolicy(EchoBatch(latency=0.2), batch_size=4) as front:
        assert front.wait_seconds() == pytest.approx(0.01)
        front.predict(observation(5), History("a"))
        assert 0.75 * 0.2 <= front.wait_seconds() <= 1.0
    with BatchingPolicy(EchoBatch(latency=0.0), batch_size=4, max_wait=0.3) as fixed:
        fixed.predict(observation(5), History("a"))
        assert fixed.wait_seconds() == 0.3


def test_workers_whose_actions_are_quicker_than_the_model_stay_in_one_batch() -> None:
    """Without waiting for stragglers (or with answered workers still counted as waiting),
    4 workers split into two groups that alternate on the model: batches of 2."""
    policy = EchoBatch(latency=0.2)
    with BatchingPolicy(policy, batch_size=4) as front:

        def episode(k: int) -> None:
            front.attach()
            try:
                for _ in range(5):
                    time.sleep(0.02 * (1 + k % 2))  # the action, uneven between workers
                    front.predict(observation(10 + k), History(f"g{k}"))
            finally:
                front.detach()

        threads = [threading.Thread(target=episode, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sum(policy.sizes) == 20
    assert front.stats.mean_batch >= 3.0, policy.sizes


def test_a_policy_that_keeps_its_place_is_not_shared() -> None:
    policy = OneByOne()
    check_shareable(policy, 4)  # no declaration: shareable
    policy.shareable = False  # type: ignore[attr-defined]
    check_shareable(policy, 1)
    with pytest.raises(ConfigError, match=r"test:one keeps its place .* give --workers 1"):
        check_shareable(policy, 2)
