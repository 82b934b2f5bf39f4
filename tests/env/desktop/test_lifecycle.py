"""DesktopEnv construction, its private virtual display's lifetime, the conformance checker,
calibration on a real Tk window, and the one-line errors for every way construction fails."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pixelpilot.actions import Click, Size, Task
from pixelpilot.env import check_env, create_env
from pixelpilot.env.calibrate import calibrate
from pixelpilot.env.desktop.calibration import CalibrationWindow
from pixelpilot.env.desktop.env import DesktopConfig, DesktopEnv
from pixelpilot.env.desktop.x11 import DesktopUnavailableError
from pixelpilot.env.desktop.xvfb import VirtualDisplay
from pixelpilot.errors import ConfigError, EnvError, MissingExtraError, UserError

pytestmark = pytest.mark.desktop


def child_xvfbs() -> set[int]:
    """Pids of the Xvfb processes this test process started and has not reaped."""
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split()
        except OSError:
            continue
        if fields[1] == "(Xvfb)" and int(fields[3]) == os.getpid() and fields[2] != "Z":
            pids.add(int(fields[0]))
    return pids


def free_display_number() -> int:
    for number in range(990, 1100):
        if (
            not Path(f"/tmp/.X11-unix/X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            return number
    raise AssertionError("no free display number")


def test_virtual_display_lives_exactly_as_long_as_the_env() -> None:
    before = child_xvfbs()
    env = DesktopEnv(DesktopConfig(virtual_display="800x600"))
    virtual = env.virtual
    assert virtual is not None and virtual.running
    assert virtual.socket_path.exists()
    assert child_xvfbs() - before == {virtual.process.pid}
    assert env.display_name == virtual.name
    assert env.reset().size == Size(800, 600)
    env.close()
    assert not virtual.running
    assert not virtual.socket_path.exists()
    assert child_xvfbs() == before
    env.close()  # a second close is harmless
    with pytest.raises(EnvError, match="closed"):
        env.observe()
    with pytest.raises(EnvError, match="closed"):
        env.execute(Click(x=10, y=10))


def test_check_env_passes_on_a_virtual_display() -> None:
    env = DesktopEnv(DesktopConfig(virtual_display="640x480", settle_timeout=0.5))
    passed = {r.name for r in check_env(env)}
    assert "refuses swipe" in passed and "bounds drag" in passed and "close twice" in passed
    assert env.virtual is not None and not env.virtual.running


def test_created_by_name_with_cli_style_options() -> None:
    with create_env("desktop", {"virtual_display": "320x240", "monitor": 1}) as env:
        assert isinstance(env, DesktopEnv)
        assert env.observe().size == Size(320, 240)


def test_calibration_lands_within_a_pixel() -> None:
    with DesktopEnv(DesktopConfig(virtual_display="1024x600")) as env:
        report = calibrate(env, count=15, seed=3)
        assert len(report.results) == 15
        assert all(r.landed is not None for r in report.results)
        assert report.max_error <= 1.0, report


def test_calibration_window_that_cannot_start_says_why() -> None:
    number = free_display_number()
    with pytest.raises(EnvError) as info:
        CalibrationWindow.start(f":{number}", (0, 0, 100, 100), [(50, 50)], timeout=20)
    message = str(info.value)
    assert message.startswith("the calibration window did not start: ")
    assert f":{number}" in message  # Tk's own "couldn't connect to display" line


def test_desktop_tasks_cannot_open_start_pages() -> None:
    with DesktopEnv(DesktopConfig(virtual_display="320x240")) as env:
        env.reset(task=Task(goal="just look"))
        with pytest.raises(ConfigError, match=r"cannot open 'http://x\.test/'.*--env browser"):
            env.reset(task=Task(goal="sign in", name="sandbox:sign-in", start_url="http://x.test/"))


def test_no_display_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(DesktopUnavailableError) as info:
        DesktopEnv(DesktopConfig())
    assert str(info.value) == (
        "no X display to drive: set DISPLAY or use --virtual-display 1280x800"
    )
    assert isinstance(info.value, UserError)


def test_unreachable_display_is_one_clear_line() -> None:
    number = free_display_number()
    with pytest.raises(DesktopUnavailableError) as info:
        DesktopEnv(DesktopConfig(display=f":{number}"))
    message = str(info.value)
    assert message.startswith(f"cannot connect to X display ':{number}'")
    assert message.endswith("or use --virtual-display 1280x800")
    assert "\n" not in message


def test_missing_xvfb_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DesktopUnavailableError) as info:
        DesktopEnv(DesktopConfig(virtual_display="320x240"))
    assert str(info.value) == (
        "Xvfb is not installed (the desktop environment needs it); "
        "install it with: apt-get install xvfb"
    )


def test_xvfb_that_cannot_start_reports_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "Xvfb"
    fake.write_text("#!/bin/sh\necho 'Fatal server error: no screens found' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DesktopUnavailableError) as info:
        VirtualDisplay.start(Size(320, 240), timeout=5)
    assert str(info.value) == (
        "Xvfb could not start a 320x240 display (it gave no display number): "
        "Fatal server error: no screens found"
    )


def test_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mss", None)  # makes `import mss` fail
    with pytest.raises(MissingExtraError, match=r"pip install 'pixelpilot\[desktop\]'"):
        DesktopEnv(DesktopConfig(virtual_display="320x240"))


def test_missing_monitor_is_refused_and_xvfb_stopped() -> None:
    before = child_xvfbs()
    with pytest.raises(ConfigError) as info:
        DesktopEnv(DesktopConfig(virtual_display="320x240", monitor=2))
    assert str(info.value) == (
        "monitor 2 does not exist; this display has 1 monitor(s): 1: 320x240+0+0"
    )
    assert child_xvfbs() == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"virtual_display": "big"}, "virtual_display: expected a size like"),
        ({"display": ":0", "virtual_display": "320x240"}, "not both"),
        ({"headless": False}, "headless: Extra inputs are not permitted"),
    ],
)
def test_bad_options_through_the_registry(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        create_env("desktop", options)
    assert str(info.value).startswith("invalid 'desktop' environment option")
