"""The time budget of tasks on worker threads: a task whose environment or policy hangs ends as
`timeout` at its budget while the other tasks finish."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.actions import Action, Click, Observation, Terminate
from pixelpilot.agent import run_episode
from pixelpilot.cli import main
from pixelpilot.env import Execution, FakeEnv
from pixelpilot.evals.parallel.jobs import JobResult, TaskLine, run_jobs
from pixelpilot.model import History, PolicyBase, Prediction
from tests.agent.test_budget_threads import nap
from tests.cli.test_batch import TwoClicks, write_tasks

HANG = 30.0  # s


def statuses(out: Path) -> dict[str, tuple[str, float]]:
    summary = json.loads((out / "summary.json").read_text())
    return {t["name"]: (t["status"], t["seconds"]) for t in summary["tasks"]}


def test_a_hung_environment_ends_its_task_at_the_budget_and_the_others_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = FakeEnv.execute

    def hanging(self: FakeEnv, action: Action) -> Execution:
        if self.config.start == "settings":
            nap(HANG)
        return real(self, action)

    monkeypatch.setattr(FakeEnv, "execute", hanging)
    monkeypatch.setattr("pixelpilot.cli.batch.create_policy", lambda spec, opts: TwoClicks())
    tasks = write_tasks(tmp_path / "tasks.jsonl", [
        {"task": "fake:wifi", "name": "a"},
        {"task": "fake:wifi", "name": "hung", "env_opts": {"start": "settings"},
         "max_seconds": 1},
        {"task": "fake:settings", "name": "b"},
    ])  # fmt: skip
    started = time.monotonic()
    main(["run", "--env", "fake", "--model", "test:two", "--tasks", str(tasks),
          "--out", str(tmp_path / "out"), "--workers", "2"])  # fmt: skip
    assert time.monotonic() - started < 6.0
    rows = statuses(tmp_path / "out")
    assert rows["hung"][0] == "timeout" and rows["hung"][1] < 2.5
    assert rows["a"][0] == rows["b"][0] == "terminated"


class SlowModel(TwoClicks):
    """Every batch takes `seconds` (a model server that stopped answering in time)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        nap(self.seconds)
        return super().predict_batch(items)


def test_a_hung_model_behind_the_batching_front_ends_each_task_at_its_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pixelpilot.cli.batch.create_policy", lambda spec, opts: SlowModel(3.0))
    tasks = write_tasks(tmp_path / "tasks.jsonl", [{"task": "fake:wifi"}, {"task": "fake:mail"}])
    main(["run", "--env", "fake", "--model", "test:slow", "--tasks", str(tasks), "--out",
          str(tmp_path / "out"), "--workers", "2", "--max-seconds", "1"])  # fmt: skip
    rows = statuses(tmp_path / "out")
    assert [status for status, _ in rows.values()] == ["timeout", "timeout"]
    assert all(seconds < 2.5 for _, seconds in rows.values()), rows  # not when the model answers


class Hangs(PolicyBase):
    def predict(self, observation: Observation, history: History) -> Prediction:
        nap(HANG)
        raise AssertionError("unreachable")


class Finishes(PolicyBase):
    def predict(self, observation: Observation, history: History) -> Prediction:
        action = Click(x=200, y=200) if not history.steps else Terminate(status="success")
        return Prediction(action)


class OwnPolicies:
    """Each task with a policy of its own on the worker's thread (as a Ray worker with its own
    client runs it): `hung` hangs in predict."""

    workers = 2

    def open(self, k: int) -> None:
        return None

    def run(self, handle: Any, line: TaskLine) -> JobResult:
        began = time.monotonic()
        policy = Hangs() if line.name == "hung" else Finishes()
        trajectory = run_episode(FakeEnv(), policy, line.task, max_seconds=line.max_seconds or 60)
        return JobResult(line, trajectory.status, len(trajectory.steps), None,
                         time.monotonic() - began, "", trajectory.reason)  # fmt: skip

    def close(self, handle: Any) -> None:
        return None

    def shutdown(self) -> None:
        return None


def test_run_jobs_a_hung_policy_is_its_own_tasks_timeout() -> None:
    lines = [TaskLine(0, "fake:wifi", max_seconds=1.0, name="hung"),
             TaskLine(1, "fake:wifi", name="fine")]  # fmt: skip
    hung, fine = run_jobs(lines, OwnPolicies())
    assert hung.status == "timeout" and hung.seconds < 2.5
    assert "while the policy was predicting" in hung.reason
    assert fine.status == "terminated" and fine.steps == 2
