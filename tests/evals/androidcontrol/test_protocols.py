"""AndroidControl protocols A (distance) and B (box) on hand-made cases, and the scoring
primitives they share. Screen: 1000 x 2000 device pixels."""

from __future__ import annotations

import json

import pytest

from pixelpilot.actions import (
    Action,
    Answer,
    Box,
    Button,
    Click,
    Drag,
    Key,
    LongPress,
    OpenApp,
    Scroll,
    Size,
    Swipe,
    Terminate,
    Type,
    Wait,
)
from pixelpilot.evals.androidcontrol.data import GroundTruth, parse_ground_truth
from pixelpilot.evals.androidcontrol.protocols import score_box, score_distance
from pixelpilot.evals.scoring import (
    content_direction,
    finger_direction,
    normalized_distance,
    text_contains,
    text_match_f1,
    token_f1,
)

SCREEN = Size(1000, 2000)


def gt(action: dict[str, object]) -> GroundTruth:
    return parse_ground_truth(json.dumps(action))


CLICK = gt({"action_type": "click", "x": 500, "y": 1000})
LONG = gt({"action_type": "long_press", "x": 500, "y": 1000})
BUTTON_BOX = (Box(450, 950, 550, 1050),)

# (ground truth, prediction, candidates, A: (type_match, correct), B: (type_match, correct))
CASES: list[
    tuple[
        str,
        GroundTruth,
        Action | None,
        tuple[Box, ...] | None,
        tuple[bool, bool],
        tuple[bool, bool],
    ]
] = [
    ("click exact", CLICK, Click(x=500, y=1000), BUTTON_BOX, (True, True), (True, True)),
    # A: 130/1000 of the width away is within 140; B: outside the 1.2x box and 130 px > 80 px
    ("click near, A only", CLICK, Click(x=630, y=1000), BUTTON_BOX, (True, True), (True, False)),
    ("click in enlarged box", CLICK, Click(x=559, y=1000), BUTTON_BOX, (True, True), (True, True)),
    ("click 1.2x edge", CLICK, Click(x=560, y=1060), BUTTON_BOX, (True, True), (True, True)),
    ("click in radius", CLICK, Click(x=561, y=1000), BUTTON_BOX, (True, True), (True, True)),
    (
        "click past 1.2x and radius",
        CLICK,
        Click(x=581, y=1000),
        BUTTON_BOX,
        (True, True),
        (True, False),
    ),
    ("click far", CLICK, Click(x=900, y=1900), BUTTON_BOX, (True, False), (True, False)),
    ("click, no tree, 80 px", CLICK, Click(x=500, y=1080), None, (True, True), (True, True)),
    ("click, no tree, 81 px", CLICK, Click(x=500, y=1081), None, (True, True), (True, False)),
    (
        "click vs long press",
        CLICK,
        LongPress(x=500, y=1000),
        BUTTON_BOX,
        (False, False),
        (False, False),
    ),
    ("long press", LONG, LongPress(x=500, y=1000), BUTTON_BOX, (True, True), (True, True)),
    ("long press vs click", LONG, Click(x=500, y=1000), BUTTON_BOX, (False, False), (False, False)),
    ("unparsed", CLICK, None, BUTTON_BOX, (False, False), (False, False)),
    (
        "type exact",
        gt({"action_type": "input_text", "text": "Hello World"}),
        Type(text="hello world"),
        None,
        (True, True),
        (True, True),
    ),
    (
        "type F1 0.67 / contained",
        gt({"action_type": "input_text", "text": "pizza near me"}),
        Type(text="pizza near"),
        None,
        (True, True),
        (True, True),
    ),
    (
        "type F1 0.5 / contained",
        gt({"action_type": "input_text", "text": "a b c"}),
        Type(text="a"),
        None,
        (True, False),
        (True, True),
    ),
    (
        "type overlap, not contained",
        gt({"action_type": "input_text", "text": "best pizza"}),
        Type(text="pizza best"),
        None,
        (True, True),
        (True, False),
    ),
    (
        "type wrong",
        gt({"action_type": "input_text", "text": "cats"}),
        Type(text="dogs"),
        None,
        (True, False),
        (True, False),
    ),
    (
        "type blank",
        gt({"action_type": "input_text", "text": "cats"}),
        Type(text="  "),
        None,
        (True, False),
        (True, False),
    ),
    (
        "type vs click",
        gt({"action_type": "input_text", "text": "cats"}),
        Click(x=1, y=1),
        None,
        (False, False),
        (False, False),
    ),
    (
        "open exact",
        gt({"action_type": "open_app", "app_name": "Zoho Mail"}),
        OpenApp(name="zoho mail"),
        None,
        (True, True),
        (True, True),
    ),
    (
        "open F1 0.67",
        gt({"action_type": "open_app", "app_name": "Zoho Mail"}),
        OpenApp(name="Mail"),
        None,
        (True, True),
        (True, True),
    ),
    (
        "open F1 0.5 / contained",
        gt({"action_type": "open_app", "app_name": "Simple Calendar Pro"}),
        OpenApp(name="calendar"),
        None,
        (True, False),
        (True, True),
    ),
    # trap: B accepts a click on the app's icon; A needs the open_app type
    (
        "open by icon click",
        gt({"action_type": "open_app", "app_name": "Mail"}),
        Click(x=500, y=1000),
        BUTTON_BOX,
        (False, False),
        (True, True),
    ),
    (
        "open by click elsewhere",
        gt({"action_type": "open_app", "app_name": "Mail"}),
        Click(x=900, y=100),
        BUTTON_BOX,
        (False, False),
        (True, False),
    ),
    (
        "open by click, no tree",
        gt({"action_type": "open_app", "app_name": "Mail"}),
        Click(x=500, y=1000),
        None,
        (False, False),
        (False, False),
    ),
    (
        "open by click, no icon",
        gt({"action_type": "open_app", "app_name": "Mail"}),
        Click(x=500, y=1000),
        (),
        (False, False),
        (False, False),
    ),
    # trap: scroll down = the finger swipes UP (content convention)
    (
        "scroll down by finger up",
        gt({"action_type": "scroll", "direction": "down"}),
        Swipe(x=500, y=1500, to_x=500, to_y=500),
        None,
        (True, True),
        (True, True),
    ),
    (
        "scroll down by finger down",
        gt({"action_type": "scroll", "direction": "down"}),
        Swipe(x=500, y=500, to_x=500, to_y=1500),
        None,
        (True, False),
        (True, False),
    ),
    (
        "scroll up by finger down",
        gt({"action_type": "scroll", "direction": "up"}),
        Swipe(x=500, y=500, to_x=510, to_y=1500),
        None,
        (True, True),
        (True, True),
    ),
    (
        "scroll left by finger right",
        gt({"action_type": "scroll", "direction": "left"}),
        Swipe(x=100, y=900, to_x=900, to_y=1000),
        None,
        (True, True),
        (True, True),
    ),
    (
        "scroll right by drag left",
        gt({"action_type": "scroll", "direction": "right"}),
        Drag(x=900, y=900, to_x=100, to_y=950),
        None,
        (True, True),
        (True, True),
    ),
    (
        "scroll as Scroll action",
        gt({"action_type": "scroll", "direction": "down"}),
        Scroll(x=500, y=1000, direction="down", amount=300),
        None,
        (True, True),
        (True, True),
    ),
    (
        "scroll, no movement",
        gt({"action_type": "scroll", "direction": "down"}),
        Swipe(x=500, y=500, to_x=500, to_y=500),
        None,
        (True, False),
        (True, False),
    ),
    (
        "back",
        gt({"action_type": "navigate_back"}),
        Button(name="back"),
        None,
        (True, True),
        (True, True),
    ),
    (
        "back vs home",
        gt({"action_type": "navigate_back"}),
        Button(name="home"),
        None,
        (False, False),
        (True, False),
    ),
    (
        "home",
        gt({"action_type": "navigate_home"}),
        Button(name="home"),
        None,
        (True, True),
        (True, True),
    ),
    (
        "home vs enter",
        gt({"action_type": "navigate_home"}),
        Button(name="enter"),
        None,
        (False, False),
        (True, False),
    ),
    (
        "home vs key",
        gt({"action_type": "navigate_home"}),
        Key(keys=("home",)),
        None,
        (False, False),
        (False, False),
    ),
    ("wait", gt({"action_type": "wait"}), Wait(seconds=3), None, (True, True), (True, True)),
    (
        "wait vs terminate",
        gt({"action_type": "wait"}),
        Terminate(status="success"),
        None,
        (False, False),
        (False, False),
    ),
    (
        "wait vs answer",
        gt({"action_type": "wait"}),
        Answer(text="done"),
        None,
        (False, False),
        (False, False),
    ),
]


