"""What the agent loop and the recorder add to one step at 1920x1080.

Baseline (measured in the same run): capture one FakeEnv screenshot and save it as a PNG with
Pillow's default settings — the least any recording agent must do per step. Then: full
`run_episode` steps (FakeEnv + ScriptedPolicy, recorder on), and the same without a recorder.
Also times PNG encoding at several zlib levels, which is why the recorder uses level 1 on a
writer thread.

Usage: python bench/step_overhead.py [--steps N]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

from pixelpilot.actions import Action, Move
from pixelpilot.agent import Recorder, run_episode
from pixelpilot.env import FakeEnv, FakeEnvConfig
from pixelpilot.model import ScriptedPolicy

SIZE = (1920, 1080)


def make_env() -> FakeEnv:
    return FakeEnv(FakeEnvConfig(width=SIZE[0], height=SIZE[1]))


def baseline(steps: int, out: Path) -> float:
    env = make_env()
    env.reset()
    times = []
    for i in range(steps):
        start = time.perf_counter()
        obs = env.observe()
        obs.screenshot.save(out / f"base_{i}.png")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def loop_step(steps: int, out: Path | None) -> float:
    # distinct moves so the loop detector never fires
    actions: list[Action] = [Move(x=i, y=i) for i in range(steps)]
    recorder = Recorder(out, meta={"bench": True}) if out else None
    start = time.perf_counter()
    traj = run_episode(
        make_env(), ScriptedPolicy(actions), "bench", max_steps=steps, recorder=recorder
    )
    total = time.perf_counter() - start
    assert len(traj.steps) == steps, traj.status
    return total / steps


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
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = baseline(args.steps, root)
        recorded = loop_step(args.steps, root / "run")
        bare = loop_step(args.steps, None)
    print(f"screen {SIZE[0]}x{SIZE[1]}, {args.steps} steps")
    print(f"baseline  capture + PNG save (Pillow default):  {base * 1000:8.1f} ms/step")
    print(f"loop + recorder (level-1 PNG on a writer thread): {recorded * 1000:8.1f} ms/step")
    print(f"loop without recorder:                           {bare * 1000:8.1f} ms/step")
    print(f"ratio loop+recorder / baseline: {recorded / base:.2f}")
    print(f"ratio loop alone / baseline:    {bare / base:.2f}")
    print("PNG encode of one screen by zlib level (median of 5):")
    for level, (seconds, size) in png_levels().items():
        print(f"  level {level}: {seconds * 1000:7.1f} ms  {size / 1024:8.0f} KiB")


if __name__ == "__main__":
    main()
