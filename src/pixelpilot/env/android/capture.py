"""Screenshots: decoding `screencap` output (raw header + pixels, or PNG) and ScreenCapture,
which picks the display and keeps the device's messages out of the image stream.

Raw output is little-endian u32 width, height, pixel format, then (Android 9 and later) a u32
colour space, then width * height pixels row by row. The header length is not announced, so it
is whatever is left once the pixels are accounted for: 12 or 16 bytes.
"""

from __future__ import annotations

import io
import logging
import re
import struct
from collections.abc import Callable

from PIL import Image, UnidentifiedImageError

log = logging.getLogger("pixelpilot.env.android")
_MD5 = re.compile(r"^[0-9a-f]{32}\b")

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


_DISPLAY_LINE = re.compile(r"^Display (\d+)\b", re.MULTILINE)
DISPLAY_QUERY = "dumpsys SurfaceFlinger --display-id | grep -E '^Display [0-9]+'"
"""Lists the physical display ids (Android 10+; older devices print nothing that matches)."""


def choose_display(output: str, wanted: str | None) -> str | None:
    """The display id to pass to `screencap -d`, from the output of DISPLAY_QUERY.

    Args:
        output: what DISPLAY_QUERY printed.
        wanted: the `display_id` option (None: automatic).

    Returns:
        `wanted` when given; otherwise the first listed id when the device lists several (a
        foldable, an emulator with an external display), and None for a single display (then no
        `-d` is passed, which also suits devices older than Android 10).

    Raises:
        ValueError: `wanted` is not one of the listed ids (the message lists them).
    """
    ids = _DISPLAY_LINE.findall(output)
    if wanted is not None:
        if ids and wanted not in ids:
            raise ValueError(f"the device has no display {wanted}; its displays: {', '.join(ids)}")
        return wanted
    return ids[0] if len(ids) > 1 else None


class ScreenCapture:
    """Screenshots of one display through `screencap`, raw unless the device's cannot be parsed.

    The device's complaints (such as the "[Warning] Multiple displays were found" text that
    screencap prints on stderr) would arrive in the same stream ahead of the image, since the
    `exec:` service merges stderr into stdout; every capture therefore sends stderr to
    /dev/null, and a capture that still cannot be decoded is repeated with stderr kept so that
    the error names what the device said.

    Args:
        read_bytes: runs a command on the device and returns its output (binary-safe).
        read: the same, decoded as text.
        mode: "raw", "png" or "auto" (the `capture` option).
        display: the display id for `screencap -d`, or None for the default display.
    """

    def __init__(
        self,
        read_bytes: Callable[[str], bytes],
        read: Callable[[str], str],
        *,
        mode: str,
        display: str | None,
    ) -> None:
        self.read_bytes = read_bytes
        self.read = read
        self.option = mode
        self.mode = "png" if mode == "png" else "raw"
        self.display = display

    def command(self, *, png: bool, quiet: bool = True) -> str:
        """The screencap command line for this display."""
        line = "screencap" + (" -p" if png else "")
        if self.display is not None:
            line += f" -d {self.display}"
        return line + (" 2>/dev/null" if quiet else "")

    def capture(self) -> Image.Image:
        """One screenshot as an RGB image.

        Raises:
            CaptureFormatError: the device's output is no image (the message quotes it).
        """
        if self.mode == "raw":
            try:
                return parse_raw(self.read_bytes(self.command(png=False)))
            except CaptureFormatError as exc:
                if self.option == "raw":
                    raise CaptureFormatError(
                        f"{exc} ({self._said()}); set the android option capture = 'png'"
                    ) from exc
                log.warning("raw screencap unusable (%s); using screencap -p from now on", exc)
                self.mode = "png"
        try:
            return parse_png(self.read_bytes(self.command(png=True)))
        except CaptureFormatError as exc:
            raise CaptureFormatError(f"{exc} ({self._said()})") from exc

    def _said(self) -> str:
        """What the device prints around a capture, for error messages (first 300 chars)."""
        text = self.read_bytes(self.command(png=True, quiet=False)).decode("utf-8", "replace")
        head = " ".join(text.split("\x89PNG", 1)[0].split())[:300]
        return f"the device said: {head!r}" if head else "the device printed no message"

    def digest(self) -> bytes:
        """An md5 of the raw frame computed on the device (the frame itself without md5sum)."""
        output = self.read(self.command(png=False) + " | md5sum")
        if _MD5.match(output):
            return output[:32].encode()
        return self.read_bytes(self.command(png=False))
