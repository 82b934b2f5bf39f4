"""A step's per-phase timings as segments of a bar.

trajectory.jsonl records seconds per phase: `capture`, `predict` (the policy's whole call) with
the policy's own parts as `model_*` (e.g. model_preprocess, model_generate, model_parse),
`execute` (the adapter's call, which includes `settle`), `settle` and `encode` (the PNG
written by the recorder's thread while the policy predicts). The bar shows them in the order they
happen, with execute less its settling so that no second is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pixelpilot.agent.report.page import esc


@dataclass(frozen=True)
class Phase:
    """One bar segment: its label, CSS class and length in seconds."""

    label: str
    css: str
    seconds: float


def phases(timings: dict[str, Any]) -> list[Phase]:
    """The segments of one step's bar, in order (phases that did not happen are left out)."""

    def get(key: str) -> float:
        value = timings.get(key)
        return float(value) if isinstance(value, int | float) and value > 0 else 0.0

    out: list[Phase] = []
    if get("capture"):
        out.append(Phase("capture", "ph-capture", get("capture")))
    parts = [(k, get(k)) for k in timings if k.startswith("model_") and get(k)]
    for number, (key, seconds) in enumerate(parts):
        out.append(
            Phase(f"predict: {key.removeprefix('model_')}", f"ph-model-{number % 4}", seconds)
        )
    rest = get("predict") - sum(seconds for _, seconds in parts)
    if rest > 1e-6:
        out.append(Phase("predict" if not parts else "predict: other", "ph-predict", rest))
    execute, settle = get("execute"), get("settle")
    if execute:
        out.append(Phase("execute", "ph-execute", max(execute - settle, 0.0)))
    if settle:
        out.append(Phase("settle", "ph-settle", settle))
    if get("encode"):
        out.append(Phase("record (PNG, beside predict)", "ph-record", get("encode")))
    return out


def total(timings: dict[str, Any]) -> float:
    """The seconds a step's bar spans."""
    return sum(phase.seconds for phase in phases(timings))


def bar(timings: dict[str, Any], *, scale: float) -> str:
    """The HTML bar and legend of one step; `scale` is the longest step's total (seconds), so
    bars of different steps compare."""
    segments = phases(timings)
    if not segments:
        return '<div class="legend">no timings recorded</div>'
    scale = max(scale, 1e-9)
    spans = "".join(
        f'<span class="{p.css}" style="width:{100 * p.seconds / scale:.3f}%" '
        f'title="{esc(p.label)} {p.seconds:.3f} s"></span>'
        for p in segments
    )
    legend = "".join(
        f'<span><i class="{p.css}"></i>{esc(p.label)} {p.seconds:.3f} s</span>' for p in segments
    )
    return f'<div class="tbar">{spans}</div><div class="legend">{legend}</div>'
