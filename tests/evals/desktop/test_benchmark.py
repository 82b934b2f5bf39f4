"""`pixelpilot eval desktop` end to end on a private Xvfb with real applications: per-task
success, reports, trajectories, re-scoring, and failures counted as failures."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.actions import Action, Observation, Terminate
from pixelpilot.agent import load_run
from pixelpilot.env.desktop.tasks import TASKS
from pixelpilot.errors import ConfigError, UnknownNameError
from pixelpilot.evals import evaluate
from pixelpilot.evals.desktop.benchmark import DesktopBenchmark, DesktopBenchOptions
from pixelpilot.evals.registry import create_benchmark
from pixelpilot.model.base import History, PolicyBase, Prediction
from pixelpilot.model.scripted import load_script

SOLUTIONS = Path(__file__).parents[2] / "env" / "desktop" / "solutions"
PROGRAMS = ("openbox", "mousepad", "galculator", "pcmanfm", "gnumeric", "xterm")
needs_apps = pytest.mark.skipif(
    not all(shutil.which(p) for p in PROGRAMS),
    reason=f"needs the applications: apt-get install {' '.join(PROGRAMS)}",
)


class SolutionPolicy(PolicyBase):
    """Plays each task's scripted solution, chosen by the goal; `wrong` tasks get a bare
    terminate instead (a run that does nothing). Its place in a script is the episode's step
    count (the history), so one instance can serve episodes that run at once."""

    spec = "scripted:solutions"

    def __init__(self, wrong: frozenset[str] = frozenset()) -> None:
        self.scripts: dict[str, list[Action]] = {
            task.goal: [] if task.name in wrong else load_script(SOLUTIONS / f"{task.name}.jsonl")
            for task in TASKS
        }

    def predict(self, observation: Observation, history: History) -> Prediction:
        script = self.scripts[history.goal]
        index = len(history.steps)
        action = script[index] if index < len(script) else Terminate(status="success")
        return Prediction(action=action, raw_text=action.model_dump_json())


def run_bench(out: Path, tasks: list[str], policy: SolutionPolicy) -> dict[str, Any]:
    bench = DesktopBenchmark(
        DesktopBenchOptions(tasks=tasks, max_steps=12, trajectories=str(out / "runs"))
    )
    try:
        result = evaluate(
            bench, policy, data=None, out=out, model_info={"spec": policy.spec}, progress=False
        )
    finally:
        bench.close()
    return result.report


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_options_and_task_names_are_checked() -> None:
    bench = create_benchmark("desktop", {"tasks": "calc-multiply, desktop:files-rename"})
    assert isinstance(bench, DesktopBenchmark)
    dataset = bench.load(None, problems=None, for_prediction=True)  # type: ignore[arg-type]
    assert [s.id for s in dataset.samples] == ["calc-multiply/0", "files-rename/0"]
    with pytest.raises(UnknownNameError, match="Did you mean 'desktop:calc-multiply'"):
        create_benchmark("desktop", {"tasks": "calc-multiplyy"}).load(
            None,
            problems=None,  # type: ignore[arg-type]
            for_prediction=True,
        )
    with pytest.raises(
        ConfigError, match=r"zoom: Extra inputs .*; valid options: tasks, max_steps, "
    ):
        create_benchmark("desktop", {"zoom": 2})


@pytest.mark.desktop
@needs_apps
def test_a_run_scores_per_task_and_counts_an_undone_task_as_failed(tmp_path: Path) -> None:
    out = tmp_path / "eval"
    report = run_bench(
        out, ["calc-multiply", "files-rename"], SolutionPolicy(frozenset({"files-rename"}))
    )
    records = {r["id"]: r for r in lines(out / "predictions.jsonl")}
    assert records["calc-multiply/0"]["success"] is True
    assert records["calc-multiply/0"]["answer"] == "7006652"
    assert records["files-rename/0"]["success"] is False
    assert "draft.txt" not in records["files-rename/0"]["judge"]  # the judge says what it saw
    assert report["headline"] == {"metric": "mean_success_over_tasks", "percent": 50.0}
    run = load_run(out / "runs" / "calc-multiply" / "0")
    assert run.meta["task"]["name"] == "desktop:calc-multiply"
    assert run.result is not None and run.result["success"] is True
    assert (out / "report.md").read_text().startswith("# pixelpilot desktop tasks")


@pytest.mark.desktop
@pytest.mark.slow
@needs_apps
def test_every_task_is_solved_through_the_benchmark(tmp_path: Path) -> None:
    report = run_bench(tmp_path / "eval", [task.name for task in TASKS], SolutionPolicy())
    assert report["headline"]["percent"] == 100.0, report["metrics"]["tasks"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"virtual_display": "10x10"}, "virtual_display: a virtual display of 10x10 is outside"),
        ({"wm": "fluxbox"}, "wm: unknown window manager 'fluxbox'; use one of: openbox, none"),
    ],
)
def test_display_options_are_checked_as_options(option: dict[str, str], message: str) -> None:
    # the environment's own rule, as a one-line option error before any display starts
    with pytest.raises(ConfigError, match=re.escape(message)):
        create_benchmark("desktop", option)
