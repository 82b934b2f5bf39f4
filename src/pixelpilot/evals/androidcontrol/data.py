"""AndroidControl's published data: GZIP TFRecord files of `tf.train.Example`, one per episode.

Features read: `episode_id` (int64), `goal` (bytes), `screenshots` (PNG bytes, repeated),
`screenshot_widths`, `screenshot_heights` (int64), `accessibility_trees` (serialized
AndroidAccessibilityForest, one per screenshot), `actions` (JSON strings, one fewer than
screenshots) and `step_instructions` (one per action). Coordinates are device pixels.

Ground-truth actions: click{x, y}, long_press{x, y}, scroll{direction}, open_app{app_name},
input_text{text}, navigate_home, navigate_back, wait.

Scroll direction convention (used everywhere in pixelpilot's AndroidControl code): a
`direction` names where the CONTENT moves into view, the same meaning as pixelpilot's
`Scroll.direction`. "down" reveals what is further down, which a finger does by swiping UP
(AndroidWorld's executor performs "scroll down" as a swipe from the centre to the top edge).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixelpilot.actions import Action, Button, Click, LongPress, OpenApp, Size, Swipe, Type, Wait
from pixelpilot.evals.androidcontrol.tfrecord import (
    Example,
    RecordError,
    iter_records,
    parse_example,
)
from pixelpilot.evals.scoring import Direction

GT_TYPES = (
    "click",
    "long_press",
    "scroll",
    "open_app",
    "input_text",
    "navigate_home",
    "navigate_back",
    "wait",
)
HISTORY_WAIT_SECONDS = 2.0  # AndroidControl's wait has no duration; the history shows this one


@dataclass(frozen=True)
class GroundTruth:
    """One ground-truth action in AndroidControl's own vocabulary (device pixels)."""

    type: str
    x: int | None = None
    y: int | None = None
    direction: Direction | None = None
    text: str | None = None  # input_text's text, open_app's app_name
    raw: str = ""


