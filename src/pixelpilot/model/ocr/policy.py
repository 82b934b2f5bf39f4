"""OCRPolicy (`--model ocr`): a CPU baseline that reads the screen and clicks the goal's text.

RapidOCR (rapidocr-onnxruntime; its ONNX weights ship in the wheel, so it runs offline) finds
the text lines on the screenshot. `ocr.plan.parse_plan` reads the goal's targets in order
("Select A and B, then click Submit" is three clicks), `ocr.text.parse_goal` what each one
names, and `ocr.text.rank` scores every line against it (exact, then case-insensitive, then
fuzzy above `threshold`, then partial). Lines of a paragraph that restates the goal itself (an
instruction shown on screen) are clicked only when nothing else matches. Each step is one of:

- click the best line whose text was not clicked yet for this target: at the target's words
  when they are only part of the line, else at the line's centre;
- after a click on a typing goal's field (its label or placeholder focuses it): type the text,
  then Enter when the goal was a search, then terminate(success);
- after a click for a click goal: the screen changed -> on to the next target, or
  terminate(success) after the last; it did not -> that line was not it: try the next one;
- a goal naming a cross ('click the "x"', "×") or asking to close or dismiss something that no
  text matches: a drawn close icon found by `ocr.icons.find_crosses` is a candidate too (OCR
  does not read icons), scored just under an exact text match;
- nothing (left) matches: scroll down to look further, up to `max_scrolls` times per target,
  while scrolling still changes the screen; then terminate(failure).

Its progress is read back from History: each Prediction's raw text is a JSON object
{"ocr": step kind, "step": index of the target in the plan, ...} and the policy asks for one
earlier screenshot (`image_history = 1`) to tell whether its last action changed the screen.
The engine is built once per policy, on first use.

API: OCRPolicy(config), .from_spec("", config), .predict(observation, history) -> Prediction
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from pixelpilot._extras import require
from pixelpilot.actions import Action, Box, Click, Key, Observation, Scroll, Terminate, Type
from pixelpilot.errors import ConfigError, PolicyError
from pixelpilot.model.base import History, HistoryEntry, PolicyBase, Prediction
from pixelpilot.model.ocr.icons import find_crosses
from pixelpilot.model.ocr.plan import parse_plan
from pixelpilot.model.ocr.text import Intent, Match, TextBox, rank, restating, text_key

CROSS_NAMES = frozenset({"x", "×", "✕", "✖", "✗", "╳", "⨯", "❌"})
"""Targets that name a close icon: a goal naming one makes drawn crosses candidates."""
CLOSING_VERBS = frozenset({"close", "dismiss"})
"""Verbs after which a drawn cross is clicked when no text matches the goal."""
CROSS_WEIGHT = 0.96
"""A cross icon's match score per unit of its shape score: under an exact text match."""


