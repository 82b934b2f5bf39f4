"""AndroidControl's two scoring protocols, as separately named scorers.

Protocol A, "distance" (OS-Atlas / UI-TARS): the predicted action, in AndroidControl's own
vocabulary, must have the ground truth's type. click/long_press: correct when the points are
within 140 of each other in 0-1000 per-axis normalized coordinates (14% of the screen).
open_app/input_text: exact match or token F1 > 0.5. scroll: same direction. Others: type only.

Protocol B, "box" (the Qwen team's evaluation as re-published by InfiGUI-R1 / AgentCPM-GUI):
ground truth mapped to mobile_use actions (scroll -> swipe, input_text -> type, open_app ->
open, navigate_back/home -> system_button Back/Home). click/long_press: correct when the point
falls inside a candidate element box enlarged 1.2x about its centre, or within
0.04 * max(W, H) of the true point. type/open: one text contains the other (ignoring case).
swipe: the finger's dominant axis and sign, read in the content convention below, equals the
direction. system_button: names equal ignoring case. wait: type only. An `open` step is also
satisfied by a click on the app's icon (a candidate box labelled with the app name, or within
0.04 * max(W, H) of that box's centre); when no such box is known (no tree, or no box with the
app's name) the click counts as a type mismatch, as in the re-published reference scorer.

Candidate boxes come from the screenshot's accessibility tree (`a11y.boxes_at` and
`a11y.boxes_labelled`); the Qwen team did not publish how they chose theirs. Without a tree
a click is judged by the distance criterion alone, and the report counts those steps.

Scroll convention (see `androidcontrol.data`): directions name where the content moves. A
predicted finger swipe or drag from (x, y) to (x2, y2) counts as the opposite of the finger's
direction (finger up = scroll down); a predicted `Scroll` action is taken as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, assert_never

from pixelpilot.actions import (
    Action,
    Answer,
    Box,
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
)
from pixelpilot.evals.androidcontrol.data import GroundTruth
from pixelpilot.evals.scoring import (
    Direction,
    content_direction,
    finger_direction,
    normalized_distance,
    text_contains,
    text_match_f1,
)

PROTOCOLS = ("distance", "box")
DISTANCE_THRESHOLD = 140.0  # protocol A, in 0-1000 normalized units
BOX_ENLARGE = 1.2  # protocol B
BOX_DISTANCE_FRACTION = 0.04  # protocol B, of max(W, H)
_MOBILE_USE = {
    "click": "click",
    "long_press": "long_press",
    "scroll": "swipe",
    "open_app": "open",
    "input_text": "type",
    "navigate_home": "system_button",
    "navigate_back": "system_button",
    "wait": "wait",
}


@dataclass(frozen=True)
class StepAction:
    """A predicted action reduced to what a protocol compares."""

    type: str
    x: float | None = None
    y: float | None = None
    direction: Direction | None = None
    text: str | None = None


@dataclass(frozen=True)
class Verdict:
    """type_match and correct for one step, plus facts the report counts.

    `box_source` (protocol B, coordinate steps): "tree" when candidate boxes were used,
    "no box at point" when the tree had none there, "no tree" when no tree was available.
    """

    type_match: bool
    correct: bool
    box_source: str | None = None

    def as_details(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type_match": self.type_match}
        if self.box_source is not None:
            out["box_source"] = self.box_source
        return out


def _swipe_direction(x: float, y: float, to_x: float, to_y: float) -> Direction | None:
    finger = finger_direction(x, y, to_x, to_y)
    return content_direction(finger) if finger is not None else None


def android_control_action(action: Action) -> StepAction:
    """A predicted action in AndroidControl's vocabulary (protocol A); other actions keep
    their pixelpilot type name, which matches no ground truth."""
    match action:
        case Click():
            return StepAction("click", action.x, action.y)
        case LongPress():
            return StepAction("long_press", action.x, action.y)
        case Swipe() | Drag():
            return StepAction(
                "scroll", direction=_swipe_direction(action.x, action.y, action.to_x, action.to_y)
            )
        case Scroll():
            return StepAction("scroll", direction=action.direction)
        case Type():
            return StepAction("input_text", text=action.text)
        case OpenApp():
            return StepAction("open_app", text=action.name)
        case Button():
            named = {"back": "navigate_back", "home": "navigate_home"}
            return StepAction(named.get(action.name, f"button:{action.name}"))
        case Wait():
            return StepAction("wait")
        case Move() | Key() | Answer() | Terminate():
            return StepAction(action.type)
        case _:
            assert_never(action)


def mobile_use_action(action: Action) -> StepAction:
    """A predicted action in mobile_use's vocabulary (protocol B)."""
    base = android_control_action(action)
    if isinstance(action, Button):
        return StepAction("system_button", text=action.name)
    return StepAction(
        _MOBILE_USE.get(base.type, base.type), base.x, base.y, base.direction, base.text
    )


