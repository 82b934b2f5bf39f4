"""The budget in worker threads: the watchdog ends a guarded call that overruns once it runs
bytecode, records the step as a timeout, and never lands after the guarded block ended."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.actions import Action, Click, Observation
from pixelpilot.agent import Deadline, Recorder, Trajectory, load_run, run_episode
from pixelpilot.agent.budget import BudgetExceeded, _Shot
from pixelpilot.env import Execution, FakeEnv
from pixelpilot.model import History, PolicyBase, Prediction
from tests.agent.support import ListPolicy

HANG = 30.0  # s a hung call would take


def spin(seconds: float) -> None:
    """Busy Python code for `seconds` (no C call that blocks)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def nap(seconds: float) -> None:
    """Sleep for `seconds` in 0.05 s slices."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)


class Stuck(PolicyBase):
    def __init__(self, wait: Callable[[float], None]) -> None:
        self.wait = wait

    def predict(self, observation: Observation, history: History) -> Prediction:
        self.wait(HANG)
        raise AssertionError("unreachable")


class StuckEnv(FakeEnv):
    def execute(self, action: Action) -> Execution:
        nap(HANG)
        raise AssertionError("unreachable")


def in_worker(fn: Callable[[], Any], limit: float = 10.0) -> tuple[Any, float]:
    """Run `fn` on a worker thread; its result (or exception) and the seconds it took."""
    box: list[Any] = []

    def body() -> None:
        try:
            box.append(fn())
        except BaseException as exc:
            box.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=body, daemon=True)
    worker.start()
    worker.join(timeout=limit)
    assert not worker.is_alive(), "the worker overran its budget"
    return box[0], time.monotonic() - started


@pytest.mark.parametrize("wait", [spin, nap], ids=["python-loop", "sleep-slices"])
def test_a_hung_policy_in_a_worker_ends_at_the_budget(
    tmp_path: Path, wait: Callable[[float], None]
) -> None:
    recorder = Recorder(tmp_path / "run", meta={"test": True})
    trajectory, seconds = in_worker(
        lambda: run_episode(FakeEnv(), Stuck(wait), "x", max_seconds=1.0, recorder=recorder)
    )
    assert isinstance(trajectory, Trajectory)
    assert trajectory.status == "timeout" and seconds < 2.5
    assert "while the policy was predicting" in trajectory.reason
    run = load_run(tmp_path / "run")
    [step] = run.steps
    assert step["error_kind"] == "timeout" and step["action"] is None
    assert run.result is not None and run.result["status"] == "timeout"


def test_a_hung_environment_in_a_worker_ends_at_the_budget(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "run", meta={"test": True})
    policy = ListPolicy([Click(x=10, y=10)])
    trajectory, seconds = in_worker(
        lambda: run_episode(StuckEnv(), policy, "x", max_seconds=1.0, recorder=recorder)
    )
    assert trajectory.status == "timeout" and seconds < 2.5
    run = load_run(tmp_path / "run")
    assert run.steps[-1]["error_kind"] == "timeout" and run.steps[-1]["interrupted"]
    assert [p["index"] for p in run.pending] == [1]


def test_the_exception_never_lands_after_the_guarded_block() -> None:
    """Bodies that end just before, at or just after the deadline; after each block, Python code
    runs long enough for a late shot to land. Whether an edge body is cut depends on when the
    watchdog gets the GIL (up to the 5 ms switch interval, more on a busy machine), so every
    tenth body overruns by up to 2 s: those must be cut, which shows the shots are live."""
    counts = {"inside": 0, "clean": 0, "overran": 0}

    def many() -> dict[str, int]:
        for i in range(300):
            overrun = i % 10 == 0
            # -2 ms .. +2 ms around the deadline, or 2 s past it
            offset = -2.0 if overrun else (i % 21 - 10) * 0.0002
            deadline = Deadline(0.004)
            try:
                with deadline.guard("edge"):
                    while deadline.remaining() > offset:
                        pass
                counts["overran" if overrun else "clean"] += 1
            except BudgetExceeded as exc:
                assert exc.what == "edge"
                counts["inside"] += 1
            spin(0.003)
        return counts

    result, _ = in_worker(many, limit=60.0)
    assert result == counts, f"escaped after the guard: {result!r}"
    assert counts["overran"] == 0, f"{counts['overran']} of 30 overrunning bodies were not cut"
    assert counts["inside"] >= 30 and counts["clean"] > 0
    assert counts["inside"] + counts["clean"] == 300


@pytest.mark.parametrize("order", ["fire-then-end", "end-then-fire"])
def test_a_shot_that_has_not_landed_when_the_block_ends_is_withdrawn(order: str) -> None:
    """The race itself, made deterministic: the target thread waits in a C call (where nothing
    can land) while the shot is fired and the block ended, then runs Python code."""
    release = threading.Event()
    landed: list[BaseException] = []

    def target() -> None:
        try:
            release.wait()
            spin(0.2)
        except BaseException as exc:
            landed.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert thread.ident is not None
    shot = _Shot(time.monotonic() + 60, "late")
    shot.thread_id = thread.ident
    if order == "fire-then-end":
        shot.fire()
        assert shot.end() is True  # the block's exit raises BudgetExceeded itself instead
    else:
        assert shot.end() is False
        shot.fire()  # too late: the block has ended
    release.set()
    thread.join(timeout=5)
    assert landed == []


def test_a_body_that_swallows_the_exception_still_ends_over_budget() -> None:
    def swallow() -> str:
        # a library that catches BaseException inside the guarded call
        with Deadline(0.2).guard("stubborn"), contextlib.suppress(BudgetExceeded):
            spin(HANG)
        return "returned"

    result, seconds = in_worker(swallow)
    assert isinstance(result, BudgetExceeded) and result.what == "stubborn"
    assert seconds < 1.5


def test_nested_guards_end_at_the_outer_budget() -> None:
    def nested() -> None:
        with Deadline(0.3).guard("outer"), Deadline(60).guard("inner"):
            spin(HANG)

    result, seconds = in_worker(nested)
    assert isinstance(result, BudgetExceeded) and result.what == "outer"
    assert seconds < 1.5


def test_a_blocking_c_call_is_cut_when_it_returns() -> None:
    """Documented limit: the exception lands once the thread runs bytecode again."""

    def blocked() -> None:
        with Deadline(0.1).guard("sleeping"):
            time.sleep(0.6)
            spin(HANG)  # never gets here: the exception lands as the sleep returns

    result, seconds = in_worker(blocked)
    assert isinstance(result, BudgetExceeded) and result.what == "sleeping"
    assert 0.5 < seconds < 2.0


def test_a_call_within_the_budget_is_untouched() -> None:
    def quick() -> int:
        total = 0
        for _ in range(200):
            with Deadline(5.0).guard("quick"):
                total += 1
        spin(0.1)
        return total

    result, _ = in_worker(quick)
    assert result == 200
