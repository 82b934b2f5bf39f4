"""The exact Qwen2.5-VL agent prompt, as structured messages and as ChatML text.

The structured form (`Message` with text and image parts) is what every backend shares: the
in-process model renders it with `render_messages` and feeds `message_images`; the OpenAI
endpoint sends it as chat messages. Coordinates in the history are in the model's resized frame
of each step's screenshot, as the model wrote them.

API:
    build_messages(goal, steps, *, tool, screen, budget, screenshot=None, image_history=0,
                   family=FAMILY) -> list[Message]
    render_prompt(goal, steps, *, tool, screen, budget, image_history=0, family=FAMILY) -> str
    render_messages(messages, *, assistant_prefix="") -> str
    message_images(messages) -> list[PIL image]          the images in prompt order (resized)
    history_text(steps, *, tool, screen, budget) -> str  "Step 1: {...}; Step 2: {...}; "
    build_grounding_messages(instruction, *, resized, image=None) -> list[Message]
    render_grounding_prompt(instruction, *, resized, prefill=False) -> str
    GROUNDING_PREFIX: the forced assistant start for single-click grounding

History and errors. The default (image_history=0) is the cookbook's: one user turn with the query,
`Task progress (...): ` and `Step k: <call JSON>; ` per earlier step, then the current screenshot.
With no earlier step the same template ends in `...device): ` (the cookbook never shows the first
step; this choice is recorded in tests/model/test_prompt.py). A step whose output was not
executed is written `Step k: <call JSON> [not executed: ERROR]; `, or `Step k: [invalid output:
ERROR]; ` when no action came out of it, so the model sees its mistake. An action the tool cannot
express (a recorded history from another policy) is written as pixelpilot's own action JSON.
With image_history=N, the last N steps that kept a screenshot become real turns: the first
user turn carries the query, the text history of the older steps and that step's screenshot;
each step is an assistant turn `<tool_call>\\n{...}\\n</tool_call>` (its raw text when it had no
action) followed by a user turn with `[step k not executed: ERROR]\\n` when it failed and the
next screenshot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from pixelpilot.actions import Size, action_to_json, map_points, rescale_point
from pixelpilot.errors import UnsupportedActionError
from pixelpilot.model.base import HistoryEntry
from pixelpilot.model.qwen.tools import (
    FAMILY,
    ToolName,
    action_to_calls,
    call_json,
    pointer_after,
    tool_function,
)
from pixelpilot.model.qwen.vision import PixelBudget, resize_for_model

SYSTEM_PROMPT = "You are a helpful assistant."
QUERY_PREFIX = "The user query:  "
HISTORY_PREFIX = "Task progress (You have done the following operation on the current device): "
IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"
GROUNDING_PREFIX = (
    '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": ['
)
_TOOLS_HEADER = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
_TOOLS_FOOTER = (
    "\n</tools>\n\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)


@dataclass(frozen=True)
class TextPart:
    text: str


@dataclass(frozen=True)
class ImagePart:
    """An image at the model's resized size; `image` is None when only the text is rendered."""

    image: Image.Image | None
    size: Size


Part = TextPart | ImagePart


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    parts: tuple[Part, ...]

    @property
    def text(self) -> str:
        """The parts' text with each image as the vision placeholder."""
        return "".join(p.text if isinstance(p, TextPart) else IMAGE_PLACEHOLDER for p in self.parts)


def system_text(tool: ToolName, resized: Size, *, family: str = FAMILY) -> str:
    """The system message: the assistant line and the Nous-style tool block."""
    function = tool_function(tool, resized, family=family)
    entry = {
        "type": "function",
        "function": {
            "name_for_human": function["name"],
            "name": function["name"],
            "description": function["description"],
            "parameters": function["parameters"],
            "args_format": "Format the arguments as a JSON object.",
        },
    }
    return SYSTEM_PROMPT + _TOOLS_HEADER + json.dumps(entry, ensure_ascii=False) + _TOOLS_FOOTER


def tool_call_text(calls: Sequence[dict[str, object]]) -> str:
    """An assistant turn that makes `calls`, as the model writes it."""
    return "\n".join(f"<tool_call>\n{call_json(c)}\n</tool_call>" for c in calls)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class _History:
    """Renders earlier steps in the model's frame of each step's screenshot."""

    tool: ToolName
    screen: Size
    budget: PixelBudget

    def calls(
        self, entry: HistoryEntry, earlier: Sequence[HistoryEntry]
    ) -> list[dict[str, object]] | None:
        """The step's action as tool calls, or None when the tool cannot express it."""
        assert entry.action is not None
        shot = Size(*entry.screen_size) if entry.screen_size else self.screen
        frame = self.budget.resize(shot)

        def to_model(x: int, y: int) -> tuple[int, int]:
            point = rescale_point(x, y, shot, frame)
            return point.x, point.y

        pointer = pointer_after(e.action for e in earlier if e.error is None)
        model_pointer = None if pointer is None else rescale_point(*pointer, shot, frame)
        try:
            return action_to_calls(
                self.tool, map_points(entry.action, to_model), pointer=model_pointer
            )
        except UnsupportedActionError:
            return None

    def step(self, number: int, entry: HistoryEntry, earlier: Sequence[HistoryEntry]) -> str:
        if entry.action is None:
            return f"Step {number}: [invalid output: {_one_line(entry.error or 'no action')}]; "
        calls = self.calls(entry, earlier)
        body = "; ".join(call_json(c) for c in calls) if calls else action_to_json(entry.action)
        if entry.error:
            body += f" [not executed: {_one_line(entry.error)}]"
        return f"Step {number}: {body}; "

    def text(self, steps: Sequence[HistoryEntry]) -> str:
        return "".join(self.step(i + 1, entry, steps[:i]) for i, entry in enumerate(steps))

    def assistant(self, entry: HistoryEntry, earlier: Sequence[HistoryEntry]) -> str:
        if entry.action is None:
            return entry.raw_text.strip() or "[no output]"
        calls = self.calls(entry, earlier)
        return tool_call_text(calls) if calls else action_to_json(entry.action)


