"""Qwen2.5-VL image geometry and preprocessing, in numpy (no torch).

The model sees the screenshot after `smart_resize`: both sides a multiple of 28 (patch 14 x merge
2), the area within [min_pixels, max_pixels]. Its coordinates are pixels of that resized image.
`preprocess` reproduces transformers' Qwen2-VL image processor (PIL bicubic resize, rescale by
1/255, CLIP mean/std normalisation, 14x14 patches duplicated over 2 temporal frames, grouped by
2x2 merge windows) and gives the same float32 values bit for bit (`tests/model/test_vision.py`;
`bench/preprocess.py` times it against transformers).

API:
    PixelBudget(min_pixels, max_pixels); CHECKPOINT_BUDGET (the checkpoints' preprocessor values)
    smart_resize(height, width, *, factor=28, min_pixels, max_pixels) -> (height, width)
    resized_size(size: Size, budget: PixelBudget) -> Size                  (width, height)
    resize_for_model(image, min_pixels, max_pixels) -> (RGB PIL image, Size)
    preprocess(image, *, min_pixels, max_pixels, patch_size=14, merge_size=2,
               temporal_patch_size=2) -> (pixel_values float32 (t*h*w, 3*2*14*14), (t, h, w))
    visual_tokens(size: Size) -> int                                       one per 28x28 pixels
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

from pixelpilot.actions import Size
from pixelpilot.actions.observation import to_rgb
from pixelpilot.errors import ConfigError

PATCH_SIZE = 14
MERGE_SIZE = 2
TEMPORAL_PATCH_SIZE = 2
FACTOR = PATCH_SIZE * MERGE_SIZE
MAX_ASPECT_RATIO = 200
# The OpenAI CLIP statistics, as float64 literals exactly as transformers writes them.
IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class PixelBudget:
    """The area bounds smart_resize keeps an image within, in pixels.

    Record it with every result: each library's defaults differ and each shifts every click.
    """

    min_pixels: int
    max_pixels: int

    def __post_init__(self) -> None:
        if not 0 < self.min_pixels <= self.max_pixels:
            raise ConfigError(
                f"need 0 < min_pixels <= max_pixels, got {self.min_pixels} and {self.max_pixels}"
            )

    def resize(self, size: Size) -> Size:
        """The model-frame size of a `size` screenshot."""
        return resized_size(size, self)


# The Qwen2.5-VL checkpoints' preprocessor_config.json (and qwen-vl-utils): 4 and 16384 tokens.
CHECKPOINT_BUDGET = PixelBudget(min_pixels=4 * 28 * 28, max_pixels=16384 * 28 * 28)


def smart_resize(
    height: int, width: int, *, factor: int = FACTOR, min_pixels: int, max_pixels: int
) -> tuple[int, int]:
    """The resized (height, width): multiples of `factor`, area within the pixel budget.

    This is the qwen-vl-utils formula the spec records, and it gives the reference's answer for
    every size the reference accepts (`tests/model/qwen/test_vision_reference.py` compares them),
    aspect ratio 200 included. Where the reference would return a side of 0 (a budget too small
    for the aspect ratio) this raises instead. transformers' copy differs for a side of at most
    factor/2 pixels (qwen-vl-utils rounds each side up to at least one factor first).

    Raises:
        ValueError: the aspect ratio is above 200, a side is not positive, or the budget is
            too small for the aspect ratio (a side would round down to 0).
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"image sides must be positive, got {width}x{height}")
    ratio = max(height, width) / min(height, width)
    if ratio > MAX_ASPECT_RATIO:
        raise ValueError(f"aspect ratio must be at most {MAX_ASPECT_RATIO}, got {ratio:g}")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = math.floor(height / beta / factor) * factor
        w_bar = math.floor(width / beta / factor) * factor
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    if h_bar == 0 or w_bar == 0:
        raise ValueError(
            f"max_pixels={max_pixels} is too small for a {width}x{height} image: a side would "
            f"shrink below {factor} pixels"
        )
    return h_bar, w_bar


