"""Drawing an action on its screenshot: one geometry, two renderers (PIL and SVG).

`shapes(action)` turns an action into marks in screenshot pixels: a `Target` (click, double
click, move, long press), an `Arrow` (drag, swipe, scroll direction and amount) and a `Caption`
(typed text, keys, buttons, apps, answers). `annotate` paints them onto a copy of the image
(for the confirmation prompt and GIF histories); `svg_overlay` writes the same marks as an SVG
layer for the HTML reports, with a viewBox equal to the screenshot size so a mark's on-page
position scales back to the exact pixel.

A mark for pixel (x, y) is centred on that pixel's centre (x + 0.5, y + 0.5). Text is shown as
recorded: secrets are already placeholders such as `<secret:NAME>` in every record.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, assert_never

from PIL import Image, ImageDraw, ImageFont

from pixelpilot.actions import (
    Action,
    Answer,
    Button,
    Click,
    Drag,
    Key,
    LongPress,
    Move,
    OpenApp,
    Scroll,
    Swipe,
    Terminate,
    Type,
    Wait,
)

TargetKind = Literal["click", "move", "press"]
ACCENT = (255, 45, 85)  # the marks' colour: a saturated red-pink seen on light and dark screens
OUTLINE = (255, 255, 255)
SCROLL_ARROW_FRACTION = 0.2  # a scroll arrow is this fraction of the shorter screen side
CAPTION_LIMIT = 120  # characters of typed text shown before an ellipsis


@dataclass(frozen=True)
class Target:
    """A point the action touches: `rings` concentric rings (2 for a double click)."""

    x: int
    y: int
    kind: TargetKind = "click"
    rings: int = 1
    label: str = ""


@dataclass(frozen=True)
class Arrow:
    """A movement from (x, y) to (to_x, to_y), in screenshot pixels."""

    x: int
    y: int
    to_x: int
    to_y: int
    label: str = ""


@dataclass(frozen=True)
class Caption:
    """Text shown in a banner along the bottom edge (typed text, keys, answers)."""

    text: str


Shape = Target | Arrow | Caption


def _clip(text: str) -> str:
    return text if len(text) <= CAPTION_LIMIT else text[: CAPTION_LIMIT - 1] + "…"


def shapes(action: Action, size: tuple[int, int]) -> list[Shape]:
    """The marks that show `action` on a `size` (width, height) screenshot, in pixels."""
    match action:
        case Click():
            label: str = "" if action.button == "left" else action.button
            if action.count > 1:
                label = f"{label} x{action.count}".strip()
            return [Target(action.x, action.y, "click", action.count, label)]
        case Move():
            return [Target(action.x, action.y, "move", 1, "hover")]
        case LongPress():
            return [Target(action.x, action.y, "press", 1, f"hold {action.duration_ms} ms")]
        case Drag():
            return [
                Target(action.x, action.y, "press"),
                Arrow(action.x, action.y, action.to_x, action.to_y, "drag"),
            ]
        case Swipe():
            label = f"swipe {action.duration_ms} ms"
            return [
                Target(action.x, action.y, "press"),
                Arrow(action.x, action.y, action.to_x, action.to_y, label),
            ]
        case Scroll():
            length = max(12, round(min(size) * SCROLL_ARROW_FRACTION))
            dx, dy = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}[
                action.direction
            ]
            label = f"scroll {action.direction} {action.amount} px"
            return [
                Target(action.x, action.y, "move"),
                Arrow(action.x, action.y, action.x + dx * length, action.y + dy * length, label),
            ]
        case Type():
            return [Caption(f"type “{_clip(action.text)}”")]
        case Key():
            return [Caption("key " + "+".join(action.keys))]
        case Button():
            return [Caption(f"button {action.name}")]
        case OpenApp():
            return [Caption(f"open {action.name}")]
        case Wait():
            return [Caption(f"wait {action.seconds:g} s")]
        case Answer():
            return [Caption(f"answer “{_clip(action.text)}”")]
        case Terminate():
            return [Caption(f"terminate: the policy claims {action.status}")]
        case _:
            assert_never(action)


def _radius(size: tuple[int, int]) -> float:
    return max(6.0, min(size) / 45)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def annotate(image: Image.Image, action: Action, *extra: Action) -> Image.Image:
    """A copy of `image` (RGB) with `action` (and any `extra` actions) drawn at their pixels.

    Args:
        image: the screenshot the action was decided on; its pixels are the action's frame.
        action: the action to draw; extra: further actions of the same step (numbered).

    Returns:
        A new RGB image of the same size; `image` is not modified.
    """
    out = image.convert("RGB")
    draw = ImageDraw.Draw(out)
    size = out.size
    captions: list[str] = []
    for number, each in enumerate((action, *extra), start=1):
        for shape in shapes(each, size):
            if isinstance(shape, Caption):
                captions.append(shape.text if not extra else f"{number}. {shape.text}")
            else:
                _paint(draw, shape, size)
    if captions:
        _paint_caption(draw, "   ".join(captions), size)
    return out


def save_annotated(path: Path | str, image: Image.Image, action: Action, *extra: Action) -> Path:
    """Write `annotate(image, action, *extra)` as a PNG at `path` and return the path.

    Raises:
        OSError: the file cannot be written.
    """
    path = Path(path)
    annotate(image, action, *extra).save(path, format="PNG")
    return path


def _paint(draw: ImageDraw.ImageDraw, shape: Target | Arrow, size: tuple[int, int]) -> None:
    r = _radius(size)
    width = max(2, round(r / 4))
    font = _font(max(12, round(r * 1.4)))
    if isinstance(shape, Target):
        cx, cy = shape.x + 0.5, shape.y + 0.5
        for ring in range(shape.rings):
            rr = r * (1 + 0.6 * ring)
            box = (cx - rr, cy - rr, cx + rr, cy + rr)
            draw.ellipse(box, outline=OUTLINE, width=width + 2)
            draw.ellipse(box, outline=ACCENT, width=width)
        if shape.kind == "press":
            draw.ellipse((cx - r / 2, cy - r / 2, cx + r / 2, cy + r / 2), fill=ACCENT)
        arm = r * 0.6
        draw.line((cx - arm, cy, cx + arm, cy), fill=ACCENT, width=1)
        draw.line((cx, cy - arm, cx, cy + arm), fill=ACCENT, width=1)
        if shape.label:
            _label(draw, (cx + r * 1.2, cy - r * 1.8), shape.label, font)
        return
    start, end = (shape.x + 0.5, shape.y + 0.5), (shape.to_x + 0.5, shape.to_y + 0.5)
    draw.line((*start, *end), fill=OUTLINE, width=width + 2)
    draw.line((*start, *end), fill=ACCENT, width=width)
    draw.polygon(_head(start, end, r * 1.5), fill=ACCENT, outline=OUTLINE)
    if shape.label:
        _label(draw, (end[0] + r, end[1] + r / 2), shape.label, font)


def _head(
    start: tuple[float, float], end: tuple[float, float], length: float
) -> list[tuple[float, float]]:
    dx, dy = end[0] - start[0], end[1] - start[1]
    norm = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    ux, uy = dx / norm, dy / norm
    base = (end[0] - ux * length, end[1] - uy * length)
    half = length / 2
    return [
        end,
        (base[0] - uy * half, base[1] + ux * half),
        (base[0] + uy * half, base[1] - ux * half),
    ]


def _label(
    draw: ImageDraw.ImageDraw,
    at: tuple[float, float],
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> None:
    left, top, right, bottom = draw.textbbox(at, text, font=font)
    draw.rectangle((left - 3, top - 2, right + 3, bottom + 2), fill=ACCENT)
    draw.text(at, text, fill=OUTLINE, font=font)


def _paint_caption(draw: ImageDraw.ImageDraw, text: str, size: tuple[int, int]) -> None:
    font = _font(max(14, round(_radius(size) * 1.6)))
    _, top, _, bottom = draw.textbbox((0, 0), text, font=font)
    pad = 8
    height = bottom - top + 2 * pad
    draw.rectangle((0, size[1] - height, size[0], size[1]), fill=(20, 20, 28))
    draw.text((pad, size[1] - height + pad - top), text, fill=OUTLINE, font=font)


def svg_overlay(size: tuple[int, int], actions: list[Action]) -> tuple[str, list[str]]:
    """An SVG layer (viewBox = the screenshot's pixels) marking `actions`, and their captions.

    Each target is a `<g class="mark target" data-x data-y>` whose first circle is centred on
    the pixel's centre, so its on-page box scales back to the action's pixel. Captions are
    returned as plain text for the page to show beside the image (HTML-escaped by the caller).
    """
    width, height = size
    r = _radius(size)
    parts = [
        f'<svg class="overlay" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="none" aria-hidden="true">'
    ]
    captions: list[str] = []
    for number, action in enumerate(actions, start=1):
        tag = f" {number}" if len(actions) > 1 else ""
        for shape in shapes(action, size):
            if isinstance(shape, Caption):
                captions.append(shape.text)
            elif isinstance(shape, Target):
                parts.append(_svg_target(shape, r, tag))
            else:
                parts.append(_svg_arrow(shape, r))
    parts.append("</svg>")
    return "".join(parts), captions


def _svg_target(shape: Target, r: float, tag: str) -> str:
    cx, cy = shape.x + 0.5, shape.y + 0.5
    rings = "".join(
        f'<circle class="ring" cx="{cx}" cy="{cy}" r="{r * (1 + 0.6 * i):.2f}"/>'
        for i in range(shape.rings)
    )
    dot_r = r / (2 if shape.kind == "press" else 5)
    dot = f'<circle class="dot" cx="{cx}" cy="{cy}" r="{dot_r:.2f}"/>'
    label = (shape.label + tag).strip()
    text = (
        f'<text x="{cx + r * 1.2:.1f}" y="{cy - r * 1.2:.1f}" '
        f'font-size="{r * 1.4:.1f}">{html.escape(label)}</text>'
        if label
        else ""
    )
    return (
        f'<g class="mark target {shape.kind}" data-x="{shape.x}" data-y="{shape.y}" '
        f'data-rings="{shape.rings}">{dot}{rings}{text}</g>'
    )


def _svg_arrow(shape: Arrow, r: float) -> str:
    start, end = (shape.x + 0.5, shape.y + 0.5), (shape.to_x + 0.5, shape.to_y + 0.5)
    head = " ".join(f"{x:.1f},{y:.1f}" for x, y in _head(start, end, r * 1.5))
    label = (
        f'<text x="{end[0] + r:.1f}" y="{end[1] + r * 1.5:.1f}" font-size="{r * 1.4:.1f}">'
        f"{html.escape(shape.label)}</text>"
        if shape.label
        else ""
    )
    return (
        f'<g class="mark arrow" data-x="{shape.x}" data-y="{shape.y}" '
        f'data-to-x="{shape.to_x}" data-to-y="{shape.to_y}">'
        f'<line x1="{start[0]}" y1="{start[1]}" x2="{end[0]}" y2="{end[1]}" '
        f'stroke-width="{max(2.0, r / 4):.1f}"/><polygon points="{head}"/>{label}</g>'
    )
