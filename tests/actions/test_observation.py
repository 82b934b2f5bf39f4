"""Images enter as RGB with transparency composited onto white (issue 10 §6), one helper for all."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixelpilot.actions import Observation
from pixelpilot.actions.observation import load_image, to_rgb

WHITE = (255, 255, 255)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _transparent_images() -> dict[str, Image.Image]:
    palette = Image.new("P", (56, 56), 3)
    palette.info["transparency"] = 3
    return {
        "RGBA": Image.new("RGBA", (56, 56), (0, 0, 0, 0)),
        "LA": Image.new("LA", (56, 56), (0, 0)),
        "P with a transparent index": palette,
        "PA": Image.new("RGBA", (56, 56), (9, 9, 9, 0)).convert("PA"),
    }


@pytest.mark.parametrize("mode", list(_transparent_images()))
def test_fully_transparent_images_become_white_in_every_alpha_mode(mode: str) -> None:
    image = _transparent_images()[mode]
    rgb = to_rgb(image)
    assert rgb.mode == "RGB" and rgb.size == (56, 56)
    assert (np.asarray(rgb) == 255).all()


def test_half_transparent_black_blends_to_grey_and_opaque_pixels_are_kept() -> None:
    pixels = np.zeros((2, 2, 4), dtype=np.uint8)
    pixels[0, 0] = (0, 0, 0, 128)
    pixels[1, 1] = (10, 200, 30, 255)
    rgb = np.asarray(to_rgb(Image.fromarray(pixels, "RGBA")))
    assert tuple(rgb[0, 0]) == (127, 127, 127)
    assert tuple(rgb[1, 1]) == (10, 200, 30)
    assert tuple(rgb[0, 1]) == WHITE


def test_rgb_is_returned_as_is_and_grey_is_converted() -> None:
    image = Image.new("RGB", (4, 4), (1, 2, 3))
    assert to_rgb(image) is image
    assert to_rgb(Image.new("L", (4, 4), 7)).getpixel((0, 0)) == (7, 7, 7)


def test_an_observation_of_an_rgba_screenshot_holds_rgb_with_white_behind() -> None:
    observation = Observation(
        screenshot=Image.new("RGBA", (56, 56), (0, 0, 0, 0)), platform="browser"
    )
    assert observation.screenshot.mode == "RGB"
    assert observation.screenshot.getpixel((10, 10)) == WHITE
    plain = Image.new("RGB", (8, 8))
    assert Observation(screenshot=plain, platform="desktop").screenshot is plain


def test_load_image_reads_paths_and_bytes_and_outlives_the_file(tmp_path: Path) -> None:
    data = _png(Image.new("RGBA", (56, 56), (0, 0, 0, 0)))
    path = tmp_path / "clear.png"
    path.write_bytes(data)
    from_path, from_bytes = load_image(path), load_image(data)
    path.unlink()
    for image in (from_path, from_bytes):
        assert image.mode == "RGB" and image.getpixel((55, 55)) == WHITE
    opaque = tmp_path / "opaque.png"
    opaque.write_bytes(_png(Image.new("RGB", (3, 3), (5, 6, 7))))
    loaded = load_image(opaque)
    opaque.unlink()
    assert loaded.getpixel((2, 2)) == (5, 6, 7)  # still readable after its file is gone
    with pytest.raises(OSError):
        load_image(b"not an image")
