"""The error hierarchy: one root, and a split between user mistakes and everything else.

`UserError` and its subclasses are mistakes a person can fix (a wrong name, a bad value, a missing
extra); the CLI prints their message on one line and exits with status 2. Model mistakes are not
exceptions at all once they reach the agent loop: they are recorded on the step (see
`pixelpilot.agent`). Infrastructure failures (`EnvError`, `PolicyError`) raise, chained with `from`.
"""

from __future__ import annotations


class PixelpilotError(Exception):
    """Root of every error pixelpilot raises on purpose."""


class UserError(PixelpilotError):
    """A mistake the user can fix: the message says what was wrong and what to do."""


class ConfigError(UserError):
    """A configuration value (CLI flag, TOML file, constructor option) is invalid."""


class UnknownNameError(UserError):
    """A registry lookup failed; the message lists the known names and the closest match."""


class MissingExtraError(UserError):
    """An optional dependency is not installed; the message carries the exact pip command."""


class ActionError(PixelpilotError):
    """An action cannot be carried out as given (the model's mistake, not the environment's)."""


class OutOfBoundsError(ActionError):
    """A coordinate lies outside the screen it is meant for. Never clamped silently."""


class UnsupportedActionError(ActionError):
    """The environment does not support this action type (e.g. `swipe` on a desktop)."""


class ParseError(PixelpilotError):
    """Model output could not be turned into an Action. Carries the raw text."""

    def __init__(self, message: str, raw_text: str) -> None:
        super().__init__(message)
        self.raw_text = raw_text


class EnvError(PixelpilotError):
    """The environment failed (display gone, browser crashed, device disconnected)."""


class PolicyError(PixelpilotError):
    """The policy backend failed (endpoint down, out of memory), as opposed to a model mistake."""


class Interrupted(PixelpilotError):
    """The user interrupted the run (Ctrl-C, or pyautogui's fail-safe corner)."""