def score_distance(gt: GroundTruth, action: Action | None, size: Size) -> Verdict:
    """Protocol A for one step; `size` is the device screen the points are on."""
    if action is None:
        return Verdict(False, False)
    pred = android_control_action(action)
    if pred.type != gt.type:
        return Verdict(False, False)
    if gt.type in ("click", "long_press"):
        assert pred.x is not None and pred.y is not None and gt.x is not None and gt.y is not None
        close = normalized_distance(pred.x, pred.y, gt.x, gt.y, size) <= DISTANCE_THRESHOLD
        return Verdict(True, close)
    if gt.type in ("open_app", "input_text"):
        return Verdict(True, text_match_f1(pred.text or "", gt.text or ""))
    if gt.type == "scroll":
        return Verdict(True, pred.direction == gt.direction)
    return Verdict(True, True)


def _near(x: float, y: float, tx: float, ty: float, size: Size) -> bool:
    return math.hypot(x - tx, y - ty) <= BOX_DISTANCE_FRACTION * max(size.width, size.height)


def _in_boxes(x: float, y: float, boxes: tuple[Box, ...]) -> bool:
    return any(box.scaled(BOX_ENLARGE).contains(x, y) for box in boxes)


def score_box(
    gt: GroundTruth, action: Action | None, size: Size, candidates: tuple[Box, ...] | None
) -> Verdict:
    """Protocol B for one step.

    Args:
        gt: the ground truth.
        action: the prediction in device pixels (None: unparsed).
        size: the device screen.
        candidates: for click/long_press the element boxes at the true point, for open_app
            the boxes labelled with the app name; None when no accessibility tree was read.
    """
    if action is None:
        return Verdict(False, False)
    pred = mobile_use_action(action)
    want = _MOBILE_USE[gt.type]
    if gt.type == "open_app" and pred.type == "click":
        assert pred.x is not None and pred.y is not None
        if not candidates:
            return Verdict(False, False, "no tree" if candidates is None else "no box at point")
        cx, cy = candidates[0].center
        hit = _in_boxes(pred.x, pred.y, candidates) or _near(pred.x, pred.y, cx, cy, size)
        return Verdict(True, hit, "tree")
    if pred.type != want:
        return Verdict(False, False)
    if want in ("click", "long_press"):
        assert pred.x is not None and pred.y is not None and gt.x is not None and gt.y is not None
        source = "no tree" if candidates is None else ("tree" if candidates else "no box at point")
        hit = bool(candidates) and _in_boxes(pred.x, pred.y, candidates or ())
        return Verdict(True, hit or _near(pred.x, pred.y, gt.x, gt.y, size), source)
    if want in ("type", "open"):
        return Verdict(True, text_contains(pred.text or "", gt.text or ""))
    if want == "swipe":
        return Verdict(True, pred.direction == gt.direction)
    if want == "system_button":
        expected = "home" if gt.type == "navigate_home" else "back"
        return Verdict(True, (pred.text or "").strip().lower() == expected)
    return Verdict(True, True)
