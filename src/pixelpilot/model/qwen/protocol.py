"""The one Qwen2.5-VL protocol flow of both backends: observation -> messages -> text -> Prediction.

    turn = build_turn(observation, history, budget=..., image_history=..., grounding=..., ...)
    text = <the backend gets the model's reply to turn.messages (+ turn.prefix)>
    prediction = prediction_from_reply(text, turn, timings)

The in-process backend renders `turn.messages` to ChatML and generates; the OpenAI-compatible
backend sends them as chat messages. Everything else (the tool for the platform, the resized
frame, the pointer for clicks without a coordinate, the grounding prefill, parsing and the error
text of a model mistake) happens here, once, so the two backends cannot drift apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pixelpilot.actions import Observation, Point, Size
from pixelpilot.errors import ParseError
from pixelpilot.model.base import History, Prediction
from pixelpilot.model.qwen.grounding import GROUNDING_PREFIX, full_reply, grounding_messages
from pixelpilot.model.qwen.parse import parse_output
from pixelpilot.model.qwen.prompt import Message, build_messages
from pixelpilot.model.qwen.tools import ToolName, pointer_after, tool_for_platform
from pixelpilot.model.qwen.vision import PixelBudget

__all__ = ["Turn", "build_turn", "prediction_from_reply"]


@dataclass(frozen=True)
class Turn:
    """One request to the model and the geometry needed to read its reply.

    Attributes:
        messages: system + user (+ earlier assistant/user) messages, images at the resized size.
        tool: the tool advertised (computer_use or mobile_use).
        screen: the screenshot's size in pixels (the frame actions are returned in).
        resized: the model's frame (smart_resize under the pixel budget), in pixels.
        pointer: where the pointer is after the executed history (for clicks without a
            coordinate); None when unknown.
        prefix: the forced start of the assistant's answer ("" unless grounding prefill).
    """

    messages: list[Message]
    tool: ToolName
    screen: Size
    resized: Size
    pointer: Point | None
    prefix: str = ""


def build_turn(
    observation: Observation,
    history: History,
    *,
    budget: PixelBudget,
    image_history: int = 0,
    grounding: bool = False,
    grounding_prefill: bool = True,
) -> Turn:
    """The request for `observation`: the agent prompt, or the ScreenSpot grounding prompt.

    Grounding: computer_use at the resized size whatever the platform, `history.goal` as the whole
    user turn, no history, and (with `grounding_prefill`) the answer forced to start with
    `GROUNDING_PREFIX`.
    """
    if grounding:
        messages, resized = grounding_messages(observation, history.goal, budget)
        prefix = GROUNDING_PREFIX if grounding_prefill else ""
        return Turn(messages, "computer_use", observation.size, resized, None, prefix)
    tool = tool_for_platform(observation.platform)
    messages = build_messages(
        history.goal,
        history.steps,
        tool=tool,
        screen=observation.size,
        budget=budget,
        screenshot=observation.screenshot,
        image_history=image_history,
    )
    pointer = pointer_after(step.action for step in history.steps if step.error is None)
    return Turn(messages, tool, observation.size, budget.resize(observation.size), pointer)


def prediction_from_reply(
    reply: str, turn: Turn, timings: dict[str, float] | None = None
) -> Prediction:
    """Parse the model's reply to `turn` into a Prediction in screenshot pixels.

    `reply` is what the model wrote after the prompt (after `turn.prefix` when there is one; a
    reply that opens its own `<tool_call>` is taken whole). A model mistake is returned as
    `Prediction(action=None, error="KIND: message")` (KIND: no_tool_call, bad_json, wrong_tool,
    bad_arguments, out_of_bounds), never raised; `timings` gains "parse" (seconds).
    """
    started = time.perf_counter()
    text = full_reply(reply, turn.prefix)
    try:
        parsed = parse_output(
            text, tool=turn.tool, resized=turn.resized, screen=turn.screen, pointer=turn.pointer
        )
    except ParseError as exc:
        kind = getattr(exc, "kind", "parse_error")
        spent = {**(timings or {}), "parse": time.perf_counter() - started}
        return Prediction(action=None, raw_text=text, error=f"{kind}: {exc}", timings=spent)
    spent = {**(timings or {}), "parse": time.perf_counter() - started}
    return Prediction(
        action=parsed.action, raw_text=text, extra_actions=parsed.extra_actions, timings=spent
    )
