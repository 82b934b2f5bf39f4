"""The box protocol's candidate boxes from a live device's tree (the test device's
`uiautomator dump`), as AndroidEnv's `a11y` option reads it."""

from __future__ import annotations

import pytest

from pixelpilot.env.android.testdevice import AdbTestDevice, DeviceConfig
from pixelpilot.evals.androidcontrol.a11y import (
    boxes_at,
    boxes_labelled,
    windows_from_uiautomator,
)
from pixelpilot.evals.androidcontrol.tfrecord import RecordError


def test_boxes_from_the_test_devices_tree() -> None:
    device = AdbTestDevice(DeviceConfig(width=540, height=1200))
    phone = device.phone
    xml = device.shell.run("uiautomator dump /dev/tty").decode().split("UI hierchary")[0]
    windows = windows_from_uiautomator(xml)
    assert [w.nodes[0].class_name for w in windows] == ["android.widget.FrameLayout"] * 2
    icon = next(w for w in phone.launcher.widgets(phone.screen) if w.label == "Settings")
    x1, y1, x2, y2 = icon.box
    label_y = y2 - 5  # on the label under the icon square
    found = boxes_at(windows, (x1 + x2) / 2, label_y)
    assert (x1, y1, x2 + 1, y2 + 1) in found  # the icon view (square + label) receives the tap
    assert boxes_labelled(windows, "settings")[0] == (x1, y1, x2 + 1, y2 + 1)
    back = boxes_at(windows, 10, phone.size.height - 5)
    assert back and back[0].x1 == 0  # the navigation bar window is in front there
    with pytest.raises(RecordError):
        windows_from_uiautomator("<html/>")
