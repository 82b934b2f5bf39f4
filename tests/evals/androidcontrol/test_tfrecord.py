"""CRC32C, TFRecord framing, tf.train.Example and accessibility-forest decoding."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixelpilot.actions import Box
from pixelpilot.evals.androidcontrol.a11y import boxes_at, boxes_labelled, parse_forest
from pixelpilot.evals.androidcontrol.crc32c import crc32c, masked_crc32c
from pixelpilot.evals.androidcontrol.tfrecord import RecordError, iter_records, parse_example
from tests.evals import support


def test_crc32c_standard_check_values() -> None:
    assert crc32c(b"123456789") == 0xE3069283
    # RFC 3720 (iSCSI) appendix B.4 vectors
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 9999, 65536 + 3])
def test_crc32c_table_and_lane_paths_agree_with_bitwise(size: int) -> None:
    data = bytes((i * 7919 + 13) % 251 for i in range(size))
    assert crc32c(data) == support.crc32c_bitwise(data)
    assert masked_crc32c(data) == support.masked(data)


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=0, max_size=6000), st.integers(min_value=0, max_value=6000))
def test_crc32c_continues_across_splits(data: bytes, cut: int) -> None:
    cut = min(cut, len(data))
    assert crc32c(data[cut:], crc32c(data[:cut])) == support.crc32c_bitwise(data)


def test_gzip_and_plain_records_read_back(tmp_path: Path) -> None:
    payloads = [b"", b"one", bytes(range(256)) * 40]
    for compress in (True, False):
        path = support.write_tfrecord(tmp_path / f"r{compress}", payloads, compress=compress)
        assert list(iter_records(path)) == payloads


def test_bad_payload_checksum_is_reported_and_reading_goes_on(tmp_path: Path) -> None:
    raw = bytearray(support.tfrecord_bytes([b"first", b"second", b"third"]))
    raw[12 + 2] ^= 0xFF  # a byte inside the first payload
    path = tmp_path / "bad"
    path.write_bytes(gzip.compress(bytes(raw)))
    errors: list[RecordError] = []
    assert list(iter_records(path, on_bad_payload=errors.append)) == [b"second", b"third"]
    assert "record 0 has a bad payload checksum" in str(errors[0])
    with pytest.raises(RecordError, match="payload checksum"):
        list(iter_records(path))


def test_broken_framing_raises(tmp_path: Path) -> None:
    raw = support.tfrecord_bytes([b"first", b"second"])
    truncated = tmp_path / "truncated"
    truncated.write_bytes(gzip.compress(raw[:-3]))
    assert next(iter_records(truncated)) == b"first"
    with pytest.raises(RecordError, match="record 1 is truncated"):
        list(iter_records(truncated))
    bad_length = bytearray(raw)
    bad_length[8] ^= 1
    path = tmp_path / "length"
    path.write_bytes(bytes(bad_length))
    with pytest.raises(RecordError, match="bad length checksum"):
        list(iter_records(path))
    damaged = tmp_path / "damaged"
    damaged.write_bytes(gzip.compress(raw)[:-12])
    with pytest.raises(RecordError):
        list(iter_records(damaged))


def test_hand_encoded_example_matches_protobuf_runtime() -> None:
    features = {
        "ids": support.feature([7, -3, 1 << 40], "int64"),
        "unpacked": support.feature([5, 6], "int64", packed=False),
        "blobs": support.feature([b"\x00\xff", b"text"], "bytes"),
        "floats": support.feature([0.5, -2.25], "float"),
    }
    encoded = support.example(features)
    oracle = support.oracle_classes()["Example"]()
    oracle.ParseFromString(encoded)  # the real runtime accepts the hand encoding
    assert list(oracle.features.feature["ids"].int64_list.value) == [7, -3, 1 << 40]
    for payload in (encoded, oracle.SerializeToString()):
        parsed = parse_example(payload)
        assert parsed.int64_list("ids") == [7, -3, 1 << 40]
        assert parsed.int64_list("unpacked") == [5, 6]
        assert parsed.bytes_list("blobs") == [b"\x00\xff", b"text"]
        assert parsed.float_list("floats") == [0.5, -2.25]
    with pytest.raises(RecordError, match="'missing' is missing"):
        parsed.bytes_list("missing")
    with pytest.raises(RecordError, match="is a int64_list, expected a bytes_list"):
        parsed.bytes_list("ids")


def test_protobuf_runtime_unpacked_floats_are_read() -> None:
    classes = support.oracle_classes()
    feature = classes["Feature"]()
    feature.float_list.value.extend([1.5, 3.0])
    # a hand-built unpacked float list (one fixed32 field per value)
    unpacked = support.field_bytes(2, b"".join(b"\x0d" + struct.pack("<f", v) for v in (1.5, 3.0)))
    for encoded in (feature.SerializeToString(), unpacked):
        parsed = parse_example(support.example({"f": encoded}))
        assert parsed.float_list("f") == [1.5, 3.0]


def test_malformed_protobuf_raises_record_error() -> None:
    with pytest.raises(RecordError):
        parse_example(b"\x0a\x05abc")  # length 5 but 3 bytes
    with pytest.raises(RecordError, match="wire type"):
        parse_example(b"\x0b")  # group start


def _forest_via_runtime() -> bytes:
    forest = support.oracle_classes()["Forest"]()
    app = forest.windows.add(layer=1)
    app.bounds_in_screen.right, app.bounds_in_screen.bottom = 1080, 2400
    root = app.tree.nodes.add(unique_id=0, is_visible_to_user=True)
    root.bounds_in_screen.right, root.bounds_in_screen.bottom = 1080, 2400
    row = app.tree.nodes.add(unique_id=1, is_clickable=True, is_visible_to_user=True)
    row.bounds_in_screen.top, row.bounds_in_screen.right, row.bounds_in_screen.bottom = (
        300,
        1080,
        500,
    )
    label = app.tree.nodes.add(unique_id=2, text="Settings", is_visible_to_user=True)
    label.bounds_in_screen.left, label.bounds_in_screen.top = 100, 350
    label.bounds_in_screen.right, label.bounds_in_screen.bottom = 400, 450
    hidden = app.tree.nodes.add(unique_id=3, text="ghost", is_visible_to_user=False)
    hidden.bounds_in_screen.left, hidden.bounds_in_screen.top = 110, 360
    hidden.bounds_in_screen.right, hidden.bounds_in_screen.bottom = 120, 370
    dialog = forest.windows.add(layer=5)
    dialog.bounds_in_screen.top, dialog.bounds_in_screen.right, dialog.bounds_in_screen.bottom = (
        1000,
        1080,
        1400,
    )
    button = dialog.tree.nodes.add(
        unique_id=0, content_description="OK", is_clickable=True, is_visible_to_user=True
    )
    button.bounds_in_screen.left, button.bounds_in_screen.top = 800, 1200
    button.bounds_in_screen.right, button.bounds_in_screen.bottom = 1000, 1300
    under = app.tree.nodes.add(unique_id=4, text="Under the dialog", is_visible_to_user=True)
    under.bounds_in_screen.left, under.bounds_in_screen.top = 700, 1150
    under.bounds_in_screen.right, under.bounds_in_screen.bottom = 1050, 1350
    encoded: bytes = forest.SerializeToString()
    return encoded


def test_forest_decoding_and_candidate_boxes() -> None:
    windows = parse_forest(_forest_via_runtime())
    assert [w.layer for w in windows] == [1, 5]
    assert windows[0].nodes[2].text == "Settings" and windows[1].nodes[0].description == "OK"
    # the smallest visible node at the point, then the smallest clickable one (the row)
    assert boxes_at(windows, 200, 400) == (Box(100, 350, 400, 450), Box(0, 300, 1080, 500))
    # a hidden node does not count
    assert boxes_at(windows, 115, 365)[0] == Box(100, 350, 400, 450)
    # the dialog in front hides the app node under it
    assert boxes_at(windows, 900, 1250) == (Box(800, 1200, 1000, 1300),)
    assert boxes_labelled(windows, " settings ") == (Box(100, 350, 400, 450),)
    assert boxes_labelled(windows, "dialog") == (Box(700, 1150, 1050, 1350),)
    assert boxes_labelled(windows, "Calendar") == ()


def test_hand_encoded_forest_matches_runtime() -> None:
    encoded = support.forest(
        [(2, (0, 0, 100, 200), [support.node((10, 20, 30, 40), text="Mail", clickable=True)])]
    )
    oracle = support.oracle_classes()["Forest"]()
    oracle.ParseFromString(encoded)
    assert oracle.windows[0].tree.nodes[0].text == "Mail"
    windows = parse_forest(encoded)
    assert windows[0].nodes[0].box == Box(10, 20, 30, 40) and windows[0].nodes[0].clickable