@pytest.mark.parametrize(
    ("name", "truth", "action", "boxes", "expect_a", "expect_b"), CASES, ids=[c[0] for c in CASES]
)
def test_protocols(
    name: str,
    truth: GroundTruth,
    action: Action | None,
    boxes: tuple[Box, ...] | None,
    expect_a: tuple[bool, bool],
    expect_b: tuple[bool, bool],
) -> None:
    a = score_distance(truth, action, SCREEN)
    b = score_box(truth, action, SCREEN, boxes)
    assert (a.type_match, a.correct) == expect_a
    assert (b.type_match, b.correct) == expect_b


def test_box_protocol_says_where_its_boxes_came_from() -> None:
    assert score_box(CLICK, Click(x=500, y=1000), SCREEN, BUTTON_BOX).box_source == "tree"
    assert score_box(CLICK, Click(x=500, y=1000), SCREEN, None).box_source == "no tree"
    assert score_box(CLICK, Click(x=500, y=1000), SCREEN, ()).box_source == "no box at point"
    assert score_box(gt({"action_type": "wait"}), Wait(seconds=1), SCREEN, None).box_source is None


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        "[1]",
        '{"action_type": "teleport"}',
        '{"action_type": "click", "x": 1}',
        '{"action_type": "click", "x": true, "y": 1}',
        '{"action_type": "scroll", "direction": "sideways"}',
        '{"action_type": "input_text", "text": ""}',
        '{"action_type": "open_app"}',
    ],
)
def test_malformed_ground_truth(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_ground_truth(bad)


def test_text_and_geometry_primitives() -> None:
    assert token_f1("a b", "b a") == 1.0 and token_f1("", "a") == 0.0
    assert token_f1("a a b", "a b b") == pytest.approx(2 / 3)
    assert text_match_f1(" Hello ", "hello") and not text_match_f1("a", "a b c")
    assert text_contains("Mail", "zoho mail") and text_contains("zoho mail app", "Zoho Mail")
    assert not text_contains("", "x") and not text_contains("x", "")
    assert finger_direction(0, 0, 10, 10) == "down"  # a tie counts as vertical
    assert finger_direction(0, 0, -11, 10) == "left" and finger_direction(1, 1, 1, 1) is None
    assert content_direction("up") == "down" and content_direction("left") == "right"
    assert normalized_distance(0, 0, 140, 0, Size(1000, 2000)) == pytest.approx(140)
    assert normalized_distance(0, 0, 0, 280, Size(1000, 2000)) == pytest.approx(140)
