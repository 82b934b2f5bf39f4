"""DeviceConfig: the test device's screen, authorization behaviour, installed extras and faults."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pixelpilot.env.android.testdevice.faults import Faults


class DeviceConfig(BaseModel):
    """The test device's screen, authorization behaviour, installed extras and faults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int = Field(1080, gt=0, description="screen width in pixels")
    height: int = Field(2400, gt=0, description="screen height in pixels")
    density: int = Field(420, gt=0, description="dots per inch, as `wm density` reports")
    auth: Literal["accept", "deny", "off"] = Field(
        "accept",
        description="accept: new keys are allowed as if the user tapped Allow; deny: the "
        "prompt is never answered; off: no authentication (like an emulator)",
    )
    trusted_keys: tuple[str, ...] = Field((), description="Android public keys trusted at start")
    adbkeyboard: bool = Field(False, description="ADBKeyboard IME installed (not yet enabled)")
    animation_ms: int = Field(0, ge=0, description="app transition animation length in ms")
    raw_header: Literal[12, 16] = Field(16, description="raw screencap header length in bytes")
    displays: int = Field(
        1,
        ge=1,
        le=3,
        description="displays the phone has; with more than one, `screencap` without `-d` "
        "warns on stderr as Android does (a foldable, an emulator with an external display)",
    )
    faults: Faults = Field(default_factory=Faults)
