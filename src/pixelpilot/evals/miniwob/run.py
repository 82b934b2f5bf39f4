"""Running MiniWoB++ episodes through the agent loop and turning each into a predictions record.

One browser serves every standard task (viewport 500x320 CSS px, the size the `miniwob` package
uses); the flight tasks get a second one (600x800) and the folder server, started only when a
flight task runs. A browser that fails is closed and rebuilt for the next episode; the failed
episode is listed as a problem and left out of predictions.jsonl, so `--resume` runs it again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixelpilot.actions import Size, describe
from pixelpilot.agent import Recorder, Trajectory, run_episode
from pixelpilot.env.browser.config import BrowserConfig
from pixelpilot.env.browser.env import BrowserEnv
from pixelpilot.errors import EnvError
from pixelpilot.evals.base import Problems, Record
from pixelpilot.evals.miniwob.env import EpisodeStart, MiniWobEnv
from pixelpilot.evals.miniwob.pages import MiniWobPage
from pixelpilot.evals.miniwob.server import FolderServer
from pixelpilot.evals.online import fresh_run_dir
from pixelpilot.evals.records import now
from pixelpilot.model import Policy
from pixelpilot.versions import versions

if TYPE_CHECKING:
    from pixelpilot.evals.miniwob.benchmark import MiniWobOptions

# The browser windows of the `miniwob` package: the task area sits at the top left.
VIEWPORT = Size(500, 320)
FLIGHT_VIEWPORT = Size(600, 800)


class EpisodeRunner:
    """Owns the browsers and runs one episode at a time.

    Args:
        options: the benchmark's options (zoom, crop, time limit, budgets, trajectories).
    """

    def __init__(self, options: MiniWobOptions) -> None:
        self.options = options
        self._envs: dict[bool, MiniWobEnv] = {}
        self._server: FolderServer | None = None
        self.current: MiniWobEnv | None = None
        """The environment of the latest episode (None before the first)."""

    def env_for(self, page: MiniWobPage) -> MiniWobEnv:
        """The environment for `page`'s kind (standard or flight), started on first use."""
        env = self._envs.get(page.flight)
        if env is None:
            viewport = FLIGHT_VIEWPORT if page.flight else VIEWPORT
            browser = BrowserEnv(
                BrowserConfig(
                    headless=self.options.headless,
                    viewport=str(viewport),
                    device_scale_factor=self.options.zoom,
                    settle_timeout=self.options.settle_timeout,
                )
            )
            env = MiniWobEnv(
                browser,
                url_for=self._url,
                crop=self.options.crop,
                data_mode=self.options.data_mode,
                time_limit_ms=self.options.time_limit_ms,
            )
            self._envs[page.flight] = env
        return env

    def run(
        self, policy: Policy, page: MiniWobPage, seed: int, problems: Problems
    ) -> Record | None:
        """Run the episode `page`/`seed`; its record, or None (listed in `problems`) when the
        browser failed.

        Raises:
            KeyboardInterrupt: the user pressed Ctrl-C during the episode (after it was saved).
        """
        sample_id = f"{page.name}/{seed}"
        began = time.perf_counter()
        env = self.current = self.env_for(page)
        try:
            start = env.start(page, seed)
        except EnvError as exc:
            problems.add("episode did not start", sample_id, str(exc))
            self._discard(page)
            return None
        run_dir = self._run_dir(page, seed)
        recorder = None
        if run_dir is not None:
            recorder = Recorder(run_dir, meta=self._meta(policy, start))
        trajectory = run_episode(
            env,
            policy,
            env.task(),
            max_steps=self.options.max_steps,
            max_seconds=self.options.max_seconds,
            recorder=recorder,
            stop_when=env.done_reason,
        )
        if trajectory.status == "interrupted":
            raise KeyboardInterrupt
        if trajectory.status == "env_error":
            problems.add("episode failed", sample_id, trajectory.reason)
            self._discard(page)
            return None
        try:
            state = env.state()
        except EnvError as exc:
            problems.add("episode failed", sample_id, f"could not read the reward: {exc}")
            self._discard(page)
            return None
        record = episode_record(sample_id, start, trajectory)
        record.update(
            {
                "reward": state.raw_reward if state.done else None,
                "reward_discounted": state.reward if state.done else None,
                "page_reason": state.reason,
                "success": state.success,
                "trajectory": str(run_dir) if run_dir is not None else None,
            }
        )
        record["timings"]["per_sample"] = round(time.perf_counter() - began, 4)
        return record

    def close(self) -> None:
        """Close every browser and stop the page server. Safe to call twice."""
        envs, self._envs = list(self._envs.values()), {}
        try:
            for env in envs:
                env.close()
        finally:
            if self._server is not None:
                self._server.stop()
                self._server = None

    def _discard(self, page: MiniWobPage) -> None:
        env = self._envs.pop(page.flight, None)
        if env is not None:
            try:
                env.close()
            except EnvError:
                return

    def _url(self, page: MiniWobPage) -> str:
        if not page.flight:
            return page.path.as_uri()
        if self._server is None:
            root = page.path.parents[2]
            self._server = FolderServer(root)
        return self._server.start() + page.relative

    def _run_dir(self, page: MiniWobPage, seed: int) -> Path | None:
        return fresh_run_dir(self.options.trajectories, page.name, str(seed))

    def _meta(self, policy: Policy, start: EpisodeStart) -> dict[str, Any]:
        options = self.options
        return {
            "task": {
                "goal": start.instruction,
                "name": f"miniwob:{start.page.name}",
                "seed": start.seed,
            },
            "env": {
                "name": "miniwob",
                "url": start.url,
                "zoom": options.zoom,
                "crop": options.crop,
                "data_mode": options.data_mode,
                "time_limit_ms": start.time_limit_ms,
            },
            "model": {"spec": policy.spec, **policy.describe()},
            "run": {"max_steps": options.max_steps, "max_seconds": options.max_seconds},
            "versions": versions(),
            "started_at": now(),
        }


def episode_record(sample_id: str, start: EpisodeStart, trajectory: Trajectory) -> Record:
    """The predictions.jsonl record of a finished episode, without the page's reward fields."""
    sums: dict[str, float] = {}
    for step in trajectory.steps:
        for key in ("capture", "predict", "execute", "settle"):
            sums[key] = sums.get(key, 0.0) + step.timings.get(key, 0.0)
    return {
        "id": sample_id,
        "task": start.page.name,
        "seed": start.seed,
        "instruction": start.instruction,
        "status": trajectory.status,
        "claim": trajectory.claim,
        "reason": trajectory.reason,
        "steps": len(trajectory.steps),
        "actions": [
            describe(step.action) if step.action is not None else None for step in trajectory.steps
        ],
        "errors": [step.error for step in trajectory.steps if step.error],
        "time_limit_ms": start.time_limit_ms,
        "timings": {
            "start": round(start.seconds, 4),
            **{key: round(value, 4) for key, value in sums.items()},
        },
    }
