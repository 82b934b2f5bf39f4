"""The OCR baseline: real RapidOCR on screens the tests draw, and the goal reader.

Screens are drawn with the TrueType font Pillow bundles (`ImageFont.load_default(size=...)`), so
no system font package is needed. Its tight spacing makes the OCR model drop the spaces between
words ("Iaccepttheterms"), which the matcher must survive, as it must on real pages.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from pixelpilot.actions import Box, Click, Key, Scroll, Terminate, Type
from pixelpilot.errors import ConfigError
from pixelpilot.model import History, HistoryEntry, create_policy
from pixelpilot.model.ocr.policy import OCRConfig, OCRPolicy
from pixelpilot.model.ocr.text import Intent, TextBox, match_score, parse_goal, rank
from tests.model.ocr.support import observe
from tests.model.ocr.support import policy_fixture as policy_fixture_for

LABELS = {
    "Sign in": (40, 40),
    "Forgot your password?": (440, 40),
    "I accept the terms": (40, 160),
    "Close ✕": (440, 160),
    "Margaret Hamilton": (40, 280),
    "Email address": (440, 280),
}


def draw_screen(
    labels: dict[str, tuple[int, int]], size: tuple[int, int] = (800, 400)
) -> tuple[Image.Image, dict[str, Box]]:
    """A white screen with each label at its position; returns the labels' ink boxes."""
    font = ImageFont.load_default(size=22)
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    boxes = {}
    for text, (x, y) in labels.items():
        draw.text((x, y), text, fill="black", font=font)
        boxes[text] = Box(*draw.textbbox((x, y), text, font=font))
    # An input field under the email label, as a form would draw it.
    draw.rectangle((440, 315, 740, 350), outline=(120, 120, 120), width=2)
    return image, boxes


policy_fixture = policy_fixture_for(max_scrolls=1)


@pytest.fixture(scope="module")
def screen() -> tuple[Image.Image, dict[str, Box]]:
    return draw_screen(LABELS)


def _inside(action: object, box: Box) -> bool:
    assert isinstance(action, Click), action
    return box.contains(action.x, action.y)


def test_read_screen_finds_every_label(
    policy: OCRPolicy, screen: tuple[Image.Image, dict[str, Box]]
) -> None:
    image, boxes = screen
    found = policy.read_screen(image)
    for label, box in boxes.items():
        hits = [b for b in found if match_score(label, b.text, threshold=0.8) >= 0.8]
        assert hits, f"{label!r} not read; got {[b.text for b in found]}"
        cx, cy = hits[0].box.center
        assert box.scaled(1.5).contains(cx, cy), (label, hits[0])


@pytest.mark.parametrize(
    ("goal", "label"),
    [
        ("Click the “Sign in” button", "Sign in"),
        ("Open the contact details of Margaret Hamilton.", "Margaret Hamilton"),
        ("Close the newsletter pop-up without subscribing.", "Close ✕"),
        ("Accept the terms", "I accept the terms"),
        ("tap forgot your password", "Forgot your password?"),
    ],
)
def test_clicks_land_in_the_right_box(
    policy: OCRPolicy, screen: tuple[Image.Image, dict[str, Box]], goal: str, label: str
) -> None:
    image, boxes = screen
    prediction = policy.predict(observe(image), History(goal=goal))
    assert _inside(prediction.action, boxes[label]), (goal, prediction)


def test_typing_flow(policy: OCRPolicy, screen: tuple[Image.Image, dict[str, Box]]) -> None:
    image, boxes = screen
    goal = "Type “ada@example.org” into the Email address field"
    first = policy.predict(observe(image), History(goal=goal))
    assert _inside(first.action, boxes["Email address"])
    steps = (HistoryEntry(action=first.action, raw_text=first.raw_text, screenshot=image),)
    second = policy.predict(observe(image), History(goal=goal, steps=steps))
    assert second.action == Type(text="ada@example.org")
    steps += (HistoryEntry(action=second.action, raw_text=second.raw_text, screenshot=image),)
    third = policy.predict(observe(image), History(goal=goal, steps=steps))
    assert third.action == Terminate(status="success")


def test_search_flow_presses_enter_without_ocr() -> None:
    # After the field is clicked, the rest of a search needs no OCR: the screen is never read.
    policy = OCRPolicy()

    def read(image: Image.Image) -> list[object]:
        raise AssertionError("the screen was read")

    policy._read = read  # type: ignore[method-assign,assignment]
    image = Image.new("RGB", (200, 100), "white")
    goal = "Search for Grace Hopper"
    click = HistoryEntry(action=Click(x=5, y=5), raw_text='{"ocr": "click", "text": "Search"}')
    typed = policy.predict(observe(image), History(goal=goal, steps=(click,)))
    assert typed.action == Type(text="Grace Hopper")
    entry = HistoryEntry(action=typed.action, raw_text=typed.raw_text)
    submit = policy.predict(observe(image), History(goal=goal, steps=(click, entry)))
    assert submit.action == Key(keys=("enter",))
    done = HistoryEntry(action=submit.action, raw_text=submit.raw_text)
    final = policy.predict(observe(image), History(goal=goal, steps=(click, entry, done)))
    assert final.action == Terminate(status="success")


