"""Issue 10 §6: smart_resize and the RGB conversion agree with the reference (qwen-vl-utils).

The reference is the installed qwen-vl-utils package (`tests/model/qwen/reference.py`), compared
on an exhaustive grid of small sizes, on the aspect-ratio edge, and on random sizes and budgets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pixelpilot.actions.observation import to_rgb
from pixelpilot.model.qwen.vision import CHECKPOINT_BUDGET, preprocess, smart_resize
from tests.model.qwen.reference import vision_process

BUDGETS = [
    (CHECKPOINT_BUDGET.min_pixels, CHECKPOINT_BUDGET.max_pixels),
    (3136, 1280 * 28 * 28),
    (3136, 256 * 28 * 28),
    (56 * 56, 14 * 14 * 4 * 1280),
    (100 * 28 * 28, 16384 * 28 * 28),
]


@pytest.fixture(scope="module")
def ref() -> Any:
    return vision_process()


def _agree(ref: Any, height: int, width: int, min_pixels: int, max_pixels: int) -> None:
    try:
        expected = ref.smart_resize(height, width, 28, min_pixels, max_pixels)
    except ValueError:
        with pytest.raises(ValueError, match="aspect ratio"):
            smart_resize(height, width, min_pixels=min_pixels, max_pixels=max_pixels)
        return
    if 0 in expected:  # the reference returns a zero side; pixelpilot says why instead
        with pytest.raises(ValueError, match="too small"):
            smart_resize(height, width, min_pixels=min_pixels, max_pixels=max_pixels)
        return
    assert smart_resize(height, width, min_pixels=min_pixels, max_pixels=max_pixels) == expected


def test_the_issue_example_aspect_ratio_exactly_200(ref: Any) -> None:
    assert ref.smart_resize(1, 200, 28) == (28, 196)
    assert smart_resize(1, 200, min_pixels=3136, max_pixels=12845056) == (28, 196)
    assert smart_resize(200, 1, min_pixels=3136, max_pixels=12845056) == (196, 28)


@pytest.mark.parametrize("budget", BUDGETS)
def test_every_aspect_ratio_edge_agrees(ref: Any, budget: tuple[int, int]) -> None:
    for short in range(1, 40):
        for long in range(200 * short - 2, 200 * short + 3):
            _agree(ref, short, long, *budget)
            _agree(ref, long, short, *budget)


def test_every_small_size_agrees(ref: Any) -> None:
    for height in range(1, 121):
        for width in range(1, 121):
            _agree(ref, height, width, 3136, 12845056)
            _agree(ref, height, width, 56 * 56, 14 * 14 * 4 * 1280)


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(
    st.integers(min_value=1, max_value=20000),
    st.integers(min_value=1, max_value=20000),
    st.sampled_from(BUDGETS),
)
def test_random_sizes_and_budgets_agree(
    ref: Any, height: int, width: int, budget: tuple[int, int]
) -> None:
    _agree(ref, height, width, *budget)


def _random_rgba(seed: int, size: tuple[int, int] = (57, 43)) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 4), dtype=np.uint8)
    pixels[0, :, 3] = 0  # a fully transparent row and a fully opaque one, at least
    pixels[1, :, 3] = 255
    return Image.fromarray(pixels, "RGBA")


def test_a_fully_transparent_image_becomes_white_as_in_the_reference(ref: Any) -> None:
    clear = Image.new("RGBA", (56, 56), (0, 0, 0, 0))
    assert ref.to_rgb(clear).getpixel((0, 0)) == (255, 255, 255)
    assert to_rgb(clear).getpixel((0, 0)) == (255, 255, 255)
    assert clear.convert("RGB").getpixel((0, 0)) == (0, 0, 0)  # what a bare convert gives


@pytest.mark.parametrize("seed", range(5))
def test_rgba_compositing_equals_the_reference_bit_for_bit(ref: Any, seed: int) -> None:
    image = _random_rgba(seed)
    assert np.array_equal(np.asarray(to_rgb(image)), np.asarray(ref.to_rgb(image)))


def test_preprocessing_sees_white_where_the_screenshot_is_transparent() -> None:
    clear = Image.new("RGBA", (56, 56), (0, 0, 0, 0))
    white = Image.new("RGB", (56, 56), (255, 255, 255))
    values, grid = preprocess(clear, min_pixels=3136, max_pixels=12845056)
    expected, _ = preprocess(white, min_pixels=3136, max_pixels=12845056)
    assert grid == (1, 4, 4) and np.array_equal(values, expected)
