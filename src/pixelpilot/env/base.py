"""The Environment protocol every adapter implements, and helpers shared by adapters.

An environment owns one screen (a desktop monitor, a browser page, a phone) and converts the
screenshot pixels of an Action into its own input units (logical points, CSS pixels, device
pixels) in one place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from pixelpilot.actions import Action, Observation, Outcome, Size, Task, check_bounds
from pixelpilot.errors import UnsupportedActionError


@dataclass(frozen=True)
class Execution:
    """What an adapter did for one action.

    Attributes:
        detail: the low-level command(s) sent, in the adapter's own units (for the record),
            e.g. "xdotool click at (640, 400) logical" or "input tap 540 1200".
        settle_seconds: how long the adapter waited afterwards for the screen to settle.
    """

    detail: str = ""
    settle_seconds: float = 0.0


@runtime_checkable
class Environment(Protocol):
    """A screen that can be observed and acted on.

    Attributes:
        name: the registry name ("desktop", "browser", "android", "fake").
        supported_actions: the `Action.type` tags this environment executes; any other action
            makes `execute` raise UnsupportedActionError.
    """

    name: str
    supported_actions: frozenset[str]

    def reset(self, *, task: Task | None = None) -> Observation:
        """Prepare a fresh episode (open the task's start page or app) and observe it.

        Raises:
            EnvError: the environment could not be prepared.
        """
        ...

    def observe(self) -> Observation:
        """Capture the current screen.

        Raises:
            EnvError: the screen could not be captured (display gone, device disconnected).
        """
        ...

    def execute(self, action: Action) -> Execution:
        """Carry out one action given in the pixels of the latest observation.

        Terminal actions (`answer`, `terminate`) are never passed here: the agent loop ends
        the episode on them.

        Raises:
            UnsupportedActionError: the action type is not in `supported_actions`.
            OutOfBoundsError: a coordinate lies outside the latest observation's screen.
            EnvError: the action could not be delivered.
            Interrupted: the user aborted (e.g. pyautogui's fail-safe corner).
        """
        ...

    def evaluate(self, *, answer: str | None = None) -> Outcome | None:
        """Judge the current task, when the environment can (None when it cannot)."""
        ...

    def close(self) -> None:
        """Release every resource. Safe to call more than once."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class EnvironmentBase:
    """Shared plumbing for adapters: context manager, support and bounds checks, settling.

    Subclasses set `name`, `supported_actions` and implement the protocol's methods; they call
    `self.validate(action)` first thing in `execute`.
    """

    name: str = "base"
    supported_actions: frozenset[str] = frozenset()
    _last_size: Size | None = None

    def validate(self, action: Action) -> None:
        """Raise if `action` is unsupported here or falls outside the latest screenshot."""
        if action.type not in self.supported_actions:
            raise UnsupportedActionError(
                f"'{action.type}' is not supported by {self.name}; supported actions: "
                + ", ".join(sorted(self.supported_actions))
            )
        if self._last_size is not None:
            check_bounds(action, self._last_size)

    def remember(self, observation: Observation) -> Observation:
        """Record the latest screen size for bounds checks; returns the observation."""
        self._last_size = observation.size
        return observation

    def evaluate(self, *, answer: str | None = None) -> Outcome | None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def wait_until_settled(
    grab: Callable[[], bytes],
    *,
    timeout: float,
    interval: float = 0.05,
    stable_frames: int = 2,
) -> float:
    """Poll `grab` until `stable_frames` consecutive captures are identical, or `timeout`.

    Args:
        grab: returns the screen's raw bytes (or any digest of them).
        timeout: the longest wait in seconds; 0 disables settling.
        interval: seconds between captures.
        stable_frames: how many equal consecutive captures count as settled (at least 2).

    Returns:
        The seconds spent waiting.
    """
    start = time.monotonic()
    if timeout <= 0:
        return 0.0
    previous = grab()
    equal = 1
    while time.monotonic() - start < timeout:
        time.sleep(interval)
        current = grab()
        equal = equal + 1 if current == previous else 1
        if equal >= max(2, stable_frames):
            break
        previous = current
    return time.monotonic() - start


WAIT_SLICE = 0.5  # seconds: how often a long wait checks that the environment is still alive


def sliced_wait(
    seconds: float, check: Callable[[float], None], *, slice_s: float = WAIT_SLICE
) -> None:
    """Wait `seconds` in slices of at most `slice_s`, calling `check(slice)` for each slice.

    `check` does the waiting for its slice (a plain sleep, or a call that also notices a crash,
    such as a browser's own timed wait) and raises EnvError when the environment died, so a
    crash during a long `wait` action is noticed within one slice, not when the wait ends.
    """
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        check(min(slice_s, left))