def test_a_click_that_changed_nothing_tries_the_next_match(
    policy: OCRPolicy, screen: tuple[Image.Image, dict[str, Box]]
) -> None:
    image, _ = screen
    goal = "Accept the terms"
    # Pretend the best line was clicked already and the screen stayed the same.
    clicked = HistoryEntry(
        action=Click(x=90, y=170),
        raw_text='{"ocr": "click", "text": "I accept the terms", "at": [90, 170]}',
        screenshot=image,
    )
    prediction = policy.predict(observe(image), History(goal=goal, steps=(clicked,)))
    # Nothing else on the screen matches: it scrolls to look further.
    assert isinstance(prediction.action, Scroll) and prediction.action.direction == "down"


def test_a_click_that_changed_the_screen_ends_a_click_goal() -> None:
    before = Image.new("RGB", (200, 100), "white")
    after = Image.new("RGB", (200, 100), "black")
    clicked = HistoryEntry(
        action=Click(x=5, y=5), raw_text='{"ocr": "click", "text": "Close"}', screenshot=before
    )
    prediction = OCRPolicy().predict(observe(after), History(goal="Close it", steps=(clicked,)))
    assert prediction.action == Terminate(status="success")


def test_no_match_scrolls_then_terminates_with_failure(
    policy: OCRPolicy, screen: tuple[Image.Image, dict[str, Box]]
) -> None:
    image, _ = screen
    goal = "Click the Download invoice button"
    first = policy.predict(observe(image), History(goal=goal))
    assert isinstance(first.action, Scroll)
    # The scroll changed nothing (the end of the page): give up.
    steps = (HistoryEntry(action=first.action, raw_text=first.raw_text, screenshot=image),)
    second = policy.predict(observe(image), History(goal=goal, steps=steps))
    assert second.action == Terminate(status="failure")
    assert "Download invoice" in second.raw_text


def test_no_scrolls_allowed_terminates_at_once() -> None:
    image, _ = draw_screen({"Nothing to see": (20, 20)}, size=(320, 80))
    policy = OCRPolicy(OCRConfig(max_scrolls=0))
    prediction = policy.predict(observe(image), History(goal="Click Settings"))
    assert prediction.action == Terminate(status="failure")


@pytest.mark.parametrize(
    ("goal", "intent"),
    [
        ("Click the “Sign in” button", Intent("click", ("Sign in",))),
        ("Press the Save button and wait", Intent("click", ("Save",))),
        ("Select Portugal from the list", Intent("click", ("Portugal from the list",))),
        (
            "Accept the terms of service.",
            Intent("click", ("accept terms of service", "terms of service", "accept"), "accept"),
        ),
        (
            "Close the newsletter pop-up without subscribing.",
            Intent("click", ("close newsletter pop-up", "newsletter pop-up", "close"), "close"),
        ),
        ("Type hello world into the Name field", Intent("type", ("Name",), text="hello world")),
        ('Enter "ada" in the username box', Intent("type", ("username",), text="ada")),
        ("Fill in the email field with a@b.c", Intent("type", ("email",), text="a@b.c")),
        ("Search for Grace Hopper", Intent("type", ("search",), text="Grace Hopper", submit=True)),
        ("Subscribe", Intent("click", ("subscribe",), "subscribe")),
        ("Margaret Hamilton", Intent("click", ("Margaret Hamilton",))),
    ],
)
def test_parse_goal(goal: str, intent: Intent) -> None:
    assert parse_goal(goal) == intent


def test_match_levels() -> None:
    assert match_score("Sign in", "Sign in", threshold=0.8) == 1.0
    assert match_score("sign in", "SIGN IN!", threshold=0.8) == 0.97
    assert match_score("I accept the terms", "Iaccepttheterms", threshold=0.8) == 0.97
    assert 0.8 <= match_score("Margaret Hamilton", "Margaret Hamiltan", threshold=0.8) < 0.97
    # Glyphs OCR confuses in short codes.
    assert match_score("CLyI", "CLyl", threshold=0.8) == 0.95
    assert match_score("b2O", "b20", threshold=0.8) == 0.95
    assert match_score("b2O", "b2Q", threshold=0.8) == 0.0
    assert match_score("Save", "Save profile", threshold=0.8) > 0.5
    assert match_score("Settings", "Sign in", threshold=0.8) == 0.0
    # Whole words only, unless OCR dropped every space.
    assert match_score("accept", "3. Acceptable use", threshold=0.8) == 0.0
    assert match_score("accept", "Iaccepttheterms", threshold=0.8) > 0.5


def test_rank_prefers_the_longer_part_of_the_instruction() -> None:
    boxes = [
        TextBox("Contacts", Box(0, 0, 50, 10)),
        TextBox("Margaret Hamilton", Box(0, 50, 50, 60)),
        TextBox("Grace Hopper", Box(0, 100, 50, 110)),
    ]
    intent = parse_goal("Open the contact details of Margaret Hamilton")
    assert [m.box.text for m in rank(boxes, intent, threshold=0.8)] == ["Margaret Hamilton"]


def test_spec_argument_is_rejected() -> None:
    with pytest.raises(ConfigError, match="no argument"):
        create_policy("ocr:fast")
    with pytest.raises(ConfigError, match="threshold"):
        create_policy("ocr", {"threshold": 2})
