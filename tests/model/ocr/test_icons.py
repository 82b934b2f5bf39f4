"""Close icons for the OCR baseline: crosses found by shape, and the policy clicking them.

The screens are drawn here: crosses of several sizes, strokes and colours (thin lines, a heavy
"✖" as jQuery UI and many sites draw it, a light cross on a dark button) next to shapes that
must not count (a plus, a ring, a filled square and disc, a check mark, a frame, a bar).
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from pixelpilot.actions import Box, Click, Scroll, Terminate
from pixelpilot.model import History, HistoryEntry
from pixelpilot.model.ocr.icons import find_crosses
from pixelpilot.model.ocr.plan import parse_plan
from pixelpilot.model.ocr.policy import OCRPolicy
from pixelpilot.model.ocr.text import TextBox
from tests.model.ocr.support import observe
from tests.model.ocr.support import policy_fixture as policy_fixture_for

Colour = tuple[int, int, int]


def cross(draw: ImageDraw.ImageDraw, cx: int, cy: int, half: int, width: int, fill: Colour) -> Box:
    draw.line((cx - half, cy - half, cx + half, cy + half), fill=fill, width=width)
    draw.line((cx - half, cy + half, cx + half, cy - half), fill=fill, width=width)
    return Box(cx - half - width, cy - half - width, cx + half + width, cy + half + width)


def heavy_cross(draw: ImageDraw.ImageDraw, cx: int, cy: int, half: int) -> Box:
    """A bold ✖: two thick bars with rounded ends, as icon fonts draw it."""
    for sign in (1, -1):
        draw.line(
            (cx - half, cy - sign * half, cx + half, cy + sign * half),
            fill=(60, 60, 60),
            width=half * 2 // 3,
            joint="curve",
        )
    return Box(
        cx - half - half // 2, cy - half - half // 2, cx + half + half // 2, cy + half + half // 2
    )


def distractors(draw: ImageDraw.ImageDraw) -> None:
    ink = (40, 40, 40)
    draw.line((50, 300, 90, 300), fill=ink, width=4)  # plus
    draw.line((70, 280, 70, 320), fill=ink, width=4)
    draw.ellipse((130, 280, 170, 320), outline=ink, width=4)  # ring
    draw.rectangle((210, 280, 240, 310), fill=ink)  # filled square
    draw.ellipse((280, 280, 315, 315), fill=ink)  # disc
    draw.line((350, 300, 362, 314, 390, 282), fill=ink, width=5)  # check mark
    draw.rectangle((420, 280, 460, 320), outline=ink, width=3)  # frame
    draw.line((500, 300, 560, 300), fill=ink, width=6)  # bar


def crosses_screen() -> tuple[Image.Image, list[Box]]:
    image = Image.new("RGB", (640, 400), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    expected = [
        cross(draw, 60, 60, 8, 2, (20, 20, 20)),  # a small thin x
        cross(draw, 160, 60, 14, 4, (90, 90, 90)),  # a mid-grey one
        heavy_cross(draw, 280, 60, 14),
    ]
    draw.rectangle((360, 30, 430, 100), fill=(200, 30, 30))  # a red close button
    expected.append(cross(draw, 395, 65, 16, 5, (255, 255, 255)))
    distractors(draw)
    return image, expected


def centred_in(found: Box, expected: Box) -> bool:
    cx, cy = found.center
    ex, ey = expected.center
    return abs(cx - ex) <= 2 and abs(cy - ey) <= 2


def test_every_cross_and_nothing_else_is_found() -> None:
    image, expected = crosses_screen()
    found = find_crosses(image)
    for box in expected:
        assert any(centred_in(icon.box, box) for icon in found), (box, found)
    strays = [i for i in found if not any(centred_in(i.box, box) for box in expected)]
    assert not strays, strays
    assert all(0.8 <= icon.score <= 1.0 for icon in found)


def test_crosses_inside_text_lines_are_letters() -> None:
    image, _ = crosses_screen()
    line = Box(0, 30, 200, 90)  # as if OCR had read the first two as part of a text line
    found = find_crosses(image, text_boxes=[line])
    assert len(found) == 2
    assert all(not line.contains(*icon.box.center) for icon in found)


def test_shape_only_targets_survive_goal_parsing() -> None:
    assert parse_plan("Click the ×")[0].targets == ("×",)
    assert parse_plan('Press "+" twice')[0].targets[0] == "+"


def dialog(shown: str = "", with_text_button: bool = False) -> tuple[Image.Image, Box]:
    """A page showing an instruction, a dialog with body text and a drawn close cross."""
    font = ImageFont.load_default(size=22)
    image = Image.new("RGB", (640, 480), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 10), shown, fill="black", font=font)
    draw.rectangle((100, 120, 520, 380), outline=(180, 180, 180), width=2)
    draw.rectangle((110, 130, 510, 180), fill=(230, 230, 230))
    draw.rectangle((450, 134, 504, 176), fill=(240, 240, 240), outline=(170, 170, 170))
    icon = heavy_cross(draw, 477, 155, 11)
    draw.text((130, 220), "Vulputate risus commodo", fill=(50, 50, 50), font=font)
    draw.text((130, 260), "sodales extra id.", fill=(50, 50, 50), font=font)
    if with_text_button:
        draw.text((130, 320), "Close", fill="black", font=font)
    return image, icon


policy_fixture = policy_fixture_for(max_scrolls=0)


@pytest.mark.parametrize(
    ("goal", "shown"),
    [
        # The page shows the instruction, whose "x" is a letter to leave alone.
        ('Close the dialog box by clicking the "x".', 'Close the dialog box by clicking the "x".'),
        ("Click the ×", "Click the ×"),
        ("Dismiss the dialog", ""),  # no text matches: a closing verb looks for a cross
    ],
)
def test_the_policy_clicks_the_drawn_cross(policy: OCRPolicy, goal: str, shown: str) -> None:
    image, icon = dialog(shown)
    prediction = policy.predict(observe(image), History(goal=goal))
    assert isinstance(prediction.action, Click), prediction
    assert icon.contains(prediction.action.x, prediction.action.y), prediction


def test_a_close_text_beats_a_cross_for_a_closing_goal(policy: OCRPolicy) -> None:
    goal = "Close the window"
    image, icon = dialog(with_text_button=True)
    prediction = policy.predict(observe(image), History(goal=goal))
    assert isinstance(prediction.action, Click), prediction
    assert not icon.contains(prediction.action.x, prediction.action.y)
    assert 300 <= prediction.action.y <= 350, prediction


def test_a_cross_that_changed_nothing_is_not_clicked_again(policy: OCRPolicy) -> None:
    goal = "Click the ×"
    image, _ = dialog(goal)
    first = policy.predict(observe(image), History(goal=goal))
    entry = HistoryEntry(action=first.action, raw_text=first.raw_text, screenshot=image)
    second = policy.predict(observe(image), History(goal=goal, steps=(entry,)))
    assert isinstance(second.action, Terminate | Scroll) and second.action != first.action


def test_no_cross_is_clicked_for_an_unrelated_goal(policy: OCRPolicy) -> None:
    goal = "Click the Submit button"
    image, icon = dialog(goal)
    prediction = policy.predict(observe(image), History(goal=goal))
    assert not (
        isinstance(prediction.action, Click)
        and icon.contains(prediction.action.x, prediction.action.y)
    ), prediction


@pytest.mark.parametrize("read_as", ["+", "x", "*"])
def test_a_cross_read_as_one_glyph_is_still_the_icon(
    read_as: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OCR sometimes reads a bold cross as "+" or "x": that line must not hide the icon as a
    # letter would, and the click goes to the cross either way.
    image, icon = dialog()
    lines = [TextBox(read_as, icon.scaled(1.2), 0.9), TextBox("Vulputate", Box(130, 220, 330, 245))]
    policy = OCRPolicy()
    monkeypatch.setattr(policy, "read_screen", lambda _image: lines)
    prediction = policy.predict(observe(image), History(goal='Close it by clicking the "x".'))
    assert isinstance(prediction.action, Click), prediction
    assert icon.contains(prediction.action.x, prediction.action.y), prediction
