"""`ProcessExecutor` on a small online benchmark of fake-environment episodes: each worker a
process with a helper program of its own (standing in for a display), one policy here. The same
records and report as a sequential run; a killed worker's chunk runs again, then is listed; Ctrl-C
in the driver, errors and the end of a run leave no process behind; `--resume` completes."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from pixelpilot.actions import Action, Click, Observation, Task, Terminate
from pixelpilot.agent import run_episode
from pixelpilot.env.fake import FakeEnv
from pixelpilot.errors import ConfigError, PolicyError
from pixelpilot.evals import evaluate
from pixelpilot.evals.base import Benchmark, Dataset, Problems, Record, Score, Summary
from pixelpilot.evals.parallel import WorkerLost
from pixelpilot.evals.parallel.process import ProcessExecutor, tagged
from pixelpilot.model import History, PolicyBase, Prediction
from pixelpilot.model.scripted import ScriptedPolicy
from tests.evals.test_parallel import comparable


# --- processes below this one -----------------------------------------------------------------
def proc_stat(pid: int) -> tuple[int, str, int] | None:
    """(parent id, state, start time in clock ticks) of `pid`, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return int(fields[1]), fields[0], int(fields[19])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


class Descendants:
    """Records every process below this one while it watches (polled every 20 ms), so that a
    program whose parent died (re-parented away from us) still counts; `left()` lists those
    still running afterwards. multiprocessing's resource tracker (one per interpreter, shared,
    ends with it) is not counted."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], str] = {}
        self.parent: dict[tuple[int, int], int] = {}  # the parent pid when first seen
        self.before = set(self.below())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    @staticmethod
    def tree() -> dict[tuple[int, int], tuple[int, str]]:
        """The processes below this one now: (pid, start time) -> (parent pid, command)."""
        parents: dict[int, list[tuple[int, int]]] = {}
        for entry in Path("/proc").iterdir():
            stat = proc_stat(int(entry.name)) if entry.name.isdigit() else None
            if stat is not None and stat[1] not in ("Z", "X"):
                parents.setdefault(stat[0], []).append((int(entry.name), stat[2]))
        found: dict[tuple[int, int], tuple[int, str]] = {}
        todo = [os.getpid()]
        while todo:
            parent = todo.pop()
            for key in parents.get(parent, []):
                found[key] = (parent, _cmdline(key[0]))
                todo.append(key[0])
        return found

    @staticmethod
    def below() -> dict[tuple[int, int], str]:
        """The processes below this one now: (pid, start time) -> command line."""
        return {key: command for key, (_, command) in Descendants.tree().items()}

    def _watch(self) -> None:
        trackers: set[tuple[int, int]] = set()
        while not self._stop.wait(0.02):
            for key, (parent, command) in self.tree().items():
                if "resource_tracker" in command or key in trackers:
                    # first seen between its fork and exec it showed pytest's command line
                    trackers.add(key)
                    self.seen.pop(key, None)
                    self.parent.pop(key, None)
                elif key not in self.before:
                    # the latest command: a program run through a wrapper (setpriv) shows its
                    # own once exec'd; an exiting process reads as "" (keep what it was)
                    if command or key not in self.seen:
                        self.seen[key] = command
                    self.parent.setdefault(key, parent)

    def __enter__(self) -> Descendants:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def left(self) -> list[str]:
        """The commands of the recorded processes still running."""
        out = []
        for (pid, start), command in self.seen.items():
            stat = proc_stat(pid)
            alive = stat is not None and stat[2] == start and stat[1] not in ("Z", "X")
            if alive and "resource_tracker" not in _cmdline(pid):
                out.append(f"{pid}: {command}")
        return out


# --- the benchmark ----------------------------------------------------------------------------
class ChoreOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    episodes: int = 6
    kill: dict[str, int] = {}  # sample id -> how many times its worker kills itself running it
    marks: str = ""  # folder counting those kills across processes (each: "helper-pid start")
    fail: str = ""  # a sample id whose run raises ConfigError
    hurry: str = ""  # a sample id whose episode has 0.3 s (the others 60 s)


@dataclass(frozen=True)
class Chore:
    index: int

    @property
    def id(self) -> str:
        return f"chore/{self.index}"


class Chores(Benchmark[Chore]):
    """Episodes `fake:wifi` on the fake environment; a worker keeps a `sleep` program running
    in a session of its own from its first episode to its close, as a display would be."""

    name = "chores"
    title = "fake chores"
    Options = ChoreOptions
    needs_data = False

    def __init__(self, options: BaseModel | None = None) -> None:
        super().__init__(options)
        self.env: FakeEnv | None = None
        self.helper: subprocess.Popen[bytes] | None = None

    @property
    def opts(self) -> ChoreOptions:
        assert isinstance(self.options, ChoreOptions)
        return self.options

    def load(
        self, data: Path | None, problems: Problems, *, for_prediction: bool
    ) -> Dataset[Chore]:
        return Dataset([Chore(i) for i in range(self.opts.episodes)], self.opts.episodes)

    def predict(self, policy: Any, batch: Sequence[Chore], problems: Problems) -> list[Record]:
        if self.env is None:
            self.env = FakeEnv()
            self.helper = subprocess.Popen(["sleep", "300"], start_new_session=True)
        records = []
        for chore in batch:
            self._maybe_die(chore)
            if chore.id == self.opts.fail:
                raise ConfigError(f"{chore.id} cannot run here (test)")
            task = Task(goal=f"chore {chore.index}", name="fake:wifi")
            budget = 0.3 if chore.id == self.opts.hurry else 60.0
            trajectory = run_episode(self.env, policy, task, max_steps=5, max_seconds=budget)
            if chore.index == 4 and trajectory.steps:
                problems.add("odd chore", chore.id, "listed by the worker (test)")
            records.append({
                "id": chore.id,
                "status": trajectory.status,
                "actions": [s.action.type if s.action else s.error for s in trajectory.steps],
                "success": trajectory.outcome.success if trajectory.outcome else None,
                "worker": os.getpid(),
            })  # fmt: skip
        return records

    def _maybe_die(self, chore: Chore) -> None:
        times = self.opts.kill.get(chore.id, 0)
        if not times:
            return
        marks = Path(self.opts.marks)
        done = len(list(marks.glob(f"{chore.index}-*")))
        if done < times:
            assert self.helper is not None
            stat = proc_stat(self.helper.pid)
            assert stat is not None
            (marks / f"{chore.index}-{done}").write_text(f"{self.helper.pid} {stat[2]}")
            os.kill(os.getpid(), signal.SIGKILL)

    def score(self, sample: Chore, record: Any) -> Score:
        return Score(
            sample.id, record.get("success") is True, False, {"parity": str(sample.index % 2)}
        )

    def summarize(self, scores: Sequence[Score]) -> Summary:
        hits = sum(s.correct for s in scores)
        return Summary(("success", 100.0 * hits / len(scores)), {"hits": hits}, [])

    def close(self) -> None:
        if self.helper is not None:
            self.helper.terminate()
            self.helper.wait()
            self.helper = None


class Hops(PolicyBase):
    """Deterministic per episode: chore i clicks (200, 200) i % 3 times, then terminates (two
    clicks reach the Wi-Fi screen); the goal `fail` fails as a backend would (every request of
    its batch gets the error); each call takes `latency` s (only for the goal `slow` if given).
    Asks for one earlier screenshot, and checks that it came."""

    spec = "test:hops"
    image_history = 1

    def __init__(self, latency: float = 0.0, fail: str = "", slow: str = "") -> None:
        self.latency, self.fail, self.slow = latency, fail, slow
        self.sizes: list[int] = []

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        self.sizes.append(len(items))
        if not self.slow or any(hist.goal == self.slow for _, hist in items):
            time.sleep(self.latency)
        out = []
        for obs, hist in items:
            assert obs.size.width == 1280
            assert not hist.steps or hist.steps[-1].screenshot is not None
            if hist.goal == self.fail:
                raise PolicyError("the model server went away (test)")
            index = int(hist.goal.split()[-1])
            action: Action = Click(x=200, y=200)
            if len(hist.steps) >= index % 3:
                action = Terminate(status="success")
            out.append(Prediction(action, raw_text=action.type))
        return out


def run(out: Path, policy: PolicyBase, workers: int, **options: Any) -> dict[str, Any]:
    bench = Chores(ChoreOptions(**options))
    try:
        if workers == 1:
            result = evaluate(bench, policy, data=None, out=out, model_info={}, progress=False)
        else:
            with ProcessExecutor(bench, policy, workers=workers, batch_size=workers) as executor:
                result = evaluate(
                    bench, policy, data=None, out=out, model_info={}, progress=False,
                    executor=executor, resume=(out / "predictions.jsonl").exists(),
                )  # fmt: skip
    finally:
        bench.close()
    return result.report


def records(out: Path) -> dict[str, dict[str, Any]]:
    """predictions.jsonl by id, without the timings and the worker's process id."""
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    return {row["id"]: {k: v for k, v in row.items() if k != "worker"} for row in rows}