class OCRConfig(BaseModel):
    """Options for `--model ocr`."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(0.8, gt=0, le=1, description="fuzzy match floor (difflib ratio)")
    min_confidence: float = Field(0.5, ge=0, le=1, description="OCR confidence floor per line")
    max_scrolls: int = Field(3, ge=0, description="scrolls to look for an unseen target")
    scroll_fraction: float = Field(
        0.6, gt=0, le=1, description="scroll distance as a fraction of the screen height"
    )
    max_side: int = Field(
        1600, ge=320, description="longest side (pixels) the screenshot is shrunk to for OCR"
    )
    change_fraction: float = Field(
        0.0005, ge=0, lt=1, description="share of changed pixels that counts as a new screen"
    )
    threads: int = Field(0, ge=0, description="ONNX Runtime threads (0: one per core)")


@dataclass(frozen=True)
class _Progress:
    """What the policy did so far, read back from its own raw texts in History."""

    last: dict[str, Any] | None
    tried: frozenset[str]  # text_key of every text clicked already
    scrolls: int
    changed: bool | None  # did the last step change the screen (None: no earlier screenshot)
    step: int  # index in the goal's plan of the target being looked for


def _record(kind: str, **fields: Any) -> str:
    return json.dumps({"ocr": kind, **fields}, ensure_ascii=False)


def _read(entry: HistoryEntry) -> dict[str, Any] | None:
    try:
        data = json.loads(entry.raw_text)
    except (json.JSONDecodeError, TypeError):
        return None
    return data if isinstance(data, dict) and "ocr" in data else None


class OCRPolicy(PolicyBase):
    """Clicks (and types into) what the goal names, found by OCR on the screenshot."""

    Config = OCRConfig
    image_history = 1

    def __init__(self, config: OCRConfig | None = None) -> None:
        """Load the OCR engine now, so a missing extra or a broken install fails here.

        Raises:
            MissingExtraError: rapidocr-onnxruntime (the `ocr` extra) is not installed.
        """
        self.config = config or OCRConfig()
        self.spec = "ocr"
        self._engine: Any = None
        self._last_read: tuple[str, tuple[TextBox, ...]] | None = None
        started = time.perf_counter()
        self._ocr_engine()
        self.load_seconds = time.perf_counter() - started

    @classmethod
    def from_spec(cls, argument: str, config: OCRConfig) -> OCRPolicy:
        if argument:
            raise ConfigError(f"the ocr model takes no argument (got 'ocr:{argument}'); use: ocr")
        return cls(config)

    def _ocr_engine(self) -> Any:
        if self._engine is None:
            module = require("rapidocr_onnxruntime", "ocr", package="rapidocr-onnxruntime")
            threads = self.config.threads or -1
            self._engine = module.RapidOCR(
                use_cls=False,  # screens are upright; the angle classifier only costs time
                # Its default scales the SHORT side up to 736 px: a 320x80 strip would be read
                # at 2944x736. Bound the long side instead (the image is already within it).
                det_limit_type="max",
                det_limit_side_len=self.config.max_side,
                intra_op_num_threads=threads,
                inter_op_num_threads=1,
            )
        return self._engine

    def read_screen(self, image: Image.Image) -> list[TextBox]:
        """Every text line on `image` with its box in the image's pixels.

        The last screen's lines are kept: after a click that changed nothing the policy looks
        at the same pixels again, and reading them costs seconds on a CPU.

        Raises:
            PolicyError: the OCR engine failed.
        """
        digest = hashlib.sha256(image.tobytes()).hexdigest() + str(image.size)
        if self._last_read is not None and self._last_read[0] == digest:
            return list(self._last_read[1])
        boxes = self._read(image)
        self._last_read = (digest, tuple(boxes))
        return boxes

    def _read(self, image: Image.Image) -> list[TextBox]:
        scale = min(1.0, self.config.max_side / max(image.size))
        small = image.convert("RGB")
        if scale < 1.0:
            size = (round(image.width * scale), round(image.height * scale))
            small = small.resize(size, Image.Resampling.BILINEAR)
        # RapidOCR takes OpenCV's channel order.
        pixels = np.ascontiguousarray(np.asarray(small)[:, :, ::-1])
        try:
            result, _ = self._ocr_engine()(pixels)
        except Exception as exc:  # onnxruntime raises its own types
            raise PolicyError(f"the OCR engine failed: {exc}") from exc
        sx, sy = image.width / small.width, image.height / small.height
        boxes = []
        for corners, text, confidence in result or []:
            if float(confidence) < self.config.min_confidence or not str(text).strip():
                continue
            xs = [float(p[0]) * sx for p in corners]
            ys = [float(p[1]) * sy for p in corners]
            boxes.append(TextBox(str(text), Box(min(xs), min(ys), max(xs), max(ys)), confidence))
        return boxes

    def predict(self, observation: Observation, history: History) -> Prediction:
        started = time.perf_counter()
        plan = parse_plan(history.goal)
        progress = self._progress(observation, history)
        last, step = progress.last, progress.step
        intent = plan[min(step, len(plan) - 1)]
        if last is not None and last["ocr"] == "click":
            # A typing goal types after clicking the field even when focusing it drew nothing.
            if intent.kind == "type" and intent.text:
                return self._done(Type(text=intent.text), _record("type"), started)
            if progress.changed is not False:
                if step + 1 >= len(plan):
                    return self._done(Terminate(status="success"), "the screen changed", started)
                # That target is done: look for the next one on the new screen.
                step += 1
                intent = plan[step]
                progress = _Progress(last, frozenset(), 0, progress.changed, step)
        if last is not None and last["ocr"] == "type":
            if intent.submit:
                return self._done(Key(keys=("enter",)), _record("submit"), started)
            return self._done(Terminate(status="success"), "typed", started)
        if last is not None and last["ocr"] == "submit":
            return self._done(Terminate(status="success"), "submitted", started)

        boxes = self.read_screen(observation.screenshot)
        read = time.perf_counter()
        matches = rank(boxes, intent, threshold=self.config.threshold)
        primary = intent.targets[0] if intent.targets else ""
        restates = dict(zip(boxes, restating(boxes, history.goal, primary), strict=True))
        # A text whose click changed nothing is skipped everywhere (a heading and its copy
        # in the page title, or the same text after a scroll).
        fresh = [m for m in matches if text_key(m.box.text) not in progress.tried]
        own = [m for m in fresh if not restates[m.box]]
        own = self._with_crosses(observation, boxes, intent, own, progress.tried)
        timings = {"ocr": read - started}
        if own or fresh:
            # The on-screen copy of the instruction only when nothing else matches.
            return self._click((own or fresh)[0], intent, step, timings)
        scrolled_nowhere = (
            last is not None and last["ocr"] == "scroll" and progress.changed is False
        )
        if progress.scrolls >= self.config.max_scrolls or scrolled_nowhere:
            reason = _record(
                "give_up",
                step=step,
                targets=list(intent.targets),
                seen=[b.text for b in boxes][:40],
            )
            return Prediction(action=Terminate(status="failure"), raw_text=reason, timings=timings)
        size = observation.size
        scroll = Scroll(
            x=size.width // 2,
            y=size.height // 2,
            direction="down",
            amount=max(1, round(size.height * self.config.scroll_fraction)),
        )
        return Prediction(action=scroll, raw_text=_record("scroll", step=step), timings=timings)

    def _with_crosses(
        self,
        observation: Observation,
        boxes: list[TextBox],
        intent: Intent,
        own: list[Match],
        tried: frozenset[str],
    ) -> list[Match]:
        """`own` with the close icons (drawn crosses) added when the goal names a cross, or
        when it asks to close or dismiss something and no text matched."""
        if intent.kind != "click":
            return own
        target = next((t for t in intent.targets if t.strip().casefold() in CROSS_NAMES), None)
        closing = intent.verb is not None and intent.verb.casefold() in CLOSING_VERBS
        if target is None and not (closing and not own):
            return own
        # OCR reads some crosses as one glyph ("x", "+"): such a line is not a word whose
        # letters to skip but the icon itself, already a candidate when it matched the goal
        # (or skipped once clicked).
        glyphs = [b for b in boxes if len(text_key(b.text)) < 2]
        letters = [b.box for b in boxes if b not in glyphs]
        known = [m.box.box for m in own]
        known += [b.box for b in glyphs if text_key(b.text) and text_key(b.text) in tried]
        found = []
        for icon in find_crosses(observation.screenshot, text_boxes=letters):
            cx, cy = icon.box.center
            label = f"[cross icon at {round(cx)},{round(cy)}]"
            if text_key(label) not in tried and not any(k.contains(cx, cy) for k in known):
                box = TextBox(label, icon.box, icon.score)
                found.append(Match(box, CROSS_WEIGHT * icon.score, target or "×"))
        return sorted([*own, *found], key=lambda m: -m.score)

    def _click(
        self, match: Match, intent: Intent, step: int, timings: dict[str, float]
    ) -> Prediction:
        cx, cy = match.point()
        action: Action = Click(x=int(cx), y=int(cy))
        raw = _record(
            "click",
            text=match.box.text,
            target=match.target,
            score=round(match.score, 3),
            at=[int(cx), int(cy)],
            intent=intent.kind,
            step=step,
        )
        return Prediction(action=action, raw_text=raw, timings=timings)

    @staticmethod
    def _done(action: Action, raw: str, started: float) -> Prediction:
        return Prediction(
            action=action, raw_text=raw, timings={"decide": time.perf_counter() - started}
        )

    def _progress(self, observation: Observation, history: History) -> _Progress:
        records = [(_read(e), e) for e in history.steps]
        ours = [r for r, _ in records if r is not None]
        step = int(ours[-1].get("step", 0)) if ours else 0
        # Only what was done for the current target counts: a text clicked for an earlier
        # target may be this one's too ("Submit" after "Save" in a list of forms).
        current = [r for r in ours if int(r.get("step", 0)) == step]
        tried = frozenset(text_key(r["text"]) for r in current if r["ocr"] == "click")
        scrolls = sum(1 for r in current if r["ocr"] == "scroll")
        if not records or records[-1][0] is None:
            return _Progress(None, tried, scrolls, None, step)
        last, entry = records[-1]
        changed = None
        if entry.screenshot is not None:
            changed = _changed(
                entry.screenshot, observation.screenshot, self.config.change_fraction
            )
        return _Progress(last, tried, scrolls, changed, step)

    def describe(self) -> dict[str, object]:
        return {
            "backend": "ocr",
            "engine": "rapidocr-onnxruntime",
            "load_seconds": round(self.load_seconds, 3),
            **self.config.model_dump(),
        }


def _changed(before: Image.Image, after: Image.Image, fraction: float) -> bool:
    """Whether more than `fraction` of the pixels differ (a caret blink does not count)."""
    if before.size != after.size:
        return True
    a = np.asarray(before.convert("RGB"), dtype=np.int16)
    b = np.asarray(after.convert("RGB"), dtype=np.int16)
    differing = np.any(np.abs(a - b) > 8, axis=2)
    return bool(differing.mean() > fraction)
