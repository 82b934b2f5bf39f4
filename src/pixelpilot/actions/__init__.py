"""The shared vocabulary of pixelpilot: actions, observations, tasks and pixel geometry.

Environments and policies both import this package and nothing of each other. Here:
`vocabulary` (the Action union), `geometry`, `keys`, `observation` (Observation, Task, Outcome).
Model-specific formats (Qwen's tool calls) live with their model in `pixelpilot.model`.

May import: only the shared modules (`errors`).
"""

from pixelpilot.actions.geometry import (
    Box,
    Point,
    Size,
    rescale_coord,
    rescale_point,
    rescale_point_float,
)
from pixelpilot.actions.keys import CANONICAL_KEYS, MODIFIERS, normalize_key
from pixelpilot.actions.observation import Observation, Outcome, Platform, Task
from pixelpilot.actions.vocabulary import (
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
    Swipe,
    Terminate,
    Type,
    Wait,
    action_from_json,
    action_points,
    action_to_dict,
    action_to_json,
    check_bounds,
    describe,
    map_points,
)

__all__ = [
    "ACTION_TYPES",
    "CANONICAL_KEYS",
    "MODIFIERS",
    "Action",
    "Answer",
    "Box",
    "Button",
    "Click",
    "Drag",
    "Key",
    "LongPress",
    "Move",
    "Observation",
    "OpenApp",
    "Outcome",
    "Platform",
    "Point",
    "Scroll",
    "Size",
    "Swipe",
    "Task",
    "Terminate",
    "Type",
    "Wait",
    "action_from_json",
    "action_points",
    "action_to_dict",
    "action_to_json",
    "check_bounds",
    "describe",
    "map_points",
    "normalize_key",
    "rescale_coord",
    "rescale_point",
    "rescale_point_float",
]
