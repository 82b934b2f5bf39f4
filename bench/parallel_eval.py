"""Episodes per minute with N workers: sequential vs the local pool vs local Ray.

    python bench/parallel_eval.py [--workers 1,2,4,8] [--rounds 3] [--latency 0.1]
                                  [--env-delay 0.05] [--per-worker 15] [--no-ray] [--no-miniwob]

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

Modes are interleaved round by round; each cell is min and median of its rounds. Whole run:
seconds per episode from the call of `evaluate` to its return. Steady: once every worker is up
(Ray: the last worker actor answered; local: at once), episodes finished after that over the
time after that. Speed-up = sequential median s/episode / the mode's median. Targets
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


@dataclass(frozen=True)
class Timing:
    """One run: seconds per episode over the whole run (worker start-up included), seconds
    per episode once every worker was up (episodes finished after that / time after that),
    and the start-up time in seconds."""

    whole: float
    steady: float
    startup: float


def timed_evaluate(bench: Any, policy: Any, episodes: int, **kwargs: Any) -> Timing:
    finished: list[float] = []
    executor = kwargs.get("executor")
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        report = evaluate(bench, policy, data=None, out=Path(out), model_info={}, progress=False,
                          on_batch=lambda records: finished.extend(
                              [time.perf_counter()] * len(records)), **kwargs).report  # fmt: skip
        end = time.perf_counter()
    assert report["counts"]["scored"] == episodes, report["counts"]
    ready = max(getattr(executor, "placed", None) or [start])
    after = sum(t > ready for t in finished)
    return Timing((end - start) / episodes, (end - ready) / max(1, after), ready - start)


def fake_run(
    episodes: int, workers: int, args: argparse.Namespace, *, ray: bool = False
) -> Callable[[], Timing]:
    # Ray workers import these classes by module name (a class pickled from __main__ by value
    # cannot be rebuilt: PolicyBase checks a subclass's methods when the class is created).
    import parallel_eval as this

    def go() -> Timing:
        bench = this.FakeEpisodes()
        bench.count, bench.delay = episodes, args.env_delay
        if not ray:
            return timed_evaluate(bench, this.FixedLatency(args.latency), episodes,
                                  batch_size=workers, workers=workers)  # fmt: skip
        from pixelpilot.evals.parallel.ray_backend import RayExecutor, start_policy

        factory = functools.partial(this.FixedLatency, args.latency)
        remote = start_policy(factory, batch_size=workers, workers=workers)
        try:
            executor = RayExecutor(bench, remote, workers=workers)
            return timed_evaluate(bench, remote, episodes, batch_size=workers,
                                  executor=executor)  # fmt: skip
        finally:
            remote.close()

    return go


def miniwob_run(workers: int, episodes: int) -> Callable[[], Timing]:
    def go() -> Timing:
        options = {"tasks": "click-button,click-tab", "episodes": episodes, "zoom": 1.0,
                   "time_limit_ms": 60000}  # fmt: skip
        bench = create_benchmark("miniwob", options)
        try:
            return timed_evaluate(bench, GoalGrid(), 2 * episodes, workers=workers)
        finally:
            bench.close()

    return go


def measure(runs: Mapping[str, Callable[[], Timing]], rounds: int) -> dict[str, list[Timing]]:
    """Each run's timings, interleaved round by round (no warm-up round: each run starts its
    own workers, as a real evaluation does)."""
    timings: dict[str, list[Timing]] = {name: [] for name in runs}
    for number in range(rounds):
        for name, fn in runs.items():
            timing = fn()
            timings[name].append(timing)
            print(f"  round {number + 1} {name}: {timing.whole * 1000:.0f} ms/episode, steady "
                  f"{timing.steady * 1000:.0f}, start-up {timing.startup:.1f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
    return timings


def table(title: str, timings: dict[str, list[Timing]], baseline: str) -> list[str]:
    base = statistics.median(t.whole for t in timings[baseline])
    lines = [f"| {title} | whole run s/ep min / median | episodes/min | speed-up | "
             "start-up s | steady s/ep min / median | steady episodes/min | steady speed-up |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, values in timings.items():
        whole = [t.whole for t in values]
        steady = [t.steady for t in values]
        w, st = statistics.median(whole), statistics.median(steady)
        up = statistics.median(t.startup for t in values)
        lines.append(f"| {name} | {min(whole):.3f} / {w:.3f} | {60 / w:.0f} | {base / w:.2f}x | "
                     f"{up:.1f} | {min(steady):.3f} / {st:.3f} | {60 / st:.0f} | "
                     f"{base / st:.2f}x |")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2,4,8", help="worker counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.1, help="s per predict_batch call")
    parser.add_argument("--env-delay", type=float, default=0.05, help="s per fake action")
    parser.add_argument("--per-worker", type=int, default=15, help="episodes per worker")
    parser.add_argument("--miniwob-episodes", type=int, default=10, help="episodes per task")
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
        runs: dict[str, Callable[[], Timing]] = {"sequential": fake_run(episodes, 1, args)}
        for n in counts:
            runs[f"pool {n}"] = fake_run(args.per_worker * n, n, args)
            if not args.no_ray:
                runs[f"ray {n}"] = fake_run(args.per_worker * n, n, args, ray=True)
        fake = measure(runs, args.rounds)
        print(f"\nFake environment: {args.latency:g} s per predict_batch call, "
              f"{args.env_delay:g} s per action, 3 calls per episode\n")  # fmt: skip
        print("\n".join(table("fake env", fake, "sequential")))
    finally:
        if not args.no_ray:
            ray.shutdown()
    if not args.no_miniwob:
        n = args.miniwob_episodes
        mini = measure({"miniwob 1 worker": miniwob_run(1, n),
                        "miniwob 2 workers": miniwob_run(2, n)}, args.rounds)  # fmt: skip
        print(f"\nMiniWoB++ click-button + click-tab, {n} episodes each, scripted policy\n")
        print("\n".join(table("miniwob", mini, "miniwob 1 worker")))


if __name__ == "__main__":
    main()