def _coordinate(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{data.get('action_type')} needs a numeric '{key}', got {value!r}")
    return round(value)


def parse_ground_truth(text: str) -> GroundTruth:
    """Decode one `actions` entry. Raises ValueError naming what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"action is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"action must be a JSON object, got {text!r}")
    kind = data.get("action_type")
    if kind not in GT_TYPES:
        raise ValueError(f"unknown action_type {kind!r} (known: {', '.join(GT_TYPES)})")
    if kind in ("click", "long_press"):
        return GroundTruth(kind, x=_coordinate(data, "x"), y=_coordinate(data, "y"), raw=text)
    if kind == "scroll":
        direction = data.get("direction")
        if direction not in ("up", "down", "left", "right"):
            raise ValueError(f"scroll needs a direction up/down/left/right, got {direction!r}")
        return GroundTruth(kind, direction=direction, raw=text)
    if kind in ("open_app", "input_text"):
        key = "app_name" if kind == "open_app" else "text"
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{kind} needs a non-empty '{key}', got {value!r}")
        return GroundTruth(kind, text=value, raw=text)
    return GroundTruth(kind, raw=text)


def history_action(gt: GroundTruth, size: Size) -> Action:
    """The ground truth as a pixelpilot action, for the text history of later steps.

    A scroll becomes the finger swipe that performs it: from the screen centre to the edge
    the finger moves toward (opposite to the content direction).
    """
    cx, cy = size.width // 2, size.height // 2
    match gt.type:
        case "click":
            return Click(x=gt.x or 0, y=gt.y or 0)
        case "long_press":
            return LongPress(x=gt.x or 0, y=gt.y or 0)
        case "scroll":
            ends = {
                "down": (cx, 0),
                "up": (cx, size.height - 1),
                "right": (0, cy),
                "left": (size.width - 1, cy),
            }
            to_x, to_y = ends[gt.direction or "down"]
            return Swipe(x=cx, y=cy, to_x=to_x, to_y=to_y)
        case "open_app":
            return OpenApp(name=gt.text or "")
        case "input_text":
            return Type(text=gt.text or "")
        case "navigate_home":
            return Button(name="home")
        case "navigate_back":
            return Button(name="back")
        case _:
            return Wait(seconds=HISTORY_WAIT_SECONDS)


@dataclass(frozen=True)
class Episode:
    """One decoded episode; list lengths are checked against each other."""

    episode_id: int
    goal: str
    screenshots: list[bytes]
    sizes: list[Size]
    trees: list[bytes]
    actions: list[str]
    step_instructions: list[str]


def _single(values: list[Any], name: str) -> Any:
    if len(values) != 1:
        raise RecordError(f"feature '{name}' must hold exactly one value, found {len(values)}")
    return values[0]


def episode_from_example(example: Example) -> Episode:
    """Build an Episode. Raises RecordError when a feature is missing or lengths disagree."""
    episode_id = _single(example.int64_list("episode_id"), "episode_id")
    screenshots = example.bytes_list("screenshots")
    widths = example.int64_list("screenshot_widths")
    heights = example.int64_list("screenshot_heights")
    actions = example.text_list("actions")
    instructions = example.text_list("step_instructions")
    trees = (
        example.bytes_list("accessibility_trees")
        if "accessibility_trees" in example.features
        else []
    )
    where = f"episode {episode_id}"
    if len(screenshots) != len(actions) + 1:
        raise RecordError(
            f"{where}: {len(screenshots)} screenshots for {len(actions)} actions "
            "(expected one more)"
        )
    if not len(widths) == len(heights) == len(screenshots):
        raise RecordError(
            f"{where}: {len(widths)} widths and {len(heights)} heights "
            f"for {len(screenshots)} screenshots"
        )
    if len(instructions) != len(actions):
        raise RecordError(
            f"{where}: {len(instructions)} step instructions for {len(actions)} actions"
        )
    if trees and len(trees) != len(screenshots):
        raise RecordError(
            f"{where}: {len(trees)} accessibility trees for {len(screenshots)} screenshots"
        )
    if any(w <= 0 or h <= 0 for w, h in zip(widths, heights, strict=True)):
        raise RecordError(f"{where}: a screenshot size is not positive")
    return Episode(
        episode_id=int(episode_id),
        goal=_single(example.text_list("goal"), "goal"),
        screenshots=screenshots,
        sizes=[Size(int(w), int(h)) for w, h in zip(widths, heights, strict=True)],
        trees=trees,
        actions=actions,
        step_instructions=instructions,
    )


def record_files(data: Path) -> list[Path]:
    """The TFRecord files: `data` itself, or the `android_control*` files in the folder `data`
    (any non-JSON file when none is so named), in name order. Empty when there are none."""
    if data.is_file():
        return [data]
    if not data.is_dir():
        return []
    named = sorted(p for p in data.glob("android_control*") if p.is_file() and p.suffix != ".json")
    if named:
        return named
    return sorted(
        p for p in data.iterdir() if p.is_file() and p.suffix not in (".json", ".md", ".txt")
    )


def iter_examples(path: Path, report: Callable[[str], None]) -> Iterator[Example]:
    """Every decodable Example in one file; each damage is passed to `report` (reading goes
    on past a bad payload or an undecodable Example, and stops at broken framing)."""
    try:
        for payload in iter_records(path, on_bad_payload=lambda err: report(str(err))):
            try:
                yield parse_example(payload)
            except RecordError as exc:
                report(f"{path.name}: undecodable tf.train.Example: {exc}")
    except RecordError as exc:
        report(f"{exc}; the rest of the file is skipped")
    except OSError as exc:
        report(f"{path.name}: cannot read: {exc}")


def read_step_list(path: Path) -> list[str]:
    """Step ids `<episode_id>/<step>` from a JSON list or a text file (one per line, # comments).

    Raises ValueError naming the first bad entry.
    """
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        items = json.loads(text)
        if not isinstance(items, list):
            raise ValueError("a step list must be a JSON list of 'episode/step' strings")
    else:
        items = [
            line.strip()
            for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
    out = []
    for item in items:
        episode, sep, step = str(item).partition("/")
        if not sep or not episode.strip().lstrip("-").isdigit() or not step.strip().isdigit():
            raise ValueError(f"bad step id {item!r}: expected '<episode_id>/<step>', e.g. '1234/0'")
        out.append(f"{int(episode)}/{int(step)}")
    return out


def read_split(path: Path, split: str) -> set[int]:
    """Episode ids of `split` in a `splits.json` ({"train": [...], "test": [...], ...}).

    Raises ValueError when the file has no such split or it is not a list of integers.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or split not in data:
        known = ", ".join(sorted(data)) if isinstance(data, dict) else "none"
        raise ValueError(f"{path} has no split '{split}' (splits: {known})")
    ids = data[split]
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise ValueError(f"{path}: split '{split}' must be a list of integer episode ids")
    return set(ids)
