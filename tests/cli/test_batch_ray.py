"""`run --tasks --ray` on a local Ray instance started here (2 workers, stopped at the end): the
outcomes of a local run, and run directories written by the driver, also when resumed; and the
task pool's retry of a dead worker's task (no Ray needed)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.cli import main
from pixelpilot.evals.parallel import WorkerLost
from pixelpilot.evals.parallel.jobs import JobResult, TaskLine, run_jobs

ROOT = Path(__file__).resolve().parents[2]
TASKS = [
    {"task": "fake:wifi"},
    {"task": "fake:settings"},
    {"task": "fake:wifi", "env_opts": {"start": "settings"}},
    {"task": "fake:mail"},
]


@pytest.fixture
def ray() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})  # fmt: skip
    try:
        yield ray
    finally:
        ray.shutdown()


def rows(out: Path) -> list[tuple[Any, ...]]:
    summary = json.loads((out / "summary.json").read_text())
    return [(t["name"], t["status"], t["steps"], t["success"]) for t in summary["tasks"]]


@pytest.mark.slow
def test_tasks_on_ray_match_a_local_run(
    ray: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pixelpilot.evals.parallel import ray_backend
    from tests.cli.test_batch import TwoClicks

    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(t) + "\n" for t in TASKS))
    argv = ["run", "--env", "fake", "--model", "test:two", "--tasks", str(tasks)]
    monkeypatch.setattr("pixelpilot.cli.batch.create_policy", lambda spec, options: TwoClicks())
    main([*argv, "--out", str(tmp_path / "local")])

    def served(spec: str, options: Any, **kwargs: Any) -> Any:
        remote = ray_backend.start_policy(TwoClicks, batch_size=2, workers=2)
        return remote, remote

    monkeypatch.setattr(ray_backend, "policy_for_ray", served)  # the test policy, in an actor
    main([*argv, "--out", str(tmp_path / "ray"), "--ray", "auto", "--workers", "2"])
    assert rows(tmp_path / "ray") == rows(tmp_path / "local")
    assert rows(tmp_path / "local")[0] == ("001-fake-wifi", "terminated", 3, True)
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    for task in summary["tasks"]:
        run_dir = Path(task["run_dir"])
        assert run_dir.parent == tmp_path / "ray"
        assert json.loads((run_dir / "result.json").read_text())["status"] == task["status"]
        assert (run_dir / "step_0001.png").read_bytes()[:4] == b"\x89PNG"
    # --resume on Ray: an unfinished run is moved aside and runs again on the workers.
    (tmp_path / "ray" / "summary.json").unlink()
    (tmp_path / "ray" / "002-fake-settings" / "result.json").unlink()
    main([*argv, "--out", str(tmp_path / "ray"), "--ray", "auto", "--workers", "2", "--resume"])
    assert rows(tmp_path / "ray") == rows(tmp_path / "local")
    assert (tmp_path / "ray" / "002-fake-settings.interrupted-1" / "meta.json").exists()
    assert ray.is_initialized()


class Dying:
    """Worker 0 dies on its first task; tasks named in `poison` kill every worker."""

    def __init__(self, workers: int, poison: set[str]) -> None:
        self.workers = workers
        self.poison = poison
        self.dead0 = False
        self.ran: dict[str, list[int]] = {}
        self.lock = threading.Lock()

    def open(self, k: int) -> int:
        return k

    def run(self, handle: Any, line: TaskLine) -> JobResult:
        with self.lock:
            self.ran.setdefault(line.name, []).append(handle)
            if handle == 0 and not self.dead0:
                self.dead0 = True
                raise WorkerLost("worker died: killed")
        if line.name in self.poison:
            raise WorkerLost("worker died: poisoned")
        return JobResult(line, "terminated", 1, True, 0.0, f"/x/{line.name}", ok=True)

    def close(self, handle: Any) -> None:
        return None

    def shutdown(self) -> None:
        return None


def test_a_dead_workers_task_runs_on_another_then_is_an_error() -> None:
    lines = [TaskLine(i, "t", name=f"t{i}") for i in range(8)]
    executor = Dying(3, poison={"t5"})
    results = run_jobs(lines, executor)
    assert [r.line.name for r in results] == [f"t{i}" for i in range(8)]
    assert [r.status for r in results].count("error") == 1
    failed = next(r for r in results if r.status == "error")
    assert failed.line.name == "t5" and "retried 1x" in failed.reason
    retried = [runs for name, runs in executor.ran.items() if name != "t5" and len(runs) == 2]
    assert len(retried) == 1 and retried[0][0] == 0 and retried[0][1] != 0
