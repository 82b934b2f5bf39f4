"""Model output -> Action: every tolerated form, every error kind, and the coordinate round trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixelpilot.actions import (
    Click,
    Drag,
    Move,
    Point,
    Size,
    Type,
    rescale_point,
)
from pixelpilot.errors import OutOfBoundsError, ParseError
from pixelpilot.model.qwen.parse import (
    CoordinateOutOfBoundsError,
    MalformedCallError,
    NoToolCallError,
    ToolCallError,
    WrongToolError,
    extract_calls,
    parse_output,
)
from pixelpilot.model.qwen.prompt import GROUNDING_PREFIX
from pixelpilot.model.qwen.tools import ToolName
from pixelpilot.model.qwen.vision import CHECKPOINT_BUDGET, PixelBudget

PHONE = Size(1080, 2400)
PHONE_MODEL = Size(1092, 2408)
DESKTOP = Size(1920, 1080)
DESKTOP_MODEL = Size(1932, 1092)


def _mobile(text: str) -> object:
    return parse_output(text, tool="mobile_use", resized=PHONE_MODEL, screen=PHONE, pointer=None)


def _desktop(text: str, pointer: Point | None = None) -> object:
    return parse_output(
        text, tool="computer_use", resized=DESKTOP_MODEL, screen=DESKTOP, pointer=pointer
    )


def _tc(arguments: str, name: str = "mobile_use") -> str:
    """A tagged call (no closing tag) with `arguments` as raw JSON text."""
    return f'<tool_call>{{"name": "{name}", "arguments": {arguments}}}'


CLICK = '{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [935, 406]}}'
EXPECTED_CLICK = Click(x=925, y=405)  # floor((v + 0.5) * screen / resized) per axis


@pytest.mark.parametrize(
    "text",
    [
        f"<tool_call>\n{CLICK}\n</tool_call>",
        f"The Files icon is at the top right.\n<tool_call>\n{CLICK}\n</tool_call>",
        f"<tool_call>\n{CLICK}",  # no closing tag
        f"<tool_call>\n{CLICK}\n</tool_call><|im_end|>",
        f"<tool_call>\n{CLICK[:-1]}",  # cut off before the last brace
        f"<tool_call>\n{CLICK[:-2]}\n",  # both braces missing
        f"<tool_call>```json\n{CLICK}\n```</tool_call>",
        f"{CLICK}",  # bare call without tags
        "<tool_call>\n｛“name”： “mobile_use”， “arguments”： ｛“action”： “click”， "
        "“coordinate”： ［935， 406］｝｝\n</tool_call>",
        '<tool_call>{"name": "mobile_use", "arguments": "{\\"action\\": \\"click\\", '
        '\\"coordinate\\": [935, 406]}"}</tool_call>',
        '<tool_call>{"name": "mobile_use", "arguments": {"action": "click", '
        '"coordinate": "(935, 406)"}}</tool_call>',
    ],
)
def test_tolerated_forms(text: str) -> None:
    parsed = _mobile(text)
    assert parsed.action == EXPECTED_CLICK  # type: ignore[attr-defined]
    assert parsed.raw_text == text  # type: ignore[attr-defined]


def test_thought_and_calls_are_kept() -> None:
    text = f"Open it.\n<tool_call>\n{CLICK}\n</tool_call>"
    parsed = _mobile(text)
    assert parsed.thought == "Open it."  # type: ignore[attr-defined]
    assert parsed.calls[0]["arguments"]["coordinate"] == [935, 406]  # type: ignore[attr-defined]


def test_full_width_punctuation_inside_typed_text_survives_valid_json() -> None:
    text = (
        '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "type", '
        '"text": "你好，世界：“引号”"}}\n</tool_call>'
    )
    assert _mobile(text).action == Type(text="你好，世界：“引号”")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "literal, typed",
    [
        ('"你好，世界：［1］ \\"ok\\""', '你好，世界：［1］ "ok"'),
        ('“你好，世界：［1］ "ok"”', '你好，世界：［1］ "ok"'),
    ],
)
def test_full_width_text_survives_when_the_json_structure_is_repaired(
    literal: str, typed: str
) -> None:
    text = (
        "<tool_call>\n｛“name”： “mobile_use”， “arguments”： ｛“action”： “type”， "
        f"“text”： {literal}｝｝\n</tool_call>"
    )
    assert _mobile(text).action == Type(text=typed)  # type: ignore[attr-defined]


def test_several_calls_first_is_the_action_rest_are_extra() -> None:
    move = (
        '{"name": "computer_use", "arguments": {"action": "mouse_move", "coordinate": [100, 100]}}'
    )
    drag = (
        '{"name": "computer_use", "arguments": '
        '{"action": "left_click_drag", "coordinate": [300, 100]}}'
    )
    bad = '{"name": "computer_use", "arguments": {"action": "fly"}}'
    text = f"<tool_call>\n{move}\n</tool_call>\n<tool_call>\n{drag}\n</tool_call>\n<tool_call>{bad}"
    parsed = _desktop(text)
    assert parsed.action == Move(x=99, y=99)  # type: ignore[attr-defined]
    # The drag starts where the first call left the pointer.
    assert parsed.extra_actions == (Drag(x=99, y=99, to_x=298, to_y=99),)  # type: ignore[attr-defined]
    assert len(parsed.extra_errors) == 1 and "fly" in parsed.extra_errors[0]  # type: ignore[attr-defined]


def test_click_without_coordinate_uses_the_pointer_in_screen_pixels() -> None:
    text = '<tool_call>{"name": "computer_use", "arguments": {"action": "left_click"}}</tool_call>'
    assert _desktop(text, pointer=Point(1919, 1079)).action == Click(x=1919, y=1079)  # type: ignore[attr-defined]


def test_grounding_prefix_plus_continuation() -> None:
    text = GROUNDING_PREFIX + "966, 546]}}\n</tool_call>"
    assert _desktop(text).action == Click(x=960, y=540)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "error", "kind"),
    [
        ("I cannot find the button.", NoToolCallError, "no_tool_call"),
        ("", NoToolCallError, "no_tool_call"),
        ('{"action": "click"}', NoToolCallError, "no_tool_call"),
        ("<tool_call>\nclick(935, 406)\n</tool_call>", MalformedCallError, "bad_json"),
        (
            '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "cl',
            MalformedCallError,
            "bad_json",
        ),
        ('<tool_call>{"name": "mobile_use"}</tool_call>', MalformedCallError, "bad_json"),
        (
            '<tool_call>{"arguments": {"action": "click"}}</tool_call>',
            MalformedCallError,
            "bad_json",
        ),
        ('<tool_call>["mobile_use"]</tool_call>', MalformedCallError, "bad_json"),
        (
            '<tool_call>{"name": "mobile_use", "arguments": "{oops"}</tool_call>',
            MalformedCallError,
            "bad_json",
        ),
        (
            '<tool_call>{"name": "mobile_use", "arguments": [1]}</tool_call>',
            MalformedCallError,
            "bad_json",
        ),
        (
            _tc('{"action": "left_click", "coordinate": [1, 2]}', "computer_use"),
            WrongToolError,
            "wrong_tool",
        ),
        (
            _tc('{"action": "tap", "coordinate": [1, 2]}'),
            ToolCallError,
            "bad_arguments",
        ),
        (
            '<tool_call>{"name": "mobile_use", "arguments": {"action": "click"}}',
            ToolCallError,
            "bad_arguments",
        ),
        (
            _tc('{"action": "click", "coordinate": [1092, 10]}'),
            CoordinateOutOfBoundsError,
            "out_of_bounds",
        ),
        (
            _tc('{"action": "click", "coordinate": [10, -1]}'),
            CoordinateOutOfBoundsError,
            "out_of_bounds",
        ),
        (
            _tc('{"action": "swipe", "coordinate": [10, 10], "coordinate2": [10, 2408]}'),
            CoordinateOutOfBoundsError,
            "out_of_bounds",
        ),
    ],
)
def test_each_malformed_kind(text: str, error: type[ParseError], kind: str) -> None:
    with pytest.raises(error) as info:
        _mobile(text)
    assert info.value.raw_text == text
    assert info.value.kind == kind  # type: ignore[attr-defined]
    assert str(info.value)


def test_out_of_bounds_is_also_an_out_of_bounds_error_and_names_the_frame() -> None:
    text = _tc('{"action": "click", "coordinate": [1100, 10]}')
    with pytest.raises(OutOfBoundsError, match="outside the 1092x2408 image"):
        _mobile(text)


def test_extract_calls_reports_bad_later_calls_as_errors() -> None:
    text = f'a\n<tool_call>{CLICK}</tool_call><tool_call>{{"name": oops}}</tool_call>'
    thought, calls = extract_calls(text)
    assert thought == "a"
    assert isinstance(calls[0], dict) and isinstance(calls[1], MalformedCallError)


def test_a_later_tag_without_json_is_prose_not_a_call() -> None:
    thought, calls = extract_calls(f"a\n<tool_call>{CLICK}</tool_call><tool_call>nope</tool_call>")
    assert thought == "a"
    assert len(calls) == 1 and isinstance(calls[0], dict)


sizes = st.builds(
    Size, st.integers(min_value=200, max_value=4000), st.integers(min_value=200, max_value=4000)
)
budgets = st.sampled_from(
    [CHECKPOINT_BUDGET, PixelBudget(3136, 1280 * 28 * 28), PixelBudget(3136, 256 * 28 * 28)]
)


def _click_text(tool: ToolName, x: int, y: int) -> str:
    action = "click" if tool == "mobile_use" else "left_click"
    call = {"name": tool, "arguments": {"action": action, "coordinate": [x, y]}}
    return f"<tool_call>\n{json.dumps(call)}\n</tool_call>"


@settings(max_examples=200, deadline=None)
@given(sizes, budgets, st.data(), st.sampled_from(["mobile_use", "computer_use"]))
def test_coordinate_round_trip(
    screen: Size, budget: PixelBudget, data: st.DataObject, tool: ToolName
) -> None:
    resized = budget.resize(screen)
    mx = data.draw(st.integers(min_value=0, max_value=resized.width - 1))
    my = data.draw(st.integers(min_value=0, max_value=resized.height - 1))
    parsed = parse_output(
        _click_text(tool, mx, my), tool=tool, resized=resized, screen=screen, pointer=None
    )
    action = parsed.action
    assert isinstance(action, Click)
    # Always on the screen, and the screen pixel containing the model pixel's centre.
    assert screen.contains(action.x, action.y)
    assert action.x <= (mx + 0.5) * screen.width / resized.width < action.x + 1
    assert action.y <= (my + 0.5) * screen.height / resized.height < action.y + 1
    # Where the model frame is no larger than the screen, mapping back gives the model's
    # pixel exactly; where it is larger, screen -> model -> screen is exact instead.
    back = rescale_point(action.x, action.y, screen, resized)
    if resized.width <= screen.width:
        assert back.x == mx
    if resized.height <= screen.height:
        assert back.y == my
    sx = data.draw(st.integers(min_value=0, max_value=screen.width - 1))
    sy = data.draw(st.integers(min_value=0, max_value=screen.height - 1))
    model = rescale_point(sx, sy, screen, resized)
    again = parse_output(
        _click_text(tool, model.x, model.y), tool=tool, resized=resized, screen=screen, pointer=None
    ).action
    assert isinstance(again, Click)
    if resized.width >= screen.width:
        assert again.x == sx
    if resized.height >= screen.height:
        assert again.y == sy


@settings(max_examples=100, deadline=None)
@given(
    sizes,
    budgets,
    st.integers(min_value=-50, max_value=50),
    st.integers(min_value=-50, max_value=50),
)
def test_points_off_the_resized_image_are_rejected_never_clamped(
    screen: Size, budget: PixelBudget, dx: int, dy: int
) -> None:
    resized = budget.resize(screen)
    x = -1 - abs(dx) if dx < 0 else resized.width + dx
    y = min(max(dy, 0), resized.height - 1)
    with pytest.raises(CoordinateOutOfBoundsError):
        parse_output(
            _click_text("mobile_use", x, y),
            tool="mobile_use",
            resized=resized,
            screen=screen,
            pointer=None,
        )
