"""Episodes per minute with N workers: sequential vs the local pool vs local Ray.

    python bench/parallel_eval.py [--workers 1,2,4,8] [--rounds 3] [--latency 0.1]
                                  [--env-delay 0.05] [--per-worker 6] [--no-ray] [--no-miniwob]

Fake environment: each episode is 3 policy calls on a 640x400 FakeEnv (click, click,
terminate) whose actions take `--env-delay` s; the policy answers a whole batch in a fixed
`--latency` s per `predict_batch` call (a GPU model's shape: a batch of 8 costs what a batch of
1 does), so the figure shows the framework's scaling, not this machine's cores. Every run goes
through `pixelpilot.evals.evaluate` (predictions.jsonl, scoring, report files), with
`--per-worker` x N episodes at N workers (the sequential run does `--per-worker` x 2, one by
one: its time per episode does not depend on the count). Local Ray: one Ray instance started
here; each run starts its N worker actors and the policy actor (their start-up is inside the
time, as in a real evaluation). MiniWoB++: click-button and click-tab with a
deterministic scripted policy, 1 and 2 workers (one Chromium each).

Modes are interleaved round by round; each cell is min and median seconds of its rounds.
Speed-up = sequential median time per episode / mode median time per episode. Targets
(issue 14): >= 0.8 x N on the fake environment, Ray within 15% of the pool, >= 1.4x at 2
workers on MiniWoB++.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pixelpilot.actions import Action, Click, Observation, Terminate
from pixelpilot.agent import run_episode
from pixelpilot.env import FakeEnv, FakeEnvConfig
from pixelpilot.evals import create_benchmark, evaluate
from pixelpilot.evals.base import Benchmark, Dataset, Problems, Record, Score, Summary
from pixelpilot.model import History, Policy, PolicyBase, Prediction
from timing import machine  # bench/timing.py, beside this script


class FixedLatency(PolicyBase):
    """Answers any batch in `latency` s: click (10, 10), click (20, 20), then terminate."""

    spec = "bench:fixed-latency"

    def __init__(self, latency: float = 0.1) -> None:
        self.latency = latency

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        time.sleep(self.latency)
        out = []
        for _, history in items:
            step = len(history.steps)
            action: Action = Click(x=10 * (step + 1), y=10) if step < 2 else Terminate(
                status="success"
            )  # fmt: skip
            out.append(Prediction(action, raw_text=action.type))
        return out


@dataclass(frozen=True)
class FakeSample:
    id: str


class FakeEpisodes(Benchmark[FakeSample]):
    """An online benchmark of `count` identical episodes on FakeEnv (for timing only)."""

    name = "fake-episodes"
    title = "fake episodes"
    needs_data: ClassVar[bool] = False
    count = 8
    delay = 0.05

    def worker_copy(self) -> FakeEpisodes:
        return self

    def load(
        self, data: Path | None, problems: Problems, *, for_prediction: bool
    ) -> Dataset[FakeSample]:
        samples = [FakeSample(f"ep/{i}") for i in range(self.count)]
        return Dataset(samples, len(samples))

    def predict(
        self, policy: Policy, batch: Sequence[FakeSample], problems: Problems
    ) -> list[Record]:
        records = []
        for sample in batch:
            with FakeEnv(FakeEnvConfig(width=640, height=400, delay=self.delay)) as env:
                trajectory = run_episode(env, policy, "open settings", max_steps=5, max_seconds=60)
            records.append({"id": sample.id, "status": trajectory.status})
        return records

    def score(self, sample: FakeSample, record: Mapping[str, Any]) -> Score:
        return Score(sample.id, record.get("status") == "terminated", False)

    def summarize(self, scores: Sequence[Score]) -> Summary:
        hits = sum(s.correct for s in scores)
        return Summary(("done", 100 * hits / max(1, len(scores))), {}, [])


class GoalGrid(PolicyBase):
    """Deterministic per MiniWoB++ episode: two clicks chosen by a hash of the goal, then
    terminate (no model: the figure is the harness's and the browsers')."""

    spec = "bench:grid"

    def predict(self, observation: Observation, history: History) -> Prediction:
        if len(history.steps) >= 2:
            return Prediction(Terminate(status="success"), raw_text="terminate")
        digest = hashlib.sha256(f"{history.goal}|{len(history.steps)}".encode()).digest()
        w, h = observation.size.width, observation.size.height
        click = Click(x=digest[0] * (w - 1) // 255, y=50 + digest[1] * (h - 51) // 255)
        return Prediction(click, raw_text="click")


def fake_run(
    episodes: int, workers: int, args: argparse.Namespace, *, ray: bool = False
) -> Callable[[], None]:
    # Ray workers import these classes by module name (a class pickled from __main__ by value
    # cannot be rebuilt: PolicyBase checks a subclass's methods when the class is created).
    import parallel_eval as this

    def go() -> None:
        bench = this.FakeEpisodes()
        bench.count, bench.delay = episodes, args.env_delay
        with tempfile.TemporaryDirectory() as out:
            if not ray:
                report = evaluate(bench, FixedLatency(args.latency), data=None, out=Path(out),
                                  model_info={}, progress=False, batch_size=workers,
                                  workers=workers).report  # fmt: skip
            else:
                from pixelpilot.evals.parallel.ray_backend import RayExecutor, start_policy

                latency = args.latency
                remote = start_policy(functools.partial(this.FixedLatency, latency),
                                      batch_size=workers,
                                      workers=workers)  # fmt: skip
                try:
                    executor = RayExecutor(bench, remote, workers=workers)
                    report = evaluate(bench, remote, data=None, out=Path(out), model_info={},
                                      progress=False, batch_size=workers,
                                      executor=executor).report  # fmt: skip
                finally:
                    remote.close()
        assert report["counts"]["scored"] == episodes, report["counts"]

    return go


def miniwob_run(workers: int, episodes: int) -> Callable[[], None]:
    def go() -> None:
        options = {"tasks": "click-button,click-tab", "episodes": episodes, "zoom": 1.0,
                   "time_limit_ms": 60000}  # fmt: skip
        bench = create_benchmark("miniwob", options)
        try:
            with tempfile.TemporaryDirectory() as out:
                report = evaluate(bench, GoalGrid(), data=None, out=Path(out), model_info={},
                                  progress=False, workers=workers).report  # fmt: skip
        finally:
            bench.close()
        assert report["counts"]["scored"] == 2 * episodes, report["counts"]

    return go


def measure(
    runs: Mapping[str, tuple[Callable[[], None], int]], rounds: int
) -> dict[str, list[float]]:
    """Seconds per episode of each run, interleaved round by round (no warm-up round: each
    run starts its own workers, as a real evaluation does)."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for number in range(rounds):
        for name, (fn, episodes) in runs.items():
            start = time.perf_counter()
            fn()
            seconds[name].append((time.perf_counter() - start) / episodes)
            print(f"  round {number + 1} {name}: {seconds[name][-1] * 1000:.0f} ms/episode",
                  file=sys.stderr, flush=True)  # fmt: skip
    return seconds


