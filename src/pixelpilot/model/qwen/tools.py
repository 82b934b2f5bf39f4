"""Qwen2.5-VL's GUI tools (`computer_use`, `mobile_use`) mapped to and from pixelpilot Actions.

The schemas live in `qwen.schema` (package data, one file per family), the Action -> call inverse
in `qwen.encode`; this module decodes model calls and re-exports both, so `qwen.tools`
is the one import.

API:
    call_to_action(tool, arguments, *, pointer, to_screen=None, family=FAMILY) -> Action
    action_to_calls(tool, action, *, pointer=None) -> list[dict]     (see qwen.encode)
    pointer_after(actions, start=None) -> Point | None
    load_family, tool_for_platform, tool_function, call_json, ToolName, FAMILY  (see qwen.schema)
    ToolCallError(ParseError), CoordinateOutOfBoundsError(ToolCallError, OutOfBoundsError)

Model -> Action, computer_use: left/right/middle_click, double_click (and triple_click where the
family's schema lists it) -> Click(button, count) at `coordinate` when given, else at the pointer;
mouse_move -> Move; left_click_drag -> Drag from the pointer to `coordinate`; scroll(pixels,
positive = up) -> Scroll(up/down, amount=|pixels|) at the pointer (or at `coordinate` when the
model adds one); key(keys) -> Key; type -> Type; wait(time s) -> Wait; terminate -> Terminate;
answer -> Answer. mobile_use: click -> Click; long_press(coordinate, time s) ->
LongPress(duration_ms); swipe(coordinate, coordinate2) -> Swipe; type -> Type; key(text) -> Key;
system_button(Back|Home|Menu|Enter) -> Button; open(text) -> OpenApp; wait, terminate, answer.
A coordinate is [x, y] (floats are rounded) or a string holding exactly two numbers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

from pydantic import ValidationError

from pixelpilot.actions.geometry import Point
from pixelpilot.actions.vocabulary import (
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
    Swipe,
    Terminate,
    Type,
    Wait,
)
from pixelpilot.errors import OutOfBoundsError, ParseError, explain_validation
from pixelpilot.model.qwen.encode import action_to_calls, pointer_after
from pixelpilot.model.qwen.schema import (
    FAMILY,
    ToolFamily,
    ToolName,
    ToolSpec,
    call_json,
    load_family,
    tool_for_platform,
    tool_function,
)

__all__ = [
    "FAMILY",
    "CoordinateOutOfBoundsError",
    "PointConverter",
    "ToolCallError",
    "ToolFamily",
    "ToolName",
    "ToolSpec",
    "action_to_calls",
    "call_json",
    "call_to_action",
    "load_family",
    "pointer_after",
    "tool_for_platform",
    "tool_function",
]

# Maps a model-frame point (and the argument's name) to screenshot pixels, checking bounds.
PointConverter = Callable[[Point, str], Point]


class ToolCallError(ParseError):
    """A tool call whose arguments do not make a valid action (the model's mistake)."""

    kind: ClassVar[str] = "bad_arguments"


class CoordinateOutOfBoundsError(ToolCallError, OutOfBoundsError):
    """A coordinate outside the image the model was shown. Never clamped."""

    kind: ClassVar[str] = "out_of_bounds"


_CLICKS: dict[str, tuple[Literal["left", "right", "middle"], int]] = {
    "left_click": ("left", 1),
    "right_click": ("right", 1),
    "middle_click": ("middle", 1),
    "double_click": ("left", 2),
    "triple_click": ("left", 3),
}
_BUTTONS: dict[str, Literal["back", "home", "menu", "enter"]] = {
    "back": "back",
    "home": "home",
    "menu": "menu",
    "enter": "enter",
}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# Bounds on numeric arguments: larger values are the model's mistake, refused as bad arguments
# before any arithmetic can overflow (round(), float(), * 1000).
MAX_MAGNITUDE = 10**9
MAX_SECONDS = 600  # a press or wait longer than this is no GUI action (Wait allows 600 too)


def _identity(point: Point, field: str) -> Point:
    return point


def call_to_action(
    tool: ToolName,
    arguments: Mapping[str, Any],
    *,
    pointer: Point | None,
    to_screen: PointConverter | None = None,
    family: str = FAMILY,
) -> Action:
    """Turn one tool call's arguments into an Action.

    Args:
        tool: which tool the call is for.
        arguments: the call's "arguments" object (with "action").
        pointer: the pointer position in screenshot pixels (computer_use clicks without a
            coordinate, drags and scrolls act there); None when unknown.
        to_screen: maps each coordinate from the model's frame to screenshot pixels and checks
            bounds (raises CoordinateOutOfBoundsError); identity when None.

    Raises:
        ToolCallError: unknown action, missing or invalid argument, no pointer where one is needed.
        CoordinateOutOfBoundsError: from `to_screen`.
    """
    convert = to_screen or _identity
    spec = load_family(family).tools[tool]
    args = _Args(arguments, convert)
    action = args.text("action")
    if action not in spec.actions:
        raise ToolCallError(
            f"unknown {tool} action {action!r}; expected one of: {', '.join(spec.actions)}",
            call_json(dict(arguments)),
        )
    try:
        common = _common_action(action, args)
        if common is not None:
            return common
        if tool == "computer_use":
            return _computer_action(action, args, pointer)
        return _mobile_action(action, args)
    except ValidationError as exc:
        raise args.error(f"invalid {action!r} call: {explain_validation(exc)}") from None


def _common_action(action: str, args: _Args) -> Action | None:
    match action:
        case "type":
            return Type(text=args.text("text"))
        case "wait":
            return Wait(seconds=args.number("time"))
        case "terminate":
            status = args.text("status").lower()
            if status not in ("success", "failure"):
                raise args.error(f"terminate status must be success or failure, got {status!r}")
            return Terminate(status="success" if status == "success" else "failure")
        case "answer":
            return Answer(text=args.text("text", allow_empty=True))
    return None


def _computer_action(action: str, args: _Args, pointer: Point | None) -> Action:
    if action in _CLICKS:
        button, count = _CLICKS[action]
        at = args.point("coordinate") if "coordinate" in args else args.need_pointer(pointer)
        return Click(x=at.x, y=at.y, button=button, count=count)
    match action:
        case "mouse_move":
            at = args.point("coordinate")
            return Move(x=at.x, y=at.y)
        case "left_click_drag":
            start = args.need_pointer(pointer)
            end = args.point("coordinate")
            return Drag(x=start.x, y=start.y, to_x=end.x, to_y=end.y)
        case "scroll":
            pixels = round(args.number("pixels"))
            if pixels == 0:
                raise args.error("scroll needs a non-zero number of pixels")
            at = args.point("coordinate") if "coordinate" in args else args.need_pointer(pointer)
            direction: Literal["up", "down"] = "up" if pixels > 0 else "down"
            return Scroll(x=at.x, y=at.y, direction=direction, amount=abs(pixels))
        case "key":
            return Key(keys=args.keys("keys"))
    raise args.error(f"computer_use action {action!r} has no mapping")


def _mobile_action(action: str, args: _Args) -> Action:
    match action:
        case "click":
            at = args.point("coordinate")
            return Click(x=at.x, y=at.y)
        case "long_press":
            at = args.point("coordinate")
            return LongPress(x=at.x, y=at.y, duration_ms=_positive_ms(args, "time"))
        case "swipe":
            start, end = args.point("coordinate"), args.point("coordinate2")
            return Swipe(x=start.x, y=start.y, to_x=end.x, to_y=end.y)
        case "key":
            return Key(keys=args.keys("text"))
        case "system_button":
            name = args.text("button").strip().lower()
            if name not in _BUTTONS:
                raise args.error(f"system_button must be Back, Home, Menu or Enter, got {name!r}")
            return Button(name=_BUTTONS[name])
        case "open":
            return OpenApp(name=args.text("text"))
    raise args.error(f"mobile_use action {action!r} has no mapping")


def _positive_ms(args: _Args, field: str) -> int:
    seconds = args.number(field)
    if not 0 < seconds <= MAX_SECONDS:
        raise args.error(f"{field} must be a positive number of seconds, at most {MAX_SECONDS}")
    return max(1, round(seconds * 1000))


def _finite(value: float) -> bool:
    """True for a number whose magnitude is at most MAX_MAGNITUDE (never NaN or infinite)."""
    if isinstance(value, int):
        return abs(value) <= MAX_MAGNITUDE  # exact for ints of any size; no float() overflow
    return math.isfinite(value) and abs(value) <= MAX_MAGNITUDE


def _short(value: Any) -> str:
    """A bounded repr for error messages (a hostile value may be huge)."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's int-string conversion limit
        return f"<{type(value).__name__} too large to print>"
    return text if len(text) <= 80 else text[:77] + "..."


class _Args:
    """Typed access to a call's arguments; every failure is a ToolCallError naming the field."""

    def __init__(self, arguments: Mapping[str, Any], convert: PointConverter) -> None:
        if not isinstance(arguments, Mapping):
            raise ToolCallError(f"arguments must be a JSON object, got {_short(arguments)}", "")
        self.arguments = arguments
        self.convert = convert
        try:
            self.raw = json.dumps(dict(arguments), ensure_ascii=False, default=str)
        except (ValueError, RecursionError):  # an unprintable int, or nesting past the limit
            self.raw = "<arguments too large to print>"

    def __contains__(self, field: str) -> bool:
        return self.arguments.get(field) is not None

    def error(self, message: str) -> ToolCallError:
        return ToolCallError(message, self.raw)

    def get(self, field: str) -> Any:
        if field not in self:
            action = self.arguments.get("action", "?")
            raise self.error(f"action {_short(action)} needs the argument {field!r}")
        return self.arguments[field]

    def text(self, field: str, *, allow_empty: bool = False) -> str:
        value = self.get(field)
        if not isinstance(value, str) or (not value and not allow_empty):
            raise self.error(f"{field!r} must be a non-empty string, got {_short(value)}")
        return value

    def number(self, field: str) -> float:
        """A finite number of magnitude at most MAX_MAGNITUDE (a numeric string is accepted)."""
        value = self.get(field)
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = float(value)  # a long digit string becomes inf here: refused below
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"{field!r} must be a number, got {_short(value)}")
        if not _finite(value):
            raise self.error(f"{field!r} must be a finite number of magnitude at most 1e9")
        return float(value)

    def point(self, field: str) -> Point:
        """A coordinate: [x, y] (numbers are rounded), or a string holding exactly two numbers.

        Beyond the image the converter reports it out of bounds; NaN, infinities and numbers
        beyond MAX_MAGNITUDE are bad arguments.
        """
        value = self.get(field)
        if isinstance(value, str):
            value = [float(n) for n in _NUMBER.findall(value)]
        if (
            not isinstance(value, list | tuple)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            raise self.error(f"{field!r} must be [x, y], got {_short(self.arguments[field])}")
        if not all(_finite(v) for v in value):
            raise self.error(f"{field!r} must hold finite numbers, got {_short(value)}")
        return self.convert(Point(round(value[0]), round(value[1])), field)

    def keys(self, field: str) -> tuple[str, ...]:
        value = self.get(field)
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(k, str) for k in names):
            raise self.error(
                f"{field!r} must be a key name or a list of key names, got {_short(value)}"
            )
        try:
            return Key(keys=tuple(names)).keys
        except ValidationError as exc:
            raise self.error(f"{field!r}: {explain_validation(exc)}") from None

    def need_pointer(self, pointer: Point | None) -> Point:
        if pointer is None:
            action = self.arguments.get("action")
            raise self.error(f"{_short(action)} without a coordinate needs the pointer position")
        return pointer
