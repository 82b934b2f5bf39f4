"""The virtual phone and its commands: screens change as a phone's would, commands answer like
Android's, and faults are decided as configured."""

from __future__ import annotations

import base64
import time

import numpy as np
import pytest

from pixelpilot.actions import Size
from pixelpilot.env.android.capture import parse_png, parse_raw
from pixelpilot.env.android.testdevice import (
    ADB_IME,
    DEFAULT_IME,
    AdbTestDevice,
    DeviceConfig,
    Faults,
)
from pixelpilot.env.android.testdevice.faults import FaultState
from pixelpilot.env.android.testdevice.phone import VirtualPhone
from pixelpilot.env.android.testdevice.wire import OKAY, OPEN, Message
from pixelpilot.env.calibrate import MARKER_RGB, marker_mask


def device(**config: object) -> AdbTestDevice:
    """A device that is never started: its shell and phone are used directly."""
    return AdbTestDevice(DeviceConfig(**{"width": 540, "height": 1200, **config}))  # type: ignore[arg-type]


def center(phone: VirtualPhone, key: str) -> tuple[int, int]:
    for widget in phone.top.widgets(phone.screen):
        if widget.key == key:
            x1, y1, x2, y2 = widget.box
            return (x1 + x2) // 2, (y1 + y2) // 2
    raise AssertionError(key)


def run(dev: AdbTestDevice, line: str) -> str:
    return dev.shell.run(line).decode()


def test_tapping_an_icon_opens_the_app_and_the_nav_bar_goes_back_and_home() -> None:
    dev = device()
    phone = dev.phone
    home = phone.frame().tobytes()
    x, y = center(phone, "icon:com.android.settings")
    run(dev, f"input tap {x} {y}")
    assert phone.foreground() == "com.android.settings/.Settings"
    assert phone.frame().tobytes() != home
    wx, wy = center(phone, "toggle:Wi-Fi")
    run(dev, f"input tap {wx} {wy}")
    assert phone.top.widgets(phone.screen)[0].value == "off"
    run(dev, f"input tap {540 // 6} {1200 - 10}")  # the back triangle
    assert phone.top is phone.launcher
    assert phone.touches[-1].kind == "tap"


def test_swipes_scroll_by_the_distance_beyond_the_touch_slop() -> None:
    dev = device()
    phone = dev.phone
    run(dev, "monkey -p com.android.contacts -c android.intent.category.LAUNCHER 1")
    contacts = phone.top
    assert phone.slop == round(8 * 420 / 160)
    run(dev, "input swipe 270 900 270 500 400")  # finger up 400 px: content moves up
    assert contacts.offset == 400 - phone.slop  # type: ignore[attr-defined]
    run(dev, "input swipe 270 500 270 700 400")
    assert contacts.offset == 400 - phone.slop - (200 - phone.slop)  # type: ignore[attr-defined]
    run(dev, "input swipe 270 700 270 703 100")  # within the slop, short: a tap
    assert phone.touches[-1].kind == "tap"
    run(dev, "input swipe 270 700 270 700 800")  # held still: a long press
    assert phone.touches[-1].kind == "long_press" and phone.touches[-1].duration_ms == 800
    assert contacts.long_pressed is not None


def test_text_keys_and_the_power_button() -> None:
    dev = device()
    phone = dev.phone
    run(dev, "monkey -p com.pixelpilot.notes -c android.intent.category.LAUNCHER 1")
    notes = phone.top
    run(dev, "input text 'ignored'")  # nothing has focus yet
    assert phone.dropped_text == ["ignored"]
    x, y = center(phone, "field:note")
    run(dev, f"input tap {x} {y}")
    run(dev, "input text 'a%sb%%sc'")
    run(dev, "input keyevent KEYCODE_ENTER 67 KEYCODE_X DEL KEYCODE_ENTER")
    assert notes.field_text("field:note") == "a b% c\n"
    assert run(dev, "input text 'é'").startswith("Exception")
    assert run(dev, "input keyevent KEYCODE_NOPE") == "Error: Unknown keycode: KEYCODE_NOPE\n"
    run(dev, "input keyevent KEYCODE_VOLUME_UP KEYCODE_VOLUME_UP 25")
    assert phone.volume == 8
    run(dev, "input keyevent 26")
    assert not np.asarray(phone.frame()).any()  # screen off: all black
    run(dev, f"input tap {x} {y}")
    assert phone.touches[-1].target is None
    run(dev, "input keyevent KEYCODE_WAKEUP")
    assert np.asarray(phone.frame()).any()
    run(dev, "input keycombination KEYCODE_CTRL_LEFT KEYCODE_C")
    assert phone.keys[-1] == "KEYCODE_CTRL_LEFT+KEYCODE_C"


def test_package_manager_activity_manager_and_monkey() -> None:
    dev = device()
    listed = run(dev, "pm list packages").split()
    assert (
        "package:com.android.settings" in listed and "package:com.android.adbkeyboard" not in listed
    )
    assert run(dev, "pm list packages notes") == "package:com.pixelpilot.notes\n"
    assert "No activities found" in run(dev, "monkey -p com.android.systemui 1")
    assert "Events injected: 1" in run(dev, "monkey -p com.pixelpilot.counter 1")
    assert dev.phone.foreground().startswith("com.pixelpilot.counter/")
    assert "Error type 3" in run(dev, "am start -n com.android.settings/.Nope")
    assert run(dev, "am start -n com.android.settings/.Settings").startswith("Starting: Intent")
    counter = dev.phone.app("com.pixelpilot.counter")
    counter.count = 5  # type: ignore[union-attr]
    run(dev, "am force-stop com.pixelpilot.counter")
    assert counter.count == 0  # type: ignore[union-attr]
    focus = run(dev, "dumpsys window | grep mCurrentFocus")
    assert focus.strip() == "mCurrentFocus=Window{1a2b3c u0 com.android.settings/.Settings}"
    assert run(dev, "wm size; wm density") == "Physical size: 540x1200\nPhysical density: 420\n"


