"""`evaluate(..., workers=N)` on offline benchmarks: the same predictions and report as a
sequential run, --resume after an interrupted parallel run, problems in benchmark order, one
batched policy serving every worker; and the CLI's --workers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.actions import Click, Observation
from pixelpilot.cli import main
from pixelpilot.errors import ConfigError, PolicyError
from pixelpilot.evals import create_benchmark, evaluate
from pixelpilot.evals.desktop.benchmark import DesktopBenchmark
from pixelpilot.model import History, PolicyBase, Prediction
from tests.evals import support
from tests.evals.test_runner import strip_volatile


class AnswerKey(PolicyBase):
    """Deterministic: hits the box of every other instruction (by a stable rule), misses the
    rest; optionally fails on call number `fail_on` and sleeps `latency` s per call."""

    def __init__(self, fail_on: int | None = None, latency: float = 0.0) -> None:
        self.spec = "test:key"
        records = [r for p in support.PLATFORMS for r in support.real_annotations(p)]
        self.boxes = {r["instruction"]: r["bbox"] for r in records}
        self.fail_on = fail_on
        self.latency = latency
        self.calls = 0
        self.sizes: list[int] = []
        self.lock = threading.Lock()

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        with self.lock:
            self.calls += 1
            call = self.calls
        if call == self.fail_on:
            raise PolicyError("backend died")
        self.sizes.append(len(items))
        time.sleep(self.latency)
        out = []
        for obs, hist in items:
            x1, y1, x2, y2 = self.boxes[hist.goal]
            if len(hist.goal) % 2:
                point = (int((x1 + x2) / 2), int((y1 + y2) / 2))
            else:
                point = (obs.size.width - 1, obs.size.height - 1)
            out.append(Prediction(Click(x=point[0], y=point[1]), raw_text=f"{point}"))
        return out

    def describe(self) -> dict[str, object]:
        return {"backend": "test"}


def dataset(root: Path, per_platform: int = 6) -> Path:
    records = {p: support.real_annotations(p)[:per_platform] for p in support.PLATFORMS}
    return support.make_screenspot(root, records)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    out = strip_volatile(report)
    out["provenance"].pop("run")
    out.pop("timing")
    return out


def predictions(out: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    for row in rows:
        row.pop("timings")
    return sorted(rows, key=lambda row: str(row["id"]))


def run(data: Path, out: Path, policy: AnswerKey, **kwargs: Any) -> dict[str, Any]:
    bench = create_benchmark("screenspot-v2")
    result = evaluate(
        bench, policy, data=data, out=out, model_info={"spec": "test:key"}, progress=False, **kwargs
    )
    return result.report


def test_parallel_run_equals_sequential_run(tmp_path: Path) -> None:
    data = dataset(tmp_path / "set")
    (data / "screenspotv2_image" / support.real_annotations("web")[2]["img_filename"]).unlink()
    sequential = run(data, tmp_path / "seq", AnswerKey(), batch_size=1)
    policy = AnswerKey(latency=0.02)
    parallel = run(data, tmp_path / "par", policy, batch_size=4, workers=3)
    assert comparable(parallel) == comparable(sequential)
    assert predictions(tmp_path / "par") == predictions(tmp_path / "seq")
    assert sequential["counts"]["problems"] >= 1  # the missing image, listed in both
    assert 0 < sequential["headline"]["percent"] < 100
    # One policy served all workers, in batches larger than one worker's chunk of 2.
    assert sum(policy.sizes) == sequential["counts"]["scored"] and max(policy.sizes) > 2
    run_json = json.loads((tmp_path / "par" / "run.json").read_text())
    assert run_json["run"]["workers"] == 3


def test_never_more_workers_than_samples(tmp_path: Path) -> None:
    # 100 workers for 3 samples would start 100 browsers, displays or processes for nothing
    data = dataset(tmp_path / "set")
    report = run(data, tmp_path / "out", AnswerKey(), workers=100, limit=3)
    assert report["counts"]["samples"] == 3
    assert json.loads((tmp_path / "out" / "run.json").read_text())["run"]["workers"] == 3


def test_resume_after_an_interrupted_parallel_run(tmp_path: Path) -> None:
    data = dataset(tmp_path / "set")
    out = tmp_path / "run"
    with pytest.raises(PolicyError, match="backend died"):
        run(data, out, AnswerKey(fail_on=3, latency=0.02), batch_size=2, workers=2)
    saved = (out / "predictions.jsonl").read_text().splitlines()
    assert 0 < len(saved) < 18
    policy = AnswerKey()
    resumed = run(data, out, policy, batch_size=2, workers=2, resume=True)
    assert sum(policy.sizes) == 18 - len(saved)
    fresh = run(data, tmp_path / "fresh", AnswerKey(), batch_size=3)
    assert comparable(resumed) == comparable(fresh)
    assert predictions(out) == predictions(tmp_path / "fresh")


def test_an_online_benchmark_without_worker_copies_refuses_workers(tmp_path: Path) -> None:
    # neither copies for threads (worker_copy) nor worker processes (the desktop's way)
    class OneAtATime(DesktopBenchmark):
        worker_processes = False

    bench = OneAtATime()
    with pytest.raises(ConfigError, match="one episode at a time"):
        evaluate(
            bench, AnswerKey(), data=None, out=tmp_path, model_info={}, progress=False, workers=2
        )


def test_cli_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = dataset(tmp_path / "set", per_platform=3)
    script = tmp_path / "script.jsonl"
    script.write_text("")
    args = ["eval", "screenspot-v2", "--data", str(data), "--model", f"scripted:{script}"]
    # The scripted policy replays its script call after call: not shareable between workers.
    assert main([*args, "--out", str(tmp_path / "s"), "--workers", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot serve 2 workers at once: give --workers 1" in err and "\n" not in err
    monkeypatch.setattr("pixelpilot.cli.eval.create_policy", lambda spec, options: AnswerKey())
    assert main([*args, "--out", str(tmp_path / "a"), "--no-progress"]) == 0
    assert main([*args, "--out", str(tmp_path / "b"), "--no-progress", "--workers", "2",
                 "--batch-size", "3"]) == 0  # fmt: skip
    a = json.loads((tmp_path / "a" / "report.json").read_text())
    b = json.loads((tmp_path / "b" / "report.json").read_text())
    assert comparable(a) == comparable(b) and a["counts"]["samples"] == 9
    assert 0 < a["headline"]["percent"] < 100
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "c"), "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("--workers must be at least 1, got 0") and "\n" not in err


class Centre(PolicyBase):
    """Deterministic: a click at the screenshot's centre, whatever the sample."""

    spec = "test:centre"

    def predict(self, observation: Observation, history: History) -> Prediction:
        size = observation.size
        return Prediction(Click(x=size.width // 2, y=size.height // 2), raw_text="centre")


def test_androidcontrol_streamed_with_a_broken_record_gives_the_sequential_report(
    tmp_path: Path,
) -> None:
    from tests.evals.androidcontrol.test_androidcontrol import write_dataset

    data = write_dataset(tmp_path / "ac")
    reports = []
    for name, workers in (("seq", 1), ("par", 3)):
        bench = create_benchmark("androidcontrol", {"setting": "low"})
        reports.append(
            evaluate(
                bench, Centre(), data=data, out=tmp_path / name, model_info={"spec": "c"},
                progress=False, workers=workers, batch_size=2,
            ).report
        )  # fmt: skip
    sequential, parallel = reports
    assert sequential["counts"]["problems"] >= 1  # the broken middle step, found while streaming
    assert comparable(parallel) == comparable(sequential)
    assert predictions(tmp_path / "par") == predictions(tmp_path / "seq")