def resized_size(size: Size, budget: PixelBudget, *, factor: int = FACTOR) -> Size:
    """`smart_resize` on a (width, height) Size, returning a Size."""
    height, width = smart_resize(
        size.height,
        size.width,
        factor=factor,
        min_pixels=budget.min_pixels,
        max_pixels=budget.max_pixels,
    )
    return Size(width, height)


def visual_tokens(size: Size) -> int:
    """LLM tokens for a resized image: one per 28x28 pixels (four 14x14 patches merged)."""
    return (size.width // FACTOR) * (size.height // FACTOR)


def resize_for_model(
    image: Image.Image, min_pixels: int, max_pixels: int, *, factor: int = FACTOR
) -> tuple[Image.Image, Size]:
    """The RGB image at its smart_resize size (PIL bicubic, as transformers resizes), and that size.

    An image already at that size is returned converted but not resampled.
    """
    rgb = to_rgb(image)  # transparency onto white, as the reference loader does
    target = resized_size(Size(*rgb.size), PixelBudget(min_pixels, max_pixels), factor=factor)
    if Size(*rgb.size) == target:
        return rgb, target
    return rgb.resize(target, resample=Image.Resampling.BICUBIC), target


@cache
def _normalise_table(mean: tuple[float, ...], std: tuple[float, ...]) -> np.ndarray:
    """(channels, 256) float32: every uint8 value after rescale and normalise.

    Computed with transformers' exact arithmetic (float64 multiply by 1/255, cast to float32,
    then float32 subtract and divide), so a table lookup gives identical bits at a fraction of
    the cost.
    """
    values = (np.arange(256, dtype=np.float64) * (1 / 255)).astype(np.float32)
    mean32 = np.asarray(mean, dtype=np.float32)[:, None]
    std32 = np.asarray(std, dtype=np.float32)[:, None]
    table: np.ndarray = (values[None, :] - mean32) / std32
    return table


def preprocess(
    image: Image.Image,
    *,
    min_pixels: int,
    max_pixels: int,
    patch_size: int = PATCH_SIZE,
    merge_size: int = MERGE_SIZE,
    temporal_patch_size: int = TEMPORAL_PATCH_SIZE,
    image_mean: tuple[float, float, float] = IMAGE_MEAN,
    image_std: tuple[float, float, float] = IMAGE_STD,
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Resize, rescale, normalise and patchify one image for the Qwen2.5-VL vision encoder.

    Returns:
        pixel_values: float32 array of shape (grid_t * grid_h * grid_w,
            3 * temporal_patch_size * patch_size * patch_size); rows are 14x14 patches ordered
            by 2x2 merge window, each row channel-major with the patch repeated per frame.
        grid_thw: (1, resized_height / patch_size, resized_width / patch_size).
    """
    resized, size = resize_for_model(image, min_pixels, max_pixels, factor=patch_size * merge_size)
    pixels = np.asarray(resized, dtype=np.uint8)  # (H, W, 3)
    table = _normalise_table(tuple(image_mean), tuple(image_std))
    channels = pixels.shape[2]
    # (C, H, W) float32 via one gather per channel.
    chw = np.stack([table[c][pixels[:, :, c]] for c in range(channels)])
    grid_h, grid_w = size.height // patch_size, size.width // patch_size
    patches = chw.reshape(
        channels,
        grid_h // merge_size,
        merge_size,
        patch_size,
        grid_w // merge_size,
        merge_size,
        patch_size,
    ).transpose(1, 4, 2, 5, 0, 3, 6)  # (gh, gw, mh, mw, C, ph, pw)
    frames = np.broadcast_to(
        patches[:, :, :, :, :, None],
        (*patches.shape[:5], temporal_patch_size, *patches.shape[5:]),
    )
    flat = frames.reshape(grid_h * grid_w, channels * temporal_patch_size * patch_size * patch_size)
    return np.ascontiguousarray(flat, dtype=np.float32), (1, grid_h, grid_w)
