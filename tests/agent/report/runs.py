"""Run directories for report tests: real runs of the fake environment with known actions."""

from __future__ import annotations

from pathlib import Path

from pixelpilot.actions import Action, Click, Drag, Key, Scroll, Terminate, Type
from pixelpilot.agent import Recorder, run_episode
from pixelpilot.agent.safety import SafetySettings
from pixelpilot.env import create_env
from pixelpilot.env.tasks import resolve_task
from tests.agent.support import ListPolicy

CLICKS = [Click(x=199, y=199), Click(x=199, y=199, count=2), Click(x=0, y=799, button="right")]
ACTIONS: list[Action] = [
    *CLICKS,
    Scroll(x=640, y=400, direction="down", amount=300),
    Drag(x=100, y=700, to_x=600, to_y=500),
    Type(text="hello <secret:PASSWORD>"),
    Key(keys=("ctrl", "s")),
    Terminate(status="success"),
]


def record_run(
    run_dir: Path,
    actions: list[Action] | None = None,
    task: str = "fake:wifi",
    *,
    safety: SafetySettings | None = None,
) -> Path:
    """Run `actions` (default ACTIONS) on the fake environment (1280x800) into `run_dir`,
    gated by `safety` (default: run_episode's)."""
    policy = ListPolicy(list(actions if actions is not None else ACTIONS))
    with create_env("fake", {}) as env:
        recorder = Recorder(
            run_dir,
            meta={
                "task": {"goal": "open the wifi screen", "name": task},
                "env": {"name": "fake", "options": {}},
                "model": {"spec": "test:list"},
            },
        )
        run_episode(env, policy, resolve_task(task)[0], recorder=recorder, safety=safety)
    return run_dir


def tear_last_step(run_dir: Path, *, drop: int = 0) -> None:
    """Make the run look killed while writing a step record: no result.json, the last `drop`
    step records gone and the new last line of trajectory.jsonl cut in half."""
    (run_dir / "result.json").unlink()
    path = run_dir / "trajectory.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines = lines[: len(lines) - drop]
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
