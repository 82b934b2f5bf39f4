"""The options of the android environment (`--env android`), each with its unit and default."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AndroidConfig(BaseModel):
    """Options of AndroidEnv. Times are seconds unless the name says milliseconds."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field(
        "127.0.0.1:5555",
        description="HOST:PORT of a device with ADB over TCP (an emulator, `adb tcpip`, "
        "wireless debugging, `pixelpilot android-testdevice`), or usb / usb:SERIAL",
    )
    adb_key: Path | None = Field(
        None,
        description="the private key file; created with its .pub when missing "
        "(default: $ANDROID_USER_HOME/adbkey or ~/.android/adbkey, the adb tool's own key)",
    )
    connect_timeout: float = Field(10.0, gt=0, description="to open a connection (s)")
    auth_timeout: float = Field(
        30.0, gt=0, description="to wait for the user to allow this computer on the phone (s)"
    )
    command_timeout: float = Field(20.0, gt=0, description="for each device answer (s)")
    reconnect_attempts: int = Field(6, ge=1, description="connection attempts after a drop")
    reconnect_backoff: float = Field(0.25, gt=0, description="first wait between attempts (s)")
    reconnect_backoff_max: float = Field(4.0, gt=0, description="longest wait between attempts")
    reconnect_seconds: float = Field(60.0, gt=0, description="give up reconnecting after (s)")
    capture: Literal["auto", "raw", "png"] = Field(
        "auto",
        description="raw: `screencap` pixels (no PNG encode on the phone); png: `screencap -p`; "
        "auto: raw, falling back to png for good if the raw output cannot be parsed",
    )
    display_id: str | None = Field(
        None,
        description="the display to capture (`screencap -d ID`, an id from `dumpsys "
        "SurfaceFlinger --display-id`); default: the first one when the device has several",
    )
    a11y: bool = Field(
        False,
        description="read the accessibility tree (`uiautomator dump`) with every observation; "
        "about a second per step on a phone",
    )
    settle_timeout: float = Field(
        3.0, ge=0, description="longest wait for the screen to stop changing after an action"
    )
    settle_interval: float = Field(0.1, gt=0, description="time between settle captures (s)")
    settle_frames: int = Field(2, ge=2, description="equal consecutive captures that mean settled")
    exactly_once: bool = Field(
        True,
        description="guard each action with a marker directory so a resend after a dropped "
        "connection can never run it twice; off: an action whose delivery is uncertain is "
        "not resent and is recorded as uncertain",
    )
    marker_dir: str = Field(
        "/data/local/tmp/.pixelpilot", description="where the exactly-once markers live"
    )
    app_names: dict[str, str] = Field(
        default_factory=dict,
        description="extra app name -> package (or package/activity) entries for open_app",
    )
    allowed_apps: list[str] | None = Field(
        None,
        description="packages open_app and a task's start app may launch (shell-style "
        "patterns such as com.example.* allowed); None: any installed app. These are the "
        "only intents an episode sends (`pixelpilot calibrate` opens its own screen)",
    )
    fuzzy_cutoff: float = Field(
        0.75, gt=0, le=1, description="similarity an app name needs for a fuzzy match (0..1)"
    )
    drag_ms: int = Field(800, gt=0, description="duration of a drag's swipe (ms)")
    scroll_ms: int = Field(600, gt=0, description="duration of a scroll's swipe (ms)")
    home_on_reset: bool = Field(True, description="press Home when an episode starts")
    foreground_app: bool = Field(
        True, description="report the foreground package in observations (one extra command)"
    )
    ime_switch_delay: float = Field(
        1.0, ge=0, description="wait after selecting ADBKeyboard before typing through it (s)"
    )
    restore_ime: bool = Field(
        True, description="switch back to the user's keyboard after typing through ADBKeyboard"
    )

    @field_validator("allowed_apps", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """`--env-opt allowed_apps=a,b` arrives as one string: split it at the commas."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("display_id")
    @classmethod
    def _display_number(cls, value: str | None) -> str | None:
        if value is not None and not value.isdigit():
            raise ValueError(
                "must be a display id (digits), see dumpsys SurfaceFlinger --display-id"
            )
        return value

    @field_validator("marker_dir")
    @classmethod
    def _plain_path(cls, value: str) -> str:
        allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")
        if not value.startswith("/") or not set(value) <= allowed:
            raise ValueError("must be an absolute path of letters, digits and _ . / -")
        return value.rstrip("/")
