"""pixelpilot's numpy image preprocessing against transformers' Qwen2-VL image processor.

Both take the same 1920x1080 RGB screenshot (a synthetic screen: flat panels, text-like noise)
and produce `pixel_values` and `image_grid_thw` on CPU. The baseline, measured in the same run,
is transformers' processor built locally (no hub): `Qwen2VLImageProcessorPil` (the backend
transformers itself falls back to without torchvision), and `Qwen2VLImageProcessor` when
torchvision is installed. Reports the max absolute difference of the pixel values and the min and
median time of each, measured interleaved (ours, theirs, ours, ...), and the ratio of medians.

Usage: python bench/preprocess.py [--repeat N] [--max-pixels P]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from pixelpilot.model.qwen.vision import CHECKPOINT_BUDGET, preprocess

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import interleaved, machine, min_median  # bench/timing.py, beside this script


def screen_image(width: int = 1920, height: int = 1080) -> Image.Image:
    rng = np.random.default_rng(0)
    pixels = np.full((height, width, 3), 245, dtype=np.uint8)
    pixels[:60] = (40, 44, 52)  # title bar
    pixels[60:, :300] = (230, 232, 236)  # sidebar
    text = rng.random((height - 200, width - 400)) < 0.08  # sparse dark "glyph" pixels
    pixels[150 : height - 50, 350 : width - 50][text] = (20, 20, 20)
    return Image.fromarray(pixels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--min-pixels", type=int, default=CHECKPOINT_BUDGET.min_pixels)
    parser.add_argument("--max-pixels", type=int, default=CHECKPOINT_BUDGET.max_pixels)
    args = parser.parse_args()

    import transformers

    image = screen_image()
    ours_values, ours_grid = preprocess(
        image, min_pixels=args.min_pixels, max_pixels=args.max_pixels
    )
    ours = partial(preprocess, image, min_pixels=args.min_pixels, max_pixels=args.max_pixels)
    print(machine())
    print(f"transformers {transformers.__version__}, numpy {np.__version__}")
    print(
        f"1920x1080, min_pixels={args.min_pixels}, max_pixels={args.max_pixels}: "
        f"grid {ours_grid}, pixel_values {ours_values.shape}; {args.repeat} interleaved runs"
    )
    backends: dict[str, Any] = {
        "transformers.Qwen2VLImageProcessorPil (PIL backend)": transformers.Qwen2VLImageProcessorPil
    }
    if importlib.util.find_spec("torchvision") is not None:
        backends["transformers.Qwen2VLImageProcessor (torchvision backend)"] = (
            transformers.Qwen2VLImageProcessor
        )
    else:
        print("(torchvision not installed: the torchvision backend is not measured)")
    for name, cls in backends.items():
        processor = cls(min_pixels=args.min_pixels, max_pixels=args.max_pixels)
        result = processor(images=[image], return_tensors="np")
        values = np.asarray(result["pixel_values"])
        grid = tuple(int(v) for v in result["image_grid_thw"][0])
        same_shape = values.shape == ours_values.shape and grid == ours_grid
        diff = float(np.abs(values - ours_values).max()) if same_shape else float("nan")
        runs = interleaved(
            {"pixelpilot": ours, name: partial(processor, images=[image], return_tensors="np")},
            args.repeat,
        )
        (ours_min, ours_median), (base_min, base_median) = (
            min_median(runs["pixelpilot"]),
            min_median(runs[name]),
        )
        print(f"  pixelpilot numpy preprocess: min {ours_min:.1f} ms, median {ours_median:.1f} ms")
        print(f"  {name}: min {base_min:.1f} ms, median {base_median:.1f} ms")
        print(
            f"  max |diff| = {diff:g}; grid {grid}; speed-up of pixelpilot (medians) = "
            f"{base_median / ours_median:.2f}x"
        )


if __name__ == "__main__":
    main()
