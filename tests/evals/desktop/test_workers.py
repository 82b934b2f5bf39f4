"""`pixelpilot eval desktop --workers N`: each worker a process with its own private display, the
one policy in the driver. The same per-task results as a sequential run; a killed worker's
episode runs again on the other; the end of a run and Ctrl-C leave no worker, Xvfb, window
manager or application behind, and `--resume` completes an interrupted run; `--ray` is refused
with one line naming `--workers N`."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.actions import Observation
from pixelpilot.cli import main
from pixelpilot.env.desktop.tasks import TASKS as TASKS_ALL
from pixelpilot.env.desktop.tasks import find_task
from pixelpilot.evals import evaluate
from pixelpilot.evals.desktop.benchmark import DesktopBenchmark, DesktopBenchOptions
from pixelpilot.evals.parallel.process import ProcessExecutor
from pixelpilot.model import History, Prediction
from tests.evals.desktop.test_benchmark import SOLUTIONS, SolutionPolicy, needs_apps, run_bench
from tests.evals.test_parallel_process import (
    Descendants,
    interrupt_after_the_first_record,
    proc_stat,
)

TASKS = ["calc-multiply", "files-rename", "editor-append-line"]
WRONG = frozenset({"files-rename"})  # a failure, so that the results are not all alike
KEYS = ("headline", "counts", "metrics", "breakdowns", "notes", "problems")


def episodes(out: Path) -> dict[str, dict[str, Any]]:
    """predictions.jsonl by id, without what differs between runs (timings, folders)."""
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    return {
        r["id"]: {k: v for k, v in r.items() if k not in ("timings", "trajectory")} for r in rows
    }


def argv(out: Path, *extra: str) -> list[str]:
    return ["eval", "desktop", "--model", "scripted:solutions", "--tasks", ",".join(TASKS),
            "--bench-opt", "max_steps=12", "--out", str(out), "--no-progress", "--workers", "2",
            *extra]  # fmt: skip


def report_of(out: Path) -> dict[str, Any]:
    report = json.loads((out / "report.json").read_text())
    return {key: report[key] for key in KEYS}


def programs(seen: Descendants, name: str) -> int:
    return sum(command.split(" ")[0].endswith(name) for command in seen.seen.values())


@pytest.fixture(scope="module")
def sequential(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    out = tmp_path_factory.mktemp("sequential") / "eval"
    report = run_bench(out, TASKS, SolutionPolicy(WRONG))
    return {key: report[key] for key in KEYS}, episodes(out)


class KillsOnce(SolutionPolicy):
    """The solutions; at the first step of `calc-multiply` it kills (SIGKILL) the worker process
    running it: the parent of that episode's galculator."""

    def __init__(self) -> None:
        super().__init__(WRONG)
        task = find_task("calc-multiply")
        assert task is not None
        self.goal = task.goal
        self.killed: list[int] = []

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        if not self.killed and any(h.goal == self.goal and not h.steps for _, h in items):
            calculators = [
                pid for (pid, _), cmd in Descendants.below().items() if "galculator" in cmd
            ]
            stat = proc_stat(calculators[0])
            assert stat is not None
            self.killed.append(stat[0])
            os.kill(stat[0], signal.SIGKILL)
        return super().predict_batch(items)


def use(monkeypatch: pytest.MonkeyPatch, policy: SolutionPolicy) -> None:
    """`pixelpilot eval --model ...` builds `policy`."""
    monkeypatch.setattr("pixelpilot.cli.eval.create_policy", lambda spec, options: policy)


@pytest.mark.desktop
@needs_apps
def test_two_workers_give_the_sequential_per_task_results(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sequential: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    use(monkeypatch, SolutionPolicy(WRONG))
    with Descendants() as seen:
        assert main(argv(tmp_path)) == 0
    assert report_of(tmp_path) == sequential[0]
    assert episodes(tmp_path) == sequential[1]
    assert json.loads((tmp_path / "run.json").read_text())["run"]["workers"] == 2
    for sample_id in sequential[1]:  # each episode's run directory, written by its worker
        assert (tmp_path / "trajectories" / sample_id / "result.json").is_file()
    # a display each: one Xvfb and one openbox started by each worker process
    workers = [
        key[0]
        for key, command in seen.seen.items()
        if seen.parent[key] == os.getpid() and "spawn_main" in command
    ]
    assert len(workers) == 2, seen.seen
    for name in ("Xvfb", "openbox"):
        started = [
            seen.parent[key]
            for key, command in seen.seen.items()
            if command.split(" ")[0].endswith(name) and seen.parent[key] in workers
        ]
        assert sorted(started) == sorted(workers), (name, workers, seen.seen, seen.parent)
    assert seen.left() == []


@pytest.mark.desktop
@needs_apps
def test_a_killed_worker_still_gives_the_complete_report(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sequential: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    policy = KillsOnce()
    use(monkeypatch, policy)
    with Descendants() as seen:
        assert main(argv(tmp_path)) == 0
    assert len(policy.killed) == 1
    assert report_of(tmp_path) == sequential[0]  # calc-multiply ran again on the other worker
    assert episodes(tmp_path) == sequential[1]
    assert seen.left() == []  # the killed worker's display, window manager and calculator too


@pytest.mark.desktop
@needs_apps
def test_ctrl_c_stops_every_display_and_resume_completes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sequential: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    use(monkeypatch, SolutionPolicy(WRONG))
    with Descendants() as seen:
        interrupter = interrupt_after_the_first_record(tmp_path / "predictions.jsonl")
        assert main(argv(tmp_path)) == 130
        interrupter.join()
    assert "pixelpilot: interrupted" in capsys.readouterr().err
    assert programs(seen, "Xvfb") >= 1  # the second may not have started its display yet
    assert seen.left() == []
    assert 1 <= len(episodes(tmp_path)) < len(TASKS)
    assert main(argv(tmp_path, "--resume")) == 0
    assert episodes(tmp_path) == sequential[1]
    assert report_of(tmp_path)["metrics"] == sequential[0]["metrics"]


def test_ray_and_a_policy_that_keeps_its_place_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = f"scripted:{SOLUTIONS / 'calc-multiply.jsonl'}"
    base = ["eval", "desktop", "--model", script, "--out", str(tmp_path), "--no-progress"]
    assert main([*base, "--ray", "local", "--workers", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "pixelpilot: error: desktop does not run on Ray (each worker needs a private display "
        "that this machine starts and stops): drop --ray and give --workers N"
    )
    assert main([*base, "--workers", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("cannot serve 2 workers at once: give --workers 1") and "\n" not in err


@pytest.mark.desktop
@pytest.mark.slow
@needs_apps
def test_every_task_is_solved_with_two_workers(tmp_path: Path) -> None:
    bench = DesktopBenchmark(DesktopBenchOptions(max_steps=12))
    policy = SolutionPolicy()
    try:
        with ProcessExecutor(bench, policy, workers=2, batch_size=2) as executor:
            result = evaluate(
                bench, policy, data=None, out=tmp_path, model_info={}, progress=False,
                executor=executor,
            )  # fmt: skip
    finally:
        bench.close()
    assert result.report["headline"]["percent"] == 100.0, result.report["metrics"]["tasks"]
    assert result.report["counts"]["scored"] == len(TASKS_ALL)
