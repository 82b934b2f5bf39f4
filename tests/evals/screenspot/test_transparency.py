"""ScreenSpot images with transparency reach the policy composited onto white (issue 10 §6)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PIL import Image

from pixelpilot.evals import Problems
from pixelpilot.evals.screenspot.benchmark import ScreenSpotV2
from tests.evals import support


def test_a_transparent_screenshot_is_observed_white_not_black(tmp_path: Path) -> None:
    records = support.real_annotations("web")[:1]
    root = support.make_screenspot(tmp_path, {"web": records})
    bench = ScreenSpotV2()
    sample = next(iter(bench.load(root, Problems(), for_prediction=True).samples))
    clear = tmp_path / "clear.png"
    Image.new("RGBA", (56, 56), (0, 0, 0, 0)).save(clear)
    observation, _ = bench.observe(dataclasses.replace(sample, image=clear))
    assert observation.screenshot.mode == "RGB" and observation.size == (56, 56)
    assert observation.screenshot.getpixel((28, 28)) == (255, 255, 255)
