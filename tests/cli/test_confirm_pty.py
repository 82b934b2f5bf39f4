"""The confirmation prompt on a real pseudo-terminal: it shows the action, its risk and reason,
and the path of an annotated screenshot; Enter alone means no."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

EXE = Path(sys.executable).with_name("pixelpilot")


def _read_until(fd: int, marker: str, timeout: float = 60.0) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        assert time.monotonic() < deadline, f"no {marker!r} in: {seen!r}"
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            seen += chunk.decode("utf-8", "replace")
    return seen


def test_enter_alone_denies_a_high_risk_action_on_a_terminal(tmp_path: Path) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text(
        '{"type": "key", "keys": ["alt", "f4"]}\n{"type": "terminate", "status": "success"}\n'
    )
    out = tmp_path / "out"
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [str(EXE), "run", "--env", "fake", "--model", f"scripted:{script}", "--task", "demo",
         "--out", str(out)],
        stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True,
    )  # fmt: skip
    os.close(terminal)
    try:
        prompt = _read_until(controller, "[q]uit: ")
        assert "step 1: key(alt+f4)" in prompt
        assert "risk: high" in prompt
        marked = out / "confirm_0001.png"
        assert f"screenshot with the target marked: {marked}" in prompt
        assert marked.is_file() and marked.stat().st_size > 0
        os.write(controller, b"\r")  # Enter alone
        rest = _read_until(controller, "run directory:")
        assert child.wait(timeout=60) == 0
    finally:
        if child.poll() is None:
            child.kill()
        os.close(controller)
    assert "risk: high" not in rest  # terminate needs no approval: one prompt only
    step = json.loads((out / "trajectory.jsonl").read_text().splitlines()[0])
    assert step["approval"] == "deny" and step["error"] == "not approved at the terminal"
    assert step["executed"] is None and step["risk"]["level"] == "high"
