"""Temporary folders of a killed run are swept by the next one; a live owner's are kept."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pixelpilot.env.desktop.scratch import scratch_prefix, sweep_stale


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_dead_processs_folders_go_and_a_live_ones_stay() -> None:
    root = Path(tempfile.gettempdir())
    stale = Path(tempfile.mkdtemp(prefix=f"pixelpilot-testkind-{dead_pid()}-", dir=root))
    (stale / "cookie").write_text("x")
    live = Path(tempfile.mkdtemp(prefix=scratch_prefix("testkind"), dir=root))
    other = Path(tempfile.mkdtemp(prefix="pixelpilot-otherkind-1-", dir=root))
    try:
        assert not stale.exists()  # swept when this process made its own
        assert live.name.startswith(f"pixelpilot-testkind-{os.getpid()}-")
        assert sweep_stale("testkind") == [] and live.exists()
        assert other.exists()  # another kind is not touched (pid 1 runs anyway)
    finally:
        for path in (stale, live, other):
            shutil.rmtree(path, ignore_errors=True)
