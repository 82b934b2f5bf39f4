"""A private display works the same whether ~/.Xauthority is absent, empty or valid, and no
library warning reaches output meant to be read (`calibrate` prints its verdict on stdout)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.desktop

EXE = Path(sys.executable).with_name("pixelpilot")


def _home(tmp_path: Path, state: str) -> Path:
    home = tmp_path / state
    home.mkdir()
    authority = home / ".Xauthority"
    if state == "empty":
        authority.write_bytes(b"")
    elif state == "valid":  # a real entry, for another display
        cookie = secrets.token_hex(16)
        subprocess.run(
            ["xauth", "-f", str(authority), "add", ":77", ".", cookie],
            check=True,
            capture_output=True,
        )
        assert authority.stat().st_size > 0
    return home


@pytest.mark.parametrize("state", ["absent", "empty", "valid"])
def test_calibrate_on_a_private_display_whatever_the_users_xauthority(
    tmp_path: Path, state: str
) -> None:
    home = _home(tmp_path, state)
    env = {k: v for k, v in os.environ.items() if k not in ("XAUTHORITY", "DISPLAY")}
    env["HOME"] = str(home)
    result = subprocess.run(
        [str(EXE), "calibrate", "--env", "desktop", "--virtual-display", "640x480"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Xlib.xauth" not in result.stdout and "warning" not in result.stdout.lower()
    assert result.stdout.strip().splitlines()[-1].startswith("max error: ")
