"""Finding close icons (a cross: x, ×, ✕, ✖) that OCR does not read as text.

A dialog's or a window's close control is often a drawn cross with no text, so the OCR baseline
cannot match a goal such as 'close the dialog by clicking the "x"' against any line. This module
finds crosses by their shape, with nothing but general rules:

1. ink: pixels that differ from the median of their neighbourhood by more than `INK_CONTRAST`
   grey levels (dark glyphs on light buttons and light glyphs on dark ones alike), tried with
   two neighbourhood sizes (`NEIGHBOURHOODS`);
2. connected ink components (8-connected) between `MIN_SIDE` and `MAX_SIDE` pixels on each side,
   roughly square (side ratio within `MAX_ASPECT`) and neither hairline nor solid;
3. a cross: at least `MIN_ON_DIAGONALS` of the component's pixels lie near one of its box's two
   diagonals, and both diagonals are drawn end to end (ink near at least 7 of 9 evenly spaced
   points on each). A "+", a circle, a square and most letters fail one of the two.

Components whose centre lies inside a recognised text line are letters ("x" in "Extra"), not
icons: the caller passes the OCR boxes to exclude them.

API: find_crosses(image, *, text_boxes=()) -> list[Icon], best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from pixelpilot._extras import require
from pixelpilot.actions import Box

NEIGHBOURHOODS = ((1, 31), (4, 17))
"""(shrink, median kernel) pairs: ink is sought against a 31 px and a 68 px neighbourhood. The
small one keeps a cross apart from the edges of the button it sits on; the large one sees a
bold cross whole (in a small one its centre would count as background)."""
INK_CONTRAST = 48
"""Grey levels between a pixel and its neighbourhood's median for the pixel to count as ink."""
MIN_SIDE = 7
MAX_SIDE = 64
"""Bounds in pixels on each side of a cross's box (icons, not drawings)."""
MAX_ASPECT = 1.4
MIN_ON_DIAGONALS = 0.8
DIAGONAL_BAND = 0.22
"""A pixel is near a diagonal within this fraction of its box's side."""
_SAMPLES = np.linspace(0.1, 0.9, 9)
MIN_DRAWN_SAMPLES = 7
"""Of the 9 points along each diagonal, how many must have ink nearby."""


@dataclass(frozen=True)
class Icon:
    """A cross found on the screen: its box in image pixels and how cross-like it is (0-1)."""

    box: Box
    score: float


def _ink(gray: np.ndarray, shrink: int, kernel: int) -> np.ndarray:
    """Pixels far from the median of their neighbourhood (`kernel` pixels of the image shrunk
    `shrink` times, so `shrink * kernel` screen pixels wide)."""
    cv2 = require("cv2", "ocr", package="opencv-python")
    h, w = gray.shape
    small = gray
    if shrink > 1:
        size = (max(1, w // shrink), max(1, h // shrink))
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    median = cv2.medianBlur(small, kernel)
    if shrink > 1:
        median = cv2.resize(median, (w, h), interpolation=cv2.INTER_LINEAR)
    contrast = np.abs(gray.astype(np.int16) - np.asarray(median, dtype=np.int16))
    ink: np.ndarray = (contrast > INK_CONTRAST).astype(np.uint8)
    return ink


def _cross_score(mask: np.ndarray) -> float:
    """How much `mask` (one component, cropped to its box) looks like an X; 0 when it does not."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    u = (xs + 0.5) / w
    v = (ys + 0.5) / h
    near = np.minimum(np.abs(u - v), np.abs(u + v - 1)) < DIAGONAL_BAND
    on_diagonals = float(near.mean())
    if on_diagonals < MIN_ON_DIAGONALS:
        return 0.0
    reach = max(1.0, 0.12 * max(h, w))
    for rising in (False, True):  # top-left to bottom-right, then bottom-left to top-right
        drawn = 0
        for t in _SAMPLES:
            pv = 1 - t if rising else t
            distance = np.hypot((u - t) * w, (v - pv) * h)
            drawn += bool(distance.min() <= reach)
        if drawn < MIN_DRAWN_SAMPLES:
            return 0.0
    return on_diagonals


def find_crosses(image: Image.Image, *, text_boxes: Sequence[Box] = ()) -> list[Icon]:
    """Every cross-shaped icon on `image`, best first (see the module docstring).

    Raises:
        MissingExtraError: OpenCV (part of the `ocr` extra) is not installed.
    """
    cv2 = require("cv2", "ocr", package="opencv-python")
    gray = np.asarray(image.convert("L"))
    icons: list[Icon] = []
    for shrink, kernel in NEIGHBOURHOODS:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            _ink(gray, shrink, kernel), connectivity=8
        )
        for label in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[label])
            if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
                continue
            if max(w, h) / min(w, h) > MAX_ASPECT or not 0.12 <= area / (w * h) <= 0.85:
                continue
            box = Box(x, y, x + w, y + h)
            cx, cy = box.center
            if any(t.contains(cx, cy) for t in text_boxes) or any(
                icon.box.contains(cx, cy) for icon in icons
            ):
                continue  # a letter of a text line, or found in a smaller neighbourhood
            score = _cross_score(labels[y : y + h, x : x + w] == label)
            if score > 0:
                icons.append(Icon(box, score))
    icons.sort(key=lambda icon: (-icon.score, -(icon.box.width * icon.box.height)))
    return icons