def workers_of(out: Path) -> set[int]:
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    return {row["worker"] for row in rows}


@pytest.fixture(scope="module")
def sequential(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    out = tmp_path_factory.mktemp("sequential")
    return run(out, Hops(), 1), records(out)


def test_two_workers_give_the_sequential_records_and_report(
    tmp_path: Path, sequential: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    policy = Hops(latency=0.05)
    bench = Chores()
    with Descendants() as seen, ProcessExecutor(bench, policy, workers=2, batch_size=2) as ex:
        report = evaluate(
            bench, policy, data=None, out=tmp_path, model_info={}, progress=False, executor=ex
        ).report
    assert comparable(report) == comparable(sequential[0])
    assert records(tmp_path) == sequential[1]
    assert [(p["kind"], p["where"]) for p in report["problems"]["items"]] == [
        ("odd chore", "chore/4")
    ]
    workers = workers_of(tmp_path)
    assert len(workers) == 2 and os.getpid() not in workers
    assert sum(size for size in policy.sizes) == sum(
        len(r["actions"]) for r in sequential[1].values()
    )
    # Every worker and its helper program were running, and are stopped.
    assert any("sleep 300" in command for command in seen.seen.values())
    assert seen.left() == []
    assert all(w.stopped and tagged(w.tag) == [] for w in ex.started)


def still_running(marks: Path, wait: float = 10.0) -> list[int]:
    """The helper programs of killed workers (recorded in `marks`) still running after up to
    `wait` s (a SIGKILLed program on a busy machine can take a moment to be gone; one that was
    never signalled, a `sleep 300`, stays)."""
    deadline = time.monotonic() + wait
    while True:
        out = []
        for mark in marks.iterdir():
            pid, start = (int(word) for word in mark.read_text().split())
            stat = proc_stat(pid)
            if stat is not None and stat[2] == start and stat[1] not in ("Z", "X"):
                out.append(pid)
        if not out or time.monotonic() > deadline:
            return out
        time.sleep(0.1)


def run_killing(
    tmp_path: Path, workers: int, times: int
) -> tuple[dict[str, Any], Path, Descendants]:
    """Run the chores on `workers` workers; the worker running chore/2 kills itself the first
    `times` times. The report, the marks folder (one mark per kill) and the watcher."""
    marks = tmp_path / "marks"
    marks.mkdir()
    with Descendants() as seen:
        report = run(tmp_path / "out", Hops(), workers, kill={"chore/2": times}, marks=str(marks))
    assert len(list(marks.iterdir())) == times
    return report, marks, seen


def test_a_killed_workers_chore_runs_again_and_its_program_is_stopped(
    tmp_path: Path, sequential: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    report, marks, seen = run_killing(tmp_path, 2, 1)  # then done on the other worker
    assert records(tmp_path / "out") == sequential[1]
    assert report["metrics"] == sequential[0]["metrics"]
    assert report["counts"] == sequential[0]["counts"]
    assert seen.left() == []
    assert still_running(marks) == []  # the killed worker's helper was stopped


def test_a_chore_whose_worker_dies_twice_is_listed_and_the_others_finish(
    tmp_path: Path, sequential: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    report, marks, seen = run_killing(tmp_path, 3, 2)
    done = records(tmp_path / "out")
    assert done == {k: v for k, v in sequential[1].items() if k != "chore/2"}
    assert report["counts"]["samples"] == 6 and report["counts"]["scored"] == 5
    died = [p for p in report["problems"]["items"] if p["kind"] == "worker died"]
    assert [p["where"] for p in died] == ["chore/2"]
    assert "killed by signal 9" in died[0]["detail"] and "retried 1x" in died[0]["detail"]
    assert seen.left() == []
    assert still_running(marks) == []


def interrupt_after_the_first_record(saved: Path) -> threading.Thread:
    """A started thread that sends SIGINT to this process (Ctrl-C) once `saved` holds a line."""

    def wait_then_interrupt() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (saved.exists() and saved.read_text()):
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=wait_then_interrupt, daemon=True)
    thread.start()
    return thread


def test_ctrl_c_in_the_driver_stops_every_process_and_resume_completes(
    tmp_path: Path, sequential: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    with Descendants() as seen, pytest.raises(KeyboardInterrupt):
        interrupter = interrupt_after_the_first_record(tmp_path / "predictions.jsonl")
        run(tmp_path, Hops(latency=0.3), 2)
    interrupter.join()
    assert seen.left() == []
    assert 1 <= len(records(tmp_path)) < 6
    report = run(tmp_path, Hops(), 2)  # resumes
    assert records(tmp_path) == sequential[1]
    assert report["metrics"] == sequential[0]["metrics"]


def test_an_answer_that_comes_after_the_budget_is_dropped(
    tmp_path: Path, sequential: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    # chore/0's first answer comes after its budget: the worker's wait is cut by its timer,
    # the late answer is dropped, and the worker's next episodes get their own answers.
    run(tmp_path, Hops(latency=0.8, slow="chore 0"), 2, hurry="chore/0")
    done = records(tmp_path)
    assert done.pop("chore/0")["status"] == "timeout"
    assert done == {k: v for k, v in sequential[1].items() if k != "chore/0"}


class Broken(Chores):
    """Cannot be built in a worker process."""

    def __init__(self, options: BaseModel | None = None) -> None:
        super().__init__(options)
        if multiprocessing.parent_process() is not None:
            raise ConfigError("this benchmark cannot start in a worker (test)")


class Stuck(Chores):
    """Takes a minute to be built in a worker process."""

    def __init__(self, options: BaseModel | None = None) -> None:
        super().__init__(options)
        if multiprocessing.parent_process() is not None:
            time.sleep(60)


def test_errors_cross_the_pipe_as_themselves(tmp_path: Path) -> None:
    # The policy's error reaches the episode in the worker (a step error, as in a sequential
    # run); the benchmark's own error reaches the caller; neither leaves a process behind.
    with Descendants() as seen:
        run(tmp_path / "p", Hops(fail="chore 1"), 2)
        failed = records(tmp_path / "p")["chore/1"]
        assert failed["status"] == "policy_errors"
        assert failed["actions"] == ["policy failed: the model server went away (test)"] * 3
        with pytest.raises(ConfigError, match=r"^chore/3 cannot run here \(test\)$"):
            run(tmp_path / "a", Hops(), 2, fail="chore/3")
        bench = Broken()
        with (
            pytest.raises(ConfigError, match="cannot start in a worker"),
            ProcessExecutor(bench, Hops(), workers=2, batch_size=1) as ex,
        ):
            evaluate(bench, Hops(), data=None, out=tmp_path / "b", model_info={}, progress=False,
                     executor=ex)  # fmt: skip
    assert seen.left() == []


def test_a_worker_that_does_not_start_in_time_is_lost_and_stopped(tmp_path: Path) -> None:
    bench = Stuck()
    with (
        Descendants() as seen,
        pytest.raises(WorkerLost, match=r"worker \d sent nothing within 3 s"),
        ProcessExecutor(bench, Hops(), workers=2, batch_size=1, start_seconds=3) as ex,
    ):
        evaluate(bench, Hops(), data=None, out=tmp_path, model_info={}, progress=False,
                 executor=ex)  # fmt: skip
    assert seen.left() == []


def test_a_policy_that_keeps_its_place_or_no_worker_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"keeps its place between calls .* give --workers 1"):
        ProcessExecutor(Chores(), ScriptedPolicy([]), workers=2, batch_size=1)
    with pytest.raises(ConfigError, match="--workers must be at least 1, got 0"):
        ProcessExecutor(Chores(), Hops(), workers=0, batch_size=1)


class ProcessChores(Chores):
    worker_processes = True


def test_evaluate_gives_a_benchmark_that_asks_for_processes_its_own_processes(
    tmp_path: Path, sequential: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    # the library call, as the CLI: no executor given, --workers 2
    bench = ProcessChores()
    try:
        report = evaluate(
            bench, Hops(), data=None, out=tmp_path, model_info={}, progress=False, workers=2
        ).report
    finally:
        bench.close()
    assert comparable(report) == comparable(sequential[0])
    workers = workers_of(tmp_path)
    assert len(workers) == 2 and os.getpid() not in workers
