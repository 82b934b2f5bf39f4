"""Qwen tool schemas and the tool-call <-> Action mapping, both directions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    Point,
    Scroll,
    Size,
    Swipe,
    Terminate,
    Type,
    Wait,
)
from pixelpilot.errors import ConfigError, OutOfBoundsError, ParseError, UnsupportedActionError
from pixelpilot.model.qwen.tools import (
    CoordinateOutOfBoundsError,
    ToolCallError,
    ToolName,
    action_to_calls,
    call_json,
    call_to_action,
    load_family,
    pointer_after,
    tool_for_platform,
    tool_function,
)

GOLDEN = Path(__file__).parent / "golden" / "qwen25vl_tool_schemas.json"


def test_package_schemas_equal_the_golden_file() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    family = load_family("qwen25vl")
    assert family.coordinate_frame == "resized_absolute"
    for name, spec in golden.items():
        tool = family.tools[name]
        assert tool.description_template == spec["description_template"]
        # Key order matters: the prompt's JSON is rendered from it.
        assert json.dumps(tool.parameters) == json.dumps(spec["parameters"])
        assert tool.actions[-1] == "answer"


def test_unknown_family_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="qwen9"):
        load_family("qwen9")


def test_tool_function_fills_in_the_screen_size() -> None:
    function = tool_function("computer_use", Size(1932, 1092))
    assert function["name"] == "computer_use"
    assert "The screen's resolution is 1932x1092." in function["description"]
    assert "{W}" not in function["description"]


def test_tool_for_platform() -> None:
    assert tool_for_platform("android") == "mobile_use"
    assert tool_for_platform("desktop") == "computer_use"
    assert tool_for_platform("browser") == "computer_use"


POINTER = Point(5, 6)

COMPUTER_CASES: list[tuple[dict[str, Any], Action]] = [
    ({"action": "left_click", "coordinate": [10, 20]}, Click(x=10, y=20)),
    ({"action": "left_click"}, Click(x=5, y=6)),
    ({"action": "right_click", "coordinate": [1, 2]}, Click(x=1, y=2, button="right")),
    ({"action": "middle_click", "coordinate": [1, 2]}, Click(x=1, y=2, button="middle")),
    ({"action": "double_click", "coordinate": [3, 4]}, Click(x=3, y=4, count=2)),
    ({"action": "mouse_move", "coordinate": [7.6, 8.2]}, Move(x=8, y=8)),
    ({"action": "left_click_drag", "coordinate": [30, 40]}, Drag(x=5, y=6, to_x=30, to_y=40)),
    ({"action": "scroll", "pixels": 300}, Scroll(x=5, y=6, direction="up", amount=300)),
    ({"action": "scroll", "pixels": -120}, Scroll(x=5, y=6, direction="down", amount=120)),
    ({"action": "key", "keys": ["Control", "c"]}, Key(keys=("ctrl", "c"))),
    ({"action": "key", "keys": "Return"}, Key(keys=("enter",))),
    ({"action": "type", "text": "héllo\n"}, Type(text="héllo\n")),
    ({"action": "wait", "time": 2}, Wait(seconds=2)),
    ({"action": "terminate", "status": "success"}, Terminate(status="success")),
    ({"action": "answer", "text": "42"}, Answer(text="42")),
]

MOBILE_CASES: list[tuple[dict[str, Any], Action]] = [
    ({"action": "click", "coordinate": [935, 406]}, Click(x=935, y=406)),
    ({"action": "click", "coordinate": "(935, 406)"}, Click(x=935, y=406)),
    (
        {"action": "long_press", "coordinate": [1, 2], "time": 1.5},
        LongPress(x=1, y=2, duration_ms=1500),
    ),
    (
        {"action": "swipe", "coordinate": [1, 2], "coordinate2": [3, 4]},
        Swipe(x=1, y=2, to_x=3, to_y=4),
    ),
    ({"action": "type", "text": "hi"}, Type(text="hi")),
    ({"action": "key", "text": "volume_up"}, Key(keys=("volume_up",))),
    ({"action": "system_button", "button": "Back"}, Button(name="back")),
    ({"action": "system_button", "button": "Enter"}, Button(name="enter")),
    ({"action": "open", "text": "File Manager"}, OpenApp(name="File Manager")),
    ({"action": "wait", "time": 0.5}, Wait(seconds=0.5)),
    ({"action": "terminate", "status": "failure"}, Terminate(status="failure")),
    ({"action": "answer", "text": ""}, Answer(text="")),
]


@pytest.mark.parametrize(("arguments", "expected"), COMPUTER_CASES)
def test_computer_use_calls_map_to_actions(arguments: dict[str, Any], expected: Action) -> None:
    assert call_to_action("computer_use", arguments, pointer=POINTER) == expected


@pytest.mark.parametrize(("arguments", "expected"), MOBILE_CASES)
def test_mobile_use_calls_map_to_actions(arguments: dict[str, Any], expected: Action) -> None:
    assert call_to_action("mobile_use", arguments, pointer=None) == expected


BAD_CALLS: list[tuple[ToolName, dict[str, Any], str]] = [
    ("computer_use", {"action": "click", "coordinate": [1, 2]}, "unknown computer_use action"),
    ("computer_use", {"action": "triple_click", "coordinate": [1, 2]}, "unknown"),
    ("mobile_use", {"action": "left_click", "coordinate": [1, 2]}, "unknown mobile_use"),
    ("computer_use", {"coordinate": [1, 2]}, "needs the argument 'action'"),
    ("computer_use", {"action": "mouse_move"}, "needs the argument 'coordinate'"),
    ("computer_use", {"action": "mouse_move", "coordinate": [1]}, "must be \\[x, y\\]"),
    ("computer_use", {"action": "mouse_move", "coordinate": [True, 2]}, "must be \\[x, y\\]"),
    ("computer_use", {"action": "scroll", "pixels": 0}, "non-zero"),
    ("computer_use", {"action": "scroll", "pixels": "many"}, "must be a number"),
    ("computer_use", {"action": "key", "keys": ["hyperkey"]}, "unknown key name"),
    ("computer_use", {"action": "key", "keys": []}, "key name"),
    ("computer_use", {"action": "type", "text": ""}, "non-empty string"),
    ("computer_use", {"action": "wait", "time": 9999}, "invalid 'wait' call"),
    ("computer_use", {"action": "terminate", "status": "done"}, "success or failure"),
    ("mobile_use", {"action": "long_press", "coordinate": [1, 2]}, "'time'"),
    ("mobile_use", {"action": "long_press", "coordinate": [1, 2], "time": 0}, "positive"),
    ("mobile_use", {"action": "system_button", "button": "Power"}, "Back, Home, Menu or Enter"),
    ("mobile_use", {"action": "swipe", "coordinate": [1, 2]}, "'coordinate2'"),
]


@pytest.mark.parametrize(("tool", "arguments", "message"), BAD_CALLS)
def test_invalid_calls_are_tool_call_errors(
    tool: ToolName, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ToolCallError, match=message) as info:
        call_to_action(tool, arguments, pointer=POINTER)
    assert isinstance(info.value, ParseError)
    assert info.value.kind == "bad_arguments"


@pytest.mark.parametrize("action", ["left_click", "left_click_drag", "scroll"])
def test_pointer_actions_without_a_pointer_are_errors(action: str) -> None:
    arguments = {"action": action, "pixels": 10} if action == "scroll" else {"action": action}
    if action == "left_click_drag":
        arguments["coordinate"] = [1, 1]
    with pytest.raises(ToolCallError, match="pointer"):
        call_to_action("computer_use", arguments, pointer=None)


def test_the_converter_maps_and_can_reject_each_coordinate() -> None:
    seen: list[str] = []

    def convert(point: Point, field: str) -> Point:
        seen.append(field)
        if point.x > 100:
            raise CoordinateOutOfBoundsError(f"{field} out", "")
        return Point(point.x * 2, point.y * 2)

    swipe = {"action": "swipe", "coordinate": [1, 2], "coordinate2": [3, 4]}
    assert call_to_action("mobile_use", swipe, pointer=None, to_screen=convert) == Swipe(
        x=2, y=4, to_x=6, to_y=8
    )
    assert seen == ["coordinate", "coordinate2"]
    with pytest.raises(OutOfBoundsError):
        call_to_action(
            "mobile_use",
            {"action": "click", "coordinate": [101, 2]},
            pointer=None,
            to_screen=convert,
        )


@pytest.mark.parametrize(("arguments", "action"), COMPUTER_CASES)
def test_computer_use_inverse_round_trips(arguments: dict[str, Any], action: Action) -> None:
    calls = action_to_calls("computer_use", action, pointer=POINTER)
    pointer = POINTER
    result: Action | None = None
    for call in calls:
        assert call["name"] == "computer_use"
        result = call_to_action("computer_use", call["arguments"], pointer=pointer)
        pointer = pointer_after([result], pointer) or pointer
    assert result == action


@pytest.mark.parametrize(("arguments", "action"), MOBILE_CASES)
def test_mobile_use_inverse_round_trips(arguments: dict[str, Any], action: Action) -> None:
    (call,) = action_to_calls("mobile_use", action)
    assert call_to_action("mobile_use", call["arguments"], pointer=None) == action


def test_inverse_choices() -> None:
    # A drag away from the pointer (or with it unknown) moves there first.
    drag = Drag(x=1, y=2, to_x=3, to_y=4)
    assert [c["arguments"]["action"] for c in action_to_calls("computer_use", drag)] == [
        "mouse_move",
        "left_click_drag",
    ]
    at_pointer = action_to_calls("computer_use", drag, pointer=Point(1, 2))
    assert [c["arguments"] for c in at_pointer] == [
        {"action": "left_click_drag", "coordinate": [3, 4]}
    ]
    # On a phone, scrolling the content down is a finger moving up.
    (down,) = action_to_calls("mobile_use", Scroll(x=500, y=1500, direction="down", amount=600))
    assert down["arguments"] == {
        "action": "swipe",
        "coordinate": [500, 1500],
        "coordinate2": [500, 900],
    }
    (left,) = action_to_calls("mobile_use", Scroll(x=500, y=100, direction="left", amount=50))
    assert left["arguments"]["coordinate2"] == [550, 100]
    # Whole seconds are written as integers, as the cookbook does.
    (wait,) = action_to_calls("mobile_use", Wait(seconds=2.0))
    assert call_json(wait) == '{"name": "mobile_use", "arguments": {"action": "wait", "time": 2}}'


@pytest.mark.parametrize(
    ("tool", "action"),
    [
        ("computer_use", Swipe(x=1, y=2, to_x=3, to_y=4)),
        ("computer_use", Button(name="back")),
        ("computer_use", OpenApp(name="Files")),
        ("computer_use", Click(x=1, y=2, count=3)),
        ("computer_use", Click(x=1, y=2, button="right", count=2)),
        ("computer_use", Scroll(x=1, y=2, direction="left", amount=5)),
        ("mobile_use", Move(x=1, y=2)),
        ("mobile_use", Click(x=1, y=2, button="right")),
        ("mobile_use", Key(keys=("ctrl", "c"))),
    ],
)
def test_inexpressible_actions_raise(tool: ToolName, action: Action) -> None:
    with pytest.raises(UnsupportedActionError):
        action_to_calls(tool, action)


def test_call_json_keeps_non_ascii_and_default_separators() -> None:
    (call,) = action_to_calls("mobile_use", Type(text="你好"))
    assert (
        call_json(call) == '{"name": "mobile_use", "arguments": {"action": "type", "text": "你好"}}'
    )


def test_pointer_after() -> None:
    actions: list[Action | None] = [
        Click(x=1, y=2),
        None,
        Type(text="x"),
        Drag(x=1, y=2, to_x=9, to_y=8),
    ]
    assert pointer_after(actions) == Point(9, 8)
    assert pointer_after([Type(text="x")], Point(3, 3)) == Point(3, 3)
    assert pointer_after([]) is None


coords = st.integers(min_value=0, max_value=5000)


@given(st.tuples(coords, coords, coords, coords), st.integers(min_value=1, max_value=10_000))
def test_mobile_swipe_and_long_press_round_trip(
    points: tuple[int, int, int, int], duration_ms: int
) -> None:
    x, y, to_x, to_y = points
    for action in (
        Swipe(x=x, y=y, to_x=to_x, to_y=to_y),
        LongPress(x=x, y=y, duration_ms=duration_ms),
    ):
        (call,) = action_to_calls("mobile_use", action)
        decoded = json.loads(call_json(call))
        assert call_to_action("mobile_use", decoded["arguments"], pointer=None) == action
