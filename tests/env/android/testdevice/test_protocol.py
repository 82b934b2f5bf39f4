"""The test device speaks ADB: adb-shell's stock client connects, authenticates and runs commands;
hand-made messages probe authentication, flow control and malformed input."""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path

import pytest
from adb_shell.adb_device import AdbDeviceTcp
from adb_shell.auth.sign_pythonrsa import PythonRSASigner
from adb_shell.exceptions import TcpTimeoutException
from PIL import Image

from pixelpilot.env.android.capture import parse_png, parse_raw
from pixelpilot.env.android.testdevice import AdbTestDevice, DeviceConfig, wire
from pixelpilot.env.android.testdevice.auth import (
    KeyFormatError,
    decode_public_key,
    encode_public_key,
    verify_token,
)
from tests.env.android.support import (
    key_fixture,  # noqa: F401 (the `key` fixture)
    make_key,
    running_device,
)


def stock_client(device: AdbTestDevice, key: Path, *, auth_timeout: float = 2.0) -> AdbDeviceTcp:
    client = AdbDeviceTcp("127.0.0.1", device.port, default_transport_timeout_s=5)
    signer = PythonRSASigner.FromRSAKeyPath(str(key))
    assert client.connect(rsa_keys=[signer], auth_timeout_s=auth_timeout)
    return client


def test_stock_client_public_key_then_signature(key: Path) -> None:
    with running_device() as device:
        first = stock_client(device, key)
        assert first.shell("wm size") == "Physical size: 540x1200\n"
        first.close()
        second = stock_client(device, key)
        assert second.shell("echo hi; wm density") == "hi\nPhysical density: 420\n"
        second.close()
    events = device.auth_events
    assert events[0] == "signature rejected"  # unknown key: the client falls back to its pubkey
    assert events[1].startswith("prompt shown") and events[2].startswith("public key accepted")
    assert events[3].startswith("signature accepted")  # the second connection signs the token


def test_stock_client_screencap_both_forms_and_exec(key: Path) -> None:
    with running_device(width=300, height=500) as device:
        client = stock_client(device, key)
        raw = client.exec_out("screencap", decode=False)
        png = client.exec_out("screencap -p", decode=False)
        shell_raw = client.shell("screencap", decode=False)
        client.close()
    assert len(raw) == 16 + 300 * 500 * 4
    assert struct.unpack_from("<4I", raw) == (300, 500, 1, 1)
    assert raw == shell_raw  # no terminal on the shell service: binary-safe too
    assert parse_raw(raw).tobytes() == parse_png(png).tobytes()
    assert parse_raw(raw).tobytes() == device.phone.frame().tobytes()


def test_old_raw_header_is_12_bytes(key: Path) -> None:
    with running_device(width=200, height=300, raw_header=12) as device:
        client = stock_client(device, key)
        raw = client.exec_out("screencap", decode=False)
        client.close()
    assert len(raw) == 12 + 200 * 300 * 4
    image = parse_raw(raw)
    assert isinstance(image, Image.Image) and image.size == (200, 300)


def test_trusted_key_skips_the_prompt_and_wrong_key_waits_forever(
    key: Path, tmp_path: Path
) -> None:
    trusted = Path(f"{key}.pub").read_text()
    with running_device(auth="deny", trusted_keys=(trusted,)) as device:
        client = stock_client(device, key)
        assert client.shell("echo ok") == "ok\n"
        client.close()
        other = make_key(tmp_path)
        with pytest.raises(TcpTimeoutException):
            stock_client(device, other, auth_timeout=0.5)
    assert device.auth_events[0].startswith("signature accepted")
    assert device.auth_events[1] == "signature rejected"
    assert device.auth_events[2].startswith("prompt shown")
    assert not any(e.startswith("public key accepted") for e in device.auth_events)


def test_auth_off_connects_without_keys() -> None:
    with running_device(auth="off") as device:
        client = AdbDeviceTcp("127.0.0.1", device.port, default_transport_timeout_s=5)
        assert client.connect()
        assert client.shell("getprop ro.build.version.sdk") == "34\n"
        client.close()
    assert device.auth_events == []


