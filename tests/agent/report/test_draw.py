"""The drawing module: every action has a mark, marks sit on the action's pixel, and the
caller's image is never modified."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

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
from pixelpilot.agent.report import annotate, save_annotated, shapes, svg_overlay
from pixelpilot.agent.report.draw import ACCENT, Arrow, Caption, Target

EVERY: list[Action] = [
    Click(x=50, y=60),
    Move(x=5, y=5),
    Drag(x=10, y=10, to_x=100, to_y=80),
    Scroll(x=160, y=100, direction="left", amount=40),
    Swipe(x=100, y=150, to_x=100, to_y=20),
    LongPress(x=30, y=40),
    Type(text="x" * 500),
    Key(keys=("ctrl", "c")),
    Button(name="back"),
    OpenApp(name="Settings"),
    Wait(seconds=1.5),
    Answer(text="42"),
    Terminate(status="failure"),
]


@pytest.mark.parametrize("action", EVERY, ids=lambda a: a.type)
def test_every_action_changes_the_picture(action: Action) -> None:
    image = Image.new("RGB", (320, 200), (240, 240, 240))
    before = image.tobytes()
    out = annotate(image, action)
    assert image.tobytes() == before
    assert out.size == image.size and out.tobytes() != before


def test_a_click_ring_is_centred_on_its_pixel() -> None:
    image = Image.new("RGB", (400, 300), (0, 0, 0))
    out = annotate(image, Click(x=100, y=120))
    target = shapes(Click(x=100, y=120), (400, 300))[0]
    assert isinstance(target, Target)
    red = [
        (x, y)
        for x in range(400)
        for y in range(300)
        if out.getpixel((x, y)) == ACCENT  # type: ignore[comparison-overlap]
    ]
    xs, ys = [p[0] for p in red], [p[1] for p in red]
    assert abs((min(xs) + max(xs)) / 2 - 100) <= 1 and abs((min(ys) + max(ys)) / 2 - 120) <= 1


def test_shapes_name_what_the_action_does() -> None:
    double = shapes(Click(x=1, y=2, count=2, button="right"), (100, 100))
    assert double == [Target(1, 2, "click", 2, "right x2")]
    scroll = shapes(Scroll(x=50, y=50, direction="up", amount=300), (100, 100))
    arrow = scroll[1]
    assert isinstance(arrow, Arrow) and arrow.to_y < arrow.y and arrow.to_x == arrow.x
    assert "300 px" in arrow.label
    caption = shapes(Type(text="a" * 500), (100, 100))[0]
    assert isinstance(caption, Caption) and len(caption.text) < 140 and caption.text.endswith("…”")


def test_svg_overlay_uses_the_screenshot_frame() -> None:
    svg, captions = svg_overlay((1280, 800), [Click(x=7, y=9), Key(keys=("enter",))])
    assert 'viewBox="0 0 1280 800"' in svg
    assert 'cx="7.5" cy="9.5"' in svg and 'data-x="7"' in svg
    assert captions == ["key enter"]
    escaped, _ = svg_overlay((10, 10), [Click(x=1, y=1, button="middle")])
    assert "<script" not in escaped


def test_save_annotated_writes_a_png(tmp_path: Path) -> None:
    image = Image.new("RGB", (64, 48), (255, 255, 255))
    path = save_annotated(tmp_path / "a.png", image, Click(x=3, y=4), Type(text="hi"))
    with Image.open(path) as saved:
        assert saved.format == "PNG" and saved.size == (64, 48)
