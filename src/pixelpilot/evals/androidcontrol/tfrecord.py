"""TFRecord files and `tf.train.Example` messages, read without TensorFlow or generated code.

A TFRecord file (optionally GZIP-compressed as a whole) is a sequence of records, each framed as

    uint64  length             little-endian
    uint32  masked_crc32c(the 8 length bytes)
    bytes   payload[length]
    uint32  masked_crc32c(payload)

`tf.train.Example` is a small protobuf: Example{features = 1: Features}, Features{feature = 1:
map<string, Feature>} (map entries are messages {key = 1, value = 2}), Feature{oneof:
bytes_list = 1, float_list = 2, int64_list = 3}, each list {value = 1, repeated; numbers may
be packed or not}. The protobuf wire helpers here are shared with the accessibility-tree decoder.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BufferedIOBase
from pathlib import Path

from pixelpilot.evals.androidcontrol.crc32c import masked_crc32c

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class RecordError(Exception):
    """A TFRecord file or protobuf message is damaged; the message says where and how."""


# ---- protobuf wire format -------------------------------------------------------------------


def read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at `pos`; returns (value, position after it)."""
    value = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise RecordError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift >= 70:
            raise RecordError("varint longer than 10 bytes")


def as_int64(value: int) -> int:
    """Reinterpret a decoded varint as a signed 64-bit integer (negatives use 10 bytes)."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= 1 << 63 else value


def as_int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def iter_fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """Yield (field number, wire type, value) for every field of a serialized message.

    Varints are ints, fixed32/fixed64 their raw little-endian ints, length-delimited fields
    memoryviews into `buf`. Raises RecordError on malformed input or a group wire type.
    """
    view = memoryview(buf)
    pos = 0
    end = len(view)
    while pos < end:
        key, pos = read_varint(view, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise RecordError("field number 0")
        if wire == VARINT:
            value, pos = read_varint(view, pos)
            yield number, wire, value
        elif wire == LENGTH:
            size, pos = read_varint(view, pos)
            if pos + size > end:
                raise RecordError(f"field {number} runs past the end of the message")
            yield number, wire, view[pos : pos + size]
            pos += size
        elif wire in (FIXED32, FIXED64):
            width = 4 if wire == FIXED32 else 8
            if pos + width > end:
                raise RecordError(f"field {number} runs past the end of the message")
            yield number, wire, int.from_bytes(view[pos : pos + width], "little")
            pos += width
        else:
            raise RecordError(f"unsupported wire type {wire} for field {number}")


def packed_varints(value: int | memoryview) -> list[int]:
    """A repeated varint field's values: one unpacked value, or a packed run of them."""
    if isinstance(value, int):
        return [value]
    out = []
    pos = 0
    while pos < len(value):
        item, pos = read_varint(value, pos)
        out.append(item)
    return out


# ---- tf.train.Example -----------------------------------------------------------------------

FeatureValues = list[bytes] | list[float] | list[int]
_KINDS = {1: "bytes_list", 2: "float_list", 3: "int64_list"}


@dataclass(frozen=True)
class Example:
    """A decoded `tf.train.Example`: feature name -> (kind, values)."""

    features: dict[str, tuple[str, FeatureValues]]

    def _get(self, name: str, kind: str) -> FeatureValues:
        if name not in self.features:
            raise RecordError(f"feature '{name}' is missing")
        found, values = self.features[name]
        if found != kind:
            raise RecordError(f"feature '{name}' is a {found}, expected a {kind}")
        return values

    def bytes_list(self, name: str) -> list[bytes]:
        return [v for v in self._get(name, "bytes_list") if isinstance(v, bytes)]

    def int64_list(self, name: str) -> list[int]:
        return [v for v in self._get(name, "int64_list") if isinstance(v, int)]

    def float_list(self, name: str) -> list[float]:
        return [float(v) for v in self._get(name, "float_list")]

    def text_list(self, name: str) -> list[str]:
        """A bytes_list of UTF-8 strings, decoded."""
        try:
            return [v.decode("utf-8") for v in self.bytes_list(name)]
        except UnicodeDecodeError as exc:
            raise RecordError(f"feature '{name}' is not UTF-8 text: {exc}") from None


