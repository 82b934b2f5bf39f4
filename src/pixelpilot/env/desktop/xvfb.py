"""A private virtual X display (Xvfb) that lives exactly as long as its owner.

Xvfb is started with `-displayfd`, so it picks a free display number itself and reports it once
it accepts connections: no guessed numbers, no race with other X servers started at the same
time, no sleep-and-hope.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
import weakref
from pathlib import Path

from pixelpilot.actions import Size
from pixelpilot.env.desktop.scratch import scratch_prefix
from pixelpilot.env.desktop.x11 import DesktopUnavailableError, die_with_parent, require_tool

STOP_TIMEOUT = 5.0
"""Seconds Xvfb gets to exit after SIGTERM before it is killed."""


def _stop_process(process: subprocess.Popen[bytes], auth_dir: str | None = None) -> None:
    if auth_dir is not None:
        shutil.rmtree(auth_dir, ignore_errors=True)
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class VirtualDisplay:
    """An Xvfb server on a free display number.

    Attributes:
        name: the display name, e.g. ":3"; pass it as DISPLAY to clients.
        size: the screen size in pixels.
        process: the Xvfb process.
    """

    def __init__(self, name: str, size: Size, process: subprocess.Popen[bytes]) -> None:
        self.name = name
        self.size = size
        self.process = process
        # The display has no access control: clients consult no authority file. XAUTHORITY
        # points into a private empty folder, so a stale ~/.Xauthority never matters.
        self._auth_dir = tempfile.mkdtemp(prefix=scratch_prefix("xauth"))
        self.authority = os.path.join(self._auth_dir, "none")
        # Stops Xvfb even if the owner forgets close(), at the latest when the interpreter exits.
        self._finalizer = weakref.finalize(self, _stop_process, process, self._auth_dir)

    @property
    def number(self) -> int:
        """The display number (3 for ":3")."""
        return int(self.name.lstrip(":"))

    @property
    def socket_path(self) -> Path:
        """The Unix socket clients connect to; it disappears when the server exits."""
        return Path(f"/tmp/.X11-unix/X{self.number}")

    @classmethod
    def start(cls, size: Size, *, depth: int = 24, timeout: float = 10.0) -> VirtualDisplay:
        """Start Xvfb with one screen of `size` pixels at `depth` bits per pixel.

        Args:
            size: the screen size in pixels.
            depth: colour depth in bits (24 gives the 32-bit pixels screen capture expects).
            timeout: seconds to wait for the server to accept connections.

        Raises:
            DesktopUnavailableError: Xvfb is not installed, or did not start in time (the
                message carries the end of its log).
        """
        xvfb = require_tool("Xvfb", "xvfb")
        command = [
            xvfb,
            "-screen",
            "0",
            f"{size.width}x{size.height}x{depth}",
            "-nolisten",
            "tcp",
            "-noreset",
        ]
        with tempfile.TemporaryFile() as log:
            read_fd, write_fd = os.pipe()
            try:
                process = subprocess.Popen(
                    die_with_parent([*command, "-displayfd", str(write_fd)]),
                    pass_fds=(write_fd,),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    # Its own session: a terminal's Ctrl-C reaches pixelpilot, which finishes the
                    # record and then stops the display, instead of killing the display under it;
                    # if pixelpilot is killed outright, the parent-death signal stops it.
                    start_new_session=True,
                )
            finally:
                os.close(write_fd)
            try:
                number = _read_display_number(read_fd, process, timeout)
            except DesktopUnavailableError as exc:
                _stop_process(process)
                log.seek(0)
                tail = log.read().decode("utf-8", "replace").strip().splitlines()[-3:]
                raise DesktopUnavailableError(
                    f"Xvfb could not start a {size} display ({exc})"
                    + (f": {' / '.join(tail)}" if tail else "")
                ) from None
            finally:
                os.close(read_fd)
        return cls(f":{number}", size, process)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after STOP_TIMEOUT s). Safe to repeat."""
        self._finalizer()

    @property
    def running(self) -> bool:
        return self.process.poll() is None


def _read_display_number(fd: int, process: subprocess.Popen[bytes], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DesktopUnavailableError(f"no display number after {timeout:g} s")
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.2))
        if ready:
            chunk = os.read(fd, 64)
            if not chunk:  # Xvfb closed the pipe without a number: it exited
                raise DesktopUnavailableError("it gave no display number")
            data += chunk
        elif process.poll() is not None:
            raise DesktopUnavailableError(f"it exited with status {process.returncode}")
    return int(data.strip())
