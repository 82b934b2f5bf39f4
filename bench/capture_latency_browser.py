"""Browser capture latency: what an observation costs at 1280x800 CSS px, scale 1 and 2.

    python bench/capture_latency_browser.py [--repeats 30] [--task sandbox:checkout]

For each device scale factor, on a sandbox page in headless Chromium, measures in the same run:
  png      page.screenshot() returning the raw PNG bytes (the baseline: Chromium's own work,
           render + encode + transfer, nothing of ours)
  decoded  the same call, decoded into an RGB PIL image (what an Observation holds)
  observe  BrowserEnv.observe() end to end
  settle   one settle capture (a CSS-scale PNG; an action's settle takes at least two)
The four are taken interleaved (png, decoded, observe, settle, png, ...) so load on a shared
machine falls on all alike. Prints min and median in milliseconds and each median's ratio to
the median of png.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from pixelpilot.env.browser.env import BrowserConfig, BrowserEnv
from pixelpilot.env.tasks import resolve_task
from timing import interleaved, machine, min_median  # bench/timing.py, beside this script


def measure(scale: float, task: str, repeats: int) -> dict[str, tuple[float, float]]:
    env = BrowserEnv(BrowserConfig(device_scale_factor=scale))
    try:
        obs = env.reset(task=resolve_task(task)[0])
        assert env.session is not None
        page = env.session.page

        def decoded() -> Image.Image:
            return Image.open(io.BytesIO(page.screenshot())).convert("RGB")

        image = decoded()
        assert image.size == obs.size, (image.size, obs.size)
        figures = interleaved(
            {
                "png": page.screenshot,
                "decoded": decoded,
                "observe": env.observe,
                "settle": lambda: page.screenshot(scale="css"),
            },
            repeats,
        )
        return {name: min_median(seconds) for name, seconds in figures.items()}
    finally:
        env.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="captures per measurement")
    parser.add_argument("--task", default="sandbox:checkout", help="the page to capture")
    args = parser.parse_args()
    print(machine())
    for scale in (1.0, 2.0):
        rows = measure(scale, args.task, args.repeats)
        width, height = round(1280 * scale), round(800 * scale)
        print(f"scale {scale:g}: {width}x{height} device px, {args.repeats} interleaved captures")
        base = rows["png"][1]
        for name, (low, median) in rows.items():
            ratio = median / base
            print(f"  {name:<8} min {low:7.1f} ms  median {median:7.1f} ms  x{ratio:.2f} of png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
