"""The run directory: contents, write ordering, torn lines, and SIGKILL at random moments."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from pixelpilot.actions import Action, Click, Move, Terminate
from pixelpilot.agent import Recorder, load_run, run_episode
from pixelpilot.agent.trajectory import INTENTS
from pixelpilot.env import Execution, FakeEnv
from pixelpilot.errors import UserError
from tests.agent.support import ListPolicy

REPO = Path(__file__).resolve().parents[2]


def test_run_directory_holds_every_step(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "run", meta={"task": "open settings"})
    actions: list[Action] = [Click(x=200, y=200), Move(x=5, y=5), Terminate(status="success")]
    traj = run_episode(FakeEnv(), ListPolicy(list(actions)), "open settings", recorder=recorder)
    run = load_run(tmp_path / "run")
    assert run.meta == {"task": "open settings"}
    assert run.warnings == [] and run.pending == []
    assert len(run.steps) == 3 == len(traj.steps)
    assert (tmp_path / "run" / "trajectory.jsonl").read_text().count("\n") == 3
    for record, action in zip(run.steps, actions, strict=True):
        png = tmp_path / "run" / record["screenshot"]
        assert hashlib.sha256(png.read_bytes()).hexdigest() == record["screenshot_sha256"]
        assert Image.open(png).size == (1280, 800)
        assert record["action"] == action.model_dump(mode="json")
        assert record["screen"] == [1280, 800] and record["scale"] == 1.0
        assert {"capture", "predict"} <= set(record["timings"])
    assert run.steps[0]["executed"] == "click(200, 200)"
    assert run.steps[2]["executed"] is None  # terminate executes nothing
    assert run.result is not None
    assert (run.result["status"], run.result["claim"]) == ("terminated", "success") and run.result[
        "steps"
    ] == 3


def test_intent_is_on_disk_before_the_action_executes(tmp_path: Path) -> None:
    seen: list[list[dict[str, object]]] = []

    class Watching(FakeEnv):
        def execute(self, action: Action) -> Execution:
            lines = (tmp_path / "run" / INTENTS).read_text().splitlines()
            seen.append([json.loads(line) for line in lines])
            return super().execute(action)

    recorder = Recorder(tmp_path / "run", meta={})
    run_episode(
        Watching(),
        ListPolicy([Click(x=200, y=200), Move(x=1, y=2), Terminate(status="success")]),
        "x",
        recorder=recorder,
    )
    assert [len(s) for s in seen] == [1, 2]
    assert seen[1][-1]["action"] == {"type": "move", "x": 1, "y": 2}
    assert (tmp_path / "run" / str(seen[1][-1]["screenshot"])).exists()


def test_reader_tolerates_a_torn_last_line_and_says_so(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "run", meta={})
    run_episode(
        FakeEnv(), ListPolicy([Move(x=1, y=1), Move(x=2, y=2)]), "x", max_steps=2, recorder=recorder
    )
    path = tmp_path / "run" / "trajectory.jsonl"
    path.write_bytes(path.read_bytes() + b'{"index": 3, "scre')
    run = load_run(tmp_path / "run")
    assert [s["index"] for s in run.steps] == [1, 2]
    assert any("torn last line" in w for w in run.warnings)
    # damage in the middle is not a torn tail: it is reported, not skipped
    path.write_bytes(b'{"index": 1}\n{broken\n{"index": 3}\n')
    with pytest.raises(UserError, match=r"trajectory\.jsonl:2"):
        load_run(tmp_path / "run")


def test_recorder_refuses_to_overwrite_a_run(tmp_path: Path) -> None:
    Recorder(tmp_path / "run", meta={}).close()
    with pytest.raises(UserError, match="already holds a trajectory"):
        Recorder(tmp_path / "run", meta={})
    with pytest.raises(UserError, match="not a pixelpilot run directory"):
        load_run(tmp_path)


def test_sigkill_at_random_moments_loses_nothing_before_the_kill(tmp_path: Path) -> None:
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for attempt in range(20):
        run_dir = tmp_path / f"run{attempt}"
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.agent.kill_child", str(run_dir)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.6))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        executed = [int(line.split()[1]) for line in child.stdout.read().splitlines()]
        run = load_run(run_dir)
        steps = [s["index"] for s in run.steps]
        assert steps == list(range(1, len(steps) + 1)), "finished steps are contiguous"
        for record in run.steps:
            png = run_dir / record["screenshot"]
            assert hashlib.sha256(png.read_bytes()).hexdigest() == record["screenshot_sha256"]
        known = set(steps) | {p["index"] for p in run.pending}
        assert set(executed) <= known, f"attempt {attempt}: an executed step has no record"
        for intent in run.pending:
            png = run_dir / intent["screenshot"]
            assert hashlib.sha256(png.read_bytes()).hexdigest() == intent["screenshot_sha256"]
        assert len(run.pending) <= 1
