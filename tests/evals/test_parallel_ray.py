"""The Ray backend on a local Ray instance started here (2 workers, stopped at the end):
MiniWoB++ and ScreenSpot with the tiny Qwen checkpoint give the sequential report, and a worker
killed mid-run still leaves a complete report."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.cli import main
from pixelpilot.evals import create_benchmark, evaluate
from pixelpilot.evals.base import Record
from pixelpilot.evals.parallel.ray_backend import RayExecutor, node_id, start_policy
from tests.evals.test_parallel import AnswerKey, comparable, dataset, predictions
from tests.evals.test_parallel_miniwob import OPTIONS, GoalGrid, episodes
from tests.evals.test_parallel_miniwob import run as run_miniwob

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ray() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    ray.init(
        num_cpus=4,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},  # workers import the tests' policies
    )
    try:
        yield ray
    finally:
        ray.shutdown()
    assert not ray.is_initialized()


@pytest.mark.browser
def test_miniwob_on_ray_gives_the_sequential_report(ray: Any, tmp_path: Path) -> None:
    sequential = run_miniwob(tmp_path / "seq")
    out = tmp_path / "ray"
    bench = create_benchmark("miniwob", {**OPTIONS, "trajectories": str(out / "trajectories")})
    remote = start_policy(GoalGrid, batch_size=2, workers=2)
    # one node: the workers send the policy raw pixels, not PNG (see wire.py)
    assert remote.node is not None and remote.node == node_id()
    try:
        executor = RayExecutor(bench, remote, workers=2)
        report = evaluate(
            bench, remote, data=None, out=out, model_info={"spec": "test:grid"},
            progress=False, executor=executor, batch_size=2,
        ).report  # fmt: skip
    finally:
        remote.close()
    assert comparable(report) == comparable(sequential)
    assert episodes(out) == episodes(tmp_path / "seq")
    pids = set(executor.pids)
    assert len(pids) == 2 and os.getpid() not in pids  # two worker processes, not this one
    # The driver wrote every run directory where a local run would have.
    for row in (json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()):
        assert row["trajectory"] == str(out / "trajectories" / row["id"])
        assert json.loads((Path(row["trajectory"]) / "result.json").read_text())["steps"] > 0


@pytest.mark.torch
def test_screenspot_with_the_tiny_qwen_on_ray_gives_the_sequential_report(
    ray: Any, tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = dataset(tmp_path / "set", per_platform=2)
    argv = ["eval", "screenspot-v2", "--model", f"qwen25vl:{tiny_checkpoint}", "--data",
            str(data), "--no-progress", "--batch-size", "1"]  # fmt: skip
    assert main([*argv, "--out", str(tmp_path / "seq")]) == 0
    assert main([*argv, "--out", str(tmp_path / "ray"), "--ray", "auto", "--workers", "2"]) == 0
    seq = json.loads((tmp_path / "seq" / "report.json").read_text())
    par = json.loads((tmp_path / "ray" / "report.json").read_text())
    for report in (seq, par):
        report["provenance"]["model"].pop("load_seconds")  # differs on every load
    assert comparable(par) == comparable(seq) and seq["counts"]["scored"] == 6
    assert predictions(tmp_path / "ray") == predictions(tmp_path / "seq")
    assert par["provenance"]["model"]["backend"] == "qwen25vl"
    assert ray.is_initialized()  # the command joined the test's instance and left it running
    capsys.readouterr()


def test_a_worker_killed_mid_run_still_yields_a_complete_report(ray: Any, tmp_path: Path) -> None:
    data = dataset(tmp_path / "set")
    sequential = evaluate(
        create_benchmark("screenspot-v2"), AnswerKey(), data=data, out=tmp_path / "seq",
        model_info={"spec": "test:key"}, progress=False,
    ).report  # fmt: skip
    bench = create_benchmark("screenspot-v2")
    remote = start_policy(functools.partial(AnswerKey, latency=0.3), batch_size=1, workers=2)
    executor = RayExecutor(bench, remote, workers=2)
    killed: list[Any] = []

    def kill_one(records: list[Record]) -> None:
        if not killed:
            killed.append(executor.actors[0])
            ray.kill(executor.actors[0], no_restart=True)

    try:
        report = evaluate(
            bench, remote, data=data, out=tmp_path / "ray", model_info={"spec": "test:key"},
            progress=False, executor=executor, batch_size=1, on_batch=kill_one,
        ).report  # fmt: skip
    finally:
        remote.close()
    assert killed
    assert report["counts"]["scored"] == 18 and report["counts"]["problems"] == 0
    assert comparable(report) == comparable(sequential)
    assert predictions(tmp_path / "ray") == predictions(tmp_path / "seq")


def failing_factory() -> Any:
    from pixelpilot.errors import ConfigError

    raise ConfigError("cannot read action script x.jsonl: No such file or directory")


def test_errors_in_actors_arrive_as_themselves_and_relative_paths_mean_the_drivers(
    ray: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pixelpilot.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^cannot read action script x\.jsonl"):
        start_policy(failing_factory, batch_size=1, workers=1)
    dataset(tmp_path / "set", per_platform=1)
    (tmp_path / "x.jsonl").write_text('{"type": "click", "x": 1, "y": 1}\n' * 3)
    monkeypatch.chdir(tmp_path)  # the spec, --data and --out are relative to the driver's cwd
    argv = ["eval", "screenspot-v2", "--data", "set", "--model", "scripted:x.jsonl",
            "--no-progress", "--ray", "auto"]  # fmt: skip
    assert main([*argv, "--out", "out", "--workers", "2"]) == 2  # a script is not shareable
    assert "cannot serve 2 workers" in capsys.readouterr().err
    assert main([*argv, "--out", "out"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["counts"]["scored"] == 3 and report["counts"]["problems"] == 0
    (tmp_path / "x.jsonl").unlink()
    capsys.readouterr()
    assert main([*argv, "--out", "out2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot read action script x.jsonl" in err and "\n" not in err
