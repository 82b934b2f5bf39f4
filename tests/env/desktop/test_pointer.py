"""DesktopEnv's screen and pointer on a real Xvfb, checked by a real Tk window (the probe) that
reports the events it receives."""

from __future__ import annotations

import random
import time

import pytest

from pixelpilot.actions import (
    Action,
    Button,
    Click,
    Drag,
    Key,
    LongPress,
    Move,
    Scroll,
    Size,
    Swipe,
    Type,
    Wait,
)
from pixelpilot.env.desktop.env import DesktopEnv
from pixelpilot.env.desktop.xvfb import VirtualDisplay
from pixelpilot.errors import Interrupted, OutOfBoundsError, UnsupportedActionError
from tests.env.desktop.probe import PATCH_BOX, PATCH_RGB, TITLE
from tests.env.desktop.support import Probe, desktop_fixtures, pointer_position, xdotool

pytestmark = pytest.mark.desktop

SIZE = Size(1280, 800)
SHIFT_MASK = 0x1
BUTTON1_MASK = 0x100
BUTTON_MASKS = 0x1F00


display_fixture, probe_fixture, env_fixture = desktop_fixtures(SIZE)


def presses_after(probe: Probe, mark: int, expected: int) -> list[dict[str, int]]:
    """Wait for `expected` releases after `mark`, then return the presses."""
    probe.wait_for(
        lambda e: e["type"] == "release" and len(probe.since(mark, "release")) >= expected,
        since=mark,
    )
    return probe.since(mark, "press")


def test_observation_is_the_monitor_in_rgb(env: DesktopEnv) -> None:
    obs = env.observe()
    assert obs.size == SIZE
    assert obs.screenshot.mode == "RGB"
    assert obs.platform == "desktop"
    assert obs.scale == 1.0
    assert obs.app == TITLE
    x1, y1, x2, y2 = PATCH_BOX
    assert obs.screenshot.getpixel((x1, y1)) == PATCH_RGB
    assert obs.screenshot.getpixel((x2 - 1, y2 - 1)) == PATCH_RGB
    assert obs.screenshot.getpixel((x1 - 1, y1)) == (255, 255, 255)
    assert obs.capture_seconds > 0


def test_fifty_random_clicks_land_within_one_pixel(env: DesktopEnv, probe: Probe) -> None:
    rng = random.Random(4)
    errors = []
    for _ in range(50):
        x, y = rng.randint(1, SIZE.width - 2), rng.randint(1, SIZE.height - 2)
        mark = probe.mark()
        result = env.execute(Click(x=x, y=y))
        (press,) = presses_after(probe, mark, 1)
        assert press["num"] == 1
        errors.append(max(abs(press["x"] - x), abs(press["y"] - y)))
        assert result.detail == f"pyautogui.click({x}, {y}, clicks=1, button=left)"
    assert max(errors) <= 1, errors


@pytest.mark.parametrize(
    ("button", "num", "count", "at"),
    [
        ("left", 1, 1, (150, 100)),
        ("left", 1, 2, (300, 100)),
        ("left", 1, 3, (450, 100)),
        ("right", 3, 1, (150, 250)),
        ("right", 3, 2, (300, 250)),
        ("middle", 2, 1, (150, 400)),
        ("middle", 2, 3, (450, 400)),
    ],
)
def test_buttons_and_click_counts_reach_the_window(
    env: DesktopEnv, probe: Probe, button: str, num: int, count: int, at: tuple[int, int]
) -> None:
    mark = probe.mark()
    env.execute(Click.model_validate({"x": at[0], "y": at[1], "button": button, "count": count}))
    presses = presses_after(probe, mark, count)
    assert [(p["num"], p["x"], p["y"]) for p in presses] == [(num, *at)] * count
    # Tk's own multi-click detection sees a double or triple click, not separate clicks.
    assert [p["count"] for p in presses] == list(range(1, count + 1))


def test_move_hovers_without_pressing(
    env: DesktopEnv, probe: Probe, display: VirtualDisplay
) -> None:
    mark = probe.mark()
    env.execute(Move(x=333, y=222))
    motion = probe.wait_for(lambda e: e["type"] == "motion", since=mark)
    assert (motion["x"], motion["y"]) == (333, 222)
    assert motion["state"] & BUTTON_MASKS == 0  # no button held
    assert probe.since(mark, "press") == []
    assert pointer_position(display.name) == (333, 222)