def history_text(
    steps: Sequence[HistoryEntry], *, tool: ToolName, screen: Size, budget: PixelBudget
) -> str:
    """The cookbook's text history: `Step k: <call JSON>; ` for each step, in order."""
    return _History(tool, screen, budget).text(steps)


def _image_part(image: Image.Image | None, shot: Size, budget: PixelBudget) -> ImagePart:
    if image is None:
        return ImagePart(None, budget.resize(shot))
    resized, size = resize_for_model(image, budget.min_pixels, budget.max_pixels)
    return ImagePart(resized, size)


def build_messages(
    goal: str,
    steps: Sequence[HistoryEntry],
    *,
    tool: ToolName,
    screen: Size,
    budget: PixelBudget,
    screenshot: Image.Image | None = None,
    image_history: int = 0,
    family: str = FAMILY,
) -> list[Message]:
    """The agent prompt as messages: system with the tool, then the user turn(s).

    Args:
        goal: the task instruction.
        steps: every earlier step, oldest first (screenshot pixels).
        tool: computer_use or mobile_use.
        screen: the current screenshot's size in pixels.
        budget: the pixel budget that decides the model's resized frame.
        screenshot: the current screenshot (resized here); None renders only the placeholder.
        image_history: how many earlier screenshots to show as turns (0 = text history only).
    """
    resized = budget.resize(screen)
    system = Message("system", (TextPart(system_text(tool, resized, family=family)),))
    current = _image_part(screenshot, screen, budget)
    window = _image_window(steps, image_history)
    history = _History(tool, screen, budget)
    first = len(steps) - window
    text = QUERY_PREFIX + goal + "\n" + HISTORY_PREFIX + history.text(steps[:first])
    if window == 0:
        return [system, Message("user", (TextPart(text), current))]
    messages = [system]
    parts: list[Part] = [TextPart(text)]
    for index in range(first, len(steps)):
        entry = steps[index]
        shot = Size(*entry.screen_size) if entry.screen_size else screen
        parts.append(_image_part(entry.screenshot, shot, budget))
        messages.append(Message("user", tuple(parts)))
        reply = history.assistant(entry, steps[:index])
        messages.append(Message("assistant", (TextPart(reply),)))
        parts = []
        if entry.error:
            parts.append(TextPart(f"[step {index + 1} not executed: {_one_line(entry.error)}]\n"))
    messages.append(Message("user", (*parts, current)))
    return messages


def _image_window(steps: Sequence[HistoryEntry], image_history: int) -> int:
    """How many of the last steps to show as turns: those with screenshots, at most N."""
    count = 0
    for entry in reversed(steps):
        if count >= image_history or entry.screenshot is None:
            break
        count += 1
    return count


def render_messages(messages: Sequence[Message], *, assistant_prefix: str = "") -> str:
    """ChatML text ending with the open assistant turn (plus `assistant_prefix`, if any)."""
    body = "".join(f"<|im_start|>{m.role}\n{m.text}<|im_end|>\n" for m in messages)
    return body + "<|im_start|>assistant\n" + assistant_prefix


def message_images(messages: Sequence[Message]) -> list[Image.Image]:
    """The resized images in prompt order; raises ValueError if one was built without pixels."""
    images = []
    for message in messages:
        for part in message.parts:
            if isinstance(part, ImagePart):
                if part.image is None:
                    raise ValueError("the messages were built without screenshots")
                images.append(part.image)
    return images


def render_prompt(
    goal: str,
    steps: Sequence[HistoryEntry],
    *,
    tool: ToolName,
    screen: Size,
    budget: PixelBudget,
    image_history: int = 0,
    family: str = FAMILY,
) -> str:
    """The full prompt text for `build_messages` (images as placeholders)."""
    messages = build_messages(
        goal,
        steps,
        tool=tool,
        screen=screen,
        budget=budget,
        image_history=image_history,
        family=family,
    )
    return render_messages(messages)


def build_grounding_messages(
    instruction: str, *, resized: Size, image: Image.Image | None = None
) -> list[Message]:
    """Single-step grounding (ScreenSpot): computer_use at the resized size, the instruction as
    the user turn followed by the image (`image` must already be at `resized`, or None)."""
    if image is not None and Size(*image.size) != resized:
        raise ValueError(f"the grounding image is {Size(*image.size)}, expected {resized}")
    return [
        Message("system", (TextPart(system_text("computer_use", resized)),)),
        Message("user", (TextPart(instruction), ImagePart(image, resized))),
    ]


def render_grounding_prompt(instruction: str, *, resized: Size, prefill: bool = False) -> str:
    """The grounding prompt text; `prefill` forces the answer to start with a left_click."""
    messages = build_grounding_messages(instruction, resized=resized)
    return render_messages(messages, assistant_prefix=GROUNDING_PREFIX if prefill else "")
