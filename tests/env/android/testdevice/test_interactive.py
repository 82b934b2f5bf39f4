"""The interactive `shell` session's line handling, without a network (protocol v1 and v2)."""

from __future__ import annotations

import struct

from pixelpilot.env.android.testdevice import AdbTestDevice, DeviceConfig
from pixelpilot.env.android.testdevice.interactive import InteractiveShell


def packets(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        kind, length = data[pos], struct.unpack_from("<I", data, pos + 1)[0]
        out.append((kind, data[pos + 5 : pos + 5 + length]))
        pos += 5 + length
    return out


def stdin(data: bytes) -> bytes:
    return b"\x00" + struct.pack("<I", len(data)) + data


def test_terminal_editing_and_ctrl_d() -> None:
    device = AdbTestDevice(DeviceConfig(width=540, height=1200))
    session = InteractiveShell(device.shell, pty=True, v2=False)
    assert session.start() == b"pixelpilot:/ $ "
    assert session.feed(b"ecx\x7fho hi\r") == b"ecx\b \bho hi\r\nhi\r\npixelpilot:/ $ "
    assert session.feed(b"reboot\x03") == b"reboot^C\r\npixelpilot:/ $ "
    assert not any(r.argv[0] == "reboot" for r in device.commands)
    assert session.feed(b"cd /sdcard\r") == b"cd /sdcard\r\npixelpilot:/sdcard $ "
    assert session.feed(b"\x04") == b"" and session.finished


def test_v2_raw_session_runs_lines_until_stdin_closes() -> None:
    device = AdbTestDevice(DeviceConfig(width=540, height=1200))
    session = InteractiveShell(device.shell, pty=False, v2=True)
    assert session.start() == b""
    first = session.feed(stdin(b"echo out; echo err >&2\nX=4"))
    assert packets(first) == [(1, b"out\n"), (2, b"err\n")]
    closing = stdin(b"2\necho $X$((1+1)); false\n")[:7]  # a packet split across writes
    assert session.feed(closing) == b""
    rest = stdin(b"2\necho $X$((1+1)); false\n")[7:] + b"\x04" + struct.pack("<I", 0)
    assert packets(session.feed(rest)) == [(1, b"422\n"), (3, b"\x01")]
    assert session.finished
