"""Sizes, points, boxes and per-axis rescaling between image frames.

Units: every value here is an integer pixel index in some frame (a screenshot, a model's resized
image, a device's logical points). Pixel (0, 0) is the top-left pixel; a frame of size W x H has
valid x in [0, W - 1] and y in [0, H - 1].
"""

from __future__ import annotations

import math
from typing import NamedTuple

from pixelpilot.errors import ConfigError


class Size(NamedTuple):
    """A frame size in pixels."""

    width: int
    height: int

    def contains(self, x: float, y: float) -> bool:
        """True when the point lies on a pixel of this frame."""
        return 0 <= x <= self.width - 1 and 0 <= y <= self.height - 1

    @property
    def area(self) -> int:
        return self.width * self.height

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"

    @classmethod
    def parse(cls, text: str) -> Size:
        """Parse "WIDTHxHEIGHT" (e.g. "1280x800"); raises ConfigError on anything else."""
        parts = text.lower().replace(" ", "").split("x")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ConfigError(f"expected a size like 1280x800, got {text!r}")
        width, height = int(parts[0]), int(parts[1])
        if width <= 0 or height <= 0:
            raise ConfigError(
                f"a size needs a positive width and height like 1280x800, got {text!r}"
            )
        return cls(width, height)


class Point(NamedTuple):
    """A pixel position (x to the right, y down)."""

    x: int
    y: int


class Box(NamedTuple):
    """An axis-aligned box with inclusive edges: x1 <= x <= x2 and y1 <= y <= y2."""

    x1: float
    y1: float
    x2: float
    y2: float

    @classmethod
    def from_xywh(cls, x: float, y: float, w: float, h: float) -> Box:
        """The SeeClick convention: x2 = x + w, y2 = y + h (not x + w - 1)."""
        return cls(x, y, x + w, y + h)

    def contains(self, x: float, y: float) -> bool:
        """Inclusive point-in-box test (edges count as inside)."""
        return self.x1 <= x <= self.x2 and self.y1 <= y <= self.y2

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    def scaled(self, factor: float) -> Box:
        """The box enlarged (factor > 1) or shrunk about its centre."""
        cx, cy = self.center
        hw, hh = self.width * factor / 2, self.height * factor / 2
        return Box(cx - hw, cy - hh, cx + hw, cy + hh)


def rescale_coord(value: int, src: int, dst: int) -> int:
    """Map a pixel index along one axis from a frame `src` pixels long to one `dst` long.

    The pixel's centre is mapped and the destination pixel containing it is returned, so the
    result always lies in [0, dst - 1] for an input in [0, src - 1] and the mapping is unbiased
    (a plain `round(value * dst / src)` can land on `dst` when shrinking by more than 2x).
    """
    if src <= 0 or dst <= 0:
        raise ValueError(f"frame lengths must be positive, got {src} -> {dst}")
    return math.floor((value + 0.5) * dst / src)


def rescale_point(x: int, y: int, src: Size, dst: Size) -> Point:
    """Map a point between two frames, one ratio per axis (aspect ratios may differ)."""
    return Point(rescale_coord(x, src.width, dst.width), rescale_coord(y, src.height, dst.height))


def rescale_point_float(x: float, y: float, src: Size, dst: Size) -> tuple[float, float]:
    """Continuous per-axis mapping `x * dst / src` (the published evaluation scripts' formula)."""
    return (x * dst.width / src.width, y * dst.height / src.height)
