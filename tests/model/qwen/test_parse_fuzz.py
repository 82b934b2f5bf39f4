"""Issue 10 §1: a bounded, seeded fuzz of the parser with hostile model outputs of every kind.

Each generated output mixes the faults the issue lists: unusable numbers (NaN, Infinity, 1e400,
huge and 4,301-digit integers, 1e306 times), deep nesting, tags inside JSON strings, prose that
names the tags, several calls in one block (in a row or as an array), cut-off text, full-width
punctuation, wrong tools and unknown actions. The only exception allowed out is ParseError, and
every action returned lies on the screen. Derandomized, so each run checks the same outputs.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixelpilot.actions import Point, Size
from pixelpilot.errors import ParseError
from pixelpilot.model.qwen.parse import parse_output
from pixelpilot.model.qwen.tools import ToolName, load_family

FAMILY = load_family()
SCREENS = [
    (Size(1080, 2400), Size(1092, 2408)),
    (Size(1920, 1080), Size(1932, 1092)),
    (Size(1920, 1080), Size(1316, 728)),
    (Size(1280, 800), Size(1260, 784)),
]

# Raw JSON number literals, many of them outside what Python's json turns into a usable number.
NUMBER_LITERALS = st.one_of(
    st.integers(min_value=-3000, max_value=3000).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e306", "1e-400", "-0"]),
    st.integers(min_value=19, max_value=5000).map(lambda n: "9" * n),
    st.sampled_from(["1" * 4301, "-" + "2" * 4400, "0." + "3" * 500]),
)
TAGGY_TEXT = st.lists(
    st.sampled_from(
        [
            "<tool_call>",
            "</tool_call>",
            "<thinking>",
            "</thinking>",
            "{",
            "}",
            "[",
            "]",
            '"',
            ",",
            ":",
        ]
    )
    | st.text(max_size=8),
    max_size=6,
).map("".join)


def _nested(depth: int, inner: str) -> str:
    return "[" * depth + inner + "]" * depth


@st.composite
def raw_values(draw: st.DrawFn) -> str:
    """One JSON value as raw text: a number literal, a string, a coordinate, or deep nesting."""
    kind = draw(st.sampled_from(["number", "string", "point", "deep", "bool", "object"]))
    if kind == "number":
        return draw(NUMBER_LITERALS)
    if kind == "string":
        return json.dumps(draw(TAGGY_TEXT), ensure_ascii=draw(st.booleans()))
    if kind == "point":
        return f"[{draw(NUMBER_LITERALS)}, {draw(NUMBER_LITERALS)}]"
    if kind == "deep":
        return _nested(draw(st.integers(min_value=1, max_value=1500)), draw(NUMBER_LITERALS))
    if kind == "object":
        return '{"a": ' * draw(st.integers(min_value=1, max_value=1200)) + "1" + "}" * 1200
    return draw(st.sampled_from(["true", "false", "null"]))


GOOD_ARGUMENTS: dict[str, Any] = {
    "time": st.floats(min_value=0.01, max_value=5),
    "pixels": st.sampled_from([-300, 120]),
    "keys": st.just(["ctrl", "c"]),
    "text": TAGGY_TEXT.filter(bool),
    "status": st.sampled_from(["success", "failure"]),
    "button": st.sampled_from(["Back", "Home"]),
}


@st.composite
def good_calls(draw: st.DrawFn, tool: ToolName, resized: Size) -> str:
    """A well-formed call of the offered tool; its coordinates may stray just off the image."""
    action = draw(st.sampled_from(FAMILY.tools[tool].actions))
    arguments: dict[str, Any] = {"action": action}
    for field, values in GOOD_ARGUMENTS.items():
        arguments[field] = draw(values)
    if tool == "mobile_use" and action == "key":
        arguments["text"] = "ENTER"
    for field in ("coordinate", "coordinate2"):
        arguments[field] = [
            draw(st.integers(min_value=-2, max_value=resized.width + 1)),
            draw(st.integers(min_value=-2, max_value=resized.height + 1)),
        ]
    return json.dumps({"name": tool, "arguments": arguments}, ensure_ascii=draw(st.booleans()))


@st.composite
def raw_calls(draw: st.DrawFn, tool: ToolName, resized: Size) -> str:
    """One call as raw JSON text: a good one, or one of the offered tool with hostile fields."""
    if draw(st.booleans()):
        return draw(good_calls(tool, resized))
    spec = FAMILY.tools[tool]
    name = draw(st.sampled_from([tool, tool, tool, "computer_use", "mobile_use", "other"]))
    action = draw(st.sampled_from([*spec.actions, "fly"]))
    fields: dict[str, str] = {"action": json.dumps(action)}
    for field in draw(
        st.lists(
            st.sampled_from(["coordinate", "coordinate2", "time", "pixels", "text", "keys"]),
            max_size=4,
        )
    ):
        if field.startswith("coordinate") and draw(st.booleans()):
            width, height = draw(st.sampled_from([(1092, 2408), (1932, 1092), (1316, 728)]))
            x = draw(st.integers(min_value=-5, max_value=width + 5))
            y = draw(st.integers(min_value=-5, max_value=height + 5))
            fields[field] = f"[{x}, {y}]"
        elif field == "text" and draw(st.booleans()):
            fields[field] = json.dumps(draw(TAGGY_TEXT) or "x")
        else:
            fields[field] = draw(raw_values())
    arguments = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        arguments = json.dumps(arguments)  # arguments as a JSON string
    return f'{{"name": "{name}", "arguments": {arguments}}}'


@st.composite
def outputs(draw: st.DrawFn, tool: ToolName, resized: Size) -> str:
    """A whole model output: prose, tagged blocks holding one or more calls, damage."""
    parts: list[str] = []
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
        parts.append(draw(TAGGY_TEXT))  # prose, possibly naming the tags
        calls = draw(st.lists(raw_calls(tool, resized), min_size=1, max_size=3))
        layout = draw(st.sampled_from(["one", "row", "array", "fence", "bare"]))
        if layout == "array":
            body = "[" + ", ".join(calls) + "]"
        elif layout == "fence":
            body = "\n".join(f"```json\n{c}\n```" for c in calls)
        else:
            body = "\n".join(calls) if layout == "row" else calls[0]
        if layout == "bare":
            parts.append(body)
        else:
            close = draw(st.sampled_from(["\n</tool_call>", "", "</tool_call><|im_end|>"]))
            parts.append(f"<tool_call>\n{body}{close}")
    text = "".join(parts) + draw(TAGGY_TEXT)
    if text and draw(st.integers(min_value=0, max_value=9)) == 0:
        text = text[: draw(st.integers(min_value=0, max_value=len(text)))]  # cut off
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        text = text.translate(str.maketrans(",:{}", "，：｛｝"))
    return text


def _on_screen(action: Any, screen: Size) -> bool:
    points = [(getattr(action, "x", None), getattr(action, "y", None))]
    points.append((getattr(action, "to_x", None), getattr(action, "to_y", None)))
    return all(x is None or y is None or screen.contains(x, y) for x, y in points)


@settings(
    max_examples=600,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data(), st.sampled_from(SCREENS), st.sampled_from(["mobile_use", "computer_use"]))
def test_only_parse_errors_escape_and_every_action_is_on_screen(
    data: st.DataObject, frame: tuple[Size, Size], tool: ToolName
) -> None:
    screen, resized = frame
    text = data.draw(outputs(tool, resized))
    pointer = data.draw(st.none() | st.just(Point(screen.width - 1, screen.height - 1)))
    try:
        parsed = parse_output(text, tool=tool, resized=resized, screen=screen, pointer=pointer)
    except ParseError as exc:
        assert exc.raw_text == text
        assert exc.kind in (  # type: ignore[attr-defined]
            "no_tool_call",
            "bad_json",
            "wrong_tool",
            "bad_arguments",
            "out_of_bounds",
        )
        return
    for action in (parsed.action, *parsed.extra_actions):
        assert _on_screen(action, screen), (action, screen)
