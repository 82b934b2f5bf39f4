"""MiniWoB++ scoring and report aggregation, from saved predictions (no browser)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.errors import ConfigError
from pixelpilot.evals import create_benchmark, rescore
from pixelpilot.evals.base import Problems
from pixelpilot.evals.miniwob.benchmark import MiniWob, MiniWobOptions, MiniWobSample
from pixelpilot.evals.miniwob.pages import html_root, list_pages


def _record(sample_id: str, reward: float | None, **extra: Any) -> dict[str, Any]:
    return {
        "id": sample_id,
        "reward": reward,
        "status": "done" if reward is not None else "max_steps",
        "steps": 2,
        "page_reason": extra.pop("page_reason", None),
        "time_limit_ms": extra.pop("time_limit_ms", 10000.0),
        **extra,
    }


@pytest.fixture
def bench() -> MiniWob:
    return MiniWob(MiniWobOptions(tasks=["click-button", "click-link"], episodes=4))


def test_samples_are_task_slash_seed_round_robin_over_tasks(bench: MiniWob) -> None:
    dataset = bench.load(None, Problems(), for_prediction=True)
    ids = [s.id for s in dataset.samples]
    assert ids[:4] == ["click-button/0", "click-link/0", "click-button/1", "click-link/1"]
    assert len(ids) == dataset.total == 8
    assert dataset.info["tasks"] == ["click-button", "click-link"]
    assert dataset.info["seeds"] == [0, 3]
    assert [f.name for f in dataset.files] == ["core.js", "click-button.html", "click-link.html"]


def test_success_is_raw_reward_above_zero(bench: MiniWob) -> None:
    page = list_pages(html_root())["click-button"]
    sample = MiniWobSample(page, 0)
    assert bench.score(sample, _record(sample.id, 1.0)).correct
    assert bench.score(sample, _record(sample.id, 0.2)).correct  # partial credit counts
    assert not bench.score(sample, _record(sample.id, 0.0)).correct
    assert not bench.score(sample, _record(sample.id, -1.0)).correct
    assert not bench.score(sample, _record(sample.id, None)).correct  # the page never ended
    # A saved `success` flag is not trusted: the score is recomputed from the reward.
    assert not bench.score(sample, _record(sample.id, -1.0, success=True)).correct
    bad = bench.score(sample, _record(sample.id, "1"))  # type: ignore[arg-type]
    assert not bad.correct and "malformed" in bad.details
    unparsed = bench.score(sample, {**_record(sample.id, None), "status": "policy_errors"})
    assert unparsed.unparsed


def test_report_has_per_task_rates_and_their_unweighted_mean(
    bench: MiniWob, tmp_path: Path
) -> None:
    records = [
        _record("click-button/0", 1.0),
        _record("click-link/0", -1.0, page_reason="timed out"),
        _record("click-button/1", -1.0),
        _record("click-link/1", None),
        _record("click-button/2", 1.0),
        _record("click-link/2", 1.0),
        _record("click-button/3", 1.0),
        # click-link/3 was never run: only 3 of its episodes count
    ]
    saved = tmp_path / "saved" / "predictions.jsonl"
    saved.parent.mkdir()
    saved.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = rescore(bench, saved, data=None, out=tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report == result.report
    tasks = report["metrics"]["tasks"]
    assert tasks["click-button"]["percent"] == 75.0 and tasks["click-button"]["episodes"] == 4
    assert tasks["click-link"]["percent"] == pytest.approx(100 / 3)
    assert tasks["click-link"]["page_timeouts"] == 1 and tasks["click-link"]["not_ended"] == 1
    assert tasks["click-link"]["mean_reward"] == 0.0  # over the two episodes the page ended
    mean = (75.0 + 100 / 3) / 2
    assert report["headline"] == {"metric": "mean_success_over_tasks", "percent": mean}
    assert report["metrics"]["episodes"] == {"percent": 400 / 7, "correct": 4, "total": 7}
    rows = report["breakdowns"]["task"]["rows"]
    assert [row["task"] for row in rows] == ["click-button", "click-link", "mean over tasks"]
    assert rows[-1]["success"] == mean and rows[-1]["episodes"] == 7
    assert report["counts"]["not_predicted"] == 1
    provenance = report["provenance"]["benchmark"]
    assert provenance["zoom"] == 3.0 and provenance["crop"] is True
    assert provenance["time_limit_ms"] is None and "trajectories" not in provenance
    notes = " ".join(report["notes"])
    assert "10000 ms (the pages' own defaults)" in notes
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "| click-button | 75.0 | 4 |" in markdown
    assert "| mean over tasks | 54.2 | 7 |" in markdown


def test_options_from_the_command_line_shape() -> None:
    bench = create_benchmark("miniwob", {"tasks": "click-tab, click-link", "episodes": 2})
    assert isinstance(bench, MiniWob)
    assert bench.opts.tasks == ["click-tab", "click-link"]
    with pytest.raises(ConfigError, match="episodes"):
        create_benchmark("miniwob", {"episodes": 0})
    with pytest.raises(ConfigError, match="zoom"):
        create_benchmark("miniwob", {"zoom": 5})


def test_rescoring_without_tasks_covers_the_tasks_and_episodes_that_were_run(
    tmp_path: Path,
) -> None:
    bench = create_benchmark("miniwob", {})  # every standard task, 10 episodes each
    records = [_record("click-button/0", 1.0), _record("click-tab/0", -1.0)]
    records.append(_record("click-tab/1", 1.0))  # click-button/1 was not run: still counted
    saved = tmp_path / "saved" / "predictions.jsonl"
    saved.parent.mkdir()
    saved.write_text("".join(json.dumps(r) + "\n" for r in records))
    report = rescore(bench, saved, data=None, out=tmp_path / "out").report
    assert report["counts"]["samples"] == 4 and report["counts"]["not_predicted"] == 1
    assert sorted(report["metrics"]["tasks"]) == ["click-button", "click-tab"]