def test_public_key_format_round_trip_and_corruption(key: Path) -> None:
    text = Path(f"{key}.pub").read_bytes()
    parsed = decode_public_key(text + b"\0")
    assert parsed.e == 65537 and parsed.n.bit_length() == 2048
    assert decode_public_key(encode_public_key(parsed.n, parsed.e, "me@host")).n == parsed.n
    blob = bytearray(__import__("base64").b64decode(text.split()[0]))
    blob[4] ^= 1  # n0inv no longer matches the modulus
    with pytest.raises(KeyFormatError, match="n0inv"):
        decode_public_key(__import__("base64").b64encode(bytes(blob)))
    with pytest.raises(KeyFormatError, match="base64"):
        decode_public_key(b"not base64!")


def test_signature_verification(key: Path) -> None:
    signer = PythonRSASigner.FromRSAKeyPath(str(key))
    public = decode_public_key(signer.GetPublicKey())
    token = os.urandom(20)
    signature = signer.Sign(token)
    assert verify_token(public, token, signature)
    assert not verify_token(public, os.urandom(20), signature)
    assert not verify_token(public, token, signature[:-1] + bytes([signature[-1] ^ 1]))


def _raw_connect(device: AdbTestDevice) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", device.port), timeout=3)
    sock.sendall(wire.Message(wire.CNXN, wire.VERSION, 4096, b"host::test\0").pack())
    return sock


def test_flow_control_one_write_in_flight_until_okay() -> None:
    with running_device(auth="off", width=60, height=40) as device:
        sock = _raw_connect(device)
        reply = wire.read_message(sock)
        assert reply.command == wire.CNXN and reply.data.startswith(b"device::")
        sock.sendall(wire.Message(wire.OPEN, 7, 0, b"exec:screencap\0").pack())
        okay = wire.read_message(sock)
        assert (okay.command, okay.arg1) == (wire.OKAY, 7)
        local = okay.arg0
        received = b""
        while True:
            message = wire.read_message(sock)
            if message.command == wire.CLSE:
                break
            assert message.command == wire.WRTE and len(message.data) <= 4096
            received += message.data
            sock.settimeout(0.1)  # nothing more may arrive before our OKAY
            with pytest.raises(TimeoutError):
                sock.recv(1, socket.MSG_PEEK)
            sock.settimeout(3)
            sock.sendall(wire.Message(wire.OKAY, 7, local).pack())
        assert len(received) == 16 + 60 * 40 * 4
        sock.close()


def test_unknown_service_is_closed_and_unauthenticated_open_ignored(key: Path) -> None:
    with running_device() as device:
        sock = _raw_connect(device)
        assert wire.read_message(sock).command == wire.AUTH  # a token challenge
        sock.sendall(wire.Message(wire.OPEN, 1, 0, b"shell:echo sneaky\0").pack())
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(1)
        sock.close()
    assert device.commands == []
    with running_device(auth="off") as device:
        sock = _raw_connect(device)
        wire.read_message(sock)
        sock.sendall(wire.Message(wire.OPEN, 5, 0, b"reverse:list-forward\0").pack())
        closed = wire.read_message(sock)
        assert (closed.command, closed.arg1) == (wire.CLSE, 5)
        sock.close()


def test_bad_checksum_and_bad_magic_end_the_connection() -> None:
    with running_device(auth="off") as device:
        sock = _raw_connect(device)
        wire.read_message(sock)
        packed = bytearray(wire.Message(wire.OPEN, 1, 0, b"shell:echo x\0").pack())
        packed[16] ^= 0xFF  # checksum
        sock.sendall(bytes(packed))
        assert sock.recv(1) == b""
        sock.close()
        sock = socket.create_connection(("127.0.0.1", device.port), timeout=3)
        sock.sendall(struct.pack("<6I", 0x4E584E43, 0, 0, 0, 0, 0))  # magic is not ~command
        assert sock.recv(1) == b""
        sock.close()
    assert device.commands == []


def test_device_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        DeviceConfig(width=0)
    with pytest.raises(ValueError):
        DeviceConfig(auth="maybe")  # type: ignore[arg-type]
