"""Real ADB clients against the test device: Debian's `adb` binary (through its own server on a
private port, with its own key), and the `adbutils` and `pure-python-adb` libraries (through that
server): connect, shell v2 exit codes, push/pull of 1 MiB, install + launch, `uiautomator dump` +
pull, window size, rotation, screen on, screenshots, density and the top activity."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import subprocess
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import adbutils
import pytest
from PIL import Image

from pixelpilot.env.android.testdevice import AdbTestDevice
from pixelpilot.env.android.tree import parse_nodes
from tests.env.android.support import running_device, widget_center

ADB = shutil.which("adb") or "adb"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AdbHost:
    """A private adb server (port, HOME) and a connected test device."""

    port: int
    env: dict[str, str]
    device: AdbTestDevice

    def adb(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        """Run `adb -P PORT -s SERIAL ARGS` (no stdin) and return the finished process."""
        argv = [ADB, "-P", str(self.port), "-s", self.device.serial, *args]
        done = subprocess.run(
            argv, env=self.env, capture_output=True, stdin=subprocess.DEVNULL, timeout=60
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{argv} -> {done.returncode}: {done.stdout!r} {done.stderr!r}")
        return done

    def text(self, *args: str) -> str:
        return self.adb(*args).stdout.decode()


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdbHost]:
    if shutil.which(ADB) is None:
        pytest.fail("these tests need Debian's adb client: apt-get install adb (make test does)")
    home = tmp_path_factory.mktemp("adbhome")
    env = {**os.environ, "HOME": str(home), "ANDROID_USER_HOME": str(home / ".android")}
    port = _free_port()
    server = [ADB, "-P", str(port)]
    subprocess.run([*server, "start-server"], env=env, check=True, capture_output=True, timeout=60)
    try:
        with running_device() as device:
            subprocess.run(
                [*server, "connect", device.serial], env=env, capture_output=True, timeout=60
            )
            deadline = time.monotonic() + 20
            state = ""
            while time.monotonic() < deadline and state != "device":
                state = (
                    subprocess.run(
                        [*server, "-s", device.serial, "get-state"],
                        env=env,
                        capture_output=True,
                        timeout=60,
                    )
                    .stdout.decode()
                    .strip()
                )
                time.sleep(0.1)
            assert state == "device", f"the adb server sees the test device as {state!r}"
            yield AdbHost(port, env, device)
    finally:
        subprocess.run([*server, "kill-server"], env=env, capture_output=True, timeout=60)


def apk(package: str, label: str) -> bytes:
    """A zip with a plain-text manifest stub, which the test device's `pm install` reads."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "AndroidManifest.xml", f'<manifest package="{package}" android:label="{label}"/>'
        )
        archive.writestr("classes.dex", b"dex\n035\0")
    return buffer.getvalue()


def test_adb_connects_with_its_own_key_and_lists_the_device(host: AdbHost) -> None:
    listed = subprocess.run(
        [ADB, "-P", str(host.port), "devices", "-l"], env=host.env, capture_output=True, timeout=60
    ).stdout.decode()
    assert f"{host.device.serial}" in listed and "model:pixelpilot_test_device" in listed
    assert any(
        event.startswith("signature accepted") or "accepted" in event
        for event in host.device.auth_events
    )


def test_adb_shell_v2_exit_status_and_separate_streams(host: AdbHost) -> None:
    done = host.adb("shell", "echo out; echo err >&2; exit 3", check=False)
    assert (done.returncode, done.stdout, done.stderr) == (3, b"out\n", b"err\n")
    missing = host.adb("shell", "nosuch --flag", check=False)
    assert missing.returncode == 127
    assert missing.stderr == b"/system/bin/sh: nosuch: not found\n"
    assert host.adb("shell", "false", check=False).returncode == 1
    assert (
        host.text("shell", "printf '%s=%d\\n' x $((6*7)); echo a:b:c | cut -d: -f3") == "x=42\nc\n"
    )


def test_adb_push_pull_round_trip_of_a_mebibyte(host: AdbHost, tmp_path: Path) -> None:
    payload = os.urandom(1024 * 1024)
    local = tmp_path / "blob.bin"
    local.write_bytes(payload)
    host.adb("push", str(local), "/sdcard/Download/blob.bin")
    assert host.device.shell.fs.files["/sdcard/Download/blob.bin"] == payload
    listing = host.text("shell", "ls -l /sdcard/Download")
    assert "1048576" in listing and "blob.bin" in listing
    remote_md5 = host.text("shell", "md5sum /sdcard/Download/blob.bin").split()[0]
    assert remote_md5 == hashlib.md5(payload).hexdigest()
    back = tmp_path / "back.bin"
    host.adb("pull", "/sdcard/Download/blob.bin", str(back))
    assert back.read_bytes() == payload
    missing = host.adb("pull", "/sdcard/nothing.bin", str(tmp_path / "x"), check=False)
    assert missing.returncode != 0 and b"does not exist" in missing.stderr + missing.stdout


