"""What the environment shows the policy (Observation) and what the agent is asked to do (Task).

These live beside the actions because both sides of the loop speak them: environments produce
observations and policies consume them, and neither side may import the other (see
`docs`/design: env and model import only `pixelpilot.actions`).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from pixelpilot.actions.geometry import Size

Platform = Literal["desktop", "browser", "android"]


@dataclass(frozen=True)
class Observation:
    """One screenshot and its geometry.

    Attributes:
        screenshot: the captured screen as an RGB PIL image, in device pixels. Every coordinate
            of an action decided on this observation is a pixel of this image.
        platform: which kind of environment produced it; policies choose their tool schema from
            it (desktop and browser: a mouse-and-keyboard computer; android: a touchscreen).
        scale: device pixels per input unit (2.0 on a HiDPI desktop or a browser with
            deviceScaleFactor 2; 1.0 otherwise). Adapters divide by it; policies ignore it.
        timestamp: when the capture finished, seconds since the epoch.
        url: the page URL (browser only).
        app: the foreground app or window (android: the package; desktop: the window title).
        capture_seconds: how long the capture took.
        settle_seconds: how long the adapter waited for the screen to settle before capturing.
    """

    screenshot: Image.Image
    platform: Platform
    scale: float = 1.0
    timestamp: float = field(default_factory=time.time)
    url: str | None = None
    app: str | None = None
    capture_seconds: float = 0.0
    settle_seconds: float = 0.0

    @property
    def size(self) -> Size:
        """The screenshot's size in pixels."""
        return Size(*self.screenshot.size)

    def pixel_digest(self) -> str:
        """sha256 of the raw pixels: equal digests mean identical screens."""
        return hashlib.sha256(self.screenshot.tobytes()).hexdigest()


@dataclass(frozen=True)
class Task:
    """A goal for one episode, and where the environment should start it.

    Attributes:
        goal: the instruction given to the policy, in natural language.
        name: a stable identifier (e.g. "sandbox:sign-in", "miniwob:click-button"), or None for
            a free-text task.
        start_url: where a browser episode starts (None: the adapter's default page).
        start_app: the app an Android episode starts in (None: wherever the device is).
        success_js: for browser tasks, a JavaScript expression evaluated in the page that is
            true once the task is solved.
        expected_answer: for question tasks, the answer that counts as correct (compared
            case-insensitively after trimming whitespace).
    """

    goal: str
    name: str | None = None
    start_url: str | None = None
    start_app: str | None = None
    success_js: str | None = None
    expected_answer: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The environment's own verdict on a task, when it can judge one.

    Attributes:
        success: whether the task was solved.
        reward: the raw reward when the environment has one (MiniWoB: -1..1), else None.
        detail: a short explanation for the report.
    """

    success: bool
    reward: float | None = None
    detail: str = ""
