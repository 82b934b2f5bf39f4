"""The OCR baseline on goals with several targets, and on screens that show the goal itself.

Screens are drawn with Pillow's bundled font and read by the real RapidOCR engine, as in
test_ocr.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PIL import Image, ImageDraw, ImageFont

from pixelpilot.actions import Box, Click, Observation, Terminate
from pixelpilot.model import History, HistoryEntry, Prediction
from pixelpilot.model.ocr.plan import parse_plan
from pixelpilot.model.ocr.policy import OCRConfig, OCRPolicy
from pixelpilot.model.ocr.text import TextBox, locate, restating
from tests.model.ocr.test_policy import draw_screen


@pytest.fixture(scope="module")
def policy() -> Iterator[OCRPolicy]:
    created = OCRPolicy(OCRConfig(max_scrolls=0))
    yield created
    created.close()


def _targets(goal: str) -> list[str]:
    return [intent.targets[0] for intent in parse_plan(goal)]


@pytest.mark.parametrize(
    ("goal", "targets"),
    [
        ("Select Alpha and click Submit.", ["Alpha", "Submit"]),
        ("Select A1, B2, C3 and click Submit", ["A1", "B2", "C3", "Submit"]),
        ("Select A1, B2 and C3, then click Submit", ["A1", "B2", "C3", "Submit"]),
        ("click Settings then Privacy", ["Settings", "Privacy"]),
        (
            "Click Settings, then click “Privacy, and security”",
            ["Settings", "Privacy, and security"],
        ),
        ("Select nothing and click Submit.", ["Submit"]),
        ("Click Terms and Conditions", ["Terms and Conditions"]),
        ("Press the Save button and wait", ["Save"]),
        ('Click on the link "Mauris,".', ["Mauris,"]),
        ("Close the newsletter pop-up without subscribing.", ["close newsletter pop-up"]),
        ("Type hello into the Name field and press Enter", ["Name"]),
    ],
)
def test_parse_plan(goal: str, targets: list[str]) -> None:
    assert _targets(goal) == targets


def test_a_joined_label_keeps_its_first_half_as_a_weaker_target() -> None:
    (step,) = parse_plan("Click Terms and Conditions")
    assert step.targets == ("Terms and Conditions", "Terms")


def test_restating_flags_the_instruction_paragraph_only() -> None:
    goal = "Select Alpha, Beta and click Submit."
    boxes = [
        TextBox("Select Alpha, Beta and click", Box(5, 5, 400, 35)),
        TextBox("Submit.", Box(5, 36, 90, 66)),  # the instruction's second line
        TextBox("Alpha", Box(60, 150, 130, 180)),
        TextBox("Submit", Box(60, 300, 160, 330)),
    ]
    assert restating(boxes, goal, "Alpha") == [True, True, False, False]
    assert restating(boxes, goal, "Submit") == [True, True, False, False]
    # A label that says what the goal says is the control, not a copy of the instruction.
    label = [TextBox("I accept the terms of service", Box(5, 5, 300, 30))]
    assert restating(label, "Accept the terms of service", "accept terms of service") == [False]


def test_locate_finds_the_word_and_its_case() -> None:
    span, same_case = locate("Eget", "donec morbi. Eget auctor")
    assert span is not None and same_case
    assert span == pytest.approx((13 / 24, 17 / 24))
    assert locate("eget", "EGET") == (None, False)  # the whole line: its centre is the word
    assert locate("Eget", "ridiculus eget")[1] is False


def _step(prediction: Prediction, image: Image.Image) -> HistoryEntry:
    return HistoryEntry(action=prediction.action, raw_text=prediction.raw_text, screenshot=image)


def _assert_in(prediction: Prediction, box: Box) -> None:
    action = prediction.action
    assert isinstance(action, Click), prediction
    assert box.contains(action.x, action.y), (prediction, box)


def test_clicks_every_target_in_order_and_skips_the_instruction(policy: OCRPolicy) -> None:
    goal = "Select Beta and click Submit."
    labels = {goal: (20, 20), "Alpha": (60, 120), "Beta": (60, 180), "Submit": (60, 300)}
    image, boxes = draw_screen(labels, size=(640, 400))
    first = policy.predict(Observation(screenshot=image, platform="browser"), History(goal=goal))
    _assert_in(first, boxes["Beta"])
    # The option got ticked: the screen changed, so the next target is looked for.
    ticked = image.copy()
    ImageDraw.Draw(ticked).rectangle((30, 185, 48, 203), fill="black")
    steps = (_step(first, image),)
    second = policy.predict(
        Observation(screenshot=ticked, platform="browser"), History(goal=goal, steps=steps)
    )
    _assert_in(second, boxes["Submit"])
    done = Image.new("RGB", image.size, "white")
    steps += (_step(second, ticked),)
    third = policy.predict(
        Observation(screenshot=done, platform="browser"), History(goal=goal, steps=steps)
    )
    assert third.action == Terminate(status="success")


def test_a_click_that_changed_nothing_does_not_advance_the_plan(policy: OCRPolicy) -> None:
    goal = "Select Beta and click Submit."
    labels = {"Beta": (60, 60), "Submit": (60, 200)}
    image, _ = draw_screen(labels, size=(640, 300))
    first = policy.predict(Observation(screenshot=image, platform="browser"), History(goal=goal))
    second = policy.predict(
        Observation(screenshot=image, platform="browser"),
        History(goal=goal, steps=(_step(first, image),)),
    )
    # Still looking for Beta, whose only line was tried: nothing is left to click.
    assert second.action == Terminate(status="failure")
    assert '"step": 0' in second.raw_text and "Beta" in second.raw_text


def test_clicks_the_word_inside_a_sentence(policy: OCRPolicy) -> None:
    goal = 'Click on the link "rhoncus".'
    labels = {goal: (20, 20), "Donec ridiculus eget rhoncus": (20, 200)}
    image, _ = draw_screen(labels, size=(640, 300))
    prediction = policy.predict(
        Observation(screenshot=image, platform="browser"), History(goal=goal)
    )
    action = prediction.action
    assert isinstance(action, Click), prediction
    assert 180 < action.y < 240, prediction  # the sentence, not the instruction
    # The ink of "rhoncus", the last of four words (its line's centre is in "ridiculus").
    font = ImageFont.load_default(size=22)
    start = 20 + font.getlength("Donec ridiculus eget ")
    assert start < action.x < 20 + font.getlength("Donec ridiculus eget rhoncus"), prediction


def test_the_instruction_is_the_last_resort(policy: OCRPolicy) -> None:
    goal = 'Close the dialog box by clicking the "x".'
    image, boxes = draw_screen({goal: (20, 20)}, size=(640, 120))
    prediction = policy.predict(
        Observation(screenshot=image, platform="browser"), History(goal=goal)
    )
    # Nothing but the instruction's own copy of "x" matches: better that than nothing.
    _assert_in(prediction, boxes[goal].scaled(1.2))
