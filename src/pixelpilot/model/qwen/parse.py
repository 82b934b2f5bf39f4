"""Qwen model output text -> Action in screenshot pixels, or a typed ParseError.

Every failure is a ParseError subclass carrying the raw text and a `kind` for the step record:
    NoToolCallError       "no_tool_call"   no <tool_call> and no bare call JSON in the text
    MalformedCallError    "bad_json"       the call is not JSON, or not {"name", "arguments"}
    WrongToolError        "wrong_tool"     a call names another tool than the one offered
    ToolCallError         "bad_arguments"  unknown action, missing or invalid argument
    CoordinateOutOfBoundsError "out_of_bounds"  a coordinate outside the resized image

The parser is total: for any text it returns a ParsedOutput or raises one of these, nothing else.
JSON is decoded with bounds (`qwen.jsontext`: no NaN/Infinity, finite floats, integers of at most
18 digits, nesting of at most 32 levels), and the argument readers in `qwen.tools` refuse values
no action can hold. An unexpected ValueError/OverflowError/TypeError/RecursionError is still
turned into MalformedCallError as a last guard.

How calls are found: the JSON value right after each `<tool_call>` (after whitespace and an
optional ```` ```json ```` fence) is decoded where it stands, so a `</tool_call>` or `<tool_call>`
inside a JSON string is text, not a tag. A tag that no JSON follows is prose (a thought that names
the tags), neither a call nor an error. One block may hold several calls, one after the other or
as a JSON array; each is a call like those of separate blocks.

What is tolerated, on purpose: free text (a thought) before the first call; a missing
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

from dataclasses import dataclass
from typing import Any, ClassVar

from pixelpilot.actions import Action, Point, Size, rescale_point
from pixelpilot.errors import ParseError
from pixelpilot.model.qwen.jsontext import JsonTextError, decode_at, loads
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
_JSON_OPENERS = "{[｛"


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


def _json_start(text: str, pos: int) -> int | None:
    """Where a call's JSON starts after an opening tag ending at `pos`, or None when none does."""
    index = _skip_fences(text, pos)
    return index if index < len(text) and text[index] in _JSON_OPENERS else None


def _skip_fences(text: str, pos: int) -> int:
    """The first index from `pos` past whitespace and Markdown fences (``` or ```json)."""
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if not text.startswith("```", pos):
            return pos
        pos += 3
        if text.startswith("json", pos):
            pos += 4


def _decode_value(text: str, pos: int) -> tuple[Any, int]:
    """The JSON value at `text[pos]` and where it ends, trying the repairs the docstring lists.

    The value is decoded where it stands, so a `</tool_call>` inside a JSON string is text. Only
    when that fails is the rest of the block (up to the next closing tag) repaired: full-width
    punctuation outside strings, then up to two missing closing braces.
    """
    try:
        return decode_at(text, pos)
    except JsonTextError as exc:
        first_error = exc
    cut = text.find(CLOSE_TAG, pos)
    end = len(text) if cut < 0 else cut
    body = text[pos:end].rstrip()
    if body.endswith("```"):
        body = body[:-3].rstrip()
    for candidate in (body, _ascii_structure(body)):
        for closing in ("", "}", "}}"):
            try:
                value, _ = decode_at(candidate + closing)
            except JsonTextError:
                continue
            return value, end
    raise MalformedCallError(f"the tool call is not valid JSON: {first_error}", body)


def _as_call(value: Any, segment: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise MalformedCallError('a tool call must be {"name": ..., "arguments": {...}}', segment)
    arguments = value.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = loads(arguments)
        except JsonTextError as exc:
            message = f"the call's arguments string is not JSON: {exc}"
            raise MalformedCallError(message, segment) from None
    if not isinstance(arguments, dict):
        raise MalformedCallError("the call's arguments must be a JSON object", segment)
    return {"name": value["name"], "arguments": arguments}


def _calls_in(value: Any, segment: str) -> list[dict[str, Any] | ParseError]:
    """One decoded block value as calls: an object is one call, an array one call per item."""
    items = value if isinstance(value, list) and value else [value]
    calls: list[dict[str, Any] | ParseError] = []
    for item in items:
        try:
            calls.append(_as_call(item, segment))
        except ParseError as exc:
            calls.append(exc)
    return calls


def _read_block(text: str, pos: int, calls: list[dict[str, Any] | ParseError]) -> int:
    """Decode the call values of one tagged block from `pos`; return where scanning resumes.

    A block may hold several values one after the other (each a call or an array of calls); it
    ends at its closing tag, at text that is not JSON, or at the end of the output.
    """
    while True:
        try:
            value, end = _decode_value(text, pos)
        except MalformedCallError as exc:
            calls.append(exc)
            return pos + 1
        calls.extend(_calls_in(value, text[pos:end]))
        after = _skip_fences(text, end)
        if after < len(text) and text[after] in _JSON_OPENERS:
            pos = after
            continue
        return after + len(CLOSE_TAG) if text.startswith(CLOSE_TAG, after) else after


_BARE_CALL_ATTEMPTS = 200  # `{` positions tried for an untagged call; bounds hostile text


def _bare_call(text: str) -> tuple[int, dict[str, Any]] | None:
    """A call object written without tags (some servers strip them), and where it starts."""
    position = text.find("{")
    for _ in range(_BARE_CALL_ATTEMPTS):
        if position < 0:
            break
        try:
            value, _ = decode_at(text, position)
        except JsonTextError:
            value = None
        if isinstance(value, dict) and "name" in value and "arguments" in value:
            return position, _as_call(value, text)
        position = text.find("{", position + 1)
    return None


def extract_calls(text: str) -> tuple[str, list[dict[str, Any] | ParseError]]:
    """Split an output into its thought and its calls (each a call dict or the ParseError).

    Calls are found by decoding the JSON value right after each `<tool_call>`; a tag that no
    JSON follows is prose (a thought that names the tags), neither a call nor an error.

    Raises:
        NoToolCallError: the text holds no call and no `<tool_call>` tag.
        MalformedCallError: tags, but no JSON after any of them and no untagged call.
    """
    calls: list[dict[str, Any] | ParseError] = []
    thought_end: int | None = None
    position = text.find(OPEN_TAG)
    while position >= 0:
        start = _json_start(text, position + len(OPEN_TAG))
        if start is None:
            position = text.find(OPEN_TAG, position + len(OPEN_TAG))
            continue
        if thought_end is None:
            thought_end = position
        position = text.find(OPEN_TAG, _read_block(text, start, calls))
    if thought_end is not None:
        return text[:thought_end].strip(), calls
    bare = _bare_call(text)
    if bare is not None:
        return text[: bare[0]].strip(), [bare[1]]
    if OPEN_TAG in text:
        raise MalformedCallError("no JSON call follows any <tool_call> tag", text)
    raise NoToolCallError("the output has no <tool_call>", text)


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
    try:
        return _parse(text, tool, resized, screen, pointer, family)
    except ParseError as exc:
        exc.raw_text = text
        raise
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:
        # Last line of defence: every known cause is refused where it arises (jsontext, the
        # argument readers in tools); anything new is still the model's mistake, not a crash.
        raise MalformedCallError(f"unusable output ({type(exc).__name__}: {exc})", text) from exc


def _parse(
    text: str,
    tool: ToolName,
    resized: Size,
    screen: Size,
    pointer: Point | None,
    family: str,
) -> ParsedOutput:
    convert = screen_converter(resized, screen)
    thought, calls = extract_calls(text)
    if not calls:
        raise NoToolCallError("the output has no tool call", text)
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
