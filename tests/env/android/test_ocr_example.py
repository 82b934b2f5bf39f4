"""The README's Android example, end to end: `pixelpilot run --env android --model ocr` on the
test phone opens Settings by its label and toggles a setting, with the accessibility tree read
at every step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixelpilot.cli import main
from pixelpilot.env.android.testdevice.apps import SettingsApp
from tests.env.android.support import key_fixture, running_device  # noqa: F401 (`key`)


@pytest.mark.slow  # the OCR model reads three 1080x2400 screens on the CPU
def test_ocr_opens_settings_and_turns_on_bluetooth(key: Path, tmp_path: Path) -> None:
    with running_device(width=1080, height=2400) as device:
        status = main(
            [
                "run",
                "--env",
                "android",
                "--device",
                device.serial,
                "--model",
                "ocr",
                "--task",
                "Open Settings, then turn on Bluetooth",
                "--max-steps",
                "6",
                "--out",
                str(tmp_path / "run"),
                "--env-opt",
                f"adb_key={key}",
                "--env-opt",
                "a11y=true",
            ]
        )
        settings = device.phone.app("com.android.settings")
        uiautomator = [r for r in device.commands if r.argv[0] == "uiautomator"]
    assert status == 0
    assert isinstance(settings, SettingsApp) and settings.toggles["Bluetooth"] is True
    assert settings.toggles["Wi-Fi"] is True  # nothing else was flipped
    steps = [json.loads(line) for line in (tmp_path / "run" / "trajectory.jsonl").open()]
    clicks = [s for s in steps if (s.get("action") or {}).get("type") == "click"]
    assert len(clicks) == 2 and all(s.get("error") is None for s in steps)
    icon = next(
        w for w in device.phone.launcher.widgets(device.phone.screen) if w.label == "Settings"
    )
    side = device.phone.launcher.icon_size(device.phone.screen)
    assert clicks[0]["action"]["y"] > icon.box[1] + side  # it tapped the label, not the icon
    assert len(uiautomator) >= len(steps)  # one dump per observation