def test_adb_install_then_launch(host: AdbHost, tmp_path: Path) -> None:
    path = tmp_path / "hello.apk"
    path.write_bytes(apk("com.example.hello", "Hello"))
    assert "Success" in host.text("install", str(path))
    assert "package:com.example.hello" in host.text("shell", "pm list packages -3").splitlines()
    host.adb("shell", "input keyevent KEYCODE_HOME")
    phone = host.device.phone
    x, y = widget_center(host.device, "com.android.launcher3", "icon:com.example.hello")
    host.adb("shell", f"input tap {x} {y}")
    assert phone.top.package == "com.example.hello"
    focus = host.text("shell", "dumpsys window | grep mCurrentFocus")
    assert "com.example.hello/.MainActivity" in focus
    assert "Success" in host.text("uninstall", "com.example.hello")
    assert phone.app("com.example.hello") is None


def test_adb_uiautomator_dump_pull_and_screenshots(host: AdbHost, tmp_path: Path) -> None:
    host.adb("shell", "am start -n com.android.settings/.Settings")
    said = host.text("shell", "uiautomator dump")
    assert said.strip() == "UI hierchary dumped to: /sdcard/window_dump.xml"
    host.adb("pull", "/sdcard/window_dump.xml", str(tmp_path / "dump.xml"))
    nodes = parse_nodes((tmp_path / "dump.xml").read_text())
    assert [n.text for n in nodes if n.resource_id == "android:id/title"][:2] == [
        "Wi-Fi",
        "Bluetooth",
    ]
    png = host.adb("exec-out", "screencap -p").stdout
    assert (
        Image.open(io.BytesIO(png)).convert("RGB").tobytes() == host.device.phone.frame().tobytes()
    )
    host.adb("shell", "settings put system user_rotation 1")
    try:
        turned = Image.open(io.BytesIO(host.adb("exec-out", "screencap -p").stdout))
        assert turned.size == (1200, 540)
        assert "orientation=1" in host.text("shell", "dumpsys display")
    finally:
        host.adb("shell", "settings put system user_rotation 0")


def test_adbutils_library(host: AdbHost, tmp_path: Path) -> None:
    client = adbutils.AdbClient(host="127.0.0.1", port=host.port)
    device = client.device(host.device.serial)
    result = device.shell2("echo out; echo err >&2; exit 5", v2=True)
    assert (result.returncode, result.stdout, result.stderr) == (5, "out\n", "err\n")
    assert tuple(device.window_size()) == (540, 1200)
    assert device.rotation() == 0 and device.is_screen_on() is True
    device.shell("settings put system user_rotation 3")
    assert device.rotation() == 3 and tuple(device.window_size()) == (1200, 540)
    device.shell("settings put system user_rotation 0")
    device.shell("input keyevent KEYCODE_POWER")
    assert device.is_screen_on() is False
    device.shell("input keyevent KEYCODE_WAKEUP")
    assert device.getprop("ro.build.version.sdk") == "34"
    payload = os.urandom(1024 * 1024)
    device.sync.push(payload, "/data/local/tmp/blob")
    assert device.sync.read_bytes("/data/local/tmp/blob") == payload
    assert device.sync.stat("/data/local/tmp/blob").size == len(payload)
    local = tmp_path / "app.apk"
    local.write_bytes(apk("org.example.notes2", "Notes Two"))
    device.install(str(local), nolaunch=True, silent=True)
    assert "org.example.notes2" in device.list_packages()
    device.app_start("org.example.notes2")
    assert device.app_current().package == "org.example.notes2"
    assert 'text="Notes Two"' in device.dump_hierarchy()
    shot = device.screenshot()
    assert shot.size == (540, 1200)


def test_pure_python_adb_library(host: AdbHost) -> None:
    from ppadb.client import Client

    device = Client(host="127.0.0.1", port=host.port).device(host.device.serial)
    assert device is not None
    device.shell("am start -n com.android.settings/.Settings")
    top = device.get_top_activity()
    assert (top.package, top.activity) == ("com.android.settings", ".Settings")
    assert device.wm_density() == 420 // 160  # `wm density | cut -d ' ' -f 3`, in its units
    assert tuple(device.wm_size()) == (540, 1200)
    assert device.shell("echo $((20 + 22))") == "42\n"


def test_adb_shell_without_a_command_is_an_interactive_session(host: AdbHost) -> None:
    argv = [ADB, "-P", str(host.port), "-s", host.device.serial, "shell"]
    script = b"echo hi\ncd /sdcard; pwd\nfalse\necho $?\nexit 3\necho never\n"
    piped = subprocess.run(argv, input=script, env=host.env, capture_output=True, timeout=60)
    assert (piped.returncode, piped.stdout) == (3, b"hi\n/sdcard\n1\n")
    typed = subprocess.run(
        [*argv[:-1], "shell", "-t", "-t"],  # a terminal: echo, prompt, \r\n
        input=b"echo pty\rexit 5\r",
        env=host.env,
        capture_output=True,
        timeout=60,
    )
    assert typed.returncode == 5
    assert typed.stdout == b"pixelpilot:/ $ echo pty\r\npty\r\npixelpilot:/ $ exit 5\r\n"
