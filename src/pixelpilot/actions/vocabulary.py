"""The Action union: every action an agent can take, as frozen pydantic models tagged by `type`.

All coordinates are integer pixels in the frame of the screenshot the action was decided on.
The on-disk form everywhere is the JSON object, e.g. {"type": "click", "x": 10, "y": 20}.
Dispatch on actions with `match` and close with `assert_never`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, assert_never

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from pixelpilot.actions.geometry import Point, Size
from pixelpilot.actions.keys import normalize_key
from pixelpilot.errors import OutOfBoundsError, ParseError, explain_validation

Coord = Annotated[int, Field(strict=True, description="pixels in the screenshot frame")]


class _ActionBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Click(_ActionBase):
    """Press and release a mouse button (or tap) `count` times at (x, y)."""

    type: Literal["click"] = "click"
    x: Coord
    y: Coord
    button: Literal["left", "right", "middle"] = "left"
    count: int = Field(1, ge=1, le=3, description="1 = single, 2 = double, 3 = triple click")


class Move(_ActionBase):
    """Move the pointer to (x, y) without pressing anything (hover)."""

    type: Literal["move"] = "move"
    x: Coord
    y: Coord


class Drag(_ActionBase):
    """Press the left button at (x, y), move to (to_x, to_y), release."""

    type: Literal["drag"] = "drag"
    x: Coord
    y: Coord
    to_x: Coord
    to_y: Coord


class Scroll(_ActionBase):
    """Scroll the view under (x, y) by `amount` pixels.

    `direction` is where the view moves: "down" shows content further down (a mouse wheel
    turned toward you; a finger swiping up).
    """

    type: Literal["scroll"] = "scroll"
    x: Coord
    y: Coord
    direction: Literal["up", "down", "left", "right"]
    amount: int = Field(gt=0, description="pixels")


class Swipe(_ActionBase):
    """A finger gesture from (x, y) to (to_x, to_y) lasting `duration_ms` milliseconds."""

    type: Literal["swipe"] = "swipe"
    x: Coord
    y: Coord
    to_x: Coord
    to_y: Coord
    duration_ms: int = Field(300, gt=0, description="milliseconds")


class LongPress(_ActionBase):
    """Touch and hold (x, y) for `duration_ms` milliseconds."""

    type: Literal["long_press"] = "long_press"
    x: Coord
    y: Coord
    duration_ms: int = Field(1000, gt=0, description="milliseconds")


class Type(_ActionBase):
    """Type `text` (any Unicode, newlines included) into the focused element."""

    type: Literal["type"] = "type"
    text: str = Field(min_length=1)


class Key(_ActionBase):
    """Press `keys` in order and release them in reverse (a chord such as ["ctrl", "c"]).

    Names are normalised by `pixelpilot.actions.keys.normalize_key` ("Control" -> "ctrl").
    """

    type: Literal["key"] = "key"
    keys: tuple[str, ...] = Field(min_length=1)

    @field_validator("keys", mode="before")
    @classmethod
    def _normalize(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            return tuple(normalize_key(k) if isinstance(k, str) else k for k in value)
        return value


class Button(_ActionBase):
    """Press a device button."""

    type: Literal["button"] = "button"
    name: Literal["back", "home", "menu", "enter"]


class OpenApp(_ActionBase):
    """Open an application by name (Android), or navigate to an allowed URL (browser)."""

    type: Literal["open_app"] = "open_app"
    name: str = Field(min_length=1)


class Wait(_ActionBase):
    """Do nothing for `seconds` seconds and look again."""

    type: Literal["wait"] = "wait"
    seconds: float = Field(ge=0, le=600, description="seconds")


class Answer(_ActionBase):
    """Reply to a question task; ends the episode with status `answered`."""

    type: Literal["answer"] = "answer"
    text: str


class Terminate(_ActionBase):
    """End the episode, reporting whether the policy believes the task succeeded."""

    type: Literal["terminate"] = "terminate"
    status: Literal["success", "failure"]


Action = Annotated[
    Click
    | Move
    | Drag
    | Scroll
    | Swipe
    | LongPress
    | Type
    | Key
    | Button
    | OpenApp
    | Wait
    | Answer
    | Terminate,
    Field(discriminator="type"),
]

ACTION_TYPES: tuple[str, ...] = (
    "click",
    "move",
    "drag",
    "scroll",
    "swipe",
    "long_press",
    "type",
    "key",
    "button",
    "open_app",
    "wait",
    "answer",
    "terminate",
)

_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)


def action_from_json(data: str | bytes | dict[str, Any]) -> Action:
    """Validate a JSON text or an already-decoded object into an Action.

    Raises:
        ParseError: the input is not a valid action; the message names what was wrong.
    """
    try:
        if isinstance(data, dict):
            return _ADAPTER.validate_python(data)
        return _ADAPTER.validate_json(data)
    except ValidationError as exc:
        raw = data if isinstance(data, str) else repr(data)
        raise ParseError(f"invalid action: {explain_validation(exc)}", raw) from exc


def action_to_json(action: Action) -> str:
    """The compact on-disk JSON form of an action."""
    return action.model_dump_json()


def action_to_dict(action: Action) -> dict[str, Any]:
    return action.model_dump(mode="json")


def action_points(action: Action) -> Iterator[Point]:
    """Every screen point an action touches, in the order it touches them."""
    match action:
        case Click() | Move() | Scroll() | LongPress():
            yield Point(action.x, action.y)
        case Drag() | Swipe():
            yield Point(action.x, action.y)
            yield Point(action.to_x, action.to_y)
        case _:
            return


def check_bounds(action: Action, size: Size) -> None:
    """Raise OutOfBoundsError if any point of `action` lies outside a `size` screen."""
    for point in action_points(action):
        if not size.contains(point.x, point.y):
            raise OutOfBoundsError(
                f"{action.type} at ({point.x}, {point.y}) is outside the {size} screen "
                f"(x must be 0..{size.width - 1}, y 0..{size.height - 1})"
            )


def map_points(action: Action, fn: Callable[[int, int], tuple[int, int]]) -> Action:
    """Return `action` with every point replaced by `fn(x, y) -> (x, y)` (other fields kept)."""
    match action:
        case Click() | Move() | Scroll() | LongPress():
            x, y = fn(action.x, action.y)
            return action.model_copy(update={"x": x, "y": y})
        case Drag() | Swipe():
            x, y = fn(action.x, action.y)
            to_x, to_y = fn(action.to_x, action.to_y)
            return action.model_copy(update={"x": x, "y": y, "to_x": to_x, "to_y": to_y})
        case _:
            return action


def describe(action: Action) -> str:
    """A short human-readable form for console lines, e.g. `click(640, 400)`."""
    match action:
        case Click():
            extra = "" if action.button == "left" else f", {action.button}"
            extra += "" if action.count == 1 else f", x{action.count}"
            return f"click({action.x}, {action.y}{extra})"
        case Move():
            return f"move({action.x}, {action.y})"
        case Drag() | Swipe():
            return f"{action.type}({action.x}, {action.y} -> {action.to_x}, {action.to_y})"
        case Scroll():
            return f"scroll({action.x}, {action.y}, {action.direction} {action.amount}px)"
        case LongPress():
            return f"long_press({action.x}, {action.y}, {action.duration_ms}ms)"
        case Type():
            return f"type({action.text!r})"
        case Key():
            return f"key({'+'.join(action.keys)})"
        case Button():
            return f"button({action.name})"
        case OpenApp():
            return f"open_app({action.name!r})"
        case Wait():
            return f"wait({action.seconds:g}s)"
        case Answer():
            return f"answer({action.text!r})"
        case Terminate():
            return f"terminate({action.status})"
        case _:
            assert_never(action)
