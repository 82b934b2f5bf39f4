"""The android environment's connection to its device: connect, reconnect, deliver commands.

Reads (screenshots, `wm size`, ...) are simply retried on a new connection when one fails.
Actions are delivered exactly once. With `exactly_once` (the default) each action's command
line starts with `mkdir MARKER &&`, a directory unique to the action: `mkdir` is atomic, so
however often the line is resent after dropped connections, the action runs at most once, and
a resend whose `mkdir` finds the marker proves that an earlier attempt ran it. Without the
marker, an action is resent only when provably nothing of it left this machine (no byte of it
was written, or the device had already closed the connection); otherwise it is recorded as
uncertain and not repeated. A device that stays unreachable through the bounded, backed-off
reconnects (tenacity) raises EnvError.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from pixelpilot._extras import require
from pixelpilot.env.android.config import AndroidConfig
from pixelpilot.errors import EnvError, MissingExtraError, SetupError

log = logging.getLogger("pixelpilot.env.android")
T = TypeVar("T")

PROMPT_HINT_DELAY = 2.0
"""Seconds an authorization may take before the user is told to tap Allow on the phone: a
device that authorizes automatically answers well within it, one waiting for its user does not."""

UNCERTAIN = (
    "delivery uncertain: the connection dropped after the command was sent and before the "
    "device answered; not repeated"
)


class DeviceSetupError(SetupError):
    """The device cannot be used as configured; the one-line message says how to fix it."""


@dataclass(frozen=True)
class Delivery:
    """How an action's command line reached the device.

    Attributes:
        output: what the device printed.
        attempts: how many times the line was sent (or tried).
        note: "" when the first attempt simply worked; otherwise what happened, for the record.
    """

    output: str
    attempts: int
    note: str = ""


class AdbConnection:
    """One device, reached over TCP or USB with adb-shell's client.

    Raises (from the constructor):
        DeviceSetupError: unreachable, unauthorized, or not an ADB device; one line with the fix.
        MissingExtraError: adb-shell (or libusb1 for USB) is not installed.
    """

    def __init__(self, config: AndroidConfig) -> None:
        require("adb_shell", "android", package="adb-shell")
        from pixelpilot.env.android import adb as android_adb

        self.adb = android_adb
        self.config = config
        self.key_path = config.adb_key or android_adb.default_key_path()
        self.signer = android_adb.load_signer(self.key_path)
        self.session = secrets.token_hex(4)
        self.marker_root = f"{config.marker_dir}/{self.session}"
        self.reconnects = 0
        self._actions = 0
        self._prompted = False
        self._closed = False
        self._device: Any = None
        self._transport: Any = None
        self._hint_timer: threading.Timer | None = None
        self._connect_first()

    # ----- connecting ----------------------------------------------------------------------

    def _open(self) -> None:
        c = self.config
        device, transport = self.adb.make_device(c.device, c.connect_timeout)
        self._device, self._transport = device, transport
        try:
            device.connect(
                rsa_keys=[self.signer],
                transport_timeout_s=c.connect_timeout,
                auth_timeout_s=c.auth_timeout,
                read_timeout_s=c.connect_timeout,
                auth_callback=self._on_prompt,
            )
        finally:
            self._stop_hint()

    def _on_prompt(self, _manager: object) -> None:
        """adb-shell sent the public key: the device may now ask its user, or (an emulator
        without auth, a test device, a phone with the key already allowed) simply accept. The
        hint to tap Allow is shown only when the answer takes longer than PROMPT_HINT_DELAY."""
        self._prompted = True
        timer = threading.Timer(PROMPT_HINT_DELAY, self._prompt_hint)
        timer.daemon = True
        self._hint_timer = timer
        timer.start()

    def _prompt_hint(self) -> None:
        log.warning(
            "the device %s does not know this computer's key yet: unlock it and tap Allow on "
            "the 'Allow USB debugging?' prompt (waiting up to %g s)",
            self.config.device,
            self.config.auth_timeout,
        )

    def _stop_hint(self) -> None:
        timer, self._hint_timer = self._hint_timer, None
        if timer is not None:
            timer.cancel()

    def _connect_first(self) -> None:
        try:
            self._open()
        except Exception as exc:
            self._drop(exc)
            raise self._setup_error(exc) from None
        self.read(f"mkdir -p {self.marker_root}")

    def _setup_error(self, exc: Exception) -> Exception:
        """The one-line error (with the fix) for a first connection that failed with `exc`."""
        c = self.config
        adb = self.adb
        if isinstance(exc, DeviceSetupError | MissingExtraError):
            return exc
        if isinstance(exc, ConnectionRefusedError):
            return DeviceSetupError(
                f"no ADB device answers at {c.device} (connection refused): start the emulator "
                "or `pixelpilot android-testdevice`, or enable ADB over TCP on the phone "
                "(`adb tcpip 5555` or wireless debugging), then pass --device HOST:PORT"
            )
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        if isinstance(exc, adb.AUTH_ERRORS):
            return DeviceSetupError(f"the device {c.device} refused the key ({detail})")
        if self._prompted:
            return DeviceSetupError(
                f"the device {c.device} did not authorize this computer within "
                f"{c.auth_timeout:g} s: unlock it, tap Allow on the 'Allow USB debugging?' "
                f"prompt (tick 'Always allow'), and run again (key: {self.key_path})"
            )
        if isinstance(exc, adb.TRANSIENT):
            return DeviceSetupError(
                f"cannot talk ADB to {c.device} ({detail}); check the address and that the "
                "device is awake, and raise connect_timeout for slow networks"
            )
        return exc

    def _drop(self, exc: BaseException) -> None:
        log.info("connection to %s failed: %s: %s", self.config.device, type(exc).__name__, exc)
        device, self._device = self._device, None
        if device is not None:
            with contextlib.suppress(*self.adb.TRANSIENT):
                device.close()

    def _ensure(self) -> None:
        """Make sure there is a live connection, reconnecting with backoff if needed."""
        if self._closed:
            raise EnvError("the android environment is closed")
        transport = self._transport
        if self._device is not None and self._device.available:
            if transport is None or not transport.peer_closed():
                return
            self._drop(ConnectionError("the device closed the connection while idle"))
        c = self.config
        retrying = Retrying(
            stop=stop_after_attempt(c.reconnect_attempts) | stop_after_delay(c.reconnect_seconds),
            wait=wait_exponential(multiplier=c.reconnect_backoff, max=c.reconnect_backoff_max),
            retry=retry_if_exception_type(self.adb.TRANSIENT),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    try:
                        self._open()
                    except self.adb.TRANSIENT:
                        self._drop(ConnectionError("reconnect failed"))
                        raise
        except self.adb.TRANSIENT as exc:
            raise EnvError(
                f"lost the device {c.device}: {c.reconnect_attempts} reconnect attempts failed "
                f"(last: {type(exc).__name__}: {exc})"
            ) from exc
        except self.adb.AUTH_ERRORS as exc:
            raise EnvError(f"the device {c.device} no longer accepts this computer: {exc}") from exc
        self.reconnects += 1
        log.info("reconnected to %s", c.device)

    # ----- commands ------------------------------------------------------------------------

    def _retry_reads(self, call: Callable[[], T]) -> T:
        last: BaseException | None = None
        for _ in range(self.config.reconnect_attempts + 1):
            self._ensure()
            try:
                return call()
            except self.adb.TRANSIENT as exc:
                self._drop(exc)
                last = exc
        raise EnvError(
            f"the device {self.config.device} keeps failing: {type(last).__name__}: {last}"
        ) from last

    def read(self, command: str) -> str:
        """Run a command with no side effects on the device and return its output (text).

        Raises:
            EnvError: the device stayed unreachable.
        """
        timeout = self.config.command_timeout
        return self._retry_reads(
            lambda: str(
                self._device.shell(command, transport_timeout_s=timeout, read_timeout_s=timeout)
            )
        )

    def read_bytes(self, command: str) -> bytes:
        """Like `read`, through the `exec:` service (binary-safe output, no terminal)."""
        timeout = self.config.command_timeout
        return self._retry_reads(
            lambda: bytes(
                self._device.exec_out(
                    command, transport_timeout_s=timeout, read_timeout_s=timeout, decode=False
                )
            )
        )

    def act(self, commands: Sequence[str]) -> Delivery:
        """Run an action's commands (joined with &&) exactly once; see the module docs.

        Raises:
            EnvError: the device stayed unreachable, or the marker could not be created.
        """
        line = " && ".join(commands)
        marker = ""
        if self.config.exactly_once:
            self._actions += 1
            marker = f"{self.marker_root}/{self._actions}"
            line = f"mkdir {marker} && {line}"
        timeout = self.config.command_timeout
        for attempt in range(1, self.config.reconnect_attempts + 2):
            self._ensure()
            transport = self._transport
            sent_before = transport.sent if transport is not None else None
            try:
                output = str(
                    self._device.shell(line, transport_timeout_s=timeout, read_timeout_s=timeout)
                )
            except self.adb.TRANSIENT as exc:
                unsent = transport is not None and transport.sent == sent_before
                self._drop(exc)
                if not (unsent or marker):
                    return Delivery("", attempt, UNCERTAIN)
                continue
            return self._delivered(output, attempt, marker)
        raise EnvError(
            f"could not deliver `{line}` to {self.config.device} after "
            f"{self.config.reconnect_attempts + 1} attempts"
        )

    def _delivered(self, output: str, attempt: int, marker: str) -> Delivery:
        refused = [
            line for line in output.splitlines() if line.startswith("mkdir:") and marker in line
        ]
        if marker and refused:
            if attempt > 1 and "exists" in refused[0].lower():
                return Delivery(
                    output,
                    attempt,
                    "the connection dropped after the device ran it; not repeated",
                )
            raise EnvError(
                f"cannot create the delivery marker ({refused[0].strip()}); set the "
                "android option exactly_once = false to send actions without markers"
            )
        note = "" if attempt == 1 else f"sent again after {attempt - 1} dropped connection(s)"
        return Delivery(output, attempt, note)

    def close(self) -> None:
        """Remove this session's markers and disconnect. Safe to call more than once."""
        if self._closed:
            return
        if self._device is not None and self._device.available:
            with contextlib.suppress(*self.adb.TRANSIENT):
                self._device.shell(
                    f"rm -rf {self.marker_root}", transport_timeout_s=2.0, read_timeout_s=2.0
                )
        self._drop(ConnectionError("closed"))
        self._closed = True
