"""What the environment shows the policy (Observation) and what the agent is asked to do (Task).

These live beside the actions because both sides of the loop speak them: environments produce
observations and policies consume them, and neither side may import the other (see
`docs`/design: env and model import only `pixelpilot.actions`).
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from pixelpilot.actions.geometry import Size

Platform = Literal["desktop", "browser", "android"]

WHITE = (255, 255, 255)


def to_rgb(image: Image.Image) -> Image.Image:
    """`image` as RGB, with any transparency composited onto white.

    The one conversion every image takes on its way in (Observation, the ScreenSpot and
    AndroidControl loaders, the Qwen preprocessing). Qwen's reference loader (qwen-vl-utils
    `to_rgb`) pastes an RGBA image onto white; a plain `convert("RGB")` drops the alpha and
    turns a transparent pixel black instead, so the model would see another picture. Every
    mode that carries alpha (RGBA, LA, PA, RGBa, La, a palette or grey image with a
    transparent colour) is composited; an RGB image is returned as it is (not copied).

    Returns:
        an RGB image of the same size (W x H pixels).
    """
    if image.mode == "RGB":
        return image
    has_alpha = "A" in image.getbands() or "a" in image.getbands()
    if not has_alpha and "transparency" not in image.info:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, WHITE)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def load_image(source: str | Path | bytes) -> Image.Image:
    """An image file (a path, or its encoded bytes) decoded and made RGB with `to_rgb`.

    The file is read completely and closed; the result does not depend on it.

    Raises:
        OSError: the file cannot be read or is not an image Pillow can decode
            (PIL.UnidentifiedImageError is an OSError).
    """
    opened = Image.open(io.BytesIO(source)) if isinstance(source, bytes) else Image.open(source)
    with opened as image:
        image.load()
        rgb = to_rgb(image)
        return rgb.copy() if rgb is image else rgb


@dataclass(frozen=True)
class Observation:
    """One screenshot and its geometry.

    Attributes:
        screenshot: the captured screen as an RGB PIL image, in device pixels (any other mode
            is converted on construction with `to_rgb`: transparency onto white). Every coordinate
            of an action decided on this observation is a pixel of this image.
        platform: the interface the screen is driven through, from which policies choose their
            tool schema (desktop and browser: a mouse-and-keyboard computer; android: a
            touchscreen). A simulated environment gives the interface it stands in for (the
            fake environment: desktop unless configured otherwise); which environment ran is
            the run's `env` in meta.json.
        scale: device pixels per input unit (2.0 on a HiDPI desktop or a browser with
            deviceScaleFactor 2; 1.0 otherwise). Adapters divide by it; policies ignore it.
        timestamp: when the capture finished, seconds since the epoch.
        url: the page URL (browser only).
        app: the foreground app or window (android: the package; desktop: the window title).
        capture_seconds: how long the capture took.
        settle_seconds: how long the adapter waited for the screen to settle before capturing.
        a11y: the screen's accessibility tree when the environment was asked for it (Android:
            the `uiautomator dump` XML), recorded beside the step's screenshot.
    """

    screenshot: Image.Image
    platform: Platform
    scale: float = 1.0
    timestamp: float = field(default_factory=time.time)
    url: str | None = None
    app: str | None = None
    capture_seconds: float = 0.0
    settle_seconds: float = 0.0
    a11y: str | None = None

    def __post_init__(self) -> None:
        # Adapters and loaders may hand over RGBA or palette images: one RGB rule for all.
        if self.screenshot.mode != "RGB":
            object.__setattr__(self, "screenshot", to_rgb(self.screenshot))

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
        safety: what the task's own pages need from the safety rules, as a `[safety]` table
            (allowances such as typing a password into a local sign-in page; see
            `pixelpilot.agent.risk`); recorded in every run that uses it.
    """

    goal: str
    name: str | None = None
    start_url: str | None = None
    start_app: str | None = None
    success_js: str | None = None
    expected_answer: str | None = None
    safety: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)


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
