"""Typing through AndroidEnv: shell metacharacters arrive as text and run nothing; Unicode goes
through ADBKeyboard, or fails with what to install."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpilot.actions import Click, OpenApp, Type
from pixelpilot.env.android.env import AndroidEnv
from pixelpilot.env.android.testdevice import ADB_IME, DEFAULT_IME, AdbTestDevice
from pixelpilot.errors import ActionError
from tests.env.android.support import (
    acted,
    android_env,
    key_fixture,  # noqa: F401 (the `key` fixture)
    running_device,
    widget_center,
)

NASTY = (
    'it\'s "$(reboot)" `rm -rf /sdcard` ; id && echo pwned || true | cat > /sdcard/x < /etc/y '
    "& $HOME ${PATH} ~ * ? [a] {b,c} #comment !! \\n \\ %s %% 100% done\tmore\nsecond line;id"
)


def focus_note_field(env: AndroidEnv, device: AdbTestDevice) -> None:
    env.execute(OpenApp(name="com.pixelpilot.notes"))
    x, y = widget_center(device, "com.pixelpilot.notes", "field:note")
    env.execute(Click(x=x, y=y))


def test_shell_metacharacters_are_typed_and_run_nothing(key: Path) -> None:
    text = NASTY.replace("\t", " ")  # tabs need the IME: covered below
    with running_device() as device, android_env(device, key) as env:
        env.reset()
        focus_note_field(env, device)
        since = len(device.commands)
        execution = env.execute(Type(text=text))
        ran = acted(device.commands[since:])
        typed = device.phone.app("com.pixelpilot.notes").field_text("field:note")  # type: ignore[union-attr]
        files = dict(device.shell.fs.files)
    assert typed == text
    # exactly the marker, then `input text` / the ENTER between the lines: nothing else ran
    assert ran[0][0] == "mkdir" and len(ran[0]) == 2
    assert {argv[:2] for argv in ran[1:]} <= {("input", "text"), ("input", "keyevent")}
    assert ("input", "keyevent", "KEYCODE_ENTER") in ran
    assert all(len(argv) == 3 for argv in ran[1:])
    assert not any(argv[0] in ("reboot", "rm", "id", "echo", "true", "cat") for argv in ran)
    assert files == {}  # no redirection wrote anything
    assert execution.detail.startswith("input text '")
    assert device.phone.dropped_text == []


def test_unicode_without_adbkeyboard_names_what_to_install(key: Path) -> None:
    with running_device() as device, android_env(device, key) as env:
        env.reset()
        focus_note_field(env, device)
        since = len(device.commands)
        with pytest.raises(ActionError, match="ADBKeyboard") as info:
            env.execute(Type(text="naïve café"))
        assert "adb install ADBKeyboard.apk" in str(info.value) and "'ï'" in str(info.value)
        assert acted(device.commands[since:]) == []  # nothing was typed halfway


def test_unicode_through_adbkeyboard_and_the_ime_is_restored(key: Path) -> None:
    text = "héllo 世界 🙂\ttab $(id) 'q'\nnext"
    with running_device(adbkeyboard=True) as device, android_env(device, key) as env:
        env.reset()
        focus_note_field(env, device)
        since = len(device.commands)
        env.execute(Type(text=text))
        ran = acted(device.commands[since:])
        notes = device.phone.app("com.pixelpilot.notes")
        assert notes.field_text("field:note") == text  # type: ignore[union-attr]
        assert device.phone.ime == DEFAULT_IME
        assert ran[1:] == [
            ("ime", "enable", ADB_IME),
            ("ime", "set", ADB_IME),
            ran[3],
            ("ime", "set", DEFAULT_IME),
        ]
        assert ran[3][:5] == ("am", "broadcast", "-a", "ADB_INPUT_B64", "--es")
        since = len(device.commands)
        env.execute(Type(text=" plain"))  # ASCII still uses `input text`
        assert acted(device.commands[since:])[1:] == [("input", "text", "%splain")]
        assert notes.field_text("field:note") == text + " plain"  # type: ignore[union-attr]


def test_unicode_when_adbkeyboard_is_already_selected(key: Path) -> None:
    with (
        running_device(adbkeyboard=True) as device,
        android_env(device, key, ime_switch_delay=0.05) as env,
    ):
        device.shell.run(f"ime enable {ADB_IME}; ime set {ADB_IME}")
        env.reset()
        focus_note_field(env, device)
        since = len(device.commands)
        env.execute(Type(text="ünï"))
        ran = acted(device.commands[since:])
        assert [argv[0] for argv in ran] == ["mkdir", "am"]
        assert device.phone.ime == ADB_IME


def test_ime_switch_waits_for_the_keyboard_to_start(key: Path) -> None:
    with (
        running_device(adbkeyboard=True) as device,
        android_env(device, key, ime_switch_delay=0.05, restore_ime=False) as env,
    ):
        env.reset()
        focus_note_field(env, device)
        since = len(device.commands)
        env.execute(Type(text="ø"))
        ran = acted(device.commands[since:])
        assert ("sleep", "0.05") in ran and device.phone.ime == ADB_IME
