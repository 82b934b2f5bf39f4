"""The loop detector: the same action chosen again and again on a screen that does not change."""

from __future__ import annotations

from pixelpilot.actions import Action, Observation

LOOP_REPEATS = 3
"""The same action on an unchanged screen this many times in a row ends the episode."""


class RepeatDetector:
    """Counts how many times in a row the same action was chosen on an unchanged screen.

    Screens are compared by pixel digest only when the action repeats the previous one, so a
    step whose action differs costs nothing here (a digest of a 1920x1080 screen is ~10 ms).
    The detector keeps a reference to the previous step's observation and nothing else.
    """

    def __init__(self) -> None:
        self.repeats = 0
        self._action: str | None = None
        self._screen: Observation | None = None
        self._digest: str | None = None  # the previous screen's digest, once computed

    def see(self, action: Action, observation: Observation) -> int:
        """Count `action`, decided on `observation`; returns the run length so far (1 for an
        action or screen that differs from the previous step's)."""
        key = action.model_dump_json()
        same = False
        if key == self._action and self._screen is not None:
            if self._digest is None:
                self._digest = self._screen.pixel_digest()
            digest = observation.pixel_digest()
            same = digest == self._digest
            self._digest = digest
        else:
            self._digest = None
        self.repeats = self.repeats + 1 if same else 1
        self._action, self._screen = key, observation
        return self.repeats
