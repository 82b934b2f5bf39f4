"""The desktop task suite (online): real Debian applications on a private display, judged from
what a user would check (files, saved settings, the answer).

Each sample is one episode `TASK/EPISODE`: the environment starts the task in a fresh home
folder with its applications (see `pixelpilot.env.desktop.tasks`), the policy acts through the
normal agent loop (`run_episode`) until it terminates, answers or runs out of budget, and the
environment judges the result. An episode that ended without a verdict counts as a failure.
The headline is the unweighted mean of the per-task success rates. Samples run task by task
within each episode round, so `--limit` and an interrupted run cover the tasks evenly. With
`--workers N` each worker is a process with its own private display, and the policy serves them
all from the driver (see `worker_processes`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from pixelpilot.env.desktop.config import DesktopConfig
from pixelpilot.env.desktop.tasks import DESKTOP_TASKS, TASKS, DesktopTask
from pixelpilot.env.tasks import unknown_task
from pixelpilot.evals.base import Benchmark, Dataset, Problems, Record, Score, Summary, Table
from pixelpilot.evals.online import EpisodeOptions
from pixelpilot.evals.scoring import percent
from pixelpilot.model import Policy

if TYPE_CHECKING:
    from pixelpilot.evals.desktop.run import EpisodeRunner

METRIC = (
    "episode success = the environment's judge (file contents, file system, saved settings or "
    "the answer) after the episode; an episode without a verdict is a failure; headline = "
    "unweighted mean of the per-task success rates"
)


class DesktopBenchOptions(EpisodeOptions):
    """Options of the desktop benchmark (`pixelpilot eval desktop`)."""

    episodes: int = Field(1, ge=1, description="episodes per task")
    virtual_display: str = Field("1280x800", description="'WxH' of the private Xvfb, pixels")
    wm: str = Field("openbox", description="window manager on the display: 'openbox' or 'none'")

    @field_validator("virtual_display", "wm")
    @classmethod
    def _as_the_desktop_checks_it(cls, value: str, info: ValidationInfo) -> str:
        """The environment's own rule for the option, so a bad value is a one-line option
        error here, not a failure when the first display starts."""
        try:
            DesktopConfig(**{info.field_name or "": value})
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return value


@dataclass(frozen=True)
class DesktopSample:
    """One episode to run: `task`, round `episode` (0-based); `id` is "TASK/EPISODE"."""

    task: DesktopTask
    episode: int

    @property
    def id(self) -> str:
        return f"{self.task.name}/{self.episode}"

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        # By task name: a task's judge is a closure, which pickle cannot send to a worker
        # process (`pixelpilot.evals.parallel.process`).
        return desktop_sample, (self.task.name, self.episode)


def desktop_sample(name: str, episode: int) -> DesktopSample:
    """The sample of task `name` (a short name of the suite) and round `episode`."""
    return DesktopSample(next(task for task in TASKS if task.name == name), episode)


class DesktopBenchmark(Benchmark[DesktopSample]):
    """The `desktop:` suite through the agent loop; `close()` stops the display.

    `worker_processes`: several workers need a process each (pyautogui and the X connection
    drive one display per process), so a parallel run uses
    `pixelpilot.evals.parallel.process.ProcessExecutor`, one private display per worker.
    """

    name = "desktop"
    title = "pixelpilot desktop tasks"
    Options = DesktopBenchOptions
    needs_data: ClassVar[bool] = False
    worker_processes: ClassVar[bool] = True

    def __init__(self, options: BaseModel | None = None) -> None:
        super().__init__(options)
        self._runner: EpisodeRunner | None = None

    @property
    def opts(self) -> DesktopBenchOptions:
        assert isinstance(self.options, DesktopBenchOptions)
        return self.options

    def describe(self) -> dict[str, Any]:
        options = self.opts.model_dump(exclude={"trajectories"})
        return {"benchmark": self.name, "title": self.title, **options, "metric": METRIC}

    def _selected(self) -> list[DesktopTask]:
        wanted = self.opts.tasks
        if not wanted:
            return list(TASKS)
        by_name = {task.name: task for task in TASKS}
        chosen = []
        for name in wanted:
            short = name.removeprefix("desktop:")
            if short not in by_name:
                raise unknown_task("desktop", short, by_name)
            chosen.append(by_name[short])
        return chosen

    def load(
        self, data: Path | None, problems: Problems, *, for_prediction: bool
    ) -> Dataset[DesktopSample]:
        tasks = self._selected()
        samples = [
            DesktopSample(task, episode) for episode in range(self.opts.episodes) for task in tasks
        ]
        info = {"tasks": [task.name for task in tasks], "episodes_per_task": self.opts.episodes}
        return Dataset(samples, len(samples), info)

    def predict(
        self, policy: Policy, batch: Sequence[DesktopSample], problems: Problems
    ) -> list[Record]:
        from pixelpilot.evals.desktop.run import EpisodeRunner

        if self._runner is None:
            self._runner = EpisodeRunner(self.opts)
        records = []
        for sample in batch:
            task = DESKTOP_TASKS.get(sample.task.name)
            record = self._runner.run(policy, task, sample.id, problems)
            if record is not None:
                record["episode"] = sample.episode
                records.append(record)
        return records

    def score(self, sample: DesktopSample, record: Mapping[str, Any]) -> Score:
        tags = {"task": sample.task.name}
        success = record.get("success")
        if success is not None and not isinstance(success, bool):
            return Score(sample.id, False, False, tags, {"malformed": f"success {success!r}"})
        details = {"steps": record.get("steps"), "judged": success is not None}
        unparsed = record.get("status") == "policy_errors"
        return Score(sample.id, success is True, unparsed, tags, details)

    def summarize(self, scores: Sequence[Score]) -> Summary:
        by_task: dict[str, list[Score]] = {}
        for score in scores:
            by_task.setdefault(score.tags["task"], []).append(score)
        tasks: dict[str, dict[str, Any]] = {}
        rows: list[list[Any]] = []
        for task, items in by_task.items():
            hits = sum(s.correct for s in items)
            steps = [s.details["steps"] for s in items if isinstance(s.details.get("steps"), int)]
            stats = {
                "percent": percent(hits, len(items)),
                "correct": hits,
                "episodes": len(items),
                "mean_steps": sum(steps) / len(steps) if steps else None,
                "not_judged": sum(not s.details.get("judged") for s in items),
            }
            tasks[task] = stats
            rows.append(
                [task, stats["percent"], len(items), stats["mean_steps"], stats["not_judged"]]
            )
        rates = [stats["percent"] for stats in tasks.values() if stats["percent"] is not None]
        mean = sum(rates) / len(rates) if rates else None
        hits = sum(s.correct for s in scores)
        rows.append(["mean over tasks", mean, len(scores), None, None])
        metrics: dict[str, Any] = {
            "mean_success_over_tasks": mean,
            "tasks_evaluated": len(tasks),
            "episodes": {"percent": percent(hits, len(scores)), "correct": hits},
            "tasks": tasks,
        }
        table = Table(
            "task",
            "Success rate by task (%)",
            ["task", "success", "episodes", "mean steps", "not judged"],
            rows,
        )
        notes = [
            "Success = the environment's judge after the episode (never the policy's claim); "
            "the headline is the unweighted mean of the per-task success rates.",
            f"Display {self.opts.virtual_display} with window manager {self.opts.wm}; budget "
            f"{self.opts.max_steps} steps per episode; 'not judged' counts episodes that ended "
            "without a verdict (an error), which count as failures.",
        ]
        return Summary(("mean_success_over_tasks", mean), metrics, [table], notes)

    def close(self) -> None:
        """Stop the display and its applications (safe to call twice)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.close()
