"""Where an OCR-baseline step's time goes, against one bare RapidOCR call on the same screen.

    python bench/ocr_step.py [--rounds 5] [--size 1280x800] [--lines 36]

The screen is a text-heavy page drawn here (a header, two columns of --lines text lines, a
dialog with buttons). Measured in the same run, interleaved round by round:

  bare       RapidOCR() with its defaults, called once on the screenshot (BGR pixels)
  step       OCRPolicy.predict on a NEW screen (nothing cached), the episode's first step
  again      OCRPolicy.predict on the SAME screen after a click that changed nothing (the
             policy re-reads the screen it already read: the cached lines are reused)

and, inside `step`, the phases: digest (sha256 of the pixels), ocr (shrink + the engine call),
rank (matching the goal's targets), crosses (drawn close icons), changed (did the last action
change the screen). Prints min and median of each in ms and the ratio of step / bare (target:
<= 1.3).
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pixelpilot.model.ocr.policy as ocr_policy
from pixelpilot.actions import Click, Observation, Size
from pixelpilot.model import History, HistoryEntry
from timing import interleaved, machine, min_median  # bench/timing.py, beside this script

WORDS = [
    "account",
    "settings",
    "privacy",
    "network",
    "display",
    "sound",
    "battery",
    "storage",
    "apps",
    "notifications",
    "security",
    "location",
    "users",
    "accounts",
    "system",
    "about",
    "update",
    "backup",
    "language",
    "keyboard",
    "date",
    "time",
    "accessibility",
    "developer",
    "options",
    "wallpaper",
    "themes",
    "fonts",
    "search",
    "help",
    "feedback",
]


def page(size: Size, lines: int, seed: int) -> Image.Image:
    """A text-heavy screen: every line different for each seed (so nothing is cached)."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", size, (250, 250, 250))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=18)
    draw.rectangle((0, 0, size.width, 56), fill=(32, 60, 110))
    draw.text((20, 16), f"Settings {seed}", fill=(255, 255, 255), font=font)
    column = size.width // 2
    for index in range(lines):
        x = 30 + (index % 2) * column
        y = 80 + (index // 2) * ((size.height - 120) // max(1, lines // 2))
        text = " ".join(rng.choice(WORDS, size=int(rng.integers(2, 6))))
        draw.text((x, y), text.capitalize(), fill=(30, 30, 30), font=font)
    box = (size.width // 3, size.height // 3, 2 * size.width // 3, size.height // 2)
    draw.rectangle(box, fill=(255, 255, 255), outline=(120, 120, 120), width=2)
    draw.text((box[0] + 20, box[1] + 20), "Save changes?", fill=(0, 0, 0), font=font)
    draw.text((box[0] + 20, box[3] - 40), "Cancel", fill=(0, 0, 160), font=font)
    draw.text((box[2] - 90, box[3] - 40), "Submit", fill=(0, 0, 160), font=font)
    return image


class Phases:
    """Wraps module-level functions of the OCR policy to add up the time spent in each."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start

        setattr(owner, name, timed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--lines", type=int, default=36)
    args = parser.parse_args(argv)
    from rapidocr_onnxruntime import RapidOCR

    size = Size.parse(args.size)
    bare_engine = RapidOCR()
    policy = ocr_policy.OCRPolicy()
    phases = Phases()
    phases.wrap(policy, "_read", "ocr")
    for name, label in (("rank", "rank"), ("find_crosses", "crosses"), ("_changed", "changed")):
        phases.wrap(ocr_policy, name, label)
    goal = 'Click "Submit"'
    counter = iter(range(10**6))
    state: dict[str, Any] = {}

    def bare() -> None:
        screen = page(size, args.lines, next(counter))
        pixels = np.ascontiguousarray(np.asarray(screen)[:, :, ::-1])
        start = time.perf_counter()
        bare_engine(pixels)
        state["bare"] = time.perf_counter() - start

    def step() -> None:
        screen = Observation(screenshot=page(size, args.lines, next(counter)), platform="browser")
        history = History(goal=goal)  # the first step: read the screen, click the target
        phases.seconds.clear()
        start = time.perf_counter()
        policy.predict(screen, history)
        state["step"] = time.perf_counter() - start
        state["phases"] = dict(phases.seconds)
        # the same screen again after a click on it changed nothing
        unchanged = HistoryEntry(
            action=Click(x=1, y=1),
            raw_text='{"ocr": "click", "text": "Cancel", "step": 0}',
            screenshot=screen.screenshot,
            screen_size=screen.size,
        )
        start = time.perf_counter()
        policy.predict(screen, History(goal=goal, steps=(unchanged,)))
        state["again"] = time.perf_counter() - start

    records: dict[str, list[float]] = {"bare": [], "step": [], "again": []}
    phase_records: dict[str, list[float]] = {}

    def one_round() -> None:
        bare()
        step()
        for name in records:
            records[name].append(state[name])
        for name, seconds in state["phases"].items():
            phase_records.setdefault(name, []).append(seconds)

    interleaved({"round": one_round}, args.rounds)  # bare and step alternate inside a round
    print(machine())
    print(f"screen {size}, {args.lines} text lines, {args.rounds} interleaved rounds (+1 warm-up)")
    rounds = slice(1, None)  # the warm-up round is in the lists too
    base = min_median(records["bare"][rounds])[1]
    print(f"{'ms':<22}{'min':>9}{'median':>9}{'x bare':>8}")
    for name, seconds in [*records.items(), *phase_records.items()]:
        low, median = min_median(seconds[rounds])
        label = name if name in records else f"  step: {name}"
        print(f"{label:<22}{low:9.1f}{median:9.1f}{median / base:8.2f}")
    print("target: step <= 1.3x bare")
    return 0


if __name__ == "__main__":
    sys.exit(main())
