"""AndroidEnv observations on devices with several displays, the accessibility tree in each
observation, the app allow-list, and the authorization hint."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pixelpilot.actions import Click, OpenApp, Task
from pixelpilot.env.android import connection
from pixelpilot.env.android.capture import choose_display
from pixelpilot.env.android.testdevice.commands import MULTI_DISPLAY_WARNING
from pixelpilot.env.android.testdevice.system import DISPLAY_IDS
from pixelpilot.env.android.tree import AndroidObservation, extract_hierarchy, parse_nodes
from pixelpilot.errors import ActionError, EnvError
from tests.env.android.support import (
    android_env,
    key_fixture,  # noqa: F401 (the `key` fixture)
    running_device,
    widget_center,
)


def test_a_device_with_two_displays_warns_on_stderr_like_android(key: Path) -> None:
    with running_device(displays=2) as device:
        merged = device.shell.run("screencap -p")
        quiet = device.shell.run(f"screencap -p -d {DISPLAY_IDS[0]}")
        listed = device.shell.run("dumpsys SurfaceFlinger --display-id").decode()
    assert merged.startswith(MULTI_DISPLAY_WARNING.encode()) and b"Multiple displays" in merged
    assert merged[len(MULTI_DISPLAY_WARNING) :].startswith(b"\x89PNG")
    assert quiet.startswith(b"\x89PNG")
    assert [line.split()[1] for line in listed.splitlines()] == list(DISPLAY_IDS[:2])


def test_screenshots_of_a_device_with_two_displays(key: Path) -> None:
    with running_device(displays=2) as device:
        with android_env(device, key) as env:
            shot = env.observe().screenshot
            assert shot.tobytes() == device.phone.frame().tobytes()
            assert env.capture_mode == "raw"
        captures = [r.argv for r in device.commands if r.argv[0] == "screencap"]
        assert captures and all(argv[-2:] == ("-d", DISPLAY_IDS[0]) for argv in captures)
        with android_env(device, key, display_id=DISPLAY_IDS[1]) as env:
            assert env.observe().size == (1280, 720)  # the external display
        with pytest.raises(EnvError, match=f"no display 42.*{DISPLAY_IDS[1]}"):
            android_env(device, key, display_id="42")


def test_single_display_passes_no_display_id() -> None:
    assert choose_display("", None) is None
    assert choose_display("Display 1 (HWC display 0): port=0\n", None) is None
    two = "Display 7 (HWC display 0): x\nDisplay 9 (HWC display 1): y\n"
    assert choose_display(two, None) == "7" and choose_display(two, "9") == "9"
    assert choose_display("", "5") == "5"  # an old device lists nothing: trust the option


def test_a_capture_error_quotes_the_device(key: Path) -> None:
    with running_device() as device:
        original = device.shell.commands["screencap"]

        def failing(inv):  # type: ignore[no-untyped-def]
            inv.err("screencap: Capturing failed.\n")
            return 1

        device.shell.commands["screencap"] = failing
        try:
            with android_env(device, key) as env, pytest.raises(EnvError) as info:
                env.observe()
        finally:
            device.shell.commands["screencap"] = original
    assert "Capturing failed" in str(info.value)


def test_accessibility_tree_is_off_by_default_and_on_with_the_option(key: Path) -> None:
    with running_device() as device:
        with android_env(device, key) as env:
            plain = env.observe()
            assert isinstance(plain, AndroidObservation) and plain.a11y is None
            assert not any(r.argv[0] == "uiautomator" for r in device.commands)
        with android_env(device, key, a11y=True) as env:
            env.reset()
            home = env.observe()
            env.execute(OpenApp(name="Settings"))
            settings = env.observe()
        scratch = [p for p in device.shell.fs.files if p.endswith("window_dump.xml")]
    assert isinstance(home, AndroidObservation) and home.a11y is not None
    nodes = parse_nodes(home.a11y)
    icon = next(n for n in nodes if n.text == "Settings" and n.clickable)
    x, y = widget_center(device, "com.android.launcher3", "icon:com.android.settings")
    x1, y1, x2, y2 = icon.box
    assert x1 <= x < x2 and y1 <= y < y2  # the tree's box is where a tap opens the app
    assert isinstance(settings, AndroidObservation) and settings.a11y is not None
    switches = [n.checked for n in parse_nodes(settings.a11y) if n.class_name.endswith("Switch")]
    assert switches == [True, False, False, False]  # Wi-Fi on; Bluetooth, Airplane, Dark off
    wifi_row = [n for n in parse_nodes(settings.a11y) if n.text == "Wi-Fi"]
    assert wifi_row and scratch == []  # the dump file is removed from the device


def test_extract_hierarchy_ignores_the_noise_around_it() -> None:
    xml = "<?xml version='1.0' ?><hierarchy rotation=\"1\"></hierarchy>"
    assert extract_hierarchy(f"UI hierchary dumped to: x\n{xml}\n") == xml
    assert extract_hierarchy("ERROR: could not get idle state.") is None
    with pytest.raises(ValueError, match="not a uiautomator dump"):
        parse_nodes("<html></html>")


def test_allowed_apps_refuse_other_packages_without_running_anything(key: Path) -> None:
    allowed = ["com.android.settings", "com.pixelpilot.*"]
    with running_device() as device, android_env(device, key, allowed_apps=allowed) as env:
        env.execute(OpenApp(name="Settings"))
        assert device.phone.foreground() == "com.android.settings/.Settings"
        env.execute(OpenApp(name="Notes"))  # matched by the pattern
        assert device.phone.top.package == "com.pixelpilot.notes"
        since = len(device.commands)
        with pytest.raises(ActionError, match=r"com\.android\.contacts is not in .*allowed_apps"):
            env.execute(OpenApp(name="Contacts"))
        ran = [r.argv[0] for r in device.commands[since:]]
        assert "monkey" not in ran and "am" not in ran and "mkdir" not in ran
        assert device.phone.top.package == "com.pixelpilot.notes"
        with pytest.raises(EnvError, match="allowed_apps"):
            env.reset(task=Task(goal="x", start_app="com.android.contacts"))
    with (
        running_device() as device,
        android_env(device, key, allowed_apps=[]) as env,
        pytest.raises(ActionError, match="empty"),
    ):
        env.execute(OpenApp(name="Settings"))


def test_no_allow_hint_for_a_device_that_authorizes_itself(
    key: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection, "PROMPT_HINT_DELAY", 1.0)
    fresh = tmp_path / "new_key"  # unknown to the device: it sees the public key and accepts
    with (
        caplog.at_level(logging.WARNING, logger="pixelpilot.env.android"),
        running_device(auth="accept") as device,
        android_env(device, fresh) as env,
    ):
        env.observe()
    assert any("prompt shown" in event for event in device.auth_events)
    assert not [r for r in caplog.records if "Allow" in r.getMessage()]


def test_the_allow_hint_for_a_device_that_waits_for_its_user(
    key: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection, "PROMPT_HINT_DELAY", 0.1)
    with (
        caplog.at_level(logging.WARNING, logger="pixelpilot.env.android"),
        running_device(auth="deny") as device,
        pytest.raises(EnvError, match="Allow"),
    ):
        android_env(device, key, auth_timeout=2.0)
    hints = [r.getMessage() for r in caplog.records if "tap Allow" in r.getMessage()]
    assert len(hints) == 1 and "Allow USB debugging?" in hints[0]


def test_a_turned_phone_gives_landscape_screenshots_and_taps_land(key: Path) -> None:
    with running_device() as device, android_env(device, key) as env:
        device.shell.run("settings put system user_rotation 1")
        env.reset()
        shot = env.observe()
        assert shot.size == (1200, 540) and shot.scale == 1.0
        x, y = widget_center(device, "com.android.launcher3", "icon:com.pixelpilot.counter")
        env.execute(Click(x=x, y=y))
        assert device.phone.top.package == "com.pixelpilot.counter"
        assert env.observe().screenshot.tobytes() == device.phone.frame().tobytes()


def test_no_tree_while_the_screen_animates(key: Path, caplog: pytest.LogCaptureFixture) -> None:
    with (
        running_device(animation_ms=30_000) as device,
        android_env(device, key, a11y=True, settle_timeout=0.0) as env,
        caplog.at_level(logging.WARNING, logger="pixelpilot.env.android"),
    ):
        env.execute(OpenApp(name="Settings"))  # a 30 s transition starts
        shot = env.observe()
    assert isinstance(shot, AndroidObservation) and shot.a11y is None
    assert any("no hierarchy" in r.getMessage() for r in caplog.records)


def test_allowed_apps_from_the_command_line_forms() -> None:
    from pixelpilot.env.android.config import AndroidConfig

    assert AndroidConfig(allowed_apps="com.a, com.b.*").allowed_apps == ["com.a", "com.b.*"]  # type: ignore[arg-type]
    assert AndroidConfig(allowed_apps=["com.a"]).allowed_apps == ["com.a"]
    assert AndroidConfig().allowed_apps is None
