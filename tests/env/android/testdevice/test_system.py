"""The test device's system commands, toybox basics, packages, view hierarchy, rotation and the
sync and shell-v2 byte formats, through its own shell (no network)."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from pixelpilot.env.android.testdevice import AdbTestDevice, DeviceConfig
from pixelpilot.env.android.testdevice.arith import ArithError, evaluate
from pixelpilot.env.android.testdevice.fs import VirtualFs
from pixelpilot.env.android.testdevice.services import (
    SyncSession,
    parse_destination,
    shell_v2_packets,
)
from pixelpilot.env.android.testdevice.shell import ShellResult
from pixelpilot.env.android.tree import parse_nodes
from tests.env.android.support import widget_center


def device(**config: object) -> AdbTestDevice:
    return AdbTestDevice(DeviceConfig(**{"width": 540, "height": 1200, **config}))  # type: ignore[arg-type]


def run(dev: AdbTestDevice, line: str) -> str:
    return dev.shell.run(line).decode()


def test_wm_overrides_and_reset_change_the_screen() -> None:
    dev = device()
    assert run(dev, "wm size") == "Physical size: 540x1200\n"
    run(dev, "wm size 720x1600")
    assert run(dev, "wm size") == "Physical size: 540x1200\nOverride size: 720x1600\n"
    assert dev.phone.frame().size == (720, 1600)
    run(dev, "wm density 320")
    assert run(dev, "wm density") == "Physical density: 420\nOverride density: 320\n"
    assert dev.phone.slop == round(8 * 320 / 160)
    run(dev, "wm size reset; wm density reset")
    assert run(dev, "wm size; wm density") == "Physical size: 540x1200\nPhysical density: 420\n"
    assert dev.shell.execute("wm size huge").status == 1


def test_rotation_turns_screen_input_and_reports() -> None:
    dev = device()
    assert run(dev, "settings get system user_rotation") == "0\n"
    run(dev, "settings put system user_rotation 1")
    assert dev.phone.frame().size == (1200, 540)
    assert "mCurrentRotation=ROTATION_90" in run(dev, "dumpsys window")
    assert "orientation=1," in run(dev, "dumpsys display")
    assert '<hierarchy rotation="1">' in run(dev, "uiautomator dump /dev/tty")
    assert run(dev, "wm size") == "Physical size: 540x1200\n"  # wm size stays natural
    run(dev, "settings put system accelerometer_rotation 1; settings put system user_rotation 0")
    assert dev.phone.rotation == 1  # auto-rotate on: user_rotation is only stored
    assert dev.shell.execute("settings put system user_rotation 7").status == 1


def test_dumpsys_getprop_and_cmd() -> None:
    dev = device()
    run(dev, "am start -n com.android.settings/com.android.settings.Settings")
    assert dev.phone.foreground() == "com.android.settings/.Settings"
    assert "ACTIVITY com.android.settings/.Settings" in run(dev, "dumpsys activity top")
    assert "mResumedActivity: ActivityRecord{" in run(dev, "dumpsys activity activities")
    power = run(dev, "dumpsys power")
    assert "mHoldingDisplaySuspendBlocker=true" in power and "state=ON" in power
    run(dev, "input keyevent KEYCODE_POWER")
    assert "mWakefulness=Asleep" in run(dev, "dumpsys power")
    assert run(dev, "getprop ro.build.version.sdk; getprop ro.sf.lcd_density") == "34\n420\n"
    assert "[ro.product.model]: [pixelpilot test device]" in run(dev, "getprop")
    assert run(dev, "getprop no.such.prop fallback") == "fallback\n"
    assert run(dev, "cmd window size") == "Physical size: 540x1200\n"
    assert "package:com.android.settings" in run(dev, "cmd package list packages -s")
    missing = dev.shell.execute("cmd nosuch")
    assert missing.status == 20 and b"Can't find service: nosuch" in missing.stream(2)
    assert run(dev, "dumpsys SurfaceFlinger --display-id").count("Display ") == 1


def test_toybox_basics() -> None:
    dev = device()
    assert run(dev, "printf '%s-%03d|%x|%-3s|\\n' ab 7 255 z") == "ab-007|ff|z  |\n"
    assert run(dev, "printf '%s,' a b c") == "a,b,c,"
    assert run(dev, "echo a:b:c | cut -d: -f2,3; echo abcdef | cut -c 2-4") == "b:c\nbcd\n"
    assert run(dev, "echo $((2 + 3 * 4)) $(( (1 << 4) % 5 )) $((-7 / 2)) $((3 > 2 && 0))") == (
        "14 1 -3 0\n"
    )
    assert run(dev, "X=6; echo $((X * 7)) $(($X - 1))") == "42 5\n"
    assert run(dev, "false; echo $?; true; echo $?") == "1\n0\n"
    assert run(dev, "echo -n a; echo -e 'b\\tc'") == "ab\tc\n"
    assert run(dev, "mkdir -p /sdcard/d/e; echo hi > /sdcard/d/f; ls /sdcard/d") == "e\nf\n"
    assert run(dev, "ls -l /sdcard/d/f").startswith("-rw-rw----")
    assert dev.shell.execute("ls /nope").status == 1
    assert run(dev, "cat /sdcard/d/f | grep -c hi") == "1\n"
    unknown = dev.shell.execute("frobnicate now")
    assert (unknown.status, unknown.stream(2)) == (127, b"/system/bin/sh: frobnicate: not found\n")
    assert dev.shell.execute("echo a; exit 4; echo b") == ShellResult(
        ((1, b"a\n"),), 4, exited=True
    )
    assert run(dev, "(exit 3); echo $?; x=$(exit 5); echo $?") == "3\n5\n"


def test_arithmetic_errors_run_nothing_further_in_that_command() -> None:
    assert evaluate("0x10 + 010", lambda name: "") == 24
    for bad in ("1 +", "2 ** 3", "1 / 0", "x = 3"):
        with pytest.raises(ArithError):
            evaluate(bad, lambda name: "")
    with pytest.raises(ArithError, match="bad number"):
        evaluate("X + 1", lambda name: "abc")
    dev = device()
    result = dev.shell.execute("echo $((1/0)) never")
    assert result.status == 1 and b"divide by zero" in result.stream(2)
    assert not [r for r in dev.commands if r.argv[0] == "echo"]


def _apk(manifest: str | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if manifest is not None:
            archive.writestr("AndroidManifest.xml", manifest)
        archive.writestr("classes.dex", b"dex")
    return buffer.getvalue()


def test_pm_install_path_uninstall_and_the_launcher() -> None:
    dev = device()
    fs = dev.shell.fs
    fs.write("/data/local/tmp/stub.apk", _apk('<manifest package="org.x.y" android:label="Why"/>'))
    fs.write("/data/local/tmp/com.acme.maps.apk", _apk(None))
    fs.write("/data/local/tmp/My App.apk", _apk(None))
    fs.write("/data/local/tmp/notzip.apk", b"hello")
    for name in ("stub.apk", "com.acme.maps.apk", "'My App.apk'"):
        assert run(dev, f"pm install -r -t /data/local/tmp/{name}") == "Success\n"
    assert "Failure [INSTALL_PARSE_FAILED_NOT_APK" in run(
        dev, "pm install /data/local/tmp/notzip.apk"
    )
    assert dev.shell.execute("pm install /data/local/tmp/none.apk").status == 1
    assert run(dev, "pm list packages -3") == (
        "package:com.acme.maps\npackage:com.pixelpilot.installed.myapp\npackage:org.x.y\n"
    )
    labels = {w.label for w in dev.phone.launcher.widgets(dev.phone.screen)}
    assert {"Why", "Maps", "My App"} <= labels
    assert run(dev, "pm path org.x.y") == "package:/data/app/~~pixelpilot/org.x.y-1/base.apk\n"
    run(dev, "monkey -p org.x.y -c android.intent.category.LAUNCHER 1")
    assert dev.phone.foreground() == "org.x.y/.MainActivity"
    assert run(dev, "pm uninstall org.x.y") == "Success\n"
    assert dev.phone.top is dev.phone.launcher and "org.x.y" not in run(dev, "pm list packages")
    assert dev.shell.execute("pm uninstall com.android.settings").status == 1  # a system app
    assert run(dev, "pm clear com.android.settings") == "Success\n"


def test_tapping_an_icon_label_opens_the_app_as_a_launcher_does() -> None:
    dev = device()
    phone = dev.phone
    icon = next(w for w in phone.launcher.widgets(phone.screen) if w.label == "Settings")
    x1, y1, x2, y2 = icon.box
    side = phone.launcher.icon_size(phone.screen)
    label_y = y1 + side + (y2 - y1 - side) // 2  # below the square, on the label's text
    run(dev, f"input tap {(x1 + x2) // 2} {label_y}")
    assert phone.foreground() == "com.android.settings/.Settings"


def test_uiautomator_dump_describes_what_is_on_screen() -> None:
    dev = device()
    assert run(dev, "uiautomator dump") == "UI hierchary dumped to: /sdcard/window_dump.xml\n"
    home = parse_nodes(dev.shell.fs.files["/sdcard/window_dump.xml"].decode())
    icons = [n for n in home if n.package == "com.android.launcher3" and n.clickable]
    assert "Settings" in {n.text for n in icons} and all(n.description == n.text for n in icons)
    nav = {n.description for n in home if n.package == "com.android.systemui" and n.clickable}
    assert nav == {"Back", "Home", "Overview"}
    run(dev, "monkey -p com.pixelpilot.notes -c android.intent.category.LAUNCHER 1")
    x, y = widget_center(dev, "com.pixelpilot.notes", "field:note")
    run(dev, f"input tap {x} {y}; input text hello")
    notes = parse_nodes(run(dev, "uiautomator dump /dev/tty").split("UI hierchary")[0])
    field = next(n for n in notes if n.class_name == "android.widget.EditText")
    assert field.text == "hello" and field.focused
    assert field.resource_id == "com.pixelpilot.notes:id/field_note"
    run(dev, "monkey -p com.android.contacts -c android.intent.category.LAUNCHER 1")
    contacts = parse_nodes(run(dev, "uiautomator dump /dev/stdout").split("UI hierchary")[0])
    assert any(n.scrollable for n in contacts) and any(n.text == "Ada Abbott" for n in contacts)
    assert dev.shell.execute("uiautomator dump /no/dir/x.xml").status == 1


def _frame(ident: bytes, body: bytes) -> bytes:
    return ident + struct.pack("<I", len(body)) + body


def test_sync_session_send_recv_stat_list_in_arbitrary_pieces() -> None:
    fs = VirtualFs()
    session = SyncSession(fs)
    data = bytes(range(256)) * 600  # 150 KiB: three DATA chunks on the way back
    request = _frame(b"SEND", b"/sdcard/new/dir/f.bin,33188") + _frame(b"DATA", data)
    request += b"DONE" + struct.pack("<I", 1_700_000_000)
    replies = b"".join(session.feed(request[i : i + 1000]) for i in range(0, len(request), 1000))
    assert replies == b"OKAY\0\0\0\0" and fs.files["/sdcard/new/dir/f.bin"] == data
    assert fs.mtimes["/sdcard/new/dir/f.bin"] == 1_700_000_000
    stat = session.feed(_frame(b"STAT", b"/sdcard/new/dir/f.bin"))
    assert struct.unpack("<4sIII", stat) == (b"STAT", 0o100644, len(data), 1_700_000_000)
    assert struct.unpack("<4sIII", session.feed(_frame(b"STAT", b"/nope"))) == (b"STAT", 0, 0, 0)
    back = session.feed(_frame(b"RECV", b"/sdcard/new/dir/f.bin"))
    chunks, pos = [], 0
    while back[pos : pos + 4] == b"DATA":
        size = struct.unpack_from("<I", back, pos + 4)[0]
        chunks.append(back[pos + 8 : pos + 8 + size])
        pos += 8 + size
    assert b"".join(chunks) == data and len(chunks) == 3 and back[pos:] == b"DONE\0\0\0\0"
    listing = session.feed(_frame(b"LIST", b"/sdcard/new/dir"))
    assert (
        listing.count(b"DENT") == 3
        and b"f.bin" in listing
        and listing.endswith(b"DONE" + b"\0" * 16)
    )
    assert session.feed(_frame(b"RECV", b"/nope")).startswith(b"FAIL")
    session.feed(b"QUIT\0\0\0\0")
    assert session.finished


def test_shell_v2_packets_and_destinations() -> None:
    result = ShellResult(((1, b"out"), (2, b"err"), (1, b"x" * 10)), 3)
    packets = shell_v2_packets(result, max_payload=9)
    assert packets[0] == b"\x01\x03\0\0\0out" and packets[1] == b"\x02\x03\0\0\0err"
    assert [p[0] for p in packets[2:]] == [1, 1, 1, 3] and packets[-1] == b"\x03\x01\0\0\0\x03"
    assert b"".join(p[5:] for p in packets[2:5]) == b"x" * 10
    v2 = parse_destination("shell,v2,TERM=xterm,raw:echo a:b")
    assert v2.shell_v2 and v2.command == "echo a:b" and v2.options == ("v2", "TERM=xterm", "raw")
    assert (
        not parse_destination("shell:ls").shell_v2 and parse_destination("sync:").service == "sync"
    )


def test_cd_and_relative_paths() -> None:
    dev = device()
    line = "cd /sdcard && pwd && echo hi > f.txt && cat f.txt && md5sum f.txt && ls"
    assert run(dev, line) == (
        "/sdcard\nhi\n764efa883dda1e11db47671c4a3bbd9e  f.txt\nDownload\nf.txt\n"
    )
    assert dev.shell.fs.files["/sdcard/f.txt"] == b"hi\n"
    assert run(dev, "cd /data/local/tmp; uiautomator dump d.xml; ls; cd ..; pwd") == (
        "UI hierchary dumped to: /data/local/tmp/d.xml\nd.xml\n/data/local\n"
    )
    missing = dev.shell.execute("cd /nope && echo never")
    assert missing.status == 2 and missing.merged == (
        b"/system/bin/sh: cd: /nope: No such file or directory\n"
    )
    assert run(dev, "pwd") == "/\n"  # every command line starts at /


def test_implicit_intents() -> None:
    dev = device()
    assert run(dev, "am start -a android.settings.WIFI_SETTINGS") == (
        "Starting: Intent { act=android.settings.WIFI_SETTINGS }\n"
    )
    assert dev.phone.top.package == "com.android.settings"
    run(dev, "am start -a android.intent.action.VIEW -d https://example.org")
    assert dev.phone.top.package == "com.android.chrome"
    refused = dev.shell.execute("am start -a android.intent.action.DIAL -d tel:123")
    assert refused.status == 1 and b"unable to resolve Intent" in refused.stream(2)
    assert dev.phone.top.package == "com.android.chrome"
