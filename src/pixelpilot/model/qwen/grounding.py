"""ScreenSpot-style grounding, shared by the Qwen backends: one instruction, one click.

The reference evaluation prompts with the `computer_use` tool at the model's resized screen size
whatever the screenshot's platform (phones included), the instruction as the whole user turn and
no history. With prefill the assistant turn is forced to start with `GROUNDING_PREFIX` (a
`left_click` up to the coordinate's opening bracket), so the model only writes the coordinate
and the closing; the text parsed is then the prefix followed by the model's continuation.

API:
    GroundingOptions: the `grounding` and `grounding_prefill` Config fields
    grounding_messages(observation, instruction, budget) -> (messages, resized size)
    full_reply(text, prefix) -> str   the prefix + continuation, unless `text` is a whole call
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from pixelpilot.actions import Observation, Size
from pixelpilot.model.qwen.prompt import GROUNDING_PREFIX, Message, build_grounding_messages
from pixelpilot.model.qwen.vision import PixelBudget, resize_for_model

__all__ = ["GROUNDING_PREFIX", "GroundingOptions", "full_reply", "grounding_messages"]


class GroundingOptions(BaseModel):
    """The grounding options both Qwen backends take (`--model-opt grounding=true`)."""

    grounding: bool = Field(
        False,
        description="ScreenSpot grounding prompt: the instruction is the whole user turn,"
        " no history",
    )
    grounding_prefill: bool = Field(
        True,
        description="force the assistant to start with the left_click prefix so the model only"
        " writes the coordinate (grounding=true; the openai backend needs the server's"
        " continue_final_message)",
    )


def grounding_messages(
    observation: Observation, instruction: str, budget: PixelBudget
) -> tuple[list[Message], Size]:
    """The grounding prompt for `observation`'s screenshot resized under `budget`.

    Returns:
        the system + user messages (the image at the resized size) and that size in pixels.
    """
    image, resized = resize_for_model(observation.screenshot, budget.min_pixels, budget.max_pixels)
    return build_grounding_messages(instruction, resized=resized, image=image), resized


def full_reply(text: str, prefix: str) -> str:
    """The whole assistant text from a reply to a prefilled turn.

    Servers return only the continuation (`966, 546]}}\\n</tool_call>`); some echo the prefix,
    and one that ignored the prefill writes a call of its own. A reply that already opens a
    `<tool_call>` is therefore kept as it is; anything else continues `prefix`.
    """
    if not prefix or text.lstrip().startswith("<tool_call>"):
        return text
    return prefix + text
