"""AndroidControl screenshots with transparency reach the policy composited onto white (§6)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from PIL import Image

from pixelpilot.evals import Problems, create_benchmark
from pixelpilot.evals.androidcontrol.benchmark import AndroidControl
from tests.evals.androidcontrol.test_androidcontrol import write_dataset


def test_a_transparent_screenshot_is_observed_white_not_black(tmp_path: Path) -> None:
    bench = create_benchmark("androidcontrol", {})
    assert isinstance(bench, AndroidControl)
    samples = list(bench.load(write_dataset(tmp_path), Problems(), for_prediction=True).samples)
    buffer = io.BytesIO()
    Image.new("RGBA", (56, 56), (0, 0, 0, 0)).save(buffer, format="PNG")
    sample = dataclasses.replace(samples[0], screenshot=buffer.getvalue())
    observation, _ = bench.observe(sample)
    assert observation.screenshot.mode == "RGB" and observation.size == (56, 56)
    assert observation.screenshot.getpixel((28, 28)) == (255, 255, 255)
