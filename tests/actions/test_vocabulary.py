"""The action contract: JSON round trips, validation, bounds and key names."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixelpilot.actions import (
    ACTION_TYPES,
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
    Size,
    Swipe,
    Terminate,
    Type,
    Wait,
    action_from_json,
    action_points,
    action_to_json,
    check_bounds,
    describe,
)
from pixelpilot.errors import OutOfBoundsError, ParseError

coord = st.integers(min_value=-5000, max_value=5000)
text = st.text(min_size=1, max_size=40)
key_names = st.sampled_from(["ctrl", "alt", "shift", "super", "enter", "esc", "tab", "a", "f5"])

actions: st.SearchStrategy[Action] = st.one_of(
    st.builds(
        Click,
        x=coord,
        y=coord,
        button=st.sampled_from(["left", "right", "middle"]),
        count=st.integers(1, 3),
    ),
    st.builds(Move, x=coord, y=coord),
    st.builds(Drag, x=coord, y=coord, to_x=coord, to_y=coord),
    st.builds(
        Scroll,
        x=coord,
        y=coord,
        direction=st.sampled_from(["up", "down", "left", "right"]),
        amount=st.integers(1, 10_000),
    ),
    st.builds(Swipe, x=coord, y=coord, to_x=coord, to_y=coord, duration_ms=st.integers(1, 5000)),
    st.builds(LongPress, x=coord, y=coord, duration_ms=st.integers(1, 5000)),
    st.builds(Type, text=text),
    st.builds(Key, keys=st.lists(key_names, min_size=1, max_size=3).map(tuple)),
    st.builds(Button, name=st.sampled_from(["back", "home", "menu", "enter"])),
    st.builds(OpenApp, name=text),
    st.builds(Wait, seconds=st.floats(0, 600, allow_nan=False)),
    st.builds(Answer, text=st.text(max_size=40)),
    st.builds(Terminate, status=st.sampled_from(["success", "failure"])),
)


@given(actions)
def test_json_round_trip(action: Action) -> None:
    encoded = action_to_json(action)
    decoded = action_from_json(encoded)
    assert decoded == action
    assert json.loads(encoded)["type"] == action.type
    assert action_from_json(json.loads(encoded)) == action


@given(actions, st.integers(1, 4000), st.integers(1, 4000))
def test_bounds_error_iff_a_point_is_outside(action: Action, width: int, height: int) -> None:
    size = Size(width, height)
    outside = [p for p in action_points(action) if not (0 <= p.x < width and 0 <= p.y < height)]
    if outside:
        with pytest.raises(OutOfBoundsError, match=f"outside the {width}x{height} screen"):
            check_bounds(action, size)
    else:
        check_bounds(action, size)


def test_on_disk_form_is_the_documented_one() -> None:
    action = action_from_json('{"type": "click", "x": 10, "y": 20}')
    assert action == Click(x=10, y=20, button="left", count=1)
    assert json.loads(action_to_json(action)) == {
        "type": "click",
        "x": 10,
        "y": 20,
        "button": "left",
        "count": 1,
    }


def test_every_type_in_the_vocabulary_is_constructible() -> None:
    assert len(ACTION_TYPES) == 13
    for kind in ACTION_TYPES:
        with pytest.raises(ParseError):
            action_from_json({"type": kind, "unexpected": 1})


@pytest.mark.parametrize(
    "payload, message",
    [
        ('{"type": "click", "x": 1.5, "y": 2}', "x"),
        ('{"type": "click", "x": "10", "y": 2}', "x"),
        ('{"type": "click", "x": 1, "y": 2, "count": 4}', "count"),
        ('{"type": "click", "x": 1, "y": 2, "button": "side"}', "button"),
        ('{"type": "teleport", "x": 1}', "type"),
        ('{"type": "scroll", "x": 1, "y": 2, "direction": "down", "amount": 0}', "amount"),
        ('{"type": "type", "text": ""}', "text"),
        ('{"type": "key", "keys": ["hyperdrive"]}', "unknown key name"),
        ('{"type": "key", "keys": []}', "keys"),
        ('{"type": "terminate", "status": "done"}', "status"),
        ('{"type": "click", "x": 1}', "y"),
        ("not json", "invalid"),
    ],
)
def test_invalid_actions_are_parse_errors_naming_the_field(payload: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        action_from_json(payload)
    assert info.value.raw_text == payload


def test_actions_are_frozen() -> None:
    action = Click(x=1, y=2)
    with pytest.raises(Exception, match="frozen"):
        action.x = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    "given_keys, canonical",
    [
        (["Control", "C"], ("ctrl", "c")),
        (["cmd", "shift", "T"], ("super", "shift", "t")),
        (["Return"], ("enter",)),
        (["Escape"], ("esc",)),
        (["BackSpace"], ("backspace",)),
        (["ArrowUp"], ("up",)),
        (["F5"], ("f5",)),
        (["KEYCODE_VOLUME_UP"], ("volume_up",)),
        ([" "], ("space",)),
        (["é"], ("é",)),
        ("enter", ("enter",)),
    ],
)
def test_key_names_are_normalised_by_one_table(given_keys: object, canonical: tuple[str]) -> None:
    assert Key.model_validate({"keys": given_keys}).keys == canonical


def test_describe_is_short_and_specific() -> None:
    assert describe(Click(x=3, y=4, button="right", count=2)) == "click(3, 4, right, x2)"
    assert describe(Key(keys=("ctrl", "c"))) == "key(ctrl+c)"
    assert describe(Swipe(x=1, y=2, to_x=3, to_y=4)) == "swipe(1, 2 -> 3, 4)"
