"""Issue 10 §1: the parser is total. Each example from the issue, each failing before the fix.

Numbers that break arithmetic, tags inside JSON strings, prose that names the tags, and several
calls in one block: each gives an action or a typed ParseError, never another exception.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pixelpilot.actions import Click, Key, LongPress, Size, Swipe, Type, Wait
from pixelpilot.errors import ParseError
from pixelpilot.model.qwen.jsontext import JsonTextError, decode_at, loads
from pixelpilot.model.qwen.parse import (
    MalformedCallError,
    ParsedOutput,
    ToolCallError,
    parse_output,
)
from pixelpilot.model.qwen.protocol import Turn, prediction_from_reply
from pixelpilot.model.qwen.tools import call_to_action
from tests.model.qwen.chat_server import FakeServer, Reply, completion

PHONE, PHONE_MODEL = Size(1080, 2400), Size(1092, 2408)


def _mobile(text: str) -> ParsedOutput:
    return parse_output(text, tool="mobile_use", resized=PHONE_MODEL, screen=PHONE, pointer=None)


def _call(arguments_json: str) -> str:
    return f'<tool_call>\n{{"name": "mobile_use", "arguments": {arguments_json}}}\n</tool_call>'


HOSTILE_NUMBERS = {
    "nan coordinate": _call('{"action": "click", "coordinate": [NaN, 10]}'),
    "infinite coordinate": _call('{"action": "click", "coordinate": [Infinity, 10]}'),
    "negative infinity": _call('{"action": "click", "coordinate": [-Infinity, 10]}'),
    "1e400 coordinate": _call('{"action": "click", "coordinate": [1e400, 10]}'),
    "1e306 press time": _call('{"action": "long_press", "coordinate": [5, 5], "time": 1e306}'),
    "400-digit wait": _call('{"action": "wait", "time": ' + "9" * 400 + "}"),
    "4301-digit int": _call('{"action": "wait", "time": ' + "1" * 4301 + "}"),
    "4301-digit coordinate": _call('{"action": "click", "coordinate": [' + "7" * 4301 + ", 1]}"),
    "1000 nested arrays": _call(
        '{"action": "click", "coordinate": ' + "[" * 1000 + "]" * 1000 + "}"
    ),
    "1000 nested unclosed": "<tool_call>" + "[" * 1000,
    "nested arguments string": '<tool_call>{"name": "mobile_use", "arguments": "'
    + "[" * 1000
    + '"}',
    "big int in arguments string": '<tool_call>{"name": "mobile_use", "arguments": '
    + json.dumps('{"action": "wait", "time": ' + "5" * 5000 + "}")
    + "}",
    "bare deep object": '{"name": "mobile_use", "arguments": ' + '{"a": ' * 1000 + "1" + "}" * 1001,
}


@pytest.mark.parametrize("text", HOSTILE_NUMBERS.values(), ids=HOSTILE_NUMBERS.keys())
def test_hostile_numbers_and_nesting_are_typed_errors(text: str) -> None:
    with pytest.raises(ParseError) as info:
        _mobile(text)
    assert info.value.raw_text == text
    assert info.value.kind in ("bad_json", "bad_arguments", "no_tool_call")  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", HOSTILE_NUMBERS.values(), ids=HOSTILE_NUMBERS.keys())
def test_hostile_outputs_become_prediction_errors(text: str) -> None:
    turn = Turn(messages=[], tool="mobile_use", screen=PHONE, resized=PHONE_MODEL, pointer=None)
    prediction = prediction_from_reply(text, turn)
    assert prediction.action is None
    assert prediction.error is not None
    assert prediction.error.startswith(("bad_json: ", "bad_arguments: ", "no_tool_call: "))


@pytest.mark.parametrize(
    "arguments",
    [
        {"action": "click", "coordinate": [float("nan"), 1]},
        {"action": "click", "coordinate": [float("inf"), 1]},
        {"action": "click", "coordinate": [10**400, 1]},
        {"action": "long_press", "coordinate": [1, 1], "time": 1e306},
        {"action": "long_press", "coordinate": [1, 1], "time": 10**5000},
        {"action": "wait", "time": 10**400},
        {"action": "wait", "time": "9" * 400},
        {"action": "swipe", "coordinate": [1, 1], "coordinate2": "(1e999, 3)"},
    ],
)
def test_call_to_action_refuses_unusable_numbers_given_directly(arguments: dict[str, Any]) -> None:
    # The same bounds hold for arguments that did not come through the bounded decoder
    # (a server's own tool-call parser, a plugin).
    with pytest.raises(ToolCallError):
        call_to_action("mobile_use", arguments, pointer=None)


def test_large_but_finite_numbers_still_map_to_a_range_error_not_a_crash() -> None:
    with pytest.raises(ToolCallError, match="at most 600"):
        _mobile(_call('{"action": "long_press", "coordinate": [5, 5], "time": 700}'))
    assert _mobile(_call('{"action": "wait", "time": 2.5}')).action == Wait(seconds=2.5)
    assert _mobile(
        _call('{"action": "long_press", "coordinate": [0, 0], "time": 0.0001}')
    ).action == LongPress(x=0, y=0, duration_ms=1)


@pytest.mark.parametrize(
    "text",
    ["wrap the answer in </tool_call> tags", "<tool_call>{}</tool_call> and <tool_call>"],
)
def test_tags_inside_a_json_string_are_text(text: str) -> None:
    output = _call(json.dumps({"action": "type", "text": text}))
    assert _mobile(output).action == Type(text=text)


THINKING = (
    "<thinking>The list continues below. I should scroll, and put the action inside the "
    "<tool_call></tool_call> tags as the format says; a <tool_call> tag needs JSON.</thinking>\n"
    '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "swipe", '
    '"coordinate": [546, 1764], "coordinate2": [546, 1176]}}\n</tool_call>\n'
    "<conclusion>Swiped up to see more.</conclusion>"
)


def test_reasoning_that_names_the_tags_is_prose_and_the_real_call_is_the_action() -> None:
    parsed = _mobile(THINKING)
    assert parsed.action == Swipe(x=540, y=1758, to_x=540, to_y=1172)
    assert parsed.extra_actions == () and parsed.extra_errors == ()
    assert parsed.thought.startswith("<thinking>") and parsed.thought.endswith("</thinking>")


def test_prose_tags_and_no_call_is_still_a_typed_error() -> None:
    with pytest.raises(MalformedCallError):
        _mobile("I would use <tool_call></tool_call> but I do not know where to click.")


CLICK = '{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [935, 406]}}'
ENTER = '{"name": "mobile_use", "arguments": {"action": "key", "text": "ENTER"}}'
BAD = '{"name": "mobile_use", "arguments": {"action": "fly"}}'


@pytest.mark.parametrize(
    "block",
    [
        f"{CLICK}\n{ENTER}",
        f"{CLICK}{ENTER}",
        f"[{CLICK}, {ENTER}]",
        f"```json\n{CLICK}\n```\n```json\n{ENTER}\n```",
    ],
    ids=["two lines", "adjacent", "array", "two fences"],
)
def test_two_calls_in_one_block_keep_the_second(block: str) -> None:
    parsed = _mobile(f"<tool_call>\n{block}\n</tool_call>")
    assert parsed.action == Click(x=925, y=405)
    assert parsed.extra_actions == (Key(keys=("enter",)),)


@pytest.mark.parametrize("block", [f"{CLICK}\n{BAD}", f"[{CLICK}, {BAD}]", f"[{CLICK}, 3]"])
def test_a_bad_second_call_in_one_block_is_an_extra_error(block: str) -> None:
    parsed = _mobile(f"<tool_call>\n{block}\n</tool_call>")
    assert parsed.action == Click(x=925, y=405)
    assert parsed.extra_actions == () and len(parsed.extra_errors) == 1


@pytest.mark.parametrize(
    "literal",
    ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" * 19, "-" + "1" * 19],
)
def test_bounded_decoder_refuses_each_unusable_number(literal: str) -> None:
    with pytest.raises(JsonTextError):
        loads(f"[{literal}]")


def test_bounded_decoder_keeps_ordinary_values_and_reports_where_it_stopped() -> None:
    assert loads(' {"a": [1, -2.5, 1e300, "x"], "b": null} ') == {
        "a": [1, -2.5, 1e300, "x"],
        "b": None,
    }
    assert loads("9" * 18) == int("9" * 18)
    assert decode_at('xx{"a": "]}"} tail', 2) == ({"a": "]}"}, 13)
    assert loads("[" * 32 + "]" * 32) is not None
    with pytest.raises(JsonTextError, match="nesting"):
        loads("[" * 33 + "]" * 33)


def test_openai_server_tool_calls_with_hostile_arguments_are_prediction_errors(
    server: FakeServer,
) -> None:
    from tests.model.qwen.test_openai_backend import HISTORY, _phone, _policy

    arguments = '{"action": "wait", "time": ' + "7" * 5000 + "}"
    call = {
        "id": "c",
        "type": "function",
        "function": {"name": "mobile_use", "arguments": arguments},
    }
    server.replies.append(Reply(body=completion(None, [call])))
    prediction = _policy(server).predict(_phone(), HISTORY)
    assert prediction.action is None and prediction.error is not None
    assert prediction.error.startswith("bad_json: ")


@pytest.mark.parametrize("text", HOSTILE_NUMBERS.values(), ids=HOSTILE_NUMBERS.keys())
def test_hostile_replies_over_the_openai_backend_are_prediction_errors(
    server: FakeServer, text: str
) -> None:
    from tests.model.qwen.test_openai_backend import HISTORY, _phone, _policy

    server.replies.append(Reply(body=completion(text)))
    prediction = _policy(server, server_constraint="off").predict(_phone(), HISTORY)
    assert prediction.action is None and prediction.raw_text == text
    assert prediction.error is not None and prediction.error.split(":")[0] in (
        "bad_json",
        "bad_arguments",
        "no_tool_call",
    )
