"""The byte formats of the test device's ADB services beyond plain `shell:`/`exec:` output.

Shell protocol v2 (`shell,v2,raw:CMD`; the `shell_v2` feature): the device sends packets of
one id byte, a little-endian u32 length and the data: 1 stdout, 2 stderr, 3 exit (one byte,
the status); the client may send 0 stdin, 4 close-stdin and 5 window-size packets.

The sync service (`sync:`): requests and replies are a 4-byte id, a little-endian u32 and
(for most) that many bytes, split across WRTE messages however the sender likes:
  STAT path          -> STAT mode size mtime (three u32; all 0 when the path is missing)
  LIST path          -> DENT mode size mtime namelen name ..., then DONE with four 0 u32
  SEND "path,mode"   then DATA chunks (each at most 64 KiB), then DONE mtime
                     -> OKAY 0, or FAIL len message
  RECV path          -> DATA chunks, then DONE 0; or FAIL len message
  QUIT               -> the stream ends
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

from pixelpilot.env.android.testdevice.fs import VirtualFs
from pixelpilot.env.android.testdevice.shell import ShellResult

log = logging.getLogger("pixelpilot.adbdevice")

SHELL_STDOUT = 1
SHELL_STDERR = 2
SHELL_EXIT = 3
SYNC_DATA_MAX = 64 * 1024
_U32 = struct.Struct("<I")
_STAT = struct.Struct("<4sIII")


@dataclass(frozen=True)
class Destination:
    """What an OPEN asks for: the service ("shell", "exec", "sync", ...), its options
    (`v2`, `raw`, `pty`, `TERM=...`) and the command (empty for an interactive shell)."""

    service: str
    options: tuple[str, ...]
    command: str

    @property
    def shell_v2(self) -> bool:
        return self.service == "shell" and "v2" in self.options


def parse_destination(text: str) -> Destination:
    """Split `shell,v2,raw:echo hi` into ("shell", ("v2", "raw"), "echo hi")."""
    head, _, command = text.partition(":")
    service, *options = head.split(",")
    return Destination(service, tuple(options), command)


def shell_v2_packets(result: ShellResult, max_payload: int) -> list[bytes]:
    """The v2 packets for a finished command, each fitting one WRTE of `max_payload` bytes."""
    packets: list[bytes] = []
    room = max_payload - 5
    for fd, data in result.output:
        kind = SHELL_STDOUT if fd == 1 else SHELL_STDERR
        for start in range(0, len(data), room):
            piece = data[start : start + room]
            packets.append(bytes([kind]) + _U32.pack(len(piece)) + piece)
    packets.append(bytes([SHELL_EXIT]) + _U32.pack(1) + bytes([result.status]))
    return packets


class SyncSession:
    """One `sync:` stream: feed it the client's bytes, it answers with the reply bytes.

    Args:
        fs: the device's file system (held under the device lock by the caller).
    """

    def __init__(self, fs: VirtualFs) -> None:
        self.fs = fs
        self.buffer = bytearray()
        self.finished = False
        self._send_path: str | None = None
        self._send_mode = 0o644
        self._send_data = bytearray()

    def feed(self, data: bytes) -> bytes:
        """Take more request bytes; return the replies they complete (maybe none)."""
        self.buffer += data
        out = bytearray()
        while not self.finished and len(self.buffer) >= 8:
            ident = bytes(self.buffer[:4])
            length = _U32.unpack_from(self.buffer, 4)[0]
            if ident == b"DONE" or ident == b"QUIT":
                del self.buffer[:8]
                out += self._done(length) if ident == b"DONE" else b""
                self.finished = ident == b"QUIT"
                continue
            if len(self.buffer) < 8 + length:
                break
            body = bytes(self.buffer[8 : 8 + length])
            del self.buffer[: 8 + length]
            out += self._request(ident, body)
        return bytes(out)

    def _request(self, ident: bytes, body: bytes) -> bytes:
        if ident == b"DATA":
            if self._send_path is None:
                return _fail("DATA without SEND")
            self._send_data += body
            return b""
        path = self.fs.normalize(body.decode("utf-8", "replace"))
        if ident == b"STAT":
            mode, size, mtime = self.fs.stat(path) or (0, 0, 0)
            return _STAT.pack(b"STAT", mode, size, mtime)
        if ident == b"LIST":
            return self._list(path)
        if ident == b"RECV":
            return self._recv(path)
        if ident == b"SEND":
            spec = body.decode("utf-8", "replace")
            where, _, mode_text = spec.rpartition(",")
            if not where or not mode_text.isdigit():
                where, mode_text = spec, "33188"  # 0o100644
            self._send_path = self.fs.normalize(where)
            self._send_mode = int(mode_text) & 0o7777
            self._send_data = bytearray()
            return b""
        self.finished = True
        return _fail(f"unknown sync request {ident!r}")

    def _list(self, path: str) -> bytes:
        out = bytearray()
        if self.fs.is_dir(path):
            for name in [".", "..", *self.fs.listdir(path)]:
                child = path if name in (".", "..") else self.fs.normalize(f"{path}/{name}")
                mode, size, mtime = self.fs.stat(child) or (0, 0, 0)
                encoded = name.encode()
                out += _STAT.pack(b"DENT", mode, size, mtime) + _U32.pack(len(encoded)) + encoded
        return bytes(out + _STAT.pack(b"DONE", 0, 0, 0) + _U32.pack(0))

    def _recv(self, path: str) -> bytes:
        if path not in self.fs.files:
            reason = "Is a directory" if self.fs.is_dir(path) else "No such file or directory"
            return _fail(f"open failed: {reason}")
        data = self.fs.files[path]
        out = bytearray()
        for start in range(0, len(data), SYNC_DATA_MAX):
            piece = data[start : start + SYNC_DATA_MAX]
            out += b"DATA" + _U32.pack(len(piece)) + piece
        return bytes(out + b"DONE" + _U32.pack(0))

    def _done(self, mtime: int) -> bytes:
        path, self._send_path = self._send_path, None
        if path is None:
            return _fail("DONE without SEND")
        if self.fs.is_dir(path):
            return _fail(f"{path}: Is a directory")
        self.fs.write(path, bytes(self._send_data), mode=self._send_mode)
        if mtime:
            self.fs.mtimes[path] = mtime
        log.info("sync: received %s (%d bytes)", path, len(self._send_data))
        self._send_data = bytearray()
        return b"OKAY" + _U32.pack(0)


def _fail(message: str) -> bytes:
    encoded = message.encode()
    return b"FAIL" + _U32.pack(len(encoded)) + encoded
