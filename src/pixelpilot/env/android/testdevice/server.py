"""AdbTestDevice: an ADB device on 127.0.0.1 that speaks the real wire protocol.

It authenticates clients the way adbd does (a random token signed with the client's RSA key,
or a new public key accepted as if the user tapped "Allow"), serves the `shell:` (protocol v1
and, for clients that negotiate the `shell_v2` feature, v2 with exit status and stderr apart)
and `exec:` services through its own `sh -c` (see `shell.py`) and a VirtualPhone (`shell:`
without a command is an interactive session, see `interactive.py`), and the
`sync:` service (push, pull, stat, list; see `services.py`) on the phone's file system. It
respects flow control (one WRTE in flight per stream until the client's OKAY), and injects the
faults of `Faults`. Other services (`reverse:`, `abb:`, `framebuffer:`, ...) are refused with
CLSE, as adbd refuses services it does not have.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from pixelpilot.actions import Size
from pixelpilot.env.android.testdevice import wire
from pixelpilot.env.android.testdevice.auth import KeyFormatError, KeyStore, decode_public_key
from pixelpilot.env.android.testdevice.commands import DeviceCommands
from pixelpilot.env.android.testdevice.config import DeviceConfig
from pixelpilot.env.android.testdevice.faults import FaultState
from pixelpilot.env.android.testdevice.interactive import InteractiveShell
from pixelpilot.env.android.testdevice.phone import VirtualPhone
from pixelpilot.env.android.testdevice.services import (
    SyncSession,
    parse_destination,
    shell_v2_packets,
)
from pixelpilot.env.android.testdevice.shell import Shell, ShellRecord
from pixelpilot.env.android.testdevice.wire import Message

log = logging.getLogger("pixelpilot.adbdevice")

BANNER = (
    b"device::ro.product.name=pixelpilot;ro.product.model=pixelpilot_test_device;"
    b"ro.product.device=pixelpilot;features=shell_v2,fixed_push_mkdir"
)
"""The CNXN banner. Features name what a client may use: shell protocol v2, and a SEND that
creates missing directories. `cmd` is left out on purpose: with it, `adb install` streams the
APK through `cmd package install -S`; without it, adb pushes the file and runs `pm install`,
as it does on older devices (and as `adbutils` always does)."""


class _Stream:
    """One open stream: what is still to be sent, and whether it ends once that is sent.

    `waiting` is True while a WRTE is in flight (the client has not acknowledged it with OKAY).
    """

    def __init__(self, remote: int) -> None:
        self.remote = remote
        self.chunks: list[bytes] = []
        self.waiting = False
        self.closing = False
        self.session: SyncSession | InteractiveShell | None = None

    def queue(self, data: bytes, chunk: int) -> None:
        view = memoryview(data)
        self.chunks += [bytes(view[i : i + chunk]) for i in range(0, len(data), chunk)]


class _Connection:
    """One client connection, served on its own thread."""

    def __init__(self, device: AdbTestDevice, sock: socket.socket) -> None:
        self.device = device
        self.sock = sock
        self.authed = False
        self.token = b""
        self.max_payload = wire.MAX_PAYLOAD
        self.streams: dict[int, _Stream] = {}
        self.next_id = 1
        self.muted = False

    def send(self, message: Message) -> None:
        if self.muted:
            return
        delay = self.device.config.faults.delay_ms
        if delay:
            time.sleep(delay / 1000)
        self.sock.sendall(message.pack())

    def serve(self) -> None:
        device = self.device
        try:
            while not device.stopping.is_set():
                message = wire.read_message(self.sock)
                decision = device.fault_state.on_message(message)
                if decision.gone:
                    log.info("fault: the device goes away")
                    device.go_away()
                    return
                if decision.silent_until is not None:
                    wait = decision.silent_until - time.monotonic()
                    log.info("fault: silent for %s", "good" if wait > 1e6 else f"{wait:.2f} s")
                    if device.stopping.wait(min(wait, 1e6)):
                        return
                if decision.drop:
                    log.info(
                        "fault: dropping the connection on %s (%s)",
                        message,
                        "handled first" if decision.handle_first else "unhandled",
                    )
                    if decision.handle_first:
                        self.muted = True
                        self.handle(message)
                    return
                self.handle(message)
        except (wire.PeerClosed, wire.ProtocolError, OSError) as exc:
            log.debug("connection ended: %s", exc)
        finally:
            device.forget(self.sock)

    def handle(self, message: Message) -> None:
        command = message.command
        if command == wire.CNXN:
            self.max_payload = min(max(message.arg1, 4096), wire.MAX_PAYLOAD)
            if self.authed or self.device.config.auth == "off":
                self.connected()
            else:
                self.challenge()
        elif command == wire.AUTH:
            self.authenticate(message)
        elif not self.authed:
            log.debug("ignoring %s before authentication", message)
        elif command == wire.OPEN:
            self.open(message)
        elif command == wire.OKAY:
            if message.arg1 in self.streams:
                self.streams[message.arg1].waiting = False
                self.pump(message.arg1)
        elif command == wire.WRTE:
            self.send(Message(wire.OKAY, message.arg1, message.arg0))
            self.received(message.arg1, message.data)
        elif command == wire.CLSE:
            self.streams.pop(message.arg1, None)

    def connected(self) -> None:
        self.authed = True
        self.send(Message(wire.CNXN, wire.VERSION, wire.MAX_PAYLOAD, BANNER))

    def challenge(self) -> None:
        self.token = os.urandom(wire.TOKEN_SIZE)
        self.send(Message(wire.AUTH, wire.AUTH_TOKEN, 0, self.token))

    def authenticate(self, message: Message) -> None:
        device = self.device
        if message.arg0 == wire.AUTH_SIGNATURE and self.token:
            key = device.keys.match(self.token, message.data)
            if key is not None:
                device.auth_events.append(f"signature accepted ({key.fingerprint})")
                self.connected()
            else:
                device.auth_events.append("signature rejected")
                self.challenge()
        elif message.arg0 == wire.AUTH_RSAPUBLICKEY:
            try:
                key = decode_public_key(message.data)
            except KeyFormatError as exc:
                device.auth_events.append(f"bad public key: {exc}")
                return
            device.auth_events.append(f"prompt shown ({key.fingerprint} {key.comment})")
            if device.config.auth == "accept":
                device.keys.add(key)
                device.auth_events.append(f"public key accepted ({key.fingerprint})")
                self.connected()

    def open(self, message: Message) -> None:
        text = message.data.rstrip(b"\0").decode("utf-8", "replace")
        destination = parse_destination(text)
        stream = _Stream(message.arg0)
        if destination.service in ("shell", "exec") and destination.command:
            log.info("%s: %s", text.partition(":")[0], destination.command)
            result = self.device.shell.execute(destination.command, service=destination.service)
            if destination.shell_v2:
                stream.chunks = shell_v2_packets(result, self.max_payload)
            else:
                stream.queue(result.merged, self.max_payload)
            stream.closing = True
        elif destination.service == "sync":
            log.info("sync: opened")
            stream.session = SyncSession(self.device.shell.fs)
        elif destination.service == "shell":
            log.info("%s: an interactive session", text.partition(":")[0])
            pty = "raw" not in destination.options
            stream.session = InteractiveShell(self.device.shell, pty=pty, v2=destination.shell_v2)
            stream.queue(stream.session.start(), self.max_payload)
        else:
            log.info("refusing service %r", text)
            self.send(Message(wire.CLSE, 0, message.arg0))
            return
        local = self.next_id
        self.next_id += 1
        self.streams[local] = stream
        self.send(Message(wire.OKAY, local, message.arg0))
        self.pump(local)

    def received(self, local: int, data: bytes) -> None:
        """Data the client wrote to stream `local`: sync requests, or an interactive shell's
        input (the stdin of a command line that already ran is dropped)."""
        stream = self.streams.get(local)
        if stream is None or stream.session is None:
            return
        if isinstance(stream.session, SyncSession):
            with self.device.lock:
                reply = stream.session.feed(data)
        else:
            reply = stream.session.feed(data)  # each command takes the device lock itself
        stream.queue(reply, self.max_payload)
        stream.closing = stream.session.finished
        self.pump(local)

    def pump(self, local: int) -> None:
        stream = self.streams[local]
        if stream.waiting:
            return
        if stream.chunks:
            stream.waiting = True
            self.send(Message(wire.WRTE, local, stream.remote, stream.chunks.pop(0)))
        elif stream.closing:
            del self.streams[local]
            self.send(Message(wire.CLSE, local, stream.remote))


class AdbTestDevice:
    """A virtual phone reachable over ADB at `serial` (127.0.0.1:PORT); a context manager.

    Args:
        config: screen, authorization, extras and faults.
        host: the address to listen on.
        port: the TCP port (0: an ephemeral one; read `port` after `start`).

    Attributes:
        phone: the VirtualPhone (its apps, touches, keys and frames).
        shell: the device's shell; `commands` lists every command it ran.
        auth_events: what happened in each authentication, in order.
        connections: how many client connections were accepted.
    """

    def __init__(
        self, config: DeviceConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or DeviceConfig()
        self.host = host
        self.requested_port = port
        self.lock = threading.RLock()
        self.phone = VirtualPhone(
            Size(self.config.width, self.config.height),
            self.config.density,
            adbkeyboard=self.config.adbkeyboard,
            animation_ms=self.config.animation_ms,
            raw_header=self.config.raw_header,
            displays=self.config.displays,
        )
        self.shell = Shell(DeviceCommands(self.phone).table(), self.lock)
        self.keys = KeyStore()
        for text in self.config.trusted_keys:
            self.keys.add(decode_public_key(text))
        self.fault_state = FaultState(self.config.faults)
        self.auth_events: list[str] = []
        self.connections = 0
        self.stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._port = 0

    @property
    def port(self) -> int:
        return self._port

    @property
    def serial(self) -> str:
        """`HOST:PORT`, what `--device` takes."""
        return f"{self.host}:{self._port}"

    @property
    def commands(self) -> list[ShellRecord]:
        """Every shell command that ran, in order."""
        with self.lock:
            return list(self.shell.records)

    @property
    def drops(self) -> int:
        return self.fault_state.drops

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def start(self) -> Self:
        """Start listening (raises OSError when the port is taken)."""
        listener = socket.create_server((self.host, self._port or self.requested_port))
        self._listener = listener
        self._port = listener.getsockname()[1]
        self._spawn(self._accept, listener)
        log.info("test device listening on %s", self.serial)
        return self

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _accept(self, listener: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self._clients.add(sock)
                self.connections += 1
            self._spawn(_Connection(self, sock).serve)

    def forget(self, sock: socket.socket) -> None:
        """Close a client socket (when its connection ends or is dropped)."""
        with self.lock:
            self._clients.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def drop_connections(self) -> None:
        """Close every client connection now (the listener stays up)."""
        with self.lock:
            clients = list(self._clients)
        for sock in clients:
            self.forget(sock)

    def go_away(self) -> None:
        """Stop listening and close every connection: the device is gone until `come_back`."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()
        self.drop_connections()

    def come_back(self) -> None:
        """Listen again on the same port after `go_away`."""
        if self._listener is None:
            self.start()

    def stop(self) -> None:
        """Stop everything and wait for the threads. Safe to call more than once."""
        self.stopping.set()
        self.go_away()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
