"""Building AndroidEnv: keys, clear one-line errors, app-name resolution, calibration (library
and the `pixelpilot calibrate` / `pixelpilot android-testdevice` commands)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pixelpilot.env.android.apps import resolve_app
from pixelpilot.env.android.config import AndroidConfig
from pixelpilot.env.android.keys import android_keycode, parse_keycode
from pixelpilot.env.calibrate import calibrate
from pixelpilot.errors import ActionError, ConfigError, EnvError, UserError
from tests.env.android.support import (
    FAST,
    android_env,
    key_fixture,  # noqa: F401 (the `key` fixture)
    running_device,
)

PACKAGES = [
    "com.android.settings",
    "com.android.chrome",
    "com.google.android.gm",
    "com.google.android.apps.maps",
    "com.pixelpilot.notes",
    "com.pixelpilot.counter",
    "com.example.notepad",
    "com.android.contacts",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_key_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "android" / "adbkey"
    with running_device() as device:
        android_env(device, path).close()
        created = path.read_bytes()
        assert Path(f"{path}.pub").exists()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        android_env(device, path).close()
    assert path.read_bytes() == created
    assert device.auth_events[2].startswith("public key accepted")
    assert device.auth_events[3].startswith("signature accepted")  # the same key, now known
    assert len(device.keys) == 1


def test_default_key_location_honours_android_user_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pixelpilot.env.android.adb import default_key_path

    monkeypatch.setenv("ANDROID_USER_HOME", str(tmp_path))
    assert default_key_path() == tmp_path / "adbkey"
    monkeypatch.delenv("ANDROID_USER_HOME")
    assert default_key_path() == Path.home() / ".android" / "adbkey"


def one_line_error(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and isinstance(exc, UserError) and isinstance(exc, EnvError)
    return text


def test_unreachable_device_is_one_line_with_the_fix(key: Path) -> None:
    port = free_port()
    config = AndroidConfig(device=f"127.0.0.1:{port}", adb_key=key, **FAST)
    from pixelpilot.env.android.env import AndroidEnv

    with pytest.raises(EnvError) as info:
        AndroidEnv(config)
    text = one_line_error(info.value)
    assert "connection refused" in text and "--device HOST:PORT" in text


def test_unauthorized_device_says_to_tap_allow(key: Path) -> None:
    with running_device(auth="deny") as device, pytest.raises(EnvError) as info:
        android_env(device, key, auth_timeout=0.4)
    text = one_line_error(info.value)
    assert "did not authorize" in text and "Allow" in text and str(key) in text


def test_device_without_a_screen(key: Path) -> None:
    with running_device() as device:
        device.shell.commands["wm"] = lambda inv: (inv.err("Error: no display\n"), 1)[1]
        with pytest.raises(EnvError) as info:
            android_env(device, key)
    assert "no usable screen" in one_line_error(info.value)


def test_bad_device_string_and_bad_key(tmp_path: Path) -> None:
    with pytest.raises(EnvError) as info:
        android_env_config = AndroidConfig(device="phone", adb_key=tmp_path / "k", **FAST)
        from pixelpilot.env.android.env import AndroidEnv

        AndroidEnv(android_env_config)
    assert "HOST:PORT" in one_line_error(info.value)
    bad = tmp_path / "garbage"
    bad.write_text("not a key")
    Path(f"{bad}.pub").write_text("nope")
    with running_device() as device, pytest.raises(EnvError) as info:
        android_env(device, bad)
    assert "cannot use the ADB key" in one_line_error(info.value)


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="marker_dir"):
        AndroidConfig(marker_dir="/tmp/a b;rm")
    with pytest.raises(ValueError):
        AndroidConfig(settle_frames=1)
    from pixelpilot.env import create_env

    with pytest.raises(ConfigError, match="capture"):
        create_env("android", {"capture": "jpeg"})


def test_resolve_app_order() -> None:
    assert resolve_app("com.example.notepad", PACKAGES).how == "package name"
    assert resolve_app("Gmail", PACKAGES).target == "com.google.android.gm"
    assert resolve_app("CHROME", PACKAGES).how == "name, ignoring case"
    assert resolve_app("notepad", PACKAGES).target == "com.example.notepad"
    match = resolve_app("Notes app", PACKAGES)
    assert match.target == "com.pixelpilot.notes" and match.how.startswith("fuzzy")
    assert resolve_app("Mail", PACKAGES).target == "com.google.android.gm"
    mapped = resolve_app("Jot", PACKAGES, {"Jot": "com.example.notepad/.Main"})
    assert (mapped.package, mapped.activity) == ("com.example.notepad", "com.example.notepad/.Main")
    with pytest.raises(ActionError, match="closest"):
        resolve_app("Spotify", PACKAGES)
    with pytest.raises(ActionError, match="ambiguous"):
        resolve_app("note", ["com.a.notes", "com.b.notes"])
    # a name map entry for an app that is not installed is ignored
    with pytest.raises(ActionError):
        resolve_app("YouTube", PACKAGES)


def test_key_table() -> None:
    expected = {
        "volume_up": "KEYCODE_VOLUME_UP",
        "volume_down": "KEYCODE_VOLUME_DOWN",
        "power": "KEYCODE_POWER",
        "camera": "KEYCODE_CAMERA",
        "clear": "KEYCODE_CLEAR",
        "enter": "KEYCODE_ENTER",
        "backspace": "KEYCODE_DEL",
        "home": "KEYCODE_HOME",
        "a": "KEYCODE_A",
        "7": "KEYCODE_7",
        "/": "KEYCODE_SLASH",
        "ctrl": "KEYCODE_CTRL_LEFT",
    }
    assert {k: android_keycode(k) for k in expected} == expected
    assert android_keycode("f13") is None and android_keycode("é") is None
    assert parse_keycode("24") == parse_keycode("volume_up") == "KEYCODE_VOLUME_UP"
    assert parse_keycode("KEYCODE_NOPE") is None


def test_calibration_through_the_library(key: Path) -> None:
    with running_device() as device, android_env(device, key) as env:
        report = calibrate(env, count=6)
    assert report.screen == (540, 1200) and len(report.results) == 6
    assert report.max_error <= 1.0


def test_calibration_needs_the_calibration_app(key: Path) -> None:
    with running_device() as device:
        device.phone.catalog.apps.pop("com.pixelpilot.calibration")
        with android_env(device, key) as env, pytest.raises(UserError, match="calibration"):
            calibrate(env, count=3)


def _cli(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pixelpilot.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.mark.slow  # two CLI processes start cold (several seconds each)
def test_cli_testdevice_and_calibrate(key: Path) -> None:
    server = _cli(
        "android-testdevice",
        "--port",
        "0",
        "--size",
        "540x1200",
        "--displays",
        "2",
        "--log-commands",
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        assert "listening on 127.0.0.1:" in banner, banner + (
            server.stderr.read() if server.stderr else ""
        )
        address = banner.split("listening on ")[1].split()[0]
        calibration = _cli(
            "calibrate",
            "--env",
            "android",
            "--device",
            address,
            "--count",
            "5",
            "--env-opt",
            f"adb_key={key}",
            "--env-opt",
            "settle_interval=0.02",
        )
        out, err = calibration.communicate(timeout=120)
        assert calibration.returncode == 0, err
        assert out.splitlines()[-1] == "max error: 0.00 px"
    finally:
        server.terminate()
        tail, _ = server.communicate(timeout=30)
    assert server.returncode == 0 and "test device stopped" in tail
    assert "shell: wm size; wm density" in tail and "am start -n com.pixelpilot.calibration" in tail
    assert "exec: screencap -d 4619827259835644672 2>/dev/null" in tail  # the first display


def test_cli_testdevice_refuses_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    from pixelpilot.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        status = main(["android-testdevice", "--port", str(taken.getsockname()[1])])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "pick another --port" in err
    assert main(["android-testdevice", "--port", "0", "--size", "12"]) == 2
    assert "expected a size like" in capsys.readouterr().err
    assert main(["android-testdevice", "--port", "0", "--displays", "4"]) == 2
    assert "displays" in capsys.readouterr().err


def test_something_that_is_not_adb(key: Path) -> None:
    import threading

    with socket.create_server(("127.0.0.1", 0)) as server:

        def answer_like_http() -> None:
            conn, _ = server.accept()
            conn.recv(1024)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            conn.close()

        thread = threading.Thread(target=answer_like_http, daemon=True)
        thread.start()
        port = server.getsockname()[1]
        from pixelpilot.env.android.env import AndroidEnv

        with pytest.raises(EnvError) as info:
            AndroidEnv(AndroidConfig(device=f"127.0.0.1:{port}", adb_key=key, **FAST))
        thread.join(timeout=5)
    assert "cannot talk ADB to" in one_line_error(info.value)
