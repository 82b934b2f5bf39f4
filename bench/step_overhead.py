"""What the agent loop and the recorder add to one step at 1920x1080, against a fair baseline.

    python bench/step_overhead.py [--steps 30] [--rounds 7]

Baseline: per step, capture one FakeEnv screenshot and record it the way the recorder does:
PNG at the recorder's own zlib level (`Recorder.png_compress_level`, 1), sha256 of the bytes,
written to a file. That is the least any recording agent must do per step. A second baseline
adds what the recorder's crash safety costs on top: the PNG written atomically and fsynced,
and two JSON lines (the intent and the step) appended and fsynced. Against them, in the same
run and interleaved round by round (baseline, durable baseline, loop + recorder, loop alone,
...): full `run_episode` steps (FakeEnv + ScriptedPolicy, recorder on), and the same without a
recorder (which keeps every screenshot in memory, as the loop does without a run directory).
Prints min and median ms/step over the rounds and the ratios of the medians to the first
baseline; the target is loop + recorder <= 1.05x it. Also times PNG encoding at several zlib
levels (why the recorder uses level 1).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pixelpilot.actions import Action, Move
from pixelpilot.agent import Recorder, run_episode
from pixelpilot.agent.trajectory import write_atomic
from pixelpilot.env import FakeEnv, FakeEnvConfig
from pixelpilot.model import ScriptedPolicy
from timing import interleaved, machine, min_median  # bench/timing.py, beside this script

SIZE = (1920, 1080)


def make_env() -> FakeEnv:
    return FakeEnv(FakeEnvConfig(width=SIZE[0], height=SIZE[1]))


def recorder_level(out: Path) -> int:
    """The zlib level the recorder really uses (read from a Recorder, not assumed)."""
    recorder = Recorder(out / "probe", meta={})
    try:
        return recorder.png_compress_level
    finally:
        recorder.close()


def baseline(steps: int, out: Path, level: int, *, durable: bool = False) -> None:
    env = make_env()
    env.reset()
    with open(out / "lines.jsonl", "a", encoding="utf-8") as lines:
        for i in range(steps):
            image = env.observe().screenshot
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", compress_level=level)
            data = buffer.getvalue()
            digest = hashlib.sha256(data).hexdigest()
            path = out / f"base_{i:04d}.png"
            if not durable:
                path.write_bytes(data)
                continue
            write_atomic(path, data)  # the recorder's own durable write
            for kind in ("intent", "step"):
                lines.write(json.dumps({"kind": kind, "index": i, "sha256": digest}) + "\n")
                lines.flush()
                os.fsync(lines.fileno())


def loop(steps: int, out: Path | None) -> None:
    # distinct moves so the loop detector never fires
    actions: list[Action] = [Move(x=i, y=i) for i in range(steps)]
    recorder = Recorder(out, meta={"bench": True}) if out else None
    trajectory = run_episode(
        make_env(), ScriptedPolicy(actions), "bench", max_steps=steps, recorder=recorder
    )
    assert len(trajectory.steps) == steps, trajectory.status


def png_levels() -> dict[int, tuple[float, int]]:
    image = make_env().reset().screenshot
    found = {}
    for level in (0, 1, 6, 9):
        times, size = [], 0
        for _ in range(5):
            buffer = io.BytesIO()
            start = time.perf_counter()
            image.save(buffer, format="PNG", compress_level=level)
            times.append(time.perf_counter() - start)
            size = buffer.tell()
        found[level] = (statistics.median(times), size)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per episode")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        level = recorder_level(root)
        counter = iter(range(10**6))

        def fresh(name: str) -> Path:
            folder = root / f"{name}_{next(counter)}"
            folder.mkdir()
            return folder

        per_round = interleaved(
            {
                "baseline": lambda: baseline(args.steps, fresh("base"), level),
                "durable base": lambda: baseline(args.steps, fresh("dur"), level, durable=True),
                "loop+recorder": lambda: loop(args.steps, fresh("run") / "run"),
                "loop alone": lambda: loop(args.steps, None),
            },
            args.rounds,
        )
    per_step = {name: [s / args.steps for s in runs] for name, runs in per_round.items()}
    print(machine())
    print(f"screen {SIZE[0]}x{SIZE[1]}, {args.steps} steps x {args.rounds} interleaved rounds")
    base = min_median(per_step["baseline"])[1]
    print(f"{'ms/step':<16}{'min':>8}{'median':>9}{'x base':>8}")
    for name, seconds in per_step.items():
        low, mid = min_median(seconds)
        print(f"{name:<16}{low:8.1f}{mid:9.1f}{mid / base:8.2f}")
    print(f"baseline = capture + PNG (zlib level {level}, the recorder's) + sha256 + file write")
    print("durable base = baseline + atomic fsynced PNG + 2 fsynced JSON lines (intent, step)")
    print("target: loop+recorder <= 1.05x baseline")
    print("PNG encode of one screen by zlib level (median of 5):")
    for png_level, (encode, size) in png_levels().items():
        print(f"  level {png_level}: {encode * 1000:7.1f} ms  {size / 1024:8.0f} KiB")


if __name__ == "__main__":
    main()
