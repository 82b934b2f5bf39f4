"""The adb-shell pieces of the android environment: keys, transports, device objects.

Imported only when an android environment is built (adb-shell is the `android` extra).
The TCP transport is adb-shell's `BaseTransport` contract implemented with three differences
from its stock `TcpTransport`: a connection the device closed fails the next read at once
(instead of spinning until the read timeout), writes are complete (`send` may write part of a
buffer), and the bytes written are counted, which is how the connection proves that a command
never left this machine. `peer_closed()` notices a connection the device dropped while idle.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
from pathlib import Path
from typing import Any

from adb_shell import exceptions as adb_errors
from adb_shell.adb_device import AdbDevice, AdbDeviceUsb
from adb_shell.auth.keygen import keygen, write_public_keyfile
from adb_shell.auth.sign_pythonrsa import PythonRSASigner
from adb_shell.transport.base_transport import BaseTransport

from pixelpilot.env.android.connection import DeviceSetupError
from pixelpilot.errors import MissingExtraError

log = logging.getLogger("pixelpilot.env.android")


class ConnectionClosed(ConnectionError):
    """The device closed the connection."""


TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionClosed, refused, reset, broken pipe and socket timeouts
    adb_errors.TcpTimeoutException,
    adb_errors.AdbTimeoutError,
    adb_errors.AdbConnectionError,
    adb_errors.InvalidResponseError,
    adb_errors.InvalidCommandError,
    adb_errors.InvalidChecksumError,
    adb_errors.UsbReadFailedError,
    adb_errors.UsbWriteFailedError,
)
"""Failures that a new connection may cure."""

AUTH_ERRORS = (adb_errors.DeviceAuthError,)


def default_key_path() -> Path:
    """Where the adb tool keeps its key: $ANDROID_USER_HOME/adbkey or ~/.android/adbkey."""
    base = os.environ.get("ANDROID_USER_HOME")
    return Path(base) / "adbkey" if base else Path.home() / ".android" / "adbkey"


def load_signer(path: Path) -> PythonRSASigner:
    """The signer for the RSA key at `path`, creating the key pair (mode 0600) when missing.

    Raises:
        DeviceSetupError: the key exists but cannot be read.
    """
    public = Path(f"{path}.pub")
    try:
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            keygen(str(path))
            path.chmod(0o600)
            log.info("created the ADB key %s", path)
        elif not public.exists():
            write_public_keyfile(str(path), str(public))
        return PythonRSASigner.FromRSAKeyPath(str(path))
    except (OSError, ValueError, IndexError) as exc:
        raise DeviceSetupError(
            f"cannot use the ADB key {path} ({exc}); fix its permissions, delete it so a new one "
            "is made, or point adb_key at another key"
        ) from exc


class TcpTransport(BaseTransport):  # type: ignore[misc]
    """A TCP connection to adbd (see the module docs for how it differs from adb-shell's)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.sock: socket.socket | None = None
        self.sent = 0

    def connect(self, transport_timeout_s: float | None) -> None:
        self.close()
        self.sock = socket.create_connection((self.host, self.port), timeout=transport_timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _socket(self, timeout: float | None) -> socket.socket:
        if self.sock is None:
            raise ConnectionClosed("not connected")
        self.sock.settimeout(timeout)
        return self.sock

    def bulk_read(self, numbytes: int, transport_timeout_s: float | None) -> bytes:
        sock = self._socket(transport_timeout_s)
        try:
            data = sock.recv(numbytes)
        except TimeoutError:
            raise adb_errors.TcpTimeoutException(
                f"reading from {self.host}:{self.port} timed out ({transport_timeout_s} s)"
            ) from None
        if not data:
            raise ConnectionClosed(f"{self.host}:{self.port} closed the connection")
        return data

    def bulk_write(self, data: bytes, transport_timeout_s: float | None) -> int:
        sock = self._socket(transport_timeout_s)
        view = memoryview(data)
        while view:
            written = sock.send(view)
            self.sent += written
            view = view[written:]
        return len(data)

    def peer_closed(self) -> bool:
        """True when the device has closed this connection (checked without blocking)."""
        if self.sock is None:
            return True
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if not readable:
                return False
            return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except OSError:
            return True


def make_device(target: str, timeout: float) -> tuple[Any, TcpTransport | None]:
    """An unconnected adb-shell device for `target` (HOST:PORT, usb or usb:SERIAL).

    Args:
        target: the `device` option.
        timeout: the default transport timeout in seconds.

    Returns:
        The adb-shell device and, for TCP, its transport (None for USB).

    Raises:
        DeviceSetupError: `target` is malformed, or no USB device is attached.
        MissingExtraError: USB was asked for without libusb1 installed.
    """
    if target == "usb" or target.startswith("usb:"):
        serial = target.partition(":")[2] or None
        try:
            return AdbDeviceUsb(serial=serial, default_transport_timeout_s=timeout), None
        except adb_errors.InvalidTransportError:
            raise MissingExtraError(
                "ADB over USB needs libusb1; install it with: pip install 'pixelpilot[android-usb]'"
            ) from None
        except adb_errors.UsbDeviceNotFoundError as exc:
            raise DeviceSetupError(
                f"no USB device found ({exc}); plug the phone in, enable USB debugging in "
                "Developer options, or use --device HOST:PORT"
            ) from None
    host, sep, port_text = target.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise DeviceSetupError(
            f"--device expects HOST:PORT (e.g. 127.0.0.1:5555), usb or usb:SERIAL; got {target!r}"
        )
    transport = TcpTransport(host.strip("[]"), int(port_text))
    return AdbDevice(transport, default_transport_timeout_s=timeout), transport
