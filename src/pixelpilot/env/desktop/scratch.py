"""Private temporary folders that outlive no one: each is named after the process that made it
(`pixelpilot-KIND-PID-` and a random suffix), and making one first removes those of the same
kind whose process is gone (killed outright: SIGKILL, the OOM killer, a power cut), so a
desktop run's task homes and display authority folders never pile up in the temporary
directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def scratch_prefix(kind: str) -> str:
    """The name prefix of this process's `kind` folders; removes the stale ones first."""
    sweep_stale(kind)
    return f"pixelpilot-{kind}-{os.getpid()}-"


def sweep_stale(kind: str) -> list[Path]:
    """Remove this user's `pixelpilot-KIND-PID-*` folders whose process PID no longer runs.

    A folder whose PID runs (even a reused PID) is kept: only a dead owner's folder goes.

    Returns:
        The folders removed.
    """
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"pixelpilot-{kind}-*-*"):
        pid_text = path.name[len(f"pixelpilot-{kind}-") :].split("-", 1)[0]
        if not pid_text.isdigit() or _running(int(pid_text)):
            continue
        try:
            if not path.is_dir() or path.is_symlink() or path.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