def _parse_feature(buf: memoryview) -> tuple[str, FeatureValues]:
    kind = "bytes_list"
    values: FeatureValues = []
    for number, _, value in iter_fields(buf):
        if number not in _KINDS or not isinstance(value, memoryview):
            continue
        kind = _KINDS[number]
        if kind == "bytes_list":
            values = [
                bytes(v) for n, _, v in iter_fields(value) if n == 1 and isinstance(v, memoryview)
            ]
        elif kind == "int64_list":
            values = [
                as_int64(x) for n, _, v in iter_fields(value) if n == 1 for x in packed_varints(v)
            ]
        else:
            floats: list[float] = []
            for n, wire, v in iter_fields(value):
                if n != 1:
                    continue
                if wire == FIXED32 and isinstance(v, int):
                    floats.append(struct.unpack("<f", v.to_bytes(4, "little"))[0])
                elif isinstance(v, memoryview):
                    floats.extend(x[0] for x in struct.iter_unpack("<f", v))
            values = floats
    return kind, values


def parse_example(payload: bytes | memoryview) -> Example:
    """Decode a serialized `tf.train.Example`. Raises RecordError when it is malformed."""
    features: dict[str, tuple[str, FeatureValues]] = {}
    for number, _, value in iter_fields(payload):
        if number != 1 or not isinstance(value, memoryview):
            continue
        for fnum, _, entry in iter_fields(value):
            if fnum != 1 or not isinstance(entry, memoryview):
                continue
            key = ""
            feature: tuple[str, FeatureValues] = ("bytes_list", [])
            for enum_, _, part in iter_fields(entry):
                if enum_ == 1 and isinstance(part, memoryview):
                    key = bytes(part).decode("utf-8", errors="replace")
                elif enum_ == 2 and isinstance(part, memoryview):
                    feature = _parse_feature(part)
            features[key] = feature
    return Example(features)


# ---- record framing -------------------------------------------------------------------------


def _read_exact(stream: BufferedIOBase, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def open_records(path: Path) -> BufferedIOBase:
    """Open a TFRecord file for reading, GZIP or not (told apart by the gzip magic bytes)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return path.open("rb")


def iter_records(
    path: Path, *, on_bad_payload: Callable[[RecordError], None] | None = None
) -> Iterator[bytes]:
    """Yield each record's payload from a TFRecord file, checking both CRCs.

    A payload whose CRC does not match is passed to `on_bad_payload` and skipped (the framing
    is still intact, so reading goes on); without a callback it raises.

    Raises:
        RecordError: the framing is broken (a bad length CRC, a truncated record or a damaged
            GZIP stream); nothing after that point can be read reliably.
        OSError: the file cannot be opened.
    """
    with open_records(path) as stream:
        index = 0
        while True:
            try:
                header = _read_exact(stream, 12)
                if not header:
                    return
                if len(header) < 12:
                    raise RecordError(f"{path.name}: record {index} is truncated (header)")
                (length,) = struct.unpack("<Q", header[:8])
                (length_crc,) = struct.unpack("<I", header[8:])
                if masked_crc32c(header[:8]) != length_crc:
                    raise RecordError(f"{path.name}: record {index} has a bad length checksum")
                body = _read_exact(stream, length + 4)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise RecordError(
                    f"{path.name}: damaged compressed stream at record {index}: {exc}"
                ) from None
            if len(body) < length + 4:
                raise RecordError(f"{path.name}: record {index} is truncated (payload)")
            payload = body[:length]
            (payload_crc,) = struct.unpack("<I", body[length:])
            if masked_crc32c(payload) != payload_crc:
                error = RecordError(f"{path.name}: record {index} has a bad payload checksum")
                if on_bad_payload is None:
                    raise error
                on_bad_payload(error)
            else:
                yield payload
            index += 1
