"""ADB wire messages, as adbd speaks them over TCP.

A message is a 24-byte little-endian header (command, arg0, arg1, payload length, payload
checksum, magic = command XOR 0xFFFFFFFF) followed by the payload. The checksum is the byte sum
of the payload modulo 2**32; protocol versions from 0x01000001 may leave it 0, older clients
(adb-shell sends 0x01000000) require it.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

import numpy as np

HEADER = struct.Struct("<6I")

CNXN = b"CNXN"
AUTH = b"AUTH"
OPEN = b"OPEN"
OKAY = b"OKAY"
WRTE = b"WRTE"
CLSE = b"CLSE"
COMMANDS = (CNXN, AUTH, OPEN, OKAY, WRTE, CLSE)

VERSION = 0x01000000
VERSION_SKIP_CHECKSUM = 0x01000001
MAX_PAYLOAD = 1024 * 1024
"""The largest payload this device accepts and sends (bytes); modern adbd uses the same."""

AUTH_TOKEN = 1
AUTH_SIGNATURE = 2
AUTH_RSAPUBLICKEY = 3
TOKEN_SIZE = 20


class ProtocolError(Exception):
    """The peer sent something that is not a valid ADB message."""


class PeerClosed(Exception):
    """The peer closed the connection."""


def _wire(command: bytes) -> int:
    return int.from_bytes(command, "little")


_BY_WIRE = {_wire(c): c for c in COMMANDS}


def checksum(data: bytes) -> int:
    """The byte sum of `data` modulo 2**32 (numpy: a 1 MiB payload takes about a millisecond)."""
    if not data:
        return 0
    return int(np.frombuffer(data, dtype=np.uint8).sum(dtype=np.uint64)) & 0xFFFFFFFF


@dataclass(frozen=True)
class Message:
    command: bytes
    arg0: int
    arg1: int
    data: bytes = b""

    def pack(self) -> bytes:
        wire = _wire(self.command)
        header = HEADER.pack(
            wire, self.arg0, self.arg1, len(self.data), checksum(self.data), wire ^ 0xFFFFFFFF
        )
        return header + self.data

    def __str__(self) -> str:
        preview = self.data[:40]
        return f"{self.command.decode()}({self.arg0:#x}, {self.arg1:#x}, {preview!r})"


def _read_exactly(sock: socket.socket, length: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < length:
        try:
            part = sock.recv(length - len(chunks))
        except OSError as exc:
            raise PeerClosed(str(exc)) from exc
        if not part:
            raise PeerClosed("the peer closed the connection")
        chunks += part
    return bytes(chunks)


def read_message(sock: socket.socket, *, verify_checksum: bool = True) -> Message:
    """Read one complete message from `sock`.

    Raises:
        PeerClosed: the connection ended (cleanly or not) before a whole message arrived.
        ProtocolError: bad magic, unknown command, oversized payload or wrong checksum.
    """
    wire, arg0, arg1, length, check, magic = HEADER.unpack(_read_exactly(sock, HEADER.size))
    if magic != wire ^ 0xFFFFFFFF:
        raise ProtocolError(f"bad magic {magic:#x} for command {wire:#x}")
    command = _BY_WIRE.get(wire)
    if command is None:
        raise ProtocolError(f"unknown command {wire.to_bytes(4, 'little')!r}")
    if length > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {length} bytes exceeds {MAX_PAYLOAD}")
    data = _read_exactly(sock, length) if length else b""
    if verify_checksum and check and checksum(data) != check:
        raise ProtocolError(f"checksum mismatch on {command.decode()}")
    return Message(command, arg0, arg1, data)
