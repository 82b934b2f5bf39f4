"""Action -> Qwen tool calls: the inverse of `pixelpilot.model.qwen.tools.call_to_action`.

Used for the text history (`Step k: {...}; `) and for benchmark ground truth. Choices where the
inverse is not unique: a computer_use Drag or Scroll that starts away from the pointer (or with the
pointer unknown) is a mouse_move followed by the drag or scroll, because computer_use drags and
scrolls act at the pointer; on mobile_use a Scroll becomes a swipe whose finger moves opposite to
the content (direction "down" = content further down = finger from (x, y) to (x, y - amount)),
and a Drag becomes a swipe. Clicks always carry their coordinate. Actions a tool cannot express
raise UnsupportedActionError. Coordinates pass through unchanged: the caller maps frames.

API:
    action_to_calls(tool, action, *, pointer=None) -> list[{"name": tool, "arguments": {...}}]
    pointer_after(actions, start=None) -> Point | None
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
from pixelpilot.errors import UnsupportedActionError
from pixelpilot.model.qwen.schema import ToolName, load_family

_CLICK_NAMES = {
    ("left", 1): "left_click",
    ("right", 1): "right_click",
    ("middle", 1): "middle_click",
    ("left", 2): "double_click",
    ("left", 3): "triple_click",
}


def action_to_calls(
    tool: ToolName, action: Action, *, pointer: Point | None = None
) -> list[dict[str, Any]]:
    """The tool call(s) that perform `action`, coordinates unchanged.

    Usually one call; a computer_use Drag or Scroll that starts away from `pointer` (or with
    the pointer unknown) is a mouse_move followed by the drag or scroll.

    Raises:
        UnsupportedActionError: the tool cannot express the action.
    """
    if tool == "computer_use":
        arguments = _computer_arguments(action, pointer)
    else:
        arguments = [_mobile_arguments(action)]
    return [{"name": tool, "arguments": a} for a in arguments]


def _common_arguments(action: Action) -> dict[str, Any] | None:
    match action:
        case Type():
            return {"action": "type", "text": action.text}
        case Wait():
            return {"action": "wait", "time": _seconds(action.seconds)}
        case Terminate():
            return {"action": "terminate", "status": action.status}
        case Answer():
            return {"action": "answer", "text": action.text}
    return None


def _computer_arguments(action: Action, pointer: Point | None) -> list[dict[str, Any]]:
    common = _common_arguments(action)
    if common is not None:
        return [common]
    match action:
        case Click():
            name = _CLICK_NAMES.get((action.button, action.count))
            if name is None or name not in load_family().tools["computer_use"].actions:
                raise _unsupported("computer_use", action)
            return [{"action": name, "coordinate": [action.x, action.y]}]
        case Move():
            return [{"action": "mouse_move", "coordinate": [action.x, action.y]}]
        case Drag():
            end = {"action": "left_click_drag", "coordinate": [action.to_x, action.to_y]}
            return [*_move_to(action.x, action.y, pointer), end]
        case Scroll() if action.direction in ("up", "down"):
            pixels = action.amount if action.direction == "up" else -action.amount
            return [*_move_to(action.x, action.y, pointer), {"action": "scroll", "pixels": pixels}]
        case Key():
            return [{"action": "key", "keys": list(action.keys)}]
    raise _unsupported("computer_use", action)


def _move_to(x: int, y: int, pointer: Point | None) -> list[dict[str, Any]]:
    if pointer == Point(x, y):
        return []
    return [{"action": "mouse_move", "coordinate": [x, y]}]


def _mobile_arguments(action: Action) -> dict[str, Any]:
    common = _common_arguments(action)
    if common is not None:
        return common
    match action:
        case Click() if action.button == "left" and action.count == 1:
            return {"action": "click", "coordinate": [action.x, action.y]}
        case LongPress():
            time = _seconds(action.duration_ms / 1000)
            return {"action": "long_press", "coordinate": [action.x, action.y], "time": time}
        case Swipe() | Drag():
            return _swipe(action.x, action.y, action.to_x, action.to_y)
        case Scroll():
            dx, dy = {"down": (0, -1), "up": (0, 1), "right": (-1, 0), "left": (1, 0)}[
                action.direction
            ]
            return _swipe(
                action.x, action.y, action.x + dx * action.amount, action.y + dy * action.amount
            )
        case Key() if len(action.keys) == 1:
            return {"action": "key", "text": action.keys[0]}
        case Button():
            return {"action": "system_button", "button": action.name.capitalize()}
        case OpenApp():
            return {"action": "open", "text": action.name}
    raise _unsupported("mobile_use", action)


def _swipe(x: int, y: int, to_x: int, to_y: int) -> dict[str, Any]:
    return {"action": "swipe", "coordinate": [x, y], "coordinate2": [to_x, to_y]}


def _seconds(value: float) -> int | float:
    """Whole seconds as an int (the cookbook writes `"time": 2`), else the float."""
    return int(value) if float(value).is_integer() else value


def _unsupported(tool: str, action: Action) -> UnsupportedActionError:
    return UnsupportedActionError(f"{tool} cannot express {action.model_dump_json()}")


def pointer_after(actions: Iterable[Action | None], start: Point | None = None) -> Point | None:
    """Where a desktop pointer rests after `actions` (None entries did not run)."""
    pointer = start
    for action in actions:
        match action:
            case Click() | Move() | Scroll() | LongPress():
                pointer = Point(action.x, action.y)
            case Drag() | Swipe():
                pointer = Point(action.to_x, action.to_y)
            case _:
                pass
    return pointer
