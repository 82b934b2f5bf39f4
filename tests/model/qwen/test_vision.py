"""smart_resize and the numpy preprocessing, checked against transformers' own processor."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pixelpilot.actions import Size
from pixelpilot.errors import ConfigError
from pixelpilot.model.qwen.vision import (
    CHECKPOINT_BUDGET,
    PixelBudget,
    preprocess,
    resize_for_model,
    resized_size,
    smart_resize,
    visual_tokens,
)

TRANSFORMERS_BUDGET = PixelBudget(56 * 56, 14 * 14 * 4 * 1280)


@pytest.mark.parametrize(
    ("screen", "budget", "expected"),
    [
        # The values the spec records.
        (Size(1080, 2400), CHECKPOINT_BUDGET, Size(1092, 2408)),
        (Size(1920, 1080), CHECKPOINT_BUDGET, Size(1932, 1092)),
        (Size(1920, 1080), PixelBudget(3136, 1280 * 28 * 28), Size(1316, 728)),
        (Size(2560, 1440), CHECKPOINT_BUDGET, Size(2548, 1428)),
        # Upscaled to min_pixels.
        (Size(20, 20), CHECKPOINT_BUDGET, Size(56, 56)),
    ],
)
def test_known_sizes(screen: Size, budget: PixelBudget, expected: Size) -> None:
    assert resized_size(screen, budget) == expected
    assert budget.resize(screen) == expected


def test_visual_token_counts_from_the_spec() -> None:
    assert visual_tokens(CHECKPOINT_BUDGET.resize(Size(1920, 1080))) == 2691
    assert visual_tokens(CHECKPOINT_BUDGET.resize(Size(2560, 1440))) == 4641


def test_aspect_ratio_limit() -> None:
    # The spec and the reference: a ratio of at most 200 is accepted, exactly 200 included
    # (issue 10 §6: height 1, width 200 -> 28x196); above 200 is an error.
    assert smart_resize(28, 199 * 28, min_pixels=3136, max_pixels=12845056) == (28, 5572)
    assert smart_resize(1, 200, min_pixels=3136, max_pixels=12845056) == (28, 196)
    assert smart_resize(10, 2000, min_pixels=3136, max_pixels=12845056) == (28, 1988)
    with pytest.raises(ValueError, match="aspect ratio"):
        smart_resize(10, 2001, min_pixels=3136, max_pixels=12845056)
    with pytest.raises(ValueError, match="positive"):
        smart_resize(0, 10, min_pixels=3136, max_pixels=12845056)


def test_a_budget_too_small_for_the_aspect_ratio_is_an_error_not_a_zero_side() -> None:
    with pytest.raises(ValueError, match="too small"):
        smart_resize(100, 10000, min_pixels=28 * 28, max_pixels=28 * 28 * 4)


def test_invalid_budget() -> None:
    with pytest.raises(ConfigError, match="min_pixels"):
        PixelBudget(100, 10)


def test_tiny_images_follow_the_spec_not_transformers() -> None:
    # qwen-vl-utils (the spec) rounds each side up to one factor before the area checks;
    # transformers' copy does not, and upscales a 10x1000 strip to 560 wide instead.
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        smart_resize as hf_smart_resize,
    )

    ours = smart_resize(10, 1000, min_pixels=3136, max_pixels=12845056)
    theirs = hf_smart_resize(10, 1000, min_pixels=3136, max_pixels=12845056)
    assert ours == (28, 1008)
    assert theirs == (28, 560)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=15, max_value=8000),
    st.integers(min_value=15, max_value=8000),
    st.sampled_from([CHECKPOINT_BUDGET, TRANSFORMERS_BUDGET, PixelBudget(3136, 1280 * 28 * 28)]),
)
def test_smart_resize_invariants_and_agreement_with_transformers(
    height: int, width: int, budget: PixelBudget
) -> None:
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        smart_resize as hf_smart_resize,
    )

    if max(height, width) / min(height, width) >= 200:
        with pytest.raises(ValueError):
            smart_resize(height, width, min_pixels=budget.min_pixels, max_pixels=budget.max_pixels)
        return
    h, w = smart_resize(height, width, min_pixels=budget.min_pixels, max_pixels=budget.max_pixels)
    assert h % 28 == 0 and w % 28 == 0 and h >= 28 and w >= 28
    assert h * w <= budget.max_pixels
    assert h * w >= budget.min_pixels or h * w == 28 * 28
    # Both sides are the input's scaled by one common factor (none, the shrink or the grow
    # factor), each within one rounding step of 28 (plus float error: 5021x5021 scales to
    # 3583.99999..., which floors to 3556).
    scales = (
        1.0,
        math.sqrt(budget.max_pixels / (height * width)),
        math.sqrt(budget.min_pixels / (height * width)),
    )
    assert any(abs(h - height * s) <= 28 + 1e-6 and abs(w - width * s) <= 28 + 1e-6 for s in scales)
    # With both sides over 14 px (every real screenshot) the spec and transformers agree.
    assert (h, w) == hf_smart_resize(
        height, width, min_pixels=budget.min_pixels, max_pixels=budget.max_pixels
    )


def _random_image(width: int, height: int, seed: int, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    # Smooth areas and hard edges, like a screen, on top of the noise.
    pixels[: height // 3, :, :] = 240
    pixels[:, width // 2 : width // 2 + 3, :] = 0
    return Image.fromarray(pixels).convert(mode)


@pytest.mark.parametrize(
    ("size", "budget", "mode"),
    [
        (Size(1920, 1080), CHECKPOINT_BUDGET, "RGB"),
        (Size(1920, 1080), PixelBudget(3136, 1280 * 28 * 28), "RGB"),
        (Size(412, 915), TRANSFORMERS_BUDGET, "RGBA"),
        (Size(333, 77), CHECKPOINT_BUDGET, "L"),
        (Size(56, 56), CHECKPOINT_BUDGET, "RGB"),
    ],
)
def test_preprocess_equals_transformers_bit_for_bit(
    size: Size, budget: PixelBudget, mode: str
) -> None:
    from transformers import Qwen2VLImageProcessorPil

    image = _random_image(*size, seed=size.width, mode=mode)
    processor = Qwen2VLImageProcessorPil(min_pixels=budget.min_pixels, max_pixels=budget.max_pixels)
    expected = processor(images=[image])
    pixel_values, grid_thw = preprocess(
        image, min_pixels=budget.min_pixels, max_pixels=budget.max_pixels
    )
    assert grid_thw == tuple(int(v) for v in expected["image_grid_thw"][0])
    reference = np.asarray(expected["pixel_values"])
    assert pixel_values.dtype == np.float32
    assert pixel_values.shape == reference.shape
    assert np.array_equal(pixel_values, reference)


def test_preprocess_layout() -> None:
    image = _random_image(1920, 1080, seed=3)
    pixel_values, (t, gh, gw) = preprocess(image, min_pixels=3136, max_pixels=12845056)
    assert (t, gh, gw) == (1, 78, 138)
    assert pixel_values.shape == (78 * 138, 3 * 2 * 14 * 14)
    # Each row holds, per channel, the same 14x14 patch for both temporal frames.
    row = pixel_values[0].reshape(3, 2, 14, 14)
    assert np.array_equal(row[:, 0], row[:, 1])


def test_resize_for_model() -> None:
    image = _random_image(1080, 2400, seed=1, mode="RGBA")
    resized, size = resize_for_model(image, 3136, 12845056)
    assert size == Size(1092, 2408) and resized.size == size and resized.mode == "RGB"
    same = _random_image(1092, 2408, seed=1)
    again, size2 = resize_for_model(same, 3136, 12845056)
    assert again is same and size2 == Size(1092, 2408)
