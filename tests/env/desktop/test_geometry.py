"""Screenshot-pixel to input-coordinate conversion for desktop monitors (offsets, HiDPI), the
key vocabulary and the typing checks: pure functions, no display needed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from pixelpilot.actions import CANONICAL_KEYS, Point, Size
from pixelpilot.env.desktop.env import DesktopConfig
from pixelpilot.env.desktop.geometry import ScreenGeometry, screen_geometry
from pixelpilot.env.desktop.keys import KEYSYMS, char_keysym, check_keys, check_typable
from pixelpilot.errors import ActionError, ConfigError

TWO_MONITORS = [
    {"left": 0, "top": 0, "width": 3200, "height": 1200},
    {"left": 0, "top": 0, "width": 1920, "height": 1080},
    {"left": 1920, "top": 120, "width": 1280, "height": 1024},
]


def test_single_monitor_is_the_identity() -> None:
    monitors = [{"left": 0, "top": 0, "width": 1280, "height": 800}] * 2
    geometry = screen_geometry(monitors, 1, Size(1280, 800))
    assert geometry.size == Size(1280, 800)
    assert (geometry.scale_x, geometry.scale_y) == (1.0, 1.0)
    assert geometry.to_input(0, 0) == Point(0, 0)
    assert geometry.to_input(1279, 799) == Point(1279, 799)
    assert geometry.input_box() == (0, 0, 1280, 800)


def test_second_monitor_adds_its_origin() -> None:
    geometry = screen_geometry(TWO_MONITORS, 2, Size(3200, 1200))
    assert geometry.size == Size(1280, 1024)
    assert geometry.to_input(0, 0) == Point(1920, 120)
    assert geometry.to_input(1279, 1023) == Point(3199, 1143)
    assert geometry.input_box() == (1920, 120, 1280, 1024)


def test_hidpi_capture_is_divided_by_the_scale() -> None:
    # mss captures 2560x1600 device pixels of a screen the X input layer sees as 1280x800.
    monitors = [{"left": 0, "top": 0, "width": 2560, "height": 1600}] * 2
    geometry = screen_geometry(monitors, 1, Size(1280, 800))
    assert (geometry.scale_x, geometry.scale_y) == (2.0, 2.0)
    assert geometry.to_input(0, 0) == Point(0, 0)
    assert geometry.to_input(1, 1) == Point(0, 0)
    assert geometry.to_input(2, 3) == Point(1, 1)
    assert geometry.to_input(2559, 1599) == Point(1279, 799)
    assert geometry.input_box() == (0, 0, 1280, 800)


@given(
    scale=st.sampled_from([1.0, 1.25, 1.5, 2.0, 3.0]),
    x=st.integers(0, 2879),
    y=st.integers(0, 1799),
)
def test_every_screenshot_pixel_maps_onto_its_monitor(scale: float, x: int, y: int) -> None:
    whole = {"left": 0, "top": 0, "width": 2880 + 1920, "height": 1800}
    monitors = [whole, {"left": 1920, "top": 0, "width": 2880, "height": 1800}]
    logical = Size(round(whole["width"] / scale), round(whole["height"] / scale))
    geometry = screen_geometry(monitors, 1, logical)
    box_left, box_top, box_width, box_height = geometry.input_box()
    point = geometry.to_input(x, y)
    assert box_left <= point.x < box_left + box_width
    assert box_top <= point.y < box_top + box_height
    # the input unit found contains the pixel's centre
    assert point.x * geometry.scale_x <= 1920 + x + 0.5 < (point.x + 1) * geometry.scale_x


@pytest.mark.parametrize("index", [0, 3, 10])
def test_missing_monitor_lists_the_monitors(index: int) -> None:
    with pytest.raises(ConfigError) as info:
        screen_geometry(TWO_MONITORS, index, Size(3200, 1200))
    assert str(info.value) == (
        f"monitor {index} does not exist; this display has 2 monitor(s): "
        "1: 1920x1080+0+0, 2: 1280x1024+1920+120"
    )


def test_geometry_defaults_to_scale_one() -> None:
    assert ScreenGeometry(0, 0, 10, 10).to_input(3, 4) == Point(3, 4)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"virtual_display": "1280"}, "expected a size like 1280x800"),
        ({"virtual_display": "0x800"}, "positive width and height"),
        ({"display": ":0", "virtual_display": "800x600"}, "not both"),
        ({"monitor": 0}, "greater than or equal to 1"),
        ({"settle_timeout": -1}, "greater than or equal to 0"),
        ({"viewport": "800x600"}, "Extra inputs are not permitted"),
    ],
)
def test_config_rejects_bad_values(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DesktopConfig.model_validate(options)


def test_every_canonical_key_has_a_desktop_entry() -> None:
    assert set(KEYSYMS) == set(CANONICAL_KEYS)


def test_every_keysym_name_is_known_to_python_xlib() -> None:
    import Xlib.XK

    Xlib.XK.load_keysym_group("xf86")
    for label in filter(None, KEYSYMS.values()):
        found = Xlib.XK.string_to_keysym(label) or Xlib.XK.string_to_keysym(
            label.replace("XF86", "XF86_", 1)
        )
        assert found, label


def test_phone_keys_are_refused_by_name() -> None:
    check_keys(["ctrl", "a", "f24", "volume_up"])
    with pytest.raises(ActionError, match="'endcall' does not exist on a desktop keyboard"):
        check_keys(["endcall"])


def test_character_keysyms() -> None:
    assert char_keysym("a") == 0x61
    assert char_keysym("é") == 0xE9
    assert char_keysym("Ω") == 0x010003A9
    assert char_keysym("😀") == 0x0101F600


def test_typable_text() -> None:
    check_typable("naïve 日本語\ttab\nnew line 😀 \u200d zero-width joiner")
    for text, point in (("a\x1bb", "001B"), ("\ud800", "D800"), ("x\U000e0080", "E0080")):
        with pytest.raises(ActionError, match=f"U\\+{point}"):
            check_typable(text)
