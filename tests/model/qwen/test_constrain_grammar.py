"""The tool-call grammar: what it accepts and rejects, and that every call it lets through parses
to a valid, in-bounds action (pure Python, no model)."""

from __future__ import annotations

import json
import random

import pytest

from pixelpilot.actions import Point, Size, check_bounds, normalize_key
from pixelpilot.model.qwen.constrain.grammar import ARGUMENTS, ToolCallGrammar, key_names
from pixelpilot.model.qwen.parse import parse_output
from pixelpilot.model.qwen.tools import load_family
from tests.model.qwen.support import tool_call

W, H = 1260, 784
COMPUTER = load_family().tools["computer_use"]
MOBILE = load_family().tools["mobile_use"]


def grammar(tool: str = "computer_use", *, pointer: bool = False, **kw: int) -> ToolCallGrammar:
    spec = load_family().tools[tool]
    return ToolCallGrammar(tool, spec.actions, W, H, pointer_known=pointer, **kw)


def test_every_schema_action_has_arguments_the_schema_names() -> None:
    for tool in (COMPUTER, MOBILE):
        for action in tool.actions:
            assert action in ARGUMENTS[tool.name], (tool.name, action)
            properties = set(tool.parameters["properties"]) - {"action"}
            assert set(ARGUMENTS[tool.name][action]) <= properties, (tool.name, action)


@pytest.mark.parametrize(
    "arguments",
    [
        {"action": "left_click", "coordinate": [W - 1, H - 1]},
        {"action": "left_click", "coordinate": [0, 0]},
        {"action": "double_click", "coordinate": [10, 20]},
        {"action": "mouse_move", "coordinate": [640, 400]},
        {"action": "type", "text": 'héllo "quoted" \\ \n\t 😀 中文'},
        {"action": "key", "keys": ["ctrl", "Return", "a"]},
        {"action": "key", "keys": ["F4"]},
        {"action": "scroll", "coordinate": [5, 6], "pixels": -300},
        {"action": "scroll", "pixels": 120, "coordinate": [5, 6]},
        {"action": "wait", "time": 2.5},
        {"action": "wait", "time": 0},
        {"action": "terminate", "status": "success"},
        {"action": "answer", "text": ""},
    ],
)
def test_accepts_the_calls_a_model_writes(arguments: dict[str, object]) -> None:
    assert grammar().accepts(tool_call("computer_use", **arguments))


@pytest.mark.parametrize(
    "arguments",
    [
        {"action": "click", "coordinate": [1, 2]},
        {"action": "long_press", "coordinate": [1, 2], "time": 0.5},
        {"action": "swipe", "coordinate": [1, 2], "coordinate2": [W - 1, 3]},
        {"action": "type", "text": "x"},
        {"action": "key", "text": "volume_up"},
        {"action": "system_button", "button": "Back"},
        {"action": "open", "text": "File Manager"},
        {"action": "terminate", "status": "failure"},
    ],
)
def test_accepts_mobile_calls(arguments: dict[str, object]) -> None:
    assert grammar("mobile_use").accepts(tool_call("mobile_use", **arguments))


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (tool_call("computer_use", action="left_click", coordinate=[W, 5]), "x == width"),
        (tool_call("computer_use", action="left_click", coordinate=[5, H]), "y == height"),
        (tool_call("computer_use", action="left_click", coordinate=[-1, 5]), "negative"),
        (tool_call("computer_use", action="left_click", coordinate=[1.5, 5]), "float"),
        (tool_call("computer_use", action="click", coordinate=[1, 5]), "mobile action"),
        (tool_call("mobile_use", action="click", coordinate=[1, 5]), "wrong tool"),
        (tool_call("computer_use", action="mouse_move"), "missing coordinate"),
        (tool_call("computer_use", action="left_click"), "no pointer, no coordinate"),
        (tool_call("computer_use", action="left_click_drag", coordinate=[1, 2]), "no pointer"),
        (tool_call("computer_use", action="type", text=""), "empty text"),
        (tool_call("computer_use", action="type", text="a", keys=["a"]), "foreign argument"),
        (tool_call("computer_use", action="key", keys=["notakey"]), "unknown key"),
        (tool_call("computer_use", action="key", keys=[]), "no keys"),
        (tool_call("computer_use", action="scroll", coordinate=[1, 1], pixels=0), "zero scroll"),
        (tool_call("computer_use", action="wait", time=600), "too long"),
        (tool_call("computer_use", action="wait", time=-1), "negative time"),
        (tool_call("computer_use", action="terminate", status="done"), "status enum"),
        (
            '<tool_call>\n{"name": "computer_use", "arguments": {"action":"wait", "time": 1}}\n'
            "</tool_call>",
            "compact separators",
        ),
        (
            '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", '
            '"coordinate": [007, 5]}}\n</tool_call>',
            "leading zeros",
        ),
        (
            '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", '
            '"coordinate": [1, 5], "coordinate": [1, 5]}}\n</tool_call>',
            "duplicate key",
        ),
        (
            '<tool_call>\n{"name": "computer_use", "arguments": {"action": "type", '
            '"text": "\\ud800"}}\n</tool_call>',
            "lone surrogate",
        ),
        ("I will click.<tool_call>\n{}", "free text first"),
    ],
)
def test_rejects(text: str, why: str) -> None:
    assert not grammar().accepts(text), why


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (tool_call("mobile_use", action="long_press", coordinate=[1, 1], time=0), "zero press"),
        (tool_call("mobile_use", action="long_press", coordinate=[1, 1]), "no time"),
        (tool_call("mobile_use", action="swipe", coordinate=[1, 1]), "no coordinate2"),
        (tool_call("mobile_use", action="system_button", button="back"), "button enum"),
        (tool_call("mobile_use", action="key", text="notakey"), "unknown key"),
        (tool_call("mobile_use", action="left_click", coordinate=[1, 1]), "desktop action"),
    ],
)
def test_rejects_mobile(text: str, why: str) -> None:
    assert not grammar("mobile_use").accepts(text), why


