"""Decoding `screencap` output: the raw form (header + pixels) and the PNG form.

Raw output is little-endian u32 width, height, pixel format, then (Android 9 and later) a u32
colour space, then width * height pixels row by row. The header length is not announced, so it
is whatever is left once the pixels are accounted for: 12 or 16 bytes.
"""

from __future__ import annotations

import io
import struct

from PIL import Image, UnidentifiedImageError

# android PixelFormat -> (bytes per pixel, Pillow raw mode decoding into RGB)
PIXEL_FORMATS: dict[int, tuple[int, str]] = {
    1: (4, "RGBX"),  # RGBA_8888 (alpha dropped)
    2: (4, "RGBX"),  # RGBX_8888
    3: (3, "RGB"),  # RGB_888
    4: (2, "BGR;16"),  # RGB_565: red in the top 5 bits of a little-endian u16
    5: (4, "BGRX"),  # BGRA_8888
}


class CaptureFormatError(ValueError):
    """The bytes are not a screencap image this decoder understands."""


def parse_raw(data: bytes) -> Image.Image:
    """Decode raw `screencap` output into an RGB image.

    Raises:
        CaptureFormatError: too short, an unknown pixel format, or a length that fits no header.
    """
    if len(data) < 12:
        raise CaptureFormatError(f"raw screencap output is only {len(data)} bytes")
    width, height, pixel_format = struct.unpack_from("<3I", data)
    if pixel_format not in PIXEL_FORMATS:
        raise CaptureFormatError(f"unknown raw screencap pixel format {pixel_format}")
    bpp, mode = PIXEL_FORMATS[pixel_format]
    header = len(data) - width * height * bpp
    if width == 0 or height == 0 or header not in (12, 16):
        raise CaptureFormatError(
            f"raw screencap of {len(data)} bytes does not fit {width}x{height} pixels of "
            f"{bpp} bytes after a 12- or 16-byte header"
        )
    pixels = memoryview(data)[header:]
    return Image.frombytes("RGB", (width, height), pixels, "raw", mode)


def parse_png(data: bytes) -> Image.Image:
    """Decode `screencap -p` output into an RGB image.

    Raises:
        CaptureFormatError: not a PNG (e.g. an error message from the device).
    """
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        preview = data[:80].decode("utf-8", "replace").strip()
        raise CaptureFormatError(f"screencap -p did not return a PNG: {preview!r}")
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise CaptureFormatError(f"screencap -p returned a broken PNG: {exc}") from exc
