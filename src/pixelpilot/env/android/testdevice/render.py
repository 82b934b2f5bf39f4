"""Draws the test device's screen: system bars, the foreground app's widgets, markers."""

from __future__ import annotations

import io
import struct
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from pixelpilot.env.android.testdevice.apps import CalibrationApp, Launcher, PhotosApp
from pixelpilot.env.android.testdevice.ui import App, Screen, Widget
from pixelpilot.env.calibrate import MARKER_RGB

BACKGROUND = (250, 250, 250)
WALLPAPER = (30, 60, 90)
TEXT = (33, 33, 33)
MUTED = (140, 140, 140)
ACCENT = (26, 115, 232)
CROSSHAIR = (0, 150, 255)


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled scalable font, so rendering never depends on system fonts."""
    return ImageFont.load_default(size=max(size, 8))


def _centered(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    text: str,
    size: int,
    fill: tuple[int, int, int],
) -> None:
    x1, y1, x2, y2 = box
    draw.text(((x1 + x2) / 2, (y1 + y2) / 2), text, fill=fill, font=font(size), anchor="mm")


def _list_item(draw: ImageDraw.ImageDraw, screen: Screen, w: Widget) -> None:
    """A list line's divider along its bottom and its label at the left (rows, toggles)."""
    x1, y1, x2, y2 = w.box
    draw.line((x1, y2, x2, y2), fill=(225, 225, 225), width=max(1, screen.px(2)))
    draw.text(
        (x1 + screen.px(60), (y1 + y2) / 2),
        w.label,
        fill=TEXT,
        font=font(screen.px(44)),
        anchor="lm",
    )