def test_adbkeyboard_types_only_while_it_is_the_active_ime() -> None:
    dev = device(adbkeyboard=True)
    phone = dev.phone
    run(dev, "monkey -p com.pixelpilot.notes 1")
    x, y = center(phone, "field:note")
    run(dev, f"input tap {x} {y}")
    message = base64.b64encode("héllo 世界".encode()).decode()
    out = run(dev, f"am broadcast -a ADB_INPUT_B64 --es msg {message}")
    assert out.endswith("Broadcast completed: result=0\n")
    assert phone.top.field_text("field:note") == ""  # the receiver is not registered yet
    assert run(dev, f"ime set {ADB_IME}") == f"Input method {ADB_IME} is not enabled\n"
    run(dev, f"ime enable {ADB_IME}; ime set {ADB_IME}")
    assert run(dev, "settings get secure default_input_method") == ADB_IME + "\n"
    run(dev, f"am broadcast -a ADB_INPUT_B64 --es msg {message}")
    run(dev, "am broadcast -a ADB_INPUT_TEXT --es msg '!'")
    assert phone.top.field_text("field:note") == "héllo 世界!"
    run(dev, f"ime set {DEFAULT_IME}")
    assert phone.ime == DEFAULT_IME
    assert "Unknown input method" in run(dev, "ime enable com.example/.Nope")


def test_mkdir_is_atomic_and_reports_existing_markers() -> None:
    dev = device()
    assert run(dev, "mkdir /data/local/tmp/m && echo first") == "first\n"
    assert run(dev, "mkdir /data/local/tmp/m && echo again") == (
        "mkdir: '/data/local/tmp/m': File exists\n"
    )
    assert "No such file" in run(dev, "mkdir /data/local/tmp/a/b")
    assert run(dev, "mkdir -p /data/local/tmp/a/b && mkdir -p /data/local/tmp/a/b && echo ok") == (
        "ok\n"
    )
    run(dev, "rm -rf /data/local/tmp/a")
    assert not dev.shell.fs.exists("/data/local/tmp/a/b")


def test_raw_and_png_frames_agree_and_animations_change_frames_until_done() -> None:
    dev = device(animation_ms=300)
    phone = dev.phone
    assert parse_raw(phone.screencap_raw()).tobytes() == parse_png(phone.screencap_png()).tobytes()
    run(dev, "monkey -p com.android.settings 1")
    first = phone.screencap_raw()
    time.sleep(0.1)
    second = phone.screencap_raw()
    assert first != second  # mid-transition
    time.sleep(0.3)
    settled = phone.screencap_raw()
    assert settled == phone.screencap_raw() and settled != second


def test_calibration_screen_paints_a_marker_square_centred_on_each_tap() -> None:
    dev = device()
    phone = dev.phone
    run(
        dev,
        "am start -n com.pixelpilot.calibration/.CalibrationActivity --es targets '40,40;300,600'",
    )
    pixels = np.asarray(phone.frame())
    assert not marker_mask(pixels).any()
    assert tuple(pixels[40, 40]) != MARKER_RGB and (pixels[40, 40] != 255).any()  # crosshair
    run(dev, "input tap 40 40")  # inside the status bar area: a full-screen app gets it
    run(dev, "input tap 301 602")
    ys, xs = np.nonzero(marker_mask(np.asarray(phone.frame())))
    first = (xs < 100) & (ys < 100)
    assert (xs[first].mean(), ys[first].mean()) == (40.0, 40.0)
    assert (xs[~first].mean(), ys[~first].mean()) == (301.0, 602.0)
    assert first.sum() == 81  # 9x9


def test_fault_schedule() -> None:
    state = FaultState(Faults(drop_every=3, drop_when="alternate", max_drops=3))
    okay = Message(OKAY, 1, 1)
    decisions = [state.on_message(okay) for _ in range(12)]
    drops = [(i + 1, d.handle_first) for i, d in enumerate(decisions) if d.drop]
    assert drops == [(3, True), (6, False), (9, True)]
    matched = FaultState(Faults(drop_every=2, match="input tap"))
    tap = Message(OPEN, 1, 0, b"shell:input tap 1 2\0")
    other = Message(OPEN, 1, 0, b"shell:screencap\0")
    pattern = [matched.on_message(m).drop for m in (tap, other, other, tap, tap, tap)]
    assert pattern == [False, False, False, True, False, True]
    gone = FaultState(Faults(gone_after=2))
    assert [gone.on_message(okay).gone for _ in range(3)] == [False, True, True]
    silent = FaultState(Faults(silent_after=2, silent_seconds=0.2))
    assert silent.on_message(okay).silent_until is None
    until = silent.on_message(okay).silent_until
    assert until is not None and until > time.monotonic()
    time.sleep(0.25)
    assert silent.on_message(okay).silent_until is None


def test_screen_geometry_scales_with_the_size() -> None:
    small = VirtualPhone(Size(270, 600), 160)
    big = VirtualPhone(Size(1080, 2400), 560)
    assert small.slop == 8 and big.slop == 28
    assert small.frame().size == (270, 600) and big.frame().size == (1080, 2400)
    with pytest.raises(ValueError):
        Faults(drop_every=1)