def test_pointer_makes_coordinates_optional_and_allows_drags() -> None:
    with_pointer = grammar(pointer=True)
    assert with_pointer.accepts(tool_call("computer_use", action="left_click"))
    assert with_pointer.accepts(tool_call("computer_use", action="scroll", pixels=-5))
    assert with_pointer.accepts(
        tool_call("computer_use", action="left_click_drag", coordinate=[3, 4])
    )


def test_rejects_invalid_utf8_and_overlong_text() -> None:
    g = grammar(max_text_chars=5)
    prefix = '<tool_call>\n{"name": "computer_use", "arguments": {"action": "type", "text": "'
    state = g.advance(g.initial, prefix.encode())
    assert state is not None
    assert g.advance(state, b"\xc0\xaf") is None  # overlong encoding of "/"
    assert g.advance(state, b"\xed\xa0\x80") is None  # UTF-8 surrogate
    assert g.advance(state, "é😀".encode()) is not None
    assert g.advance(state, b"abcde") is not None
    assert g.advance(state, b"abcdef") is None
    assert g.accepts(tool_call("computer_use", action="type", text="abcde"))


def test_key_names_are_all_accepted_by_normalize_key() -> None:
    names = key_names()
    assert {"ctrl", "Return", "enter", "a", "F4", " "} <= set(names)
    for name in names:
        normalize_key(name)


def _random_call(g: ToolCallGrammar, rng: random.Random) -> str:
    """Walk the grammar byte by byte, mostly at random, checking `finish` on the way."""
    state, out = g.initial, b""
    while not g.is_complete(state):
        finish = g.finish(state)
        allowed = [b for b in range(256) if g.step(state, b) is not None]
        assert allowed and finish and finish[0] in allowed, out
        byte = rng.choice(allowed) if rng.random() < 0.85 else finish[0]
        nxt = g.step(state, byte)
        assert nxt is not None
        if byte == finish[0]:  # following the shortest completion shortens it by one byte
            assert len(g.finish(nxt)) == len(finish) - 1, out
        state, out = nxt, out + bytes((byte,))
        assert len(out) < 4000
    assert g.finish(state) == b""
    return out.decode("utf-8")


@pytest.mark.parametrize("tool", ["computer_use", "mobile_use"])
@pytest.mark.parametrize("pointer", [False, True])
def test_every_call_the_grammar_completes_parses_to_an_in_bounds_action(
    tool: str, pointer: bool
) -> None:
    g = grammar(tool, pointer=pointer, max_text_chars=12)
    rng = random.Random(f"{tool}-{pointer}")
    screen = Size(1920, 1200)
    seen = set()
    for _ in range(50):
        text = _random_call(g, rng)
        assert g.accepts(text)
        parsed = parse_output(
            text,
            tool=tool,  # type: ignore[arg-type]
            resized=Size(W, H),
            screen=screen,
            pointer=Point(100, 100) if pointer else None,
        )
        check_bounds(parsed.action, screen)
        seen.add(json.loads(text.split("\n")[1])["arguments"]["action"])
    assert len(seen) >= 5  # the walk reaches many actions, not one


def test_shortest_completion_from_the_start_is_a_valid_call() -> None:
    for tool in ("computer_use", "mobile_use"):
        g = grammar(tool)
        assert g.accepts(g.finish(g.initial).decode())
