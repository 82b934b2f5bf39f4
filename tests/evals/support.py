"""Writers for the published data formats, independent of the code under test.

- TFRecord: GZIP, framing with masked CRC32C computed by a bit-at-a-time CRC (not the
  package's table/numpy code), payloads from a hand-written protobuf encoder.
- Protobuf oracle: the real `google.protobuf` runtime with descriptors built here from the
  official field numbers (tensorflow/core/example/{example,feature}.proto and android_env's
  proto/a11y/*.proto), to check that the hand encoder and the package's decoder agree with it.
- ScreenSpot: folders in the official layouts, images generated at the annotated sizes.
"""

from __future__ import annotations

import gzip
import json
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

ANNOTATIONS = Path(__file__).resolve().parents[3] / "shared" / "data" / "screenspot-v2-annotations"
PLATFORMS = ("mobile", "desktop", "web")

# ---- CRC32C, bit by bit ----------------------------------------------------------------------


def crc32c_bitwise(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def masked(data: bytes) -> int:
    crc = crc32c_bitwise(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ---- protobuf, by hand -----------------------------------------------------------------------


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def field_bytes(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def feature(
    values: Sequence[bytes] | Sequence[int] | Sequence[float], kind: str, *, packed: bool = True
) -> bytes:
    if kind == "bytes":
        body = b"".join(field_bytes(1, v) for v in values if isinstance(v, bytes))
        return field_bytes(1, body)
    if kind == "int64":
        ints = [int(v) for v in values]
        body = (
            field_bytes(1, b"".join(varint(v) for v in ints))
            if packed
            else b"".join(field_varint(1, v) for v in ints)
        )
        return field_bytes(3, body)
    floats = b"".join(struct.pack("<f", float(v)) for v in values)
    return field_bytes(2, field_bytes(1, floats))


def example(features: dict[str, bytes]) -> bytes:
    """A tf.train.Example from already encoded Feature messages."""
    entries = b"".join(
        field_bytes(1, field_bytes(1, k.encode()) + field_bytes(2, v)) for k, v in features.items()
    )
    return field_bytes(1, entries)


def rect(left: int, top: int, right: int, bottom: int) -> bytes:
    return b"".join(field_varint(n, v) for n, v in ((1, left), (2, top), (3, right), (4, bottom)))


def node(
    box: tuple[int, int, int, int],
    *,
    text: str = "",
    desc: str = "",
    clickable: bool = False,
    visible: bool = True,
    node_id: int = 0,
) -> bytes:
    out = field_varint(1, node_id) + field_bytes(2, rect(*box))
    if text:
        out += field_bytes(7, text.encode())
    if desc:
        out += field_bytes(4, desc.encode())
    if clickable:
        out += field_varint(14, 1)
    if visible:
        out += field_varint(23, 1)
    return out


def forest(windows: Iterable[tuple[int, tuple[int, int, int, int], list[bytes]]]) -> bytes:
    """windows: (layer, window bounds, encoded nodes)."""
    out = b""
    for layer, bounds, nodes in windows:
        tree = b"".join(field_bytes(1, n) for n in nodes)
        out += field_bytes(
            1, field_bytes(1, rect(*bounds)) + field_varint(4, layer) + field_bytes(11, tree)
        )
    return out


# ---- TFRecord --------------------------------------------------------------------------------


def tfrecord_bytes(payloads: Iterable[bytes]) -> bytes:
    out = bytearray()
    for payload in payloads:
        length = struct.pack("<Q", len(payload))
        out += (
            length
            + struct.pack("<I", masked(length))
            + payload
            + struct.pack("<I", masked(payload))
        )
    return bytes(out)


def write_tfrecord(path: Path, payloads: Iterable[bytes], *, compress: bool = True) -> Path:
    data = tfrecord_bytes(payloads)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def png(size: tuple[int, int], color: tuple[int, int, int] = (200, 200, 200)) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def episode_example(
    episode_id: int,
    goal: str,
    actions: Sequence[dict[str, Any]],
    instructions: Sequence[str],
    *,
    size: tuple[int, int] = (108, 240),
    trees: Sequence[bytes] | None = None,
) -> bytes:
    """An AndroidControl episode in the official feature layout."""
    count = len(actions) + 1
    features = {
        "episode_id": feature([episode_id], "int64"),
        "goal": feature([goal.encode()], "bytes"),
        "screenshots": feature(
            [png(size, (10 * i % 256, 100, 150)) for i in range(count)], "bytes"
        ),
        "screenshot_widths": feature([size[0]] * count, "int64"),
        "screenshot_heights": feature([size[1]] * count, "int64", packed=False),
        "actions": feature([json.dumps(a).encode() for a in actions], "bytes"),
        "step_instructions": feature([t.encode() for t in instructions], "bytes"),
    }
    if trees is not None:
        features["accessibility_trees"] = feature(list(trees), "bytes")
    return example(features)


# ---- protobuf oracle (the real runtime, descriptors from the official field numbers) --------


def _message(proto: Any, name: str, fields: list[tuple[str, int, str, str | None, bool]]) -> None:
    from google.protobuf import descriptor_pb2

    message = proto.message_type.add(name=name)
    types = {
        "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
        "int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
        "float": descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT,
        "bytes": descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
        "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
        "message": descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
    }
    for fname, number, kind, type_name, repeated in fields:
        label = (
            descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
            if repeated
            else descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
        )
        entry = message.field.add(name=fname, number=number, type=types[kind], label=label)
        if type_name:
            entry.type_name = type_name


def oracle_classes() -> dict[str, Any]:
    """Message classes for tf.train.Example and the android_env accessibility forest."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    proto = descriptor_pb2.FileDescriptorProto(
        name="oracle.proto", package="oracle", syntax="proto3"
    )
    _message(proto, "BytesList", [("value", 1, "bytes", None, True)])
    _message(proto, "FloatList", [("value", 1, "float", None, True)])
    _message(proto, "Int64List", [("value", 1, "int64", None, True)])
    _message(
        proto,
        "Feature",
        [
            ("bytes_list", 1, "message", ".oracle.BytesList", False),
            ("float_list", 2, "message", ".oracle.FloatList", False),
            ("int64_list", 3, "message", ".oracle.Int64List", False),
        ],
    )
    features = proto.message_type.add(name="Features")
    entry = features.nested_type.add(name="FeatureEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=9, label=1)
    entry.field.add(name="value", number=2, type=11, label=1, type_name=".oracle.Feature")
    features.field.add(
        name="feature", number=1, type=11, label=3, type_name=".oracle.Features.FeatureEntry"
    )
    _message(proto, "Example", [("features", 1, "message", ".oracle.Features", False)])
    _message(
        proto,
        "ProtoRect",
        [
            ("left", 1, "int32", None, False),
            ("top", 2, "int32", None, False),
            ("right", 3, "int32", None, False),
            ("bottom", 4, "int32", None, False),
        ],
    )
    _message(
        proto,
        "Node",
        [
            ("unique_id", 1, "int32", None, False),
            ("bounds_in_screen", 2, "message", ".oracle.ProtoRect", False),
            ("class_name", 3, "string", None, False),
            ("content_description", 4, "string", None, False),
            ("text", 7, "string", None, False),
            ("view_id_resource_name", 10, "string", None, False),
            ("is_clickable", 14, "bool", None, False),
            ("is_visible_to_user", 23, "bool", None, False),
            ("child_ids", 25, "int32", None, True),
        ],
    )
    _message(proto, "Tree", [("nodes", 1, "message", ".oracle.Node", True)])
    _message(
        proto,
        "Window",
        [
            ("bounds_in_screen", 1, "message", ".oracle.ProtoRect", False),
            ("id", 3, "int32", None, False),
            ("layer", 4, "int32", None, False),
            ("title", 5, "string", None, False),
            ("tree", 11, "message", ".oracle.Tree", False),
        ],
    )
    _message(proto, "Forest", [("windows", 1, "message", ".oracle.Window", True)])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    names = ("Example", "Feature", "Forest")
    return {
        n: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"oracle.{n}")) for n in names
    }


# ---- ScreenSpot layouts ----------------------------------------------------------------------


def real_annotations(platform: str) -> list[dict[str, Any]]:
    """The real ScreenSpot-v2 records (converted shape) of one platform file."""
    data: list[dict[str, Any]] = json.loads(
        (ANNOTATIONS / f"screenspot_{platform}_v2.json").read_text()
    )
    return data


def to_official(record: dict[str, Any]) -> dict[str, Any]:
    """The same record in the official shape: bbox [x, y, w, h], data_type, data_source."""
    x1, y1, x2, y2 = record["bbox"]
    return {
        "img_filename": record["img_filename"],
        "bbox": [x1, y1, x2 - x1, y2 - y1],
        "instruction": record["instruction"],
        "data_type": record["ui_type"],
        "data_source": record["platform"],
    }


def make_screenspot(
    root: Path,
    records: dict[str, list[dict[str, Any]]],
    *,
    version: str = "v2",
    images: str = "screenspotv2_image",
    labels: bool = False,
    official: bool = False,
) -> Path:
    """Write a ScreenSpot folder: one JSON file per platform and an image per distinct file
    name at its annotated size (`img_size`). With `labels`, each target's instruction text is
    drawn inside its box (black on white) so a text-matching baseline can find it."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root / images
    folder.mkdir(exist_ok=True)
    suffix = "_v2" if version == "v2" else ""
    drawn: dict[str, Image.Image] = {}
    for platform, items in records.items():
        out = [to_official(r) if official else r for r in items]
        (root / f"screenspot_{platform}{suffix}.json").write_text(json.dumps(out))
        for record in items:
            name = record["img_filename"]
            if name not in drawn:
                drawn[name] = Image.new("RGB", tuple(record["img_size"]), (235, 238, 242))
            if labels:
                draw_label(drawn[name], record["bbox"], record["instruction"])
    for name, image in drawn.items():
        image.save(folder / name, format="PNG", compress_level=1)
    return root


def draw_label(image: Image.Image, bbox: Sequence[float], text: str) -> None:
    """Paint the box white and write `text` in it, as large as fits (PIL's scalable font)."""
    from PIL import ImageFont

    x1, y1, x2, y2 = (int(v) for v in bbox)
    draw = ImageDraw.Draw(image)
    draw.rectangle((x1, y1, x2, y2), fill=(255, 255, 255))
    height = max(8, min(48, (y2 - y1) - 4))
    while height > 8:
        font = ImageFont.load_default(size=height)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        if right - left <= (x2 - x1) - 4:
            break
        height -= 2
    font = ImageFont.load_default(size=height)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    draw.text(
        (cx - (right - left) / 2 - left, cy - (bottom - top) / 2 - top),
        text,
        fill=(0, 0, 0),
        font=font,
    )
