"""Calibration: click targets at known positions through the normal action path and measure
where each click really landed, read back from the screen itself.

An adapter supports calibration by implementing `Calibratable.show_calibration(targets)`: it
puts a surface on its screen (a Tk window, a page, the test device's calibration screen) that
paints every pointer press it receives as a filled MARKER_RGB square centred on the pressed
position. Because the landing point is read from the next screenshot, the check covers the whole
chain: pixel -> input-unit conversion, the input device, and the capture.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from pixelpilot.actions import Click, Point, Size
from pixelpilot.env.base import Environment
from pixelpilot.errors import EnvError, UserError

MARKER_RGB = (255, 0, 255)
"""The colour a calibration surface paints where a press landed; nothing else may use it."""


@runtime_checkable
class Calibratable(Protocol):
    def show_calibration(self, targets: Sequence[Point]) -> None:
        """Show a surface with a crosshair at each target (screenshot pixels) that paints
        each received press as a MARKER_RGB square centred on it."""
        ...


@dataclass(frozen=True)
class CalibrationResult:
    target: Point
    landed: tuple[float, float] | None

    @property
    def error(self) -> float:
        """Euclidean distance in screenshot pixels (inf when no press was seen)."""
        if self.landed is None:
            return math.inf
        return math.dist(self.target, self.landed)


@dataclass(frozen=True)
class CalibrationReport:
    screen: Size
    results: tuple[CalibrationResult, ...]

    @property
    def max_error(self) -> float:
        return max((r.error for r in self.results), default=0.0)


def calibration_targets(size: Size, *, count: int, seed: int = 0, margin: int = 40) -> list[Point]:
    """A 3x3 grid spanning the screen plus random points, all `margin` px from the edges."""
    margin = min(margin, size.width // 4, size.height // 4)
    xs = [margin, size.width // 2, size.width - 1 - margin]
    ys = [margin, size.height // 2, size.height - 1 - margin]
    points = [Point(x, y) for y in ys for x in xs]
    rng = random.Random(seed)
    while len(points) < count:
        points.append(
            Point(
                rng.randint(margin, size.width - 1 - margin),
                rng.randint(margin, size.height - 1 - margin),
            )
        )
    return points[:count]


def marker_mask(pixels: np.ndarray) -> np.ndarray:
    """Boolean mask of the MARKER_RGB pixels in an H x W x 3 array."""
    r, g, b = MARKER_RGB
    mask: np.ndarray = (pixels[..., 0] == r) & (pixels[..., 1] == g) & (pixels[..., 2] == b)
    return mask


def calibrate(env: Environment, *, count: int = 12, seed: int = 0) -> CalibrationReport:
    """Click `count` targets on `env`'s calibration surface and measure each landing error.

    Raises:
        UserError: the environment has no calibration surface.
        EnvError: the surface did not appear or the screen could not be read.
    """
    if not isinstance(env, Calibratable):
        raise UserError(f"the {env.name} environment does not support calibration")
    first = env.reset()
    size = first.size
    targets = calibration_targets(size, count=count, seed=seed)
    env.show_calibration(targets)
    previous = marker_mask(np.asarray(env.observe().screenshot))
    if previous.any():
        raise EnvError("calibration surface shows marker pixels before any click")
    results = []
    for target in targets:
        env.execute(Click(x=target.x, y=target.y))
        current = marker_mask(np.asarray(env.observe().screenshot))
        new = current & ~previous
        previous = current
        ys, xs = np.nonzero(new)
        landed = (float(xs.mean()), float(ys.mean())) if len(xs) else None
        results.append(CalibrationResult(target=target, landed=landed))
    return CalibrationReport(screen=size, results=tuple(results))


def format_report(report: CalibrationReport) -> str:
    """The console text for `pixelpilot calibrate`; its last line is `max error: N px`."""
    lines = [f"screen {report.screen}, {len(report.results)} targets"]
    for r in report.results:
        where = "nothing seen" if r.landed is None else f"({r.landed[0]:.1f}, {r.landed[1]:.1f})"
        lines.append(f"target ({r.target.x}, {r.target.y}) -> {where}  error {r.error:.2f} px")
    worst = report.max_error
    lines.append(f"max error: {'inf' if math.isinf(worst) else f'{worst:.2f}'} px")
    return "\n".join(lines)
