"""`pixelpilot calibrate`: the real command on a private virtual display, the exit status
against --tolerance on an environment whose clicks land off target, and one-line errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import pytest
from PIL import Image, ImageDraw

from pixelpilot.actions import Action, Click, Point
from pixelpilot.cli import calibrate as calibrate_cli
from pixelpilot.cli import main
from pixelpilot.env import Execution, FakeEnv
from pixelpilot.env.calibrate import MARKER_RGB

pytestmark = [pytest.mark.desktop, pytest.mark.browser]

LAST_LINE = re.compile(r"^max error: (\d+\.\d\d|inf) px$")


def test_calibrate_on_a_virtual_display_lands_within_a_pixel() -> None:
    environ = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    command = [sys.executable, "-m", "pixelpilot.cli", "calibrate", "--env", "desktop"]
    result = subprocess.run(
        [*command, "--virtual-display", "1280x800"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "screen 1280x800, 12 targets"
    assert len([line for line in lines if line.startswith("target (")]) == 12
    match = LAST_LINE.match(lines[-1])
    assert match is not None, lines[-1]
    assert float(match.group(1)) <= 1.0


class OffsetEnv(FakeEnv):
    """A calibration surface whose presses land `offset` px right of where they were aimed."""

    def __init__(self, offset: int) -> None:
        super().__init__()
        self.offset = offset
        self.presses: list[Point] = []
        self.showing = False

    def show_calibration(self, targets: Sequence[Point]) -> None:
        self.showing = True

    def execute(self, action: Action) -> Execution:
        result = super().execute(action)
        if self.showing and isinstance(action, Click):
            self.presses.append(Point(action.x + self.offset, action.y))
        return result

    def render(self) -> Image.Image:
        if not self.showing:
            return super().render()
        image = Image.new("RGB", self.size, (240, 240, 240))
        draw = ImageDraw.Draw(image)
        for p in self.presses:
            draw.rectangle((p.x - 2, p.y - 2, p.x + 2, p.y + 2), fill=MARKER_RGB)
        return image


@pytest.mark.parametrize(("tolerance", "status"), [("1", 1), ("3", 0), ("2.5", 1)])
def test_exit_status_follows_the_tolerance(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tolerance: str,
    status: int,
) -> None:
    def create(name: str, options: dict[str, Any]) -> OffsetEnv:
        assert name == "offset"
        return OffsetEnv(offset=3)

    monkeypatch.setattr(calibrate_cli, "create_env", create)
    assert (
        main(["calibrate", "--env", "offset", "--tolerance", tolerance, "--count", "5"]) == status
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "max error: 3.00 px"
    assert out[1] == "target (40, 40) -> (43.0, 40.0)  error 3.00 px"


def test_an_env_without_a_calibration_surface_is_a_user_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["calibrate", "--env", "fake"]) == 2
    assert capsys.readouterr().err.strip() == (
        "pixelpilot: error: the fake environment does not support calibration"
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--count", "0"], "--count must be at least 1, got 0"),
        (["--tolerance", "-1"], "--tolerance must be a distance >= 0 px, got -1.0"),
    ],
)
def test_bad_flags_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    assert main(["calibrate", "--env", "fake", *flags]) == 2
    assert capsys.readouterr().err.strip() == f"pixelpilot: error: {message}"


def test_unknown_env_option_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--env", "desktop", "--viewport", "800x600"]) == 2
    assert "viewport: Extra inputs are not permitted" in capsys.readouterr().err
