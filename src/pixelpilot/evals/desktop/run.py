"""Running desktop tasks through the agent loop and turning each episode into a predictions
record.

One DesktopEnv (a private Xvfb with its window manager) serves every episode: each reset stops
the previous episode's applications and starts the task in a fresh home folder. A display that
fails is closed and rebuilt for the next episode; the failed episode is listed as a problem and
left out of predictions.jsonl, so `--resume` runs it again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixelpilot.actions import Task, describe
from pixelpilot.agent import Recorder, Trajectory, run_episode
from pixelpilot.env.desktop.env import DesktopConfig, DesktopEnv
from pixelpilot.errors import ConfigError, EnvError
from pixelpilot.evals.base import Problems, Record
from pixelpilot.evals.online import fresh_run_dir
from pixelpilot.evals.records import now
from pixelpilot.model import Policy
from pixelpilot.versions import versions

if TYPE_CHECKING:
    from pixelpilot.evals.desktop.benchmark import DesktopBenchOptions


class EpisodeRunner:
    """Owns the desktop environment and runs one episode at a time.

    Args:
        options: the benchmark's options (display, budgets, trajectories).
    """

    def __init__(self, options: DesktopBenchOptions) -> None:
        self.options = options
        self._env: DesktopEnv | None = None

    def env(self) -> DesktopEnv:
        """The environment, started on first use.

        Raises:
            DesktopUnavailableError: Xvfb or the window manager is missing.
        """
        if self._env is None:
            self._env = DesktopEnv(
                DesktopConfig(
                    virtual_display=self.options.virtual_display,
                    wm=self.options.wm,
                    settle_timeout=self.options.settle_timeout,
                )
            )
        return self._env

    def run(self, policy: Policy, task: Task, sample_id: str, problems: Problems) -> Record | None:
        """Run `task` once; its record, or None (listed in `problems`) when the desktop failed.

        Raises:
            ConfigError: the task cannot run on this machine (an application is missing).
            KeyboardInterrupt: the user pressed Ctrl-C during the episode (after it was saved).
        """
        began = time.perf_counter()
        env = self.env()
        try:
            env.reset(task=task)
        except EnvError as exc:
            if isinstance(exc, ConfigError):
                raise
            problems.add("episode did not start", sample_id, str(exc))
            self.close()
            return None
        start_s = time.perf_counter() - began
        run_dir = self._run_dir(sample_id)
        recorder = Recorder(run_dir, meta=self._meta(policy, task)) if run_dir else None
        trajectory = run_episode(
            env,
            policy,
            task,
            max_steps=self.options.max_steps,
            max_seconds=self.options.max_seconds,
            recorder=recorder,
        )
        if trajectory.status == "interrupted":
            raise KeyboardInterrupt
        if trajectory.status == "env_error":
            problems.add("episode failed", sample_id, trajectory.reason)
            self.close()
            return None
        record = episode_record(sample_id, task, trajectory, start_s)
        record["trajectory"] = str(run_dir) if run_dir is not None else None
        record["timings"]["per_sample"] = round(time.perf_counter() - began, 4)
        return record

    def close(self) -> None:
        """Close the environment (its display, window manager and applications)."""
        env, self._env = self._env, None
        if env is not None:
            env.close()

    def _run_dir(self, sample_id: str) -> Path | None:
        return fresh_run_dir(self.options.trajectories, sample_id)

    def _meta(self, policy: Policy, task: Task) -> dict[str, Any]:
        options = self.options
        return {
            "task": {"goal": task.goal, "name": task.name},
            "env": {
                "name": "desktop",
                "virtual_display": options.virtual_display,
                "wm": options.wm,
            },
            "model": {"spec": policy.spec, **policy.describe()},
            "run": {"max_steps": options.max_steps, "max_seconds": options.max_seconds},
            "versions": versions(),
            "started_at": now(),
        }


def episode_record(sample_id: str, task: Task, trajectory: Trajectory, start_s: float) -> Record:
    """The predictions.jsonl record of a finished episode: its status, actions, errors, answer
    and the environment's verdict (`success` is None when the episode ended before judging)."""
    sums: dict[str, float] = {}
    for step in trajectory.steps:
        for key in ("capture", "predict", "execute", "settle"):
            sums[key] = sums.get(key, 0.0) + step.timings.get(key, 0.0)
    outcome = trajectory.outcome
    return {
        "id": sample_id,
        "task": (task.name or "").removeprefix("desktop:"),
        "instruction": task.goal,
        "status": trajectory.status,
        "reason": trajectory.reason,
        "steps": len(trajectory.steps),
        "actions": [
            describe(step.action) if step.action is not None else None for step in trajectory.steps
        ],
        "errors": [step.error for step in trajectory.steps if step.error],
        "answer": trajectory.answer,
        "success": None if outcome is None else outcome.success,
        "judge": None if outcome is None else outcome.detail,
        "timings": {
            "start": round(start_s, 4),
            **{key: round(value, 4) for key, value in sums.items()},
        },
    }