def _widget(
    draw: ImageDraw.ImageDraw,
    screen: Screen,
    w: Widget,
    *,
    focused: bool,
    pressed: bool,
    dark: bool,
) -> None:
    x1, y1, x2, y2 = w.box
    text_size = screen.px(44)
    if w.kind == "icon":
        side = Launcher.icon_size(screen)
        left = (x1 + x2 + 1 - side) // 2
        square = (left, y1, left + side - 1, y1 + side - 1)
        draw.rounded_rectangle(square, radius=screen.px(36), fill=w.color)
        _centered(draw, square, w.label[:1], screen.px(80), (255, 255, 255))
        label_box = (x1, y1 + side + screen.px(10), x2, y2)
        _centered(draw, label_box, w.label, screen.px(38), (255, 255, 255) if dark else TEXT)
        if pressed:
            draw.rounded_rectangle(
                square, radius=screen.px(36), outline=(255, 255, 0), width=screen.px(8)
            )
    elif w.kind == "button":
        draw.rounded_rectangle(w.box, radius=screen.px(24), fill=w.color)
        _centered(draw, w.box, w.label, screen.px(56), (255, 255, 255))
        if pressed:
            draw.rounded_rectangle(w.box, radius=screen.px(24), outline=TEXT, width=screen.px(6))
    elif w.kind == "toggle":
        _list_item(draw, screen, w)
        on = w.value == "on"
        track = (
            x2 - screen.px(190),
            (y1 + y2) // 2 - screen.px(30),
            x2 - screen.px(60),
            (y1 + y2) // 2 + screen.px(30),
        )
        draw.rounded_rectangle(track, radius=screen.px(30), fill=ACCENT if on else (189, 189, 189))
        knob_x = track[2] - screen.px(30) if on else track[0] + screen.px(30)
        r = screen.px(26)
        draw.ellipse(
            (knob_x - r, (y1 + y2) // 2 - r, knob_x + r, (y1 + y2) // 2 + r), fill=(255, 255, 255)
        )
    elif w.kind == "field":
        draw.rectangle(
            w.box,
            fill=(255, 255, 255),
            outline=ACCENT if focused else MUTED,
            width=screen.px(6) if focused else screen.px(2),
        )
        pad = screen.px(24)
        if w.value:
            lines = w.value.split("\n")[-6:]
            draw.multiline_text(
                (x1 + pad, y1 + pad),
                "\n".join(lines),
                fill=TEXT,
                font=font(text_size),
                spacing=screen.px(12),
            )
        else:
            draw.text((x1 + pad, y1 + pad), w.label, fill=MUTED, font=font(text_size))
    elif w.kind == "row":
        if w.value == "selected":
            draw.rectangle(w.box, fill=(210, 227, 252))
        _list_item(draw, screen, w)
    else:
        draw.text((x1, y1), w.label, fill=(255, 255, 255) if dark else TEXT, font=font(text_size))


def _calibration(draw: ImageDraw.ImageDraw, app: CalibrationApp) -> None:
    for x, y in app.targets:
        draw.line((x - 20, y, x + 20, y), fill=CROSSHAIR, width=1)
        draw.line((x, y - 20, x, y + 20), fill=CROSSHAIR, width=1)
    h = CalibrationApp.MARKER_HALF
    for x, y in app.taps:
        draw.rectangle((x - h, y - h, x + h, y + h), fill=MARKER_RGB)


def _system_bars(draw: ImageDraw.ImageDraw, screen: Screen, volume: int) -> None:
    w, h = screen.size
    draw.rectangle((0, 0, w - 1, screen.status_height - 1), fill=(32, 33, 36))
    middle = screen.status_height / 2
    small = font(screen.px(36))
    draw.text((screen.px(40), middle), "12:00", fill=(255, 255, 255), font=small, anchor="lm")
    draw.text(
        (w - screen.px(40), middle),
        f"vol {volume}  100%",
        fill=(255, 255, 255),
        font=small,
        anchor="rm",
    )
    top = h - screen.nav_height
    draw.rectangle((0, top, w - 1, h - 1), fill=(240, 240, 240))
    cy, r = top + screen.nav_height // 2, screen.px(26)
    bx, hx, rx = w // 6, w // 2, w * 5 // 6
    draw.polygon([(bx - r, cy), (bx + r, cy - r), (bx + r, cy + r)], fill=(90, 90, 90))
    draw.ellipse((hx - r, cy - r, hx + r, cy + r), outline=(90, 90, 90), width=screen.px(6))
    draw.rectangle((rx - r, cy - r, rx + r, cy + r), outline=(90, 90, 90), width=screen.px(6))


def render(screen: Screen, app: App, *, focus: str | None, volume: int) -> Image.Image:
    """The whole screen with `app` in front, as an RGB image of `screen.size`."""
    launcher = isinstance(app, Launcher)
    image = Image.new("RGB", screen.size, WALLPAPER if launcher else BACKGROUND)
    draw = ImageDraw.Draw(image)
    if isinstance(app, CalibrationApp):
        _calibration(draw, app)
        return image
    if not launcher:
        title = (0, screen.status_height, screen.size.width - 1, screen.content_top - 1)
        draw.rectangle(title, fill=(255, 255, 255))
        draw.text(
            (screen.px(60), (title[1] + title[3]) / 2),
            app.label,
            fill=TEXT,
            font=font(screen.px(64)),
            anchor="lm",
        )
    if isinstance(app, PhotosApp):
        image.paste(app.picture(screen), (0, screen.content_top))
    for widget in app.widgets(screen):
        _widget(
            draw,
            screen,
            widget,
            focused=widget.key == focus,
            pressed=widget.key == app.long_pressed,
            dark=launcher,
        )
    _system_bars(draw, screen, volume)
    return image


PIXEL_FORMAT_RGBA_8888 = 1
COLORSPACE_SRGB = 1


def encode_png(image: Image.Image) -> bytes:
    """What `screencap -p` prints for `image`."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def encode_raw(image: Image.Image, header: int) -> bytes:
    """Raw screencap bytes of `image`: the 12- or 16-byte header, then RGBA_8888 pixels."""
    head = struct.pack("<III", image.width, image.height, PIXEL_FORMAT_RGBA_8888)
    if header == 16:
        head += struct.pack("<I", COLORSPACE_SRGB)
    return head + image.convert("RGBA").tobytes()