def table(title: str, seconds: dict[str, list[float]], baseline: str) -> list[str]:
    base = statistics.median(seconds[baseline])
    lines = [f"| {title} | min s/ep | median s/ep | episodes/min (median) | speed-up |",
             "|---|---|---|---|---|"]  # fmt: skip
    for name, values in seconds.items():
        median = statistics.median(values)
        lines.append(f"| {name} | {min(values):.3f} | {median:.3f} | {60 / median:.0f} | "
                     f"{base / median:.2f}x |")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2,4,8", help="worker counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.1, help="s per predict_batch call")
    parser.add_argument("--env-delay", type=float, default=0.05, help="s per fake action")
    parser.add_argument("--per-worker", type=int, default=6, help="episodes per worker")
    parser.add_argument("--miniwob-episodes", type=int, default=4, help="episodes per task")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--no-miniwob", action="store_true")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(f"# bench/parallel_eval.py - {machine()}")
    if not args.no_ray:
        import ray

        here = str(Path(__file__).resolve().parent)
        ray.init(num_cpus=max(counts) + 2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False,
                 runtime_env={"env_vars": {"PYTHONPATH": here}})  # fmt: skip
    try:
        episodes = args.per_worker * 2  # one by one: the rate per episode does not change
        runs: dict[str, tuple[Callable[[], None], int]] = {
            "sequential": (fake_run(episodes, 1, args), episodes)
        }
        for n in counts:
            runs[f"pool {n}"] = (fake_run(args.per_worker * n, n, args), args.per_worker * n)
            if not args.no_ray:
                runs[f"ray {n}"] = (fake_run(args.per_worker * n, n, args, ray=True),
                                    args.per_worker * n)  # fmt: skip
        fake = measure(runs, args.rounds)
        print(f"\nFake environment: {args.latency:g} s per predict_batch call, "
              f"{args.env_delay:g} s per action, 3 calls per episode\n")  # fmt: skip
        print("\n".join(table("fake env", fake, "sequential")))
    finally:
        if not args.no_ray:
            ray.shutdown()
    if not args.no_miniwob:
        n = args.miniwob_episodes
        mini = measure({"miniwob 1 worker": (miniwob_run(1, n), 2 * n),
                        "miniwob 2 workers": (miniwob_run(2, n), 2 * n)}, args.rounds)  # fmt: skip
        print(f"\nMiniWoB++ click-button + click-tab, {n} episodes each, scripted policy\n")
        print("\n".join(table("miniwob", mini, "miniwob 1 worker")))


if __name__ == "__main__":
    main()
