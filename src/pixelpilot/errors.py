"""The error hierarchy: one root, and a split between user mistakes and everything else.

`UserError` and its subclasses are mistakes a person can fix (a wrong name, a bad value, a missing
extra); the CLI prints their message on one line and exits with status 2. Model mistakes are not
exceptions at all once they reach the agent loop: they are recorded on the step (see
`pixelpilot.agent`). Infrastructure failures (`EnvError`, `PolicyError`) raise, chained with `from`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class PixelpilotError(Exception):
    """Root of every error pixelpilot raises on purpose."""


class UserError(PixelpilotError):
    """A mistake the user can fix: the message says what was wrong and what to do."""


class ConfigError(UserError):
    """A configuration value (CLI flag, TOML file, constructor option) is invalid."""


class UnknownNameError(UserError):
    """A registry lookup failed; the message lists the known names and the closest match."""


class PluginError(UserError):
    """A registered name (a built-in or a plugin's entry point) is broken: registered twice, not
    importable, or not the kind of object its registry holds."""


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


class SetupError(UserError, EnvError):
    """An environment cannot start for a reason the user can fix (no display, device unauthorised).

    Both a UserError (the CLI prints one line and exits 2) and an EnvError (inside an episode it
    ends the run as env_error). Subclasses keep this base order.
    """


class Interrupted(PixelpilotError):
    """The user interrupted the run (Ctrl-C, or pyautogui's fail-safe corner)."""


def explain_validation(exc: ValidationError) -> str:
    """One line for a pydantic ValidationError: "FIELD: MESSAGE; FIELD: MESSAGE".

    The one place validation errors become text (options, config files, actions, model calls).
    """
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "value"
        message = str(err["msg"]).removeprefix("Value error, ")  # pydantic's prefix says nothing
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
