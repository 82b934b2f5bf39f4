"""AndroidEnv against the test device: every action reaches the phone as the right `input`
command and changes the screen; observations, settling and capture modes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pixelpilot.actions import (
    Button,
    Click,
    Drag,
    Key,
    LongPress,
    OpenApp,
    Scroll,
    Swipe,
    Task,
    Wait,
)
from pixelpilot.env import check_env, create_env
from pixelpilot.env.android.env import AndroidEnv, parse_screen
from pixelpilot.env.android.testdevice import AdbTestDevice
from pixelpilot.errors import ActionError, OutOfBoundsError, UnsupportedActionError
from tests.env.android.support import (
    FAST,
    acted,
    android_env,
    key_fixture,  # noqa: F401 (the `key` fixture)
    running_device,
    widget_center,
)


@pytest.fixture(scope="module")
def device() -> Iterator[AdbTestDevice]:
    with running_device() as dev:
        yield dev


@pytest.fixture
def env(device: AdbTestDevice, key: Path) -> Iterator[AndroidEnv]:
    environment = android_env(device, key)
    environment.reset()
    yield environment
    environment.close()


def last_actions(device: AdbTestDevice, since: int) -> list[tuple[str, ...]]:
    """The commands the adapter ran to act since record `since`, without the markers."""
    return [a for a in acted(device.commands[since:]) if a[0] != "mkdir"]


def test_check_env_passes(device: AdbTestDevice, key: Path) -> None:
    passed = {r.name for r in check_env(android_env(device, key))}
    assert "refuses move" in passed and "bounds scroll" in passed


def test_create_env_builds_it_from_options(device: AdbTestDevice, key: Path) -> None:
    with create_env("android", {"device": device.serial, "adb_key": str(key), **FAST}) as env:
        obs = env.reset()
    assert obs.platform == "android" and obs.size == (540, 1200) and obs.scale == 1.0
    assert obs.app == "com.android.launcher3"


def test_observation_matches_the_phone(env: AndroidEnv, device: AdbTestDevice) -> None:
    obs = env.observe()
    assert obs.screenshot.tobytes() == device.phone.frame().tobytes()
    assert env.display == (540, 1200) and env.density == 420


def test_click_opens_an_app_and_reports_what_ran(env: AndroidEnv, device: AdbTestDevice) -> None:
    x, y = widget_center(device, "com.android.launcher3", "icon:com.pixelpilot.counter")
    since = len(device.commands)
    execution = env.execute(Click(x=x, y=y))
    assert execution.detail == f"input tap {x} {y}"
    assert last_actions(device, since) == [("input", "tap", str(x), str(y))]
    assert execution.settle_seconds > 0
    obs = env.observe()
    assert obs.app == "com.pixelpilot.counter" and obs.settle_seconds == execution.settle_seconds
    px, py = widget_center(device, "com.pixelpilot.counter", "button:plus")
    env.execute(Click(x=px, y=py, count=2))
    assert device.phone.app("com.pixelpilot.counter").count == 2  # type: ignore[union-attr]


def test_touch_gestures(env: AndroidEnv, device: AdbTestDevice) -> None:
    env.execute(OpenApp(name="Contacts"))
    contacts = device.phone.app("com.android.contacts")
    slop = device.phone.slop
    since = len(device.commands)
    env.execute(Scroll(x=270, y=900, direction="down", amount=300))
    assert contacts.offset == 300  # type: ignore[union-attr]
    assert last_actions(device, since) == [
        ("input", "swipe", "270", "900", "270", str(900 - 300 - slop), "600")
    ]
    env.execute(Scroll(x=270, y=300, direction="up", amount=120))
    assert contacts.offset == 180  # type: ignore[union-attr]
    env.execute(Swipe(x=270, y=900, to_x=270, to_y=700, duration_ms=250))
    assert contacts.offset == 180 + 200 - slop  # type: ignore[union-attr]
    env.execute(Drag(x=270, y=700, to_x=270, to_y=800))
    assert contacts.offset == 180 + 200 - slop - (100 - slop)  # type: ignore[union-attr]
    touches = device.phone.touches
    assert touches[-2].duration_ms == 250 and touches[-1].duration_ms == env.config.drag_ms
    env.execute(LongPress(x=270, y=500, duration_ms=900))
    assert touches[-1].kind == "long_press" and touches[-1].duration_ms == 900
    assert contacts.long_pressed == touches[-1].target  # type: ignore[union-attr]
    since = len(device.commands)
    env.execute(Scroll(x=270, y=100, direction="down", amount=200))  # shortened at the top edge
    assert last_actions(device, since) == [("input", "swipe", "270", "100", "270", "0", "600")]
    with pytest.raises(OutOfBoundsError, match="no room"):
        env.execute(Scroll(x=270, y=10, direction="down", amount=200))


def test_keys_and_buttons(env: AndroidEnv, device: AdbTestDevice) -> None:
    phone = device.phone
    before = env.observe().pixel_digest()
    since = len(device.commands)
    env.execute(Key(keys=("volume_up",)))
    env.execute(Key(keys=("volume_down",)))
    env.execute(Key(keys=("volume_down",)))
    assert phone.volume == 6
    assert env.observe().pixel_digest() != before  # the status bar shows the volume
    for name in ("camera", "clear"):
        env.execute(Key(keys=(name,)))
    env.execute(Key(keys=("ctrl", "a")))
    assert last_actions(device, since) == [
        ("input", "keyevent", "KEYCODE_VOLUME_UP"),
        ("input", "keyevent", "KEYCODE_VOLUME_DOWN"),
        ("input", "keyevent", "KEYCODE_VOLUME_DOWN"),
        ("input", "keyevent", "KEYCODE_CAMERA"),
        ("input", "keyevent", "KEYCODE_CLEAR"),
        ("input", "keycombination", "KEYCODE_CTRL_LEFT", "KEYCODE_A"),
    ]
    env.execute(Key(keys=("power",)))
    assert not phone.screen_on
    env.execute(Key(keys=("power",)))
    with pytest.raises(ActionError, match="no key 'f13'"):
        env.execute(Key(keys=("f13",)))
    env.execute(OpenApp(name="settings"))
    env.execute(Button(name="back"))
    assert phone.top is phone.launcher
    env.execute(OpenApp(name="settings"))
    env.execute(Button(name="home"))
    assert phone.top is phone.launcher
    since = len(device.commands)
    env.execute(Button(name="menu"))
    env.execute(Button(name="enter"))
    assert last_actions(device, since) == [
        ("input", "keyevent", "KEYCODE_MENU"),
        ("input", "keyevent", "KEYCODE_ENTER"),
    ]


def test_open_app_resolves_names(env: AndroidEnv, device: AdbTestDevice) -> None:
    for name, package in [
        ("com.pixelpilot.notes", "com.pixelpilot.notes"),
        ("Settings", "com.android.settings"),
        ("gmail", "com.google.android.gm"),
        ("Note", "com.pixelpilot.notes"),
        ("Counter App", "com.pixelpilot.counter"),
        ("google maps", "com.google.android.apps.maps"),
    ]:
        since = len(device.commands)
        env.execute(OpenApp(name=name))
        assert device.phone.top.package == package, name
        assert last_actions(device, since) == [
            ("monkey", "-p", package, "-c", "android.intent.category.LAUNCHER", "1")
        ]
    with pytest.raises(ActionError, match="no installed app matches 'Spotify'"):
        env.execute(OpenApp(name="Spotify"))


def test_open_app_name_map_and_task_start_app(device: AdbTestDevice, key: Path) -> None:
    names = {"Scratchpad": "com.pixelpilot.notes", "Tool": "com.android.settings/.Settings"}
    with android_env(device, key, app_names=names) as env:
        env.execute(OpenApp(name="scratchpad"))
        assert device.phone.top.package == "com.pixelpilot.notes"
        since = len(device.commands)
        env.execute(OpenApp(name="Tool"))
        assert last_actions(device, since) == [
            ("am", "start", "-n", "com.android.settings/.Settings")
        ]
        counter = device.phone.app("com.pixelpilot.counter")
        counter.count = 9  # type: ignore[union-attr]
        obs = env.reset(task=Task(goal="count", start_app="Counter"))
        assert obs.app == "com.pixelpilot.counter" and counter.count == 0  # type: ignore[union-attr]


def test_unsupported_touchscreen_actions(env: AndroidEnv) -> None:
    with pytest.raises(UnsupportedActionError, match="long_press"):
        env.execute(Click(x=10, y=200, button="right"))
    execution = env.execute(Wait(seconds=0.05))
    assert execution.detail == "sleep 0.05 s"


def test_settling_waits_for_the_transition(key: Path) -> None:
    with running_device(animation_ms=400) as device, android_env(device, key) as env:
        env.reset()
        execution = env.execute(OpenApp(name="Settings"))
        assert execution.settle_seconds >= 0.3
        obs = env.observe()
        assert obs.screenshot.tobytes() == device.phone.frame().tobytes()
        quick = android_env(device, key, settle_timeout=0.0)
        assert quick.execute(Button(name="home")).settle_seconds == 0.0
        quick.close()


def test_png_capture_and_fallback_from_broken_raw(device: AdbTestDevice, key: Path) -> None:
    with android_env(device, key, capture="png") as env:
        shot = env.observe().screenshot.tobytes()
        assert shot == device.phone.frame().tobytes()
        assert [r.argv for r in device.commands if r.argv[0] == "screencap"][-1] == (
            "screencap",
            "-p",
        )
    original = device.shell.commands["screencap"]

    def broken_raw(inv):  # type: ignore[no-untyped-def]
        if "-p" in inv.argv:
            return original(inv)
        inv.write(b"\x01\x00\x00\x00garbage")
        return 0

    device.shell.commands["screencap"] = broken_raw
    try:
        with android_env(device, key) as env:
            assert env.observe().screenshot.tobytes() == device.phone.frame().tobytes()
            assert env.capture_mode == "png"
        with android_env(device, key, capture="raw") as env, pytest.raises(Exception, match="png"):
            env.observe()
    finally:
        device.shell.commands["screencap"] = original


def test_parse_screen_prefers_overrides() -> None:
    text = "Physical size: 1080x2400\nOverride size: 720x1600\nPhysical density: 420\n"
    assert parse_screen(text) == ((720, 1600), 420)
    with pytest.raises(ValueError):
        parse_screen("Error: no display")


def test_input_coordinates_follow_a_wm_size_override(key: Path) -> None:
    with running_device() as device:
        device.shell.commands["wm"] = lambda inv: (
            inv.out(
                "Physical size: 540x1200\nOverride size: 270x600\nPhysical density: 420\n"
                if inv.argv[1] == "size"
                else "Physical density: 420\n"
            ),
            0,
        )[1]
        with android_env(device, key) as env:
            obs = env.reset()
            assert env.display == (270, 600) and obs.size == (540, 1200) and obs.scale == 2.0
            since = len(device.commands)
            assert env.execute(Click(x=201, y=401)).detail == "input tap 100 200"
            assert last_actions(device, since) == [("input", "tap", "100", "200")]
            assert env._input_size((1200, 540)) == (600, 270)  # a landscape screenshot


def test_device_complaints_become_action_errors(env: AndroidEnv, device: AdbTestDevice) -> None:
    original = device.shell.commands["input"]

    def old_android_input(inv):  # type: ignore[no-untyped-def]
        if inv.argv[1] == "keycombination":
            inv.err("Error: Unknown command: keycombination\n")
            return 1
        return original(inv)

    device.shell.commands["input"] = old_android_input
    try:
        with pytest.raises(ActionError, match="Android 13"):
            env.execute(Key(keys=("ctrl", "c")))
    finally:
        device.shell.commands["input"] = original
    with pytest.raises(ActionError, match="the device said: Error type 3"):
        env.config.app_names["Broken"] = "com.android.settings/.Missing"
        env.execute(OpenApp(name="Broken"))
