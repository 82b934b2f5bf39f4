"""Qwen model output text -> Action in screenshot pixels, or a typed ParseError.

Every failure is a ParseError subclass carrying the raw text and a `kind` for the step record:
    NoToolCallError       "no_tool_call"   no <tool_call> and no bare call JSON in the text
    MalformedCallError    "bad_json"       the call is not JSON, or not {"name", "arguments"}
    WrongToolError        "wrong_tool"     a call names another tool than the one offered
    ToolCallError         "bad_arguments"  unknown action, missing or invalid argument
    CoordinateOutOfBoundsError "out_of_bounds"  a coordinate outside the resized image

What is tolerated, on purpose: free text (a thought) before the first `<tool_call>`; a missing
`</tool_call>`; text after the JSON; up to two missing closing braces at the very end (an output
cut off by the token limit); full-width punctuation (，：“”［］｛｝) when the JSON does not parse
as written (tried second, and only outside string literals, so typed text is never altered);
`arguments` given as a JSON string; a bare `{"name": ..., "arguments": ...}` object without
the tags; several calls (the first is the action, the rest become `extra_actions`, or
`extra_errors` when they do not parse).

Coordinates are pixels of the RESIZED image the model saw. One outside it is an error, never
clamped; inside, it is mapped to screenshot pixels per axis with `rescale_point`.

API:
    parse_output(text, *, tool, resized: Size, screen: Size, pointer: Point | None,
                 family=FAMILY) -> ParsedOutput(action, extra_actions, calls, thought, ...)
    extract_calls(text) -> (thought, [call dict | ParseError, ...])
    screen_converter(resized, screen) -> PointConverter
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from pixelpilot.actions import Action, Point, Size, rescale_point
from pixelpilot.errors import ParseError
from pixelpilot.model.qwen.tools import (
    FAMILY,
    CoordinateOutOfBoundsError,
    PointConverter,
    ToolCallError,
    ToolName,
    call_to_action,
    pointer_after,
)

__all__ = [
    "CoordinateOutOfBoundsError",
    "MalformedCallError",
    "NoToolCallError",
    "ParsedOutput",
    "ToolCallError",
    "WrongToolError",
    "extract_calls",
    "parse_output",
    "screen_converter",
]

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"
_FULL_WIDTH = {"，": ",", "：": ":", "［": "[", "］": "]", "｛": "{", "｝": "}"}
_DECODER = json.JSONDecoder()


class NoToolCallError(ParseError):
    """The output holds no tool call at all."""

    kind: ClassVar[str] = "no_tool_call"


class MalformedCallError(ParseError):
    """A tool call that is not valid JSON or lacks its name or arguments."""

    kind: ClassVar[str] = "bad_json"


class WrongToolError(ParseError):
    """A call to a tool the prompt did not offer."""

    kind: ClassVar[str] = "wrong_tool"


@dataclass(frozen=True)
class ParsedOutput:
    """A parsed model output.

    Attributes:
        action: the first call's action, in screenshot pixels.
        extra_actions: the later calls' actions (recorded, not executed), screenshot pixels.
        calls: every decoded call as the model wrote it (resized-frame coordinates).
        thought: the text before the first call, stripped.
        raw_text: the whole output.
        extra_errors: why later calls were dropped, one message each.
    """

    action: Action
    extra_actions: tuple[Action, ...]
    calls: tuple[dict[str, Any], ...]
    thought: str
    raw_text: str
    extra_errors: tuple[str, ...] = ()


def screen_converter(resized: Size, screen: Size) -> PointConverter:
    """Check a model point against the resized image and map it to screenshot pixels."""

    def convert(point: Point, field: str) -> Point:
        if not resized.contains(point.x, point.y):
            raise CoordinateOutOfBoundsError(
                f"{field} [{point.x}, {point.y}] is outside the {resized} image the model saw "
                f"(x must be 0..{resized.width - 1}, y 0..{resized.height - 1})",
                "",
            )
        return rescale_point(point.x, point.y, resized, screen)

    return convert


def _ascii_structure(body: str) -> str:
    """Full-width JSON punctuation outside string literals made ASCII; strings kept as written.

    A string opened with a full-width quote runs to the matching closing one, so typed text
    such as "你好，世界" keeps its own full-width comma whichever quotes delimit it.
    """
    out: list[str] = []
    closing: str | None = None  # the delimiter that ends the open string literal
    escaped = False
    for char in body:
        if closing is None:
            if char == '"':
                closing = '"'
            elif char == "“":
                closing, char = "”", '"'
            out.append(_FULL_WIDTH.get(char, char))
        elif escaped:
            escaped = False
            out.append(char)
        elif char == "\\":
            escaped = True
            out.append(char)
        elif char == closing:
            closing = None
            out.append('"')
        else:
            out.append('\\"' if char == '"' else char)
    return "".join(out)


def _decode_object(segment: str) -> Any:
    """The first JSON object in `segment`, trying the repairs the module docstring lists."""
    start = segment.find("{")
    if start < 0:
        start = segment.find("｛")
    if start < 0:
        raise MalformedCallError("no JSON object after <tool_call>", segment)
    body = segment[start:].rstrip()
    first_error: json.JSONDecodeError | None = None
    for candidate in (body, _ascii_structure(body)):
        for closing in ("", "}", "}}"):
            try:
                value, _ = _DECODER.raw_decode(candidate + closing)
            except json.JSONDecodeError as exc:
                first_error = first_error or exc
                continue
            return value
    raise MalformedCallError(f"the tool call is not valid JSON: {first_error}", segment)


def _as_call(value: Any, segment: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise MalformedCallError('a tool call must be {"name": ..., "arguments": {...}}', segment)
    arguments = value.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            raise MalformedCallError("the call's arguments string is not JSON", segment) from None
    if not isinstance(arguments, dict):
        raise MalformedCallError("the call's arguments must be a JSON object", segment)
    return {"name": value["name"], "arguments": arguments}


def _bare_call(text: str) -> dict[str, Any] | None:
    """A call object written without tags (some servers strip them)."""
    position = text.find("{")
    while position >= 0:
        try:
            value, _ = _DECODER.raw_decode(text[position:])
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict) and "name" in value and "arguments" in value:
            return _as_call(value, text)
        position = text.find("{", position + 1)
    return None


def extract_calls(text: str) -> tuple[str, list[dict[str, Any] | ParseError]]:
    """Split an output into its thought and its calls (each a call dict or the ParseError).

    Raises:
        NoToolCallError: the text holds no call.
    """
    if OPEN_TAG not in text:
        call = _bare_call(text)
        if call is None:
            raise NoToolCallError("the output has no <tool_call>", text)
        return text[: text.find("{")].strip(), [call]
    thought, *segments = text.split(OPEN_TAG)
    calls: list[dict[str, Any] | ParseError] = []
    for segment in segments:
        body = segment.split(CLOSE_TAG, 1)[0]
        try:
            calls.append(_as_call(_decode_object(body), body))
        except ParseError as exc:
            calls.append(exc)
    return thought.strip(), calls


def parse_output(
    text: str,
    *,
    tool: ToolName,
    resized: Size,
    screen: Size,
    pointer: Point | None,
    family: str = FAMILY,
) -> ParsedOutput:
    """Parse a Qwen output into actions in screenshot pixels.

    Args:
        text: the model's output (with any forced prefix already prepended).
        tool: the tool the prompt offered.
        resized: the size of the image the model saw (its coordinate frame).
        screen: the screenshot's size; actions come back in its pixels.
        pointer: the desktop pointer in screenshot pixels, or None when unknown.

    Raises:
        ParseError: one of the subclasses in the module docstring, with `raw_text` = `text`.
    """
    convert = screen_converter(resized, screen)
    try:
        thought, calls = extract_calls(text)
        actions: list[Action] = []
        decoded: list[dict[str, Any]] = []
        errors: list[str] = []
        for call in calls:
            try:
                if isinstance(call, ParseError):
                    raise call
                action = _call_action(call, tool, pointer, convert, family)
            except ParseError as exc:
                if not actions:
                    raise
                errors.append(str(exc))
                continue
            actions.append(action)
            decoded.append(call)
            pointer = pointer_after([action], pointer)
    except ParseError as exc:
        exc.raw_text = text
        raise
    return ParsedOutput(
        action=actions[0],
        extra_actions=tuple(actions[1:]),
        calls=tuple(decoded),
        thought=thought,
        raw_text=text,
        extra_errors=tuple(errors),
    )


def _call_action(
    call: dict[str, Any],
    tool: ToolName,
    pointer: Point | None,
    convert: PointConverter,
    family: str,
) -> Action:
    if call["name"] != tool:
        raise WrongToolError(
            f"the output calls {call['name']!r} but the only tool offered is {tool!r}", ""
        )
    return call_to_action(
        tool, call["arguments"], pointer=pointer, to_screen=convert, family=family
    )
