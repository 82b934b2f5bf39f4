"""Per-axis rescaling between frames, boxes and sizes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixelpilot.actions import Box, Size, rescale_coord, rescale_point
from pixelpilot.errors import ConfigError

lengths = st.integers(min_value=1, max_value=8000)


@given(st.data(), lengths, lengths)
def test_rescaled_coordinates_stay_inside_the_destination(
    data: st.DataObject, src: int, dst: int
) -> None:
    value = data.draw(st.integers(0, src - 1))
    assert 0 <= rescale_coord(value, src, dst) <= dst - 1


@given(st.data(), lengths, lengths)
def test_round_trip_error_is_at_most_half_a_source_pixel_ratio(
    data: st.DataObject, src: int, dst: int
) -> None:
    value = data.draw(st.integers(0, src - 1))
    back = rescale_coord(rescale_coord(value, src, dst), dst, src)
    # one destination pixel covers src/dst source pixels; the round trip returns a pixel of it
    assert abs(back - value) <= math.ceil(src / dst)
    if dst >= src:
        assert back == value


@given(st.data(), lengths, lengths, lengths, lengths)
def test_axes_are_scaled_independently(
    data: st.DataObject, w1: int, h1: int, w2: int, h2: int
) -> None:
    x = data.draw(st.integers(0, w1 - 1))
    y = data.draw(st.integers(0, h1 - 1))
    point = rescale_point(x, y, Size(w1, h1), Size(w2, h2))
    assert point.x == rescale_coord(x, w1, w2)
    assert point.y == rescale_coord(y, h1, h2)


def test_known_qwen_frame_mapping() -> None:
    # a 1080x2400 phone shown to the model at 1092x2408: model (935, 406) -> screen
    point = rescale_point(935, 406, Size(1092, 2408), Size(1080, 2400))
    assert point == (925, 405)
    assert abs(point.x - 935 * 1080 / 1092) <= 1 and abs(point.y - 406 * 2400 / 2408) <= 1


def test_box_edges_are_inclusive_and_xywh_follows_seeclick() -> None:
    box = Box.from_xywh(10, 20, 30, 40)
    assert box == Box(10, 20, 40, 60)
    assert box.contains(10, 20) and box.contains(40, 60)
    assert not box.contains(40.01, 60) and not box.contains(9.99, 30)
    assert box.scaled(1.2) == pytest.approx(Box(7, 16, 43, 64))


def test_size_parsing_and_containment() -> None:
    size = Size.parse("1280x800")
    assert size == (1280, 800) and str(size) == "1280x800"
    assert size.contains(1279, 799) and not size.contains(1280, 0) and not size.contains(0, -1)
    for bad in ("1280", "0x5", "axb", "1280x800x3"):
        with pytest.raises(ConfigError, match="1280x800"):
            Size.parse(bad)
