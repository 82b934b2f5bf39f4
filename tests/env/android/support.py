"""Helpers for the android tests: a key, a running test device, an environment on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.env.android.config import AndroidConfig
from pixelpilot.env.android.env import AndroidEnv
from pixelpilot.env.android.testdevice import AdbTestDevice, DeviceConfig, ShellRecord

FAST: dict[str, Any] = {
    "settle_interval": 0.02,
    "settle_timeout": 2.0,
    "reconnect_backoff": 0.01,
    "reconnect_backoff_max": 0.05,
    "connect_timeout": 5.0,
    "command_timeout": 5.0,
    "auth_timeout": 5.0,
    "ime_switch_delay": 0.0,
}
"""Adapter options for a local test device: short polls, quick reconnects."""

READS = {"screencap", "md5sum", "dumpsys", "grep", "pm", "wm", "settings"}
"""Commands the adapter runs to look, not to act."""


def make_key(directory: Path) -> Path:
    """An ADB key pair in `directory` (created if missing, keys made by adb-shell's keygen),
    returning the private key."""
    from adb_shell.auth.keygen import keygen

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "adbkey"
    keygen(str(path))
    return path


@pytest.fixture(name="key", scope="module")
def key_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`key`: a fresh ADB key pair per test module (import `key_fixture` to use it)."""
    return make_key(tmp_path_factory.mktemp("key"))


@contextmanager
def running_device(**config: Any) -> Iterator[AdbTestDevice]:
    """A started test device (540x1200 unless given), stopped afterwards."""
    settings = {"width": 540, "height": 1200, **config}
    with AdbTestDevice(DeviceConfig(**settings)) as device:
        yield device


def android_env(device: AdbTestDevice, key: Path, **options: Any) -> AndroidEnv:
    return AndroidEnv(AndroidConfig(device=device.serial, adb_key=key, **{**FAST, **options}))


def widget_center(device: AdbTestDevice, package: str, key: str) -> tuple[int, int]:
    """The centre of widget `key` in app `package`'s layout, in device pixels."""
    app = device.phone.app(package)
    assert app is not None, package
    for widget in app.widgets(device.phone.screen):
        if widget.key == key:
            x1, y1, x2, y2 = widget.box
            return (x1 + x2) // 2, (y1 + y2) // 2
    raise AssertionError(f"{package} has no widget {key}")


def acted(records: list[ShellRecord]) -> list[tuple[str, ...]]:
    """The argv of every command in `records` that is not one of the adapter's reads."""
    return [r.argv for r in records if r.argv[0] not in READS]