def test_drag_presses_moves_with_the_button_held_and_releases(
    env: DesktopEnv, probe: Probe
) -> None:
    mark = probe.mark()
    result = env.execute(Drag(x=200, y=300, to_x=520, to_y=360))
    probe.wait_for(lambda e: e["type"] == "release", since=mark)
    events = probe.since(mark)
    (press,) = [e for e in events if e["type"] == "press"]
    (release,) = [e for e in events if e["type"] == "release"]
    assert (press["num"], press["x"], press["y"]) == (1, 200, 300)
    assert (release["num"], release["x"], release["y"]) == (1, 520, 360)
    held = [e for e in events[events.index(press) : events.index(release)] if e["type"] == "motion"]
    assert len(held) >= 2
    assert all(e["state"] & BUTTON1_MASK for e in held)  # dragging, not hovering
    assert (held[-1]["x"], held[-1]["y"]) == (520, 360)
    assert "(200, 300) -> (520, 360)" in result.detail


# Tk 8.6 reports X's horizontal wheel buttons 6 and 7 as Shift + buttons 4 and 5.
@pytest.mark.parametrize(
    ("direction", "num", "shift"),
    [("up", 4, False), ("down", 5, False), ("left", 4, True), ("right", 5, True)],
)
def test_scroll_turns_the_wheel_in_notches(
    env: DesktopEnv, probe: Probe, direction: str, num: int, shift: bool
) -> None:
    mark = probe.mark()
    # 160 px at 50 px per notch is 3 notches; "down" is X button 5, which shows content below.
    action = Scroll.model_validate({"x": 640, "y": 300, "direction": direction, "amount": 160})
    result = env.execute(action)
    presses = presses_after(probe, mark, 3)
    seen = [(p["num"], bool(p["state"] & SHIFT_MASK), p["x"], p["y"]) for p in presses]
    assert seen == [(num, shift, 640, 300)] * 3
    assert result.detail == f"wheel {direction} x3 at (640, 300)"


def test_small_scroll_is_still_one_notch(env: DesktopEnv, probe: Probe) -> None:
    mark = probe.mark()
    env.execute(Scroll(x=700, y=200, direction="down", amount=5))
    assert [p["num"] for p in presses_after(probe, mark, 1)] == [5]


def test_settling_waits_for_the_screen_to_stop_changing(env: DesktopEnv, probe: Probe) -> None:
    quiet = env.execute(Click(x=640, y=100))
    # well under the 2 s timeout, with room for a loaded machine
    assert 0 < quiet.settle_seconds < 1.0
    time.sleep(0.5)
    probe.request("animate 700")  # the next press starts 700 ms of colour changes
    busy = env.execute(Click(x=640, y=140))
    assert 0.6 <= busy.settle_seconds < env.config.settle_timeout


def test_wait_sleeps(env: DesktopEnv) -> None:
    start = time.monotonic()
    result = env.execute(Wait(seconds=0.3))
    assert time.monotonic() - start >= 0.3
    assert result.detail == "sleep 0.3 s"


@pytest.mark.parametrize(
    "action",
    [
        Swipe(x=10, y=10, to_x=100, to_y=100),
        LongPress(x=10, y=10),
        Button(name="back"),
    ],
)
def test_unsupported_actions_are_refused(env: DesktopEnv, probe: Probe, action: Action) -> None:
    mark = probe.mark()
    with pytest.raises(UnsupportedActionError, match="not supported by desktop"):
        env.execute(action)
    time.sleep(0.1)
    assert probe.since(mark) == []


@pytest.mark.parametrize(
    "action",
    [
        Click(x=1280, y=10),
        Click(x=-1, y=10),
        Move(x=10, y=800),
        Scroll(x=10, y=-5, direction="up", amount=100),
        Drag(x=10, y=10, to_x=5000, to_y=10),
        # the fail-safe corners are on screen, but the pointer must never rest there
        Click(x=0, y=0),
        Move(x=1279, y=799),
        Drag(x=10, y=10, to_x=1279, to_y=0),
    ],
)
def test_out_of_bounds_and_corner_targets_are_refused(
    env: DesktopEnv, probe: Probe, display: VirtualDisplay, action: Action
) -> None:
    before = pointer_position(display.name)
    mark = probe.mark()
    with pytest.raises(OutOfBoundsError):
        env.execute(action)
    time.sleep(0.1)
    assert probe.since(mark) == []
    assert pointer_position(display.name) == before


def test_failsafe_corner_interrupts_every_action(
    env: DesktopEnv, probe: Probe, display: VirtualDisplay
) -> None:
    xdotool(display.name, "mousemove", "0", "0")  # the user slams the pointer into the corner
    try:
        mark = probe.mark()
        for action in (
            Click(x=500, y=500),
            Move(x=500, y=500),
            Scroll(x=500, y=500, direction="down", amount=50),
            Type(text="x"),
            Key(keys=("esc",)),
        ):
            with pytest.raises(Interrupted, match="fail-safe"):
                env.execute(action)
        time.sleep(0.1)
        assert [e for e in probe.since(mark) if e["type"] != "motion"] == []
        assert pointer_position(display.name) == (0, 0)
    finally:
        xdotool(display.name, "mousemove", "640", "400")
    env.execute(Move(x=600, y=400))  # usable again once the pointer leaves the corner
