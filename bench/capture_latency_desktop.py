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
The figures are taken interleaved (grab, memcpy, image, ..., grab, memcpy, ...) so load on a
shared machine falls on all of them alike. Prints the min and median in milliseconds and each
figure's median as a ratio to the median of `grab`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PIL import Image

from pixelpilot.actions import Size
from pixelpilot.env.desktop.capture import capture_image
from pixelpilot.env.desktop.env import DesktopConfig, DesktopEnv
from timing import interleaved, machine, min_median  # bench/timing.py, beside this script


def without_block_reuse(fn: Callable[[], object]) -> Callable[[], object]:
    """`fn` run with Pillow's freed-block reuse turned off for the call only."""

    def call() -> object:
        core: Any = Image.core  # type: ignore[attr-defined]
        kept = core.get_blocks_max()
        core.set_blocks_max(0)
        try:
            return fn()
        finally:
            core.set_blocks_max(kept)

    return call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100, help="captures per figure")
    parser.add_argument("--size", default="1920x1080", help="virtual display size WxH")
    args = parser.parse_args()
    size = Size.parse(args.size)
    with DesktopEnv(DesktopConfig(virtual_display=str(size))) as env:
        sct, monitor = env._sct, env._monitor  # the env's own capture objects
        frame = np.zeros((size.height, size.width, 4), dtype=np.uint8)
        figures = interleaved(
            {
                "grab": lambda: sct.grab(monitor),
                "memcpy": frame.copy,
                "image": lambda: capture_image(sct, monitor),
                "image-0": without_block_reuse(lambda: capture_image(sct, monitor)),
                "observe": env.observe,
                "settle": env._grab_raw,
            },
            args.repeats,
        )
    base = min_median(figures["grab"])[1]
    print(machine())
    print(f"desktop capture at {size} on Xvfb, {args.repeats} interleaved repeats (ms)")
    print(f"{'':10}{'min':>9}{'median':>9}{'x grab':>9}")
    for name, seconds in figures.items():
        low, median = min_median(seconds)
        print(f"{name:10}{low:9.2f}{median:9.2f}{median / base:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
