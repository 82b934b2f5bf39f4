"""MiniWoB++ with --workers: one browser per worker, the same report as a sequential run for a
deterministic policy, and one episode's environment crash listed without stopping the others."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.actions import Action, Click, Observation, Terminate
from pixelpilot.errors import EnvError
from pixelpilot.evals import create_benchmark, evaluate
from pixelpilot.evals.miniwob.env import MiniWobEnv
from pixelpilot.model import History, PolicyBase, Prediction
from tests.evals.test_parallel import comparable

pytestmark = pytest.mark.browser

OPTIONS = {"tasks": "click-button,click-tab", "episodes": 2, "time_limit_ms": 60000, "zoom": 1.0}


class GoalGrid(PolicyBase):
    """Deterministic per episode: clicks a point chosen by a hash of the goal and the step,
    twice, then terminates. Counts the items of each predict_batch call."""

    spec = "test:grid"

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        self.sizes.append(len(items))
        out = []
        for obs, hist in items:
            action: Action
            if len(hist.steps) >= 2:
                action = Terminate(status="success")
            else:
                digest = hashlib.sha256(f"{hist.goal}|{len(hist.steps)}".encode()).digest()
                w, h = obs.size.width, obs.size.height
                action = Click(x=digest[0] * (w - 1) // 255, y=50 + digest[1] * (h - 51) // 255)
            out.append(Prediction(action, raw_text=action.type))
        return out


def episodes(out: Path) -> dict[str, Any]:
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    keep = ("status", "steps", "actions", "reward", "success")
    return {row["id"]: {key: row[key] for key in keep} for row in rows}


def run(out: Path, **kwargs: Any) -> dict[str, Any]:
    bench = create_benchmark("miniwob", {**OPTIONS, "trajectories": str(out / "trajectories")})
    try:
        result = evaluate(
            bench, GoalGrid(), data=None, out=out, model_info={"spec": "test:grid"},
            progress=False, **kwargs,
        )  # fmt: skip
    finally:
        bench.close()
    return result.report


def test_two_browsers_give_the_sequential_report(tmp_path: Path) -> None:
    sequential = run(tmp_path / "seq")
    parallel = run(tmp_path / "par", workers=2)
    assert comparable(parallel) == comparable(sequential)
    assert episodes(tmp_path / "par") == episodes(tmp_path / "seq")
    assert len(episodes(tmp_path / "par")) == 4
    # Each episode kept its own run directory, written by the worker that ran it.
    assert sorted(p.parent.name + "/" + p.name for p in (tmp_path / "par" / "trajectories").glob(
        "*/*")) == sorted(episodes(tmp_path / "par"))  # fmt: skip


def test_one_episode_env_crash_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = MiniWobEnv.execute
    browsers: set[int] = set()
    lock = threading.Lock()

    def crashing(self: MiniWobEnv, action: Action) -> Any:
        with lock:
            browsers.add(id(self))
        assert self.episode is not None
        if self.episode.page.name == "click-tab" and self.episode.seed == 0:
            raise EnvError("the browser crashed (test)")
        return real(self, action)

    monkeypatch.setattr(MiniWobEnv, "execute", crashing)
    report = run(tmp_path / "par", workers=2)
    done = episodes(tmp_path / "par")
    assert sorted(done) == ["click-button/0", "click-button/1", "click-tab/1"]
    assert report["counts"]["samples"] == 4 and report["counts"]["scored"] == 3
    problems = report["problems"]["items"]
    assert [(p["kind"], p["where"]) for p in problems] == [("episode failed", "click-tab/0")]
    assert "crashed" in problems[0]["detail"]
    assert len(browsers) >= 2  # two workers, two browsers (the crashed one is rebuilt)
