"""DesktopConfig: every option of the desktop environment, with its unit and default."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pixelpilot.actions import Size
from pixelpilot.errors import ConfigError

PIXELS_PER_NOTCH = 50
"""Pixels one mouse-wheel click scrolls, roughly: Chromium on X11 moves 53 px per click and
Firefox three lines (about 57 px). A Scroll of N pixels turns the wheel
round(N / scroll_pixels_per_notch) clicks (this constant by default), at least one."""

WINDOW_MANAGERS = ("openbox", "none")
"""Window managers `wm` may name; "none" leaves the virtual display bare."""


VIRTUAL_DISPLAY_LIMITS = (100, 16384)
"""Pixels per side of a private Xvfb: smaller leaves no room for a window and the fail-safe
corners; larger exceeds what Xvfb allocates (the X protocol itself stops at 32767)."""


class DesktopConfig(BaseModel):
    """Options of the desktop environment (CLI: --virtual-display, --monitor, --wm, --launch,
    --env-opt)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    display: str | None = Field(
        None, description="X display to drive, e.g. ':0' (default: $DISPLAY)"
    )
    virtual_display: str | None = Field(
        None,
        description="'WxH' in pixels: run on a private Xvfb of this size, stopped by close()",
    )
    wm: str = Field(
        "openbox",
        description="window manager started on the virtual display: 'openbox' or 'none' "
        "(ignored on an existing display, which has its own)",
    )
    launch: list[str] = Field(
        default_factory=list,
        description="commands started on the display at each reset (shell words, no shell); "
        "reset waits for each one's window",
    )
    apps: dict[str, str] = Field(
        default_factory=dict,
        description="extra app name -> command entries for open_app (they win over the "
        "installed .desktop entries)",
    )
    allowed_apps: list[str] | None = Field(
        None,
        description="the only app names or commands open_app may start (default: any "
        "installed application)",
    )
    fuzzy_cutoff: float = Field(
        0.75, gt=0, le=1, description="similarity an app name needs for a fuzzy match (0..1)"
    )
    window_timeout: float = Field(
        20.0, gt=0, description="seconds to wait for a launched program's window to be focused"
    )
    judge_grace: float = Field(
        3.0,
        ge=0,
        description="seconds a desktop: task's judge keeps re-checking a failed verdict, for "
        "applications still saving when the episode ends",
    )
    monitor: int = Field(1, ge=1, description="mss monitor number, 1 = the first monitor")
    settle_timeout: float = Field(
        2.0, ge=0, description="seconds to wait after an action for the screen to stop changing"
    )
    settle_interval: float = Field(
        0.05, gt=0, description="seconds between the captures compared while settling"
    )
    type_interval_ms: int = Field(
        5, ge=0, le=1000, description="milliseconds to wait after each typed character"
    )
    drag_seconds: float = Field(
        0.3, ge=0, le=10, description="seconds a drag takes from press to release"
    )
    scroll_pixels_per_notch: int = Field(
        PIXELS_PER_NOTCH, gt=0, description="pixels one mouse-wheel click is taken to scroll"
    )
    startup_timeout: float = Field(
        10.0, gt=0, description="seconds to wait for Xvfb or the calibration window to start"
    )

    @field_validator("virtual_display")
    @classmethod
    def _check_size(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                size = Size.parse(value)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
            low, high = VIRTUAL_DISPLAY_LIMITS
            if not (low <= size.width <= high and low <= size.height <= high):
                raise ValueError(
                    f"a virtual display of {size.width}x{size.height} is outside the limits: "
                    f"each side from {low} to {high} pixels (e.g. 1280x800)"
                )
        return value

    @field_validator("wm")
    @classmethod
    def _check_wm(cls, value: str) -> str:
        if value not in WINDOW_MANAGERS:
            raise ValueError(f"unknown window manager {value!r}; use one of: openbox, none")
        return value

    @field_validator("launch", mode="before")
    @classmethod
    def _one_command(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_display(self) -> DesktopConfig:
        if self.display is not None and self.virtual_display is not None:
            raise ValueError("give either display or virtual_display, not both")
        return self
