"""Budgets are hard limits: whatever hangs, a run ends within its budget + 5 s as `timeout`,
with a complete record; and any exception inside a step ends the run with a record."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixelpilot.actions import Action, Click, Observation, Task
from pixelpilot.agent import Deadline, Recorder, load_run, run_episode
from pixelpilot.agent.budget import BudgetExceeded
from pixelpilot.env import Execution, FakeEnv
from pixelpilot.model import History, PolicyBase, Prediction, create_policy
from tests.agent.support import ListPolicy

BUDGET = 2.0
SLACK = 5.0


class Hang(PolicyBase):
    """A policy that never returns."""

    def predict(self, observation: Observation, history: History) -> Prediction:
        threading.Event().wait()
        raise AssertionError("unreachable")


class HangingEnv(FakeEnv):
    """Blocks forever in one of reset / observe / execute (after `after` calls of it)."""

    def __init__(self, where: str, after: int = 0) -> None:
        super().__init__()
        self.where, self.after, self.calls = where, after, 0

    def _maybe_hang(self, where: str) -> None:
        if where == self.where:
            self.calls += 1
            if self.calls > self.after:
                time.sleep(10_000)

    def reset(self, *, task: Task | None = None) -> Observation:
        self._maybe_hang("reset")
        return super().reset(task=task)

    def observe(self) -> Observation:
        self._maybe_hang("observe")
        return super().observe()

    def execute(self, action: Action) -> Execution:
        self._maybe_hang("execute")
        return super().execute(action)


def _run(env: FakeEnv, policy: PolicyBase, tmp_path: Path, budget: float = BUDGET) -> float:
    recorder = Recorder(tmp_path / "run", meta={"test": True})
    started = time.monotonic()
    trajectory = run_episode(env, policy, "x", max_seconds=budget, recorder=recorder)
    elapsed = time.monotonic() - started
    assert trajectory.status == "timeout", trajectory.reason
    assert elapsed < budget + SLACK
    return elapsed


def test_a_policy_that_never_returns_ends_at_the_budget(tmp_path: Path) -> None:
    _run(FakeEnv(), Hang(), tmp_path)
    run = load_run(tmp_path / "run")
    assert run.result is not None and run.result["status"] == "timeout"
    assert "while the policy was predicting" in run.result["reason"]
    [step] = run.steps
    assert step["error_kind"] == "timeout" and step["action"] is None


@pytest.mark.parametrize("where", ["reset", "observe", "execute"])
def test_an_environment_call_that_blocks_ends_at_the_budget(tmp_path: Path, where: str) -> None:
    moves = [Click(x=10 + i, y=10) for i in range(50)]
    _run(HangingEnv(where, after=0 if where != "observe" else 1), ListPolicy(moves), tmp_path)
    run = load_run(tmp_path / "run")
    assert run.result is not None and run.result["status"] == "timeout"
    if where == "execute":
        # the action was cut off mid-way: recorded on the step and reported as uncertain
        assert run.steps[-1]["error_kind"] == "timeout" and run.steps[-1]["interrupted"]
        assert [p["index"] for p in run.pending] == [run.steps[-1]["index"]]
    if where == "reset":
        assert run.steps == []


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server on 127.0.0.1 that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_a_silent_model_server_ends_at_the_budget(tmp_path: Path, silent_server: str) -> None:
    # The backend's own timeout is 10 minutes: only the run's budget can end this in time.
    policy = create_policy(f"openai:{silent_server}#qwen", {"timeout": 600, "max_retries": 2})
    assert isinstance(policy, PolicyBase)
    _run(FakeEnv(), policy, tmp_path, budget=3.0)


def test_the_guard_outside_the_main_thread_refuses_a_spent_budget() -> None:
    errors: list[BaseException] = []

    def spent() -> None:
        deadline = Deadline(0.01)
        time.sleep(0.05)
        try:
            with deadline.guard("late"):
                raise AssertionError("the body must not run")
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=spent)
    worker.start()
    worker.join()
    assert len(errors) == 1 and isinstance(errors[0], BudgetExceeded)


class Buggy(PolicyBase):
    def predict(self, observation: Observation, history: History) -> Prediction:
        if history.steps:
            raise ValueError("the model adapter tripped over its own feet")
        return Prediction(action=Click(x=5, y=5))


def test_an_unexpected_exception_ends_the_run_with_a_complete_record(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "run", meta={"test": True})
    trajectory = run_episode(FakeEnv(), Buggy(), "x", recorder=recorder)
    assert trajectory.status == "error" and trajectory.error_type == "ValueError"
    run = load_run(tmp_path / "run")
    assert run.result is not None
    assert run.result["status"] == "error" and run.result["error_type"] == "ValueError"
    assert "tripped over its own feet" in run.result["reason"]
    assert [s["index"] for s in run.steps] == [1, 2]
    assert run.steps[1]["error_kind"] == "crash"
    assert run.steps[1]["error"] == "ValueError: the model adapter tripped over its own feet"


class SlowJudge(FakeEnv):
    def evaluate(self, *, answer: str | None = None) -> object:  # type: ignore[override]
        time.sleep(10_000)
        raise AssertionError("unreachable")


def test_a_judge_that_runs_out_of_time_is_no_verdict_and_no_success(tmp_path: Path) -> None:
    from pixelpilot.actions import Terminate

    started = time.monotonic()
    trajectory = run_episode(
        SlowJudge(), ListPolicy([Terminate(status="success")]), "fake:wifi", max_seconds=1.0
    )
    assert time.monotonic() - started < 1.0 + SLACK
    assert trajectory.judged == "not judged" and trajectory.claim == "success"
    assert trajectory.unjudged == "the task could not be judged in time"
    assert not trajectory.ok  # a claimed success without the verdict the task has
