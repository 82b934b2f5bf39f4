"""MiniWoB++ (online): real web tasks from the `miniwob` package, judged by the pages themselves.

Each sample is one episode `TASK/SEED`: the page is opened in Chromium, seeded with
`Math.seedrandom(SEED)` and started (see `miniwob.env` for the JavaScript protocol), and the
policy acts on screenshots of the task area through the normal agent loop (`run_episode`) until
the page ends the episode or the step budget runs out. Success is raw reward
(`WOB_RAW_REWARD_GLOBAL`) > 0; the headline is the unweighted mean of the per-task success
rates. Samples run task by task within each seed (round robin), so `--limit` and an interrupted
run cover the tasks evenly. `--data`, when given, is a MiniWoB++ html folder to use instead of
the installed package's pages.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, Field

from pixelpilot.evals.base import Benchmark, Dataset, Problems, Record, Score, Summary, Table
from pixelpilot.evals.miniwob.pages import (
    CORE_JS,
    MiniWobPage,
    html_root,
    list_pages,
    select_pages,
)
from pixelpilot.evals.online import EpisodeOptions
from pixelpilot.evals.scoring import percent
from pixelpilot.model import Policy

if TYPE_CHECKING:
    from pixelpilot.evals.miniwob.run import EpisodeRunner

METRIC = (
    "episode success = raw reward (WOB_RAW_REWARD_GLOBAL) > 0 when the page ends the episode; "
    "an episode the page did not end is a failure; headline = unweighted mean of the per-task "
    "success rates"
)


class MiniWobOptions(EpisodeOptions):
    """Options of the MiniWoB++ benchmark (`pixelpilot eval miniwob`)."""

    tasks: list[str] | None = Field(
        None,
        description="task names (comma-separated on the command line); default: the 130"
        " standard tasks (flight.* only when named)",
    )
    episodes: int = Field(10, ge=1, description="episodes per task")
    seed: int = Field(0, ge=0, description="seed of each task's first episode; then +1, +2, ...")
    zoom: float = Field(
        3.0, gt=0, le=4, description="device pixels per CSS pixel (the browser's scale factor)"
    )
    crop: bool = Field(True, description="show the policy only the task area #wrap")
    time_limit_ms: int | None = Field(
        None, gt=0, description="core.EPISODE_MAX_TIME in ms; default: the page's (10000 ms)"
    )
    data_mode: Literal["test", "train", "default"] = Field(
        "test", description="core.setDataMode: which problem distribution the page samples"
    )
    headless: bool = Field(True, description="run Chromium without a window")
    trajectories: str | None = Field(
        None, description="folder for each episode's run directory (TASK/SEED/); none: not kept"
    )


@dataclass(frozen=True)
class MiniWobSample:
    """One episode to run: `page` seeded with `seed`; `id` is "TASK/SEED"."""

    page: MiniWobPage
    seed: int

    @property
    def id(self) -> str:
        return f"{self.page.name}/{self.seed}"


class MiniWob(Benchmark[MiniWobSample]):
    """MiniWoB++ through the agent loop; `close()` stops the browsers."""

    name = "miniwob"
    title = "MiniWoB++"
    Options = MiniWobOptions
    needs_data: ClassVar[bool] = False

    def __init__(self, options: BaseModel | None = None) -> None:
        super().__init__(options)
        self._runner: EpisodeRunner | None = None

    @property
    def opts(self) -> MiniWobOptions:
        assert isinstance(self.options, MiniWobOptions)
        return self.options

    @property
    def runner(self) -> EpisodeRunner | None:
        """The episode runner (browsers), once `predict` has started one."""
        return self._runner

    def rescore_samples(
        self, samples: Iterable[MiniWobSample], predicted: set[str]
    ) -> Iterable[MiniWobSample]:
        """The episodes of the tasks and seeds that were run (TASK/SEED ids): re-scoring a run
        of 6 tasks does not count the 124 other tasks' episodes as not predicted, while an
        episode of a task and seed that were run but is missing still counts."""
        tasks = {sample_id.rpartition("/")[0] for sample_id in predicted}
        seeds = {sample_id.rpartition("/")[2] for sample_id in predicted}
        return (
            s
            for s in samples
            if s.id.rpartition("/")[0] in tasks and s.id.rpartition("/")[2] in seeds
        )

    def describe(self) -> dict[str, Any]:
        options = self.opts.model_dump(exclude={"trajectories"})
        return {"benchmark": self.name, "title": self.title, **options, "metric": METRIC}

    def worker_copy(self) -> MiniWob:
        """A copy with the same options and its own browsers, for one worker of a parallel
        run (`pixelpilot.evals.parallel`); the worker closes it."""
        return MiniWob(self.options)

    def load(
        self, data: Path | None, problems: Problems, *, for_prediction: bool
    ) -> Dataset[MiniWobSample]:
        root = html_root(data)
        pages = select_pages(list_pages(root), self.opts.tasks)
        seeds = range(self.opts.seed, self.opts.seed + self.opts.episodes)
        samples = [MiniWobSample(page, seed) for seed in seeds for page in pages]
        info: dict[str, Any] = {
            "pages": str(root),
            "tasks": [page.name for page in pages],
            "episodes_per_task": self.opts.episodes,
            "seeds": [seeds.start, seeds.stop - 1],
        }
        if data is None:
            info["miniwob"] = importlib.metadata.version("miniwob")
        files = [root.joinpath(*CORE_JS), *(page.path for page in pages)]
        return Dataset(samples, len(samples), info, files=files)

    def predict(
        self, policy: Policy, batch: Sequence[MiniWobSample], problems: Problems
    ) -> list[Record]:
        from pixelpilot.evals.miniwob.run import EpisodeRunner

        if self._runner is None:
            self._runner = EpisodeRunner(self.opts)
        runner = self._runner
        records = []
        for sample in batch:
            record = runner.run(policy, sample.page, sample.seed, problems)
            if record is not None:
                records.append(record)
        return records

    def score(self, sample: MiniWobSample, record: Mapping[str, Any]) -> Score:
        tags = {"task": sample.page.name}
        reward = record.get("reward")
        if reward is not None and (isinstance(reward, bool) or not isinstance(reward, int | float)):
            return Score(sample.id, False, False, tags, {"malformed": f"reward {reward!r}"})
        details = {
            "reward": reward,
            "steps": record.get("steps"),
            "timed_out": record.get("page_reason") == "timed out",
            "time_limit_ms": record.get("time_limit_ms"),
        }
        unparsed = record.get("status") == "policy_errors"
        return Score(sample.id, reward is not None and reward > 0, unparsed, tags, details)

    def summarize(self, scores: Sequence[Score]) -> Summary:
        by_task: dict[str, list[Score]] = {}
        for score in scores:
            by_task.setdefault(score.tags["task"], []).append(score)
        tasks: dict[str, dict[str, Any]] = {}
        rows: list[list[Any]] = []
        for task, items in by_task.items():
            stats = _task_stats(items)
            tasks[task] = stats
            rows.append(
                [
                    task,
                    stats["percent"],
                    stats["episodes"],
                    stats["mean_reward"],
                    stats["mean_steps"],
                    stats["page_timeouts"],
                    stats["not_ended"],
                ]
            )
        rates = [stats["percent"] for stats in tasks.values() if stats["percent"] is not None]
        mean = sum(rates) / len(rates) if rates else None
        episodes = len(scores)
        hits = sum(s.correct for s in scores)
        rows.append(["mean over tasks", mean, episodes, None, None, None, None])
        metrics: dict[str, Any] = {
            "mean_success_over_tasks": mean,
            "tasks_evaluated": len(tasks),
            "episodes": {"percent": percent(hits, episodes), "correct": hits, "total": episodes},
            "tasks": tasks,
        }
        table = Table(
            "task",
            "Success rate by task (%)",
            [
                "task",
                "success",
                "episodes",
                "mean raw reward",
                "mean steps",
                "timed out",
                "not ended",
            ],
            rows,
        )
        return Summary(("mean_success_over_tasks", mean), metrics, [table], self._notes(scores))

    def _notes(self, scores: Sequence[Score]) -> list[str]:
        limits = sorted(
            {s.details["time_limit_ms"] for s in scores if s.details.get("time_limit_ms")}
        )
        shown = ", ".join(f"{limit:g}" for limit in limits) or "unknown"
        options = self.opts
        return [
            "Success = raw reward > 0 (WOB_RAW_REWARD_GLOBAL, no time penalty); the headline is "
            "the unweighted mean of the per-task success rates.",
            f"Episode time limit core.EPISODE_MAX_TIME: {shown} ms"
            + ("" if options.time_limit_ms else " (the pages' own defaults)")
            + "; 'timed out' counts episodes the page ended for running out of time.",
            f"Screenshots: zoom {options.zoom:g} (device scale factor), "
            + ("cropped to the task area #wrap" if options.crop else "the whole viewport")
            + f"; data mode {options.data_mode!r}; budget {options.max_steps} steps per episode; "
            "'not ended' counts episodes the budget ended before the page did.",
        ]

    def close(self) -> None:
        """Stop the browser (safe to call twice)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.close()


def _task_stats(items: list[Score]) -> dict[str, Any]:
    rewards = [s.details["reward"] for s in items if s.details.get("reward") is not None]
    steps = [s.details["steps"] for s in items if isinstance(s.details.get("steps"), int)]
    hits = sum(s.correct for s in items)
    return {
        "percent": percent(hits, len(items)),
        "correct": hits,
        "episodes": len(items),
        "mean_reward": sum(rewards) / len(rewards) if rewards else None,
        "mean_steps": sum(steps) / len(steps) if steps else None,
        "page_timeouts": sum(bool(s.details.get("timed_out")) for s in items),
        "not_ended": sum(s.details.get("reward") is None for s in items),
    }
