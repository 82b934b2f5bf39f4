"""Build the History a policy sees from the steps recorded so far."""

from __future__ import annotations

from collections.abc import Sequence

from pixelpilot.agent.steps import Step
from pixelpilot.model import History, HistoryEntry


def build_history(goal: str, steps: Sequence[Step], *, image_history: int = 0) -> History:
    """The goal and one entry per earlier step; screenshots kept for the last `image_history`.

    Args:
        goal: the task's instruction.
        steps: the episode's steps so far, oldest first.
        image_history: how many of the most recent steps keep their screenshot (0 = text only,
            the Qwen cookbook's default).
    """
    entries = []
    first_with_image = len(steps) - image_history
    for position, step in enumerate(steps):
        keep = image_history > 0 and position >= first_with_image
        entries.append(
            HistoryEntry(
                action=step.action,
                raw_text=step.raw_text,
                error=step.error,
                screenshot=step.observation.screenshot if keep else None,
                screen_size=step.screen,
            )
        )
    return History(goal=goal, steps=tuple(entries))
