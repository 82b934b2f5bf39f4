"""Desktop capture latency: what an observation costs at 1920x1080 on a private Xvfb.

    python bench/capture_latency_desktop.py [--repeats 100] [--size 1920x1080]

Measures in the same run, on the same display:
  grab      mss grab of the monitor, raw BGRA bytes (the baseline: X server + shared-memory
            copy, nothing of ours)
  memcpy    a numpy copy of a frame of the same size (the memory-bandwidth floor)
  image     mss grab + conversion to an RGB PIL image (`capture_image`, what observe does,
            with the freed-image-block reuse the environment turns on)
  image-0   the same with Pillow's default of reusing no image blocks
  observe   DesktopEnv.observe() end to end (capture, conversion, window title)
  settle    one settle capture (grab + bytes copy; an action's settle takes at least two)
Prints the median and 90th percentile in milliseconds and each figure's ratio to `grab`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PIL import Image

from pixelpilot.actions import Size
from pixelpilot.env.desktop.capture import capture_image
from pixelpilot.env.desktop.env import DesktopConfig, DesktopEnv
from timing import summary, timed  # bench/timing.py, beside this script


def without_block_reuse(fn: Callable[[], object], repeats: int) -> list[float]:
    kept = Image.core.get_blocks_max()
    Image.core.set_blocks_max(0)
    try:
        return timed(fn, repeats)
    finally:
        Image.core.set_blocks_max(kept)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100, help="captures per figure")
    parser.add_argument("--size", default="1920x1080", help="virtual display size WxH")
    args = parser.parse_args()
    size = Size.parse(args.size)
    with DesktopEnv(DesktopConfig(virtual_display=str(size))) as env:
        sct, monitor = env._sct, env._monitor  # the env's own capture objects
        frame = np.zeros((size.height, size.width, 4), dtype=np.uint8)
        figures = {
            "grab": timed(lambda: sct.grab(monitor), args.repeats),
            "memcpy": timed(frame.copy, args.repeats),
            "image": timed(lambda: capture_image(sct, monitor), args.repeats),
            "image-0": without_block_reuse(lambda: capture_image(sct, monitor), args.repeats),
            "observe": timed(env.observe, args.repeats),
            "settle": timed(env._grab_raw, args.repeats),
        }
    base, _ = summary(figures["grab"])
    print(f"desktop capture at {size} on Xvfb, {args.repeats} repeats (ms)")
    print(f"{'':10}{'median':>9}{'p90':>9}{'x grab':>9}")
    for name, seconds in figures.items():
        median, p90 = summary(seconds)
        print(f"{name:10}{median:9.2f}{p90:9.2f}{median / base:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
