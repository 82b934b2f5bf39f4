"""`pixelpilot eval miniwob` end to end: predictions.jsonl, reports, trajectories, resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.actions import Wait, action_to_json
from pixelpilot.agent import load_run
from pixelpilot.cli import main
from pixelpilot.evals import evaluate
from pixelpilot.evals.miniwob.benchmark import MiniWob, MiniWobOptions
from tests.evals.miniwob.support import PageOraclePolicy

pytestmark = pytest.mark.browser

ZOOM = 2.0


def _bench(out: Path) -> MiniWob:
    return MiniWob(
        MiniWobOptions(
            tasks=["click-button", "click-tab"],
            episodes=1,
            seed=1,
            zoom=ZOOM,
            time_limit_ms=60000,
            max_steps=4,
            trajectories=str(out / "trajectories"),
        )
    )


def _run(out: Path, *, resume: bool) -> tuple[PageOraclePolicy, dict[str, Any]]:
    bench = _bench(out)
    policy = PageOraclePolicy(lambda: bench.runner.current if bench.runner else None, zoom=ZOOM)
    try:
        result = evaluate(
            bench,
            policy,
            data=None,
            out=out,
            model_info={"spec": policy.spec},
            resume=resume,
            progress=False,
        )
    finally:
        bench.close()
    return policy, result.report


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_run_writes_predictions_reports_and_trajectories_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "eval"
    policy, report = _run(out, resume=False)
    ids = ["click-button/1", "click-tab/1"]
    assert policy.episodes == ids
    records = _lines(out / "predictions.jsonl")
    assert [r["id"] for r in records] == ids
    for record in records:
        assert record["success"] is True and record["correct"] is True
        assert record["reward"] == 1.0 and record["status"] == "done"
        assert record["time_limit_ms"] == 60000
        assert set(record["timings"]) >= {"start", "predict", "execute", "per_sample"}
        run = load_run(out / "trajectories" / str(record["id"]))
        assert run.result is not None and run.result["status"] == "done"
        assert run.result["success"] is True and run.result["reward"] == 1.0
        assert run.meta["task"]["goal"] == record["instruction"]
        assert run.meta["env"]["zoom"] == ZOOM
        assert len(run.steps) == record["steps"]
    assert report["headline"] == {"metric": "mean_success_over_tasks", "percent": 100.0}
    assert (out / "report.md").read_text().startswith("# MiniWoB++: mean success over tasks 100.0%")

    # Cut the run as if it died during the last episode: its trajectory is half there.
    lines = (out / "predictions.jsonl").read_text().splitlines(keepends=True)
    (out / "predictions.jsonl").write_text("".join(lines[:-1]))
    stale = out / "trajectories" / "click-tab" / "1"
    (stale / "result.json").unlink()
    policy, report = _run(out, resume=True)
    assert policy.episodes == ["click-tab/1"]  # only the unfinished episode ran again
    assert [r["id"] for r in _lines(out / "predictions.jsonl")] == ids
    assert load_run(stale).result is not None
    assert report["counts"]["scored"] == 2
    assert report["headline"]["percent"] == 100.0


def test_the_command_line_passes_the_miniwob_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A policy that only waits and gives up: the page never ends the episode.
    script = tmp_path / "wait.jsonl"
    script.write_text(action_to_json(Wait(seconds=0.1)) + "\n")
    out = tmp_path / "cli"
    status = main(
        [
            "eval", "miniwob", "--model", f"scripted:{script}", "--out", str(out),
            "--tasks", "click-tab", "--episodes", "1", "--zoom", "2", "--no-crop",
            "--time-limit-ms", "60000", "--bench-opt", "seed=5", "--no-progress",
        ]
    )  # fmt: skip
    assert status == 0
    (record,) = _lines(out / "predictions.jsonl")
    assert record["id"] == "click-tab/5" and record["success"] is False
    assert record["reward"] is None and record["status"] == "terminated"
    assert record["claim"] == "failure"
    assert record["steps"] == 2 and record["time_limit_ms"] == 60000
    run = load_run(out / "trajectories" / "click-tab" / "5")
    assert run.steps[0]["screen"] == [1000, 640]  # the whole 500x320 viewport at zoom 2
    report = json.loads((out / "report.json").read_text())
    bench = report["provenance"]["benchmark"]
    assert (bench["crop"], bench["zoom"], bench["time_limit_ms"]) == (False, 2.0, 60000)
    assert report["provenance"]["model"]["spec"] == f"scripted:{script}"
    assert "mean_success_over_tasks 0.00%" in capsys.readouterr().out
