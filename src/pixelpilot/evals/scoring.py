"""Scoring primitives shared by the benchmarks, each exactly as `shared/spec/evals.md` defines it.

Percentages are floats in [0, 100]; a rate over zero samples is None (shown as "-"), never 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from pixelpilot.actions import Box, Size
from pixelpilot.evals.base import Score

Direction = Literal["up", "down", "left", "right"]
_OPPOSITE: dict[Direction, Direction] = {
    "up": "down",
    "down": "up",
    "left": "right",
    "right": "left",
}


def percent(hits: int, total: int) -> float | None:
    """100 * hits / total, or None when there is nothing to divide by."""
    return 100.0 * hits / total if total else None


def rate(
    scores: Iterable[Score], test: Callable[[Score], bool] = lambda s: s.correct
) -> dict[str, float | int | None]:
    """{"percent", "correct", "total"} over `scores` for the criterion `test`."""
    items = list(scores)
    hits = sum(1 for s in items if test(s))
    return {"percent": percent(hits, len(items)), "correct": hits, "total": len(items)}


def point_in_box(x: float, y: float, box: Box) -> bool:
    """ScreenSpot's criterion: inside the box, edges included, in original image pixels."""
    return box.contains(x, y)


def normalized_distance(ax: float, ay: float, bx: float, by: float, size: Size) -> float:
    """Euclidean distance after scaling each axis to 0-1000 (protocol A's frame)."""
    dx = (ax - bx) * 1000.0 / size.width
    dy = (ay - by) * 1000.0 / size.height
    return math.hypot(dx, dy)


def token_f1(predicted: str, truth: str) -> float:
    """Token-level F1 of lowercased whitespace tokens (multiset overlap)."""
    pred = predicted.lower().split()
    gold = truth.lower().split()
    common = sum((Counter(pred) & Counter(gold)).values())
    if not common:
        return 0.0
    precision = common / len(pred)
    recall = common / len(gold)
    return 2 * precision * recall / (precision + recall)


def text_match_f1(predicted: str, truth: str) -> bool:
    """Protocol A's text criterion: exact match (ignoring case) or token F1 > 0.5."""
    return predicted.strip().lower() == truth.strip().lower() or token_f1(predicted, truth) > 0.5


def text_contains(predicted: str, truth: str) -> bool:
    """Protocol B's text criterion: one string contains the other, ignoring case and outer
    spaces. An empty string matches nothing (in the reference code "" is "contained" in
    every string, which would reward an empty answer)."""
    pred = predicted.strip().lower()
    gold = truth.strip().lower()
    return bool(pred) and bool(gold) and (pred in gold or gold in pred)


def finger_direction(x: float, y: float, to_x: float, to_y: float) -> Direction | None:
    """The dominant axis and sign of a finger's movement (screen y grows downward).

    Ties between the axes count as vertical, as in the reference scorer; no movement is None.
    """
    dx, dy = to_x - x, to_y - y
    if dx == 0 and dy == 0:
        return None
    if abs(dx) > abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"


def content_direction(finger: Direction) -> Direction:
    """Where the content scrolls to when the finger moves `finger`: the opposite way.

    A finger swiping up reveals what is further down, i.e. "scroll down".
    """
    return _OPPOSITE[finger]


def group_table_rows(
    scores: Sequence[Score], key: str, order: Sequence[str], split: str, split_values: Sequence[str]
) -> list[list[float | int | str | None]]:
    """Rows `[value, pct(split=v1), pct(split=v2), ..., pct(all), n]` for each value of `key`
    in `order` (values found but not in `order` follow, sorted), then an "all" row."""
    present = {s.tags.get(key, "") for s in scores}
    values = [v for v in order if v in present] + sorted(present - set(order))
    rows: list[list[float | int | str | None]] = []
    for value in [*values, None]:
        subset = [s for s in scores if value is None or s.tags.get(key) == value]
        row: list[float | int | str | None] = ["all" if value is None else value]
        for part in split_values:
            part_scores = [s for s in subset if s.tags.get(split) == part]
            row.append(percent(sum(s.correct for s in part_scores), len(part_scores)))
        row.append(percent(sum(s.correct for s in subset), len(subset)))
        row.append(len(subset))
        rows.append(row)
    return rows
