"""The browser's calibration page: crosshairs at known device pixels that mark where presses land.

`pixelpilot calibrate --env browser` shows it through `BrowserEnv.show_calibration`, clicks each
target through the normal action path and reads the markers back from a screenshot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pixelpilot.actions import Point

CALIBRATION_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>pixelpilot calibration</title>
<style>html, body { margin: 0; overflow: hidden; background: #ffffff; }
canvas { display: block; }</style></head>
<body><canvas id="surface"></canvas><script>
"use strict";
// The canvas has one pixel per device pixel and is drawn only with integer rectangles, so no
// anti-aliasing blurs the marker: its pixels' centroid is exactly the pressed device pixel.
const targets = TARGETS;
const ratio = window.devicePixelRatio;
const canvas = document.getElementById("surface");
canvas.width = Math.round(innerWidth * ratio);
canvas.height = Math.round(innerHeight * ratio);
canvas.style.width = innerWidth + "px";
canvas.style.height = innerHeight + "px";
const ctx = canvas.getContext("2d");
ctx.fillStyle = "#000000";
for (const [x, y] of targets) {
  ctx.fillRect(x - 12, y, 25, 1);
  ctx.fillRect(x, y - 12, 1, 25);
}
// pointerdown, unlike mousedown, reports fractional CSS coordinates. The marker goes on the
// device pixel that contains the press; the thousandth of a pixel absorbs float rounding of
// positions like p / 1.5.
canvas.addEventListener("pointerdown", (event) => {
  const x = Math.floor(event.clientX * ratio + 0.001);
  const y = Math.floor(event.clientY * ratio + 0.001);
  ctx.fillStyle = "#ff00ff";
  ctx.fillRect(x - 4, y - 4, 9, 9);
});
</script></body></html>
"""


def calibration_page(targets: Sequence[Point]) -> str:
    """The page's HTML with a crosshair at each target (device pixels); each press paints a
    9x9 MARKER_RGB square centred on the pressed device pixel."""
    return CALIBRATION_PAGE.replace("TARGETS", json.dumps([[p.x, p.y] for p in targets]))
