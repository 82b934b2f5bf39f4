"""Where a desktop monitor sits and how its screenshot pixels map to input coordinates.

Two coordinate systems meet on a desktop:
- capture pixels: what mss grabs; the monitor starts at (left, top) of the virtual screen that
  spans every monitor, and a screenshot pixel (x, y) is capture pixel (left + x, top + y);
- input units: what pyautogui/XTEST move the pointer in, the X screen's logical pixels
  (`pyautogui.size()`).
On a plain X server both are the same pixels. When they differ (a HiDPI setup that scales the
capture), the ratio of the whole virtual screen's capture size to the X screen's logical size is
the scale, and `ScreenGeometry.to_input` is the one place that converts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pixelpilot.actions import Point, Size
from pixelpilot.errors import ConfigError


@dataclass(frozen=True)
class ScreenGeometry:
    """One monitor's placement and the capture-to-input scale.

    Attributes:
        left, top: the monitor's origin in capture pixels of the virtual screen.
        width, height: the monitor's size in capture pixels (= the screenshot size).
        scale_x, scale_y: capture pixels per input unit along each axis (1.0 on plain X).
    """

    left: int
    top: int
    width: int
    height: int
    scale_x: float = 1.0
    scale_y: float = 1.0

    @property
    def size(self) -> Size:
        """The screenshot size in pixels."""
        return Size(self.width, self.height)

    def to_input(self, x: int, y: int) -> Point:
        """The input position of screenshot pixel (x, y): the input unit containing the pixel's
        centre, so the result stays on the monitor for every pixel of it."""
        return Point(
            math.floor((self.left + x + 0.5) / self.scale_x),
            math.floor((self.top + y + 0.5) / self.scale_y),
        )

    def input_box(self) -> tuple[int, int, int, int]:
        """The monitor in input units as (left, top, width, height)."""
        x1, y1 = self.left / self.scale_x, self.top / self.scale_y
        x2, y2 = (self.left + self.width) / self.scale_x, (self.top + self.height) / self.scale_y
        left, top = math.floor(x1), math.floor(y1)
        return left, top, math.ceil(x2) - left, math.ceil(y2) - top


def describe_monitors(monitors: Sequence[Mapping[str, int]]) -> str:
    """'1: 1280x800+0+0, 2: ...' for the monitors after mss's combined entry 0."""
    return ", ".join(
        f"{i}: {m['width']}x{m['height']}+{m['left']}+{m['top']}"
        for i, m in enumerate(monitors)
        if i > 0
    )


def screen_geometry(
    monitors: Sequence[Mapping[str, int]], index: int, input_size: Size
) -> ScreenGeometry:
    """The geometry of monitor `index` from mss's monitor list.

    Args:
        monitors: mss's `monitors`: entry 0 spans all monitors, entries 1.. are the monitors,
            each with left, top, width and height in capture pixels.
        index: the monitor to use, 1 for the first.
        input_size: the X screen's logical size (`pyautogui.size()`).

    Raises:
        ConfigError: there is no monitor `index` (the message lists the monitors).
    """
    count = len(monitors) - 1
    if not 1 <= index <= count:
        raise ConfigError(
            f"monitor {index} does not exist; this display has {count} monitor(s): "
            f"{describe_monitors(monitors)}"
        )
    whole, mon = monitors[0], monitors[index]
    return ScreenGeometry(
        left=mon["left"] - whole["left"],
        top=mon["top"] - whole["top"],
        width=mon["width"],
        height=mon["height"],
        scale_x=whole["width"] / input_size.width,
        scale_y=whole["height"] / input_size.height,
    )
