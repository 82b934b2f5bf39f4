"""The Policy protocol: observation + history -> one Action in screenshot pixels.

Model-specific frames (a resized image, 0-1000 normalised coordinates) never leave a policy: the
Prediction's action is always in the pixels of the observation it was given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from PIL import Image

from pixelpilot.actions import Action, Observation


@dataclass(frozen=True)
class HistoryEntry:
    """One earlier step as a policy sees it.

    Attributes:
        action: the action the policy chose (None when its output could not be used).
        raw_text: the policy's raw output for that step.
        error: why the step's output was not executed (parse error, out of bounds, denied), which
            a policy shows the model so it can correct itself; None when it ran.
        screenshot: the screenshot the step was decided on, kept only for the last N steps when
            the policy asks for image history; None otherwise.
        screen_size: the size of that screenshot in pixels.
    """

    action: Action | None
    raw_text: str = ""
    error: str | None = None
    screenshot: Image.Image | None = None
    screen_size: tuple[int, int] | None = None


@dataclass(frozen=True)
class History:
    """The goal and every earlier step of the episode, oldest first."""

    goal: str
    steps: tuple[HistoryEntry, ...] = ()


@dataclass(frozen=True)
class Prediction:
    """A policy's decision for one observation.

    Attributes:
        action: the first action, in screenshot pixels; None when the output could not be
            turned into a valid in-bounds action (then `error` says why).
        raw_text: the model's raw output text.
        error: a model mistake (unparseable output, coordinate outside the image); recorded on
            the step and fed back, never raised.
        extra_actions: further actions in the same output (recorded, not executed).
        timings: seconds spent per phase, e.g. {"preprocess": 0.01, "generate": 1.2}.
    """

    action: Action | None
    raw_text: str = ""
    error: str | None = None
    extra_actions: tuple[Action, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Policy(Protocol):
    """Decides the next action.

    Attributes:
        spec: the spec string the policy was built from (e.g. "scripted:actions.jsonl").
        image_history: how many earlier screenshots the policy wants in `History` (0 = none).

    Optional hooks, looked up by name (`PolicyBase` has no-op defaults): `check_ready()`
    before the first step of a command, and `start_episode()`, which `run_episode` calls at
    the start of every episode.
    """

    spec: str
    image_history: int

    def predict(self, observation: Observation, history: History) -> Prediction:
        """Return the next action for `observation`, given the goal and earlier steps.

        Raises:
            PolicyError: the backend failed (not a model mistake, which is a Prediction error).
        """
        ...

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        """Predict for several independent observations at once (evaluation)."""
        ...

    def describe(self) -> dict[str, object]:
        """Provenance for reports: backend, model id/revision, dtype, pixel budget, decoding."""
        ...

    def close(self) -> None:
        """Release the model (GPU memory, HTTP sessions). Safe to call twice."""
        ...


class PolicyBase:
    """Defaults shared by policies: a subclass defines `predict` or `predict_batch` (the other
    follows from it), plus empty provenance and a no-op close."""

    spec: str = ""
    image_history: int = 0
    load_seconds: float = 0.0  # time spent loading weights or engines when the policy was built

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.predict is PolicyBase.predict and cls.predict_batch is PolicyBase.predict_batch:
            raise TypeError(f"{cls.__name__} must define predict() or predict_batch()")

    def predict(self, observation: Observation, history: History) -> Prediction:
        """See `Policy.predict`; by default a batch of one."""
        return self.predict_batch([(observation, history)])[0]

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        """See `Policy.predict_batch`; by default one `predict` call per item."""
        return [self.predict(obs, hist) for obs, hist in items]

    def describe(self) -> dict[str, object]:
        return {"spec": self.spec}

    def check_ready(self) -> None:
        """Fail fast before the first step when the backend cannot answer at all (a model
        server that refuses connections). The default checks nothing.

        Raises:
            PolicyError: the backend is unreachable; one line that says what to do.
        """
        return None

    def start_episode(self) -> None:
        """A new episode starts (`run_episode` calls this first): forget whatever the last
        episode left (a scripted policy's place in its script). The default keeps nothing:
        a policy's own state between calls is rare, since `History` carries the episode.
        Called only where the policy serves one episode at a time (see `shareable`)."""
        return None

    def close(self) -> None:
        return None
