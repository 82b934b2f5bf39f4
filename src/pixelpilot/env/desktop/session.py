"""The programs a desktop environment starts on its display: the window manager of a private
display, and applications (`--launch`, `open_app`, a task's apps), each stopped by `stop_all`.

Each program runs in its own process group (so helpers it forks stop with it) with an environment
built here: DISPLAY pointing at our display; on a private display no session bus (an application
would otherwise hand its window to a running instance on the user's own screen, or autolaunch a
bus daemon that outlives the run) and no accessibility bridge; with a task home, HOME and the
XDG folders inside it and GSettings in a key file there, so the task's state is isolated and
what the user would check (files, saved settings) can be read back.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pixelpilot.env.desktop.windows import (
    WindowInfo,
    activate,
    active_window,
    client_windows,
    describe_window,
    window_pid,
)
from pixelpilot.env.desktop.x11 import DesktopUnavailableError, die_with_parent, require_tool
from pixelpilot.errors import ActionError

STOP_TIMEOUT = 5.0
"""Seconds a program gets to exit after SIGTERM before its process group is killed."""

POLL_SECONDS = 0.1
"""Seconds between looks at the window list while waiting for a window."""

HANDOVER_SECONDS = 2.0
"""How long a launched command that exited with status 0 and left nothing running may still
have its window shown by an instance it handed the request to."""

NO_BUS = "unix:path=/nonexistent/pixelpilot-no-session-bus"


class LaunchError(ActionError):
    """A program could not be started, or showed no focused window in time."""


@dataclass(frozen=True)
class Launched:
    """A started program: its argv, process id and the window it showed (None: not waited)."""

    command: tuple[str, ...]
    pid: int
    window: WindowInfo | None


class _Program:
    def __init__(self, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
        self.process, self.log = process, log

    def log_tail(self) -> str:
        self.log.seek(0)
        lines = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return " / ".join(lines[-3:])

    def stop(self) -> None:
        try:
            if self.process.poll() is None or _group_alive(self.process.pid):
                _signal_group(self.process.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=STOP_TIMEOUT)
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        finally:
            self.log.close()


def _shown(command: Sequence[str]) -> str:
    """A command as typed in a shell (its arguments quoted where needed), in quotes."""
    return repr(shlex.join(command))


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class Programs:
    """Starts programs on one display and stops them all.

    Args:
        display_name: the X display, e.g. ":3".
        xdisplay: our python-xlib connection to it (for the window list and focus).
        private: the display is a private Xvfb (see the module docstring).
    """

    def __init__(
        self, display_name: str, xdisplay: Any, *, private: bool, authority: str | None = None
    ) -> None:
        self.display_name, self._x, self.private = display_name, xdisplay, private
        self.authority = authority
        self._programs: list[_Program] = []
        self._wm: _Program | None = None

    def environ(self, home: Path | None = None) -> dict[str, str]:
        """The process environment for a program on this display (with a task `home`)."""
        env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
        env["DISPLAY"] = self.display_name
        if self.authority is not None:  # a private display: no authority file is consulted
            env["XAUTHORITY"] = self.authority
        if self.private:
            env["DBUS_SESSION_BUS_ADDRESS"] = NO_BUS
            env["NO_AT_BRIDGE"] = "1"
        if home is not None:
            env["HOME"] = str(home)
            for key, sub in (
                ("XDG_CONFIG_HOME", ".config"),
                ("XDG_DATA_HOME", ".local/share"),
                ("XDG_CACHE_HOME", ".cache"),
                ("XDG_STATE_HOME", ".local/state"),
            ):
                env[key] = str(home / sub)
            env["GSETTINGS_BACKEND"] = "keyfile"
        return env

    def _spawn(self, command: Sequence[str], env: Mapping[str, str], cwd: Path | None) -> _Program:
        if not command or not command[0]:
            raise LaunchError("cannot start an empty command: give the program to run")
        if shutil.which(command[0]) is None:  # found before the wrapper runs
            name = command[0]
            why = f"no executable file {name}" if "/" in name else f"no program {name!r} on PATH"
            raise LaunchError(f"cannot start {_shown(command)}: {why}")
        log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _Program.stop)
        try:
            process = subprocess.Popen(
                die_with_parent(list(command)),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        except OSError as exc:
            log.close()
            raise LaunchError(f"cannot start {_shown(command)}: {exc.strerror}") from None
        return _Program(process, log)

    def start_wm(self, name: str, *, timeout: float) -> None:
        """Start window manager `name` ("openbox") and wait until it manages the screen.

        Raises:
            DesktopUnavailableError: it is not installed, exited, or did not start in time.
        """
        path = require_tool(name, name)
        program = self._spawn([path, "--sm-disable"], self.environ(), None)
        self._wm = program
        check = self._x.intern_atom("_NET_SUPPORTING_WM_CHECK")
        root = self._x.screen().root
        deadline = time.monotonic() + timeout
        while root.get_full_property(check, 0) is None:
            if program.process.poll() is not None or time.monotonic() > deadline:
                tail = program.log_tail()
                raise DesktopUnavailableError(
                    f"window manager {name} did not start on {self.display_name}"
                    + (f": {tail}" if tail else "")
                )
            time.sleep(POLL_SECONDS)

    def launch(
        self,
        command: Sequence[str],
        *,
        timeout: float,
        home: Path | None = None,
        cwd: Path | None = None,
    ) -> Launched:
        """Start `command` and wait (at most `timeout` s) until a new top-level window of it is
        mapped and focused.

        Raises:
            LaunchError: it cannot be started, exited with an error, or no new window got the
                focus in time (the program keeps running until `stop_all`).
        """
        before = set(client_windows(self._x))
        program = self._spawn(command, self.environ(home), cwd)
        self._programs.append(program)
        pid = program.process.pid
        deadline = time.monotonic() + timeout
        window: int | None = None
        gone_at: float | None = None  # when the started program was seen gone, exit status 0
        while time.monotonic() < deadline:
            current = client_windows(self._x)
            before &= set(current)  # a closed window's id may be reused by the new program
            new = [w for w in current if w not in before or window_pid(self._x, w) == pid]
            if new:
                window = new[-1]
                if active_window(self._x) == window:
                    return Launched(tuple(command), pid, describe_window(self._x, window))
                activate(self._x, window)
            elif (code := program.process.poll()) is not None and code != 0:
                tail = program.log_tail()
                raise LaunchError(
                    f"{_shown(command)} exited with status {code} before showing a window"
                    + (f": {tail}" if tail else "")
                )
            elif code == 0 and gone_at is None and not _group_alive(pid):
                # Exited cleanly and left nothing running: only an instance it handed over to
                # (a program already on the display) can still show the window; give it a
                # short grace instead of the whole timeout.
                gone_at = time.monotonic()
                deadline = min(deadline, gone_at + HANDOVER_SECONDS)
            time.sleep(POLL_SECONDS)
        if gone_at is not None and window is None:
            raise LaunchError(
                f"{_shown(command)} exited (status 0) without showing a window and left no "
                "process running; give the command that opens the application's window"
            )
        what = "its window did not get the focus" if window else "no window appeared"
        raise LaunchError(f"{_shown(command)} was started, but {what} within {timeout:g} s")

    def stop_apps(self) -> None:
        """Stop every application started so far (not the window manager). Safe to repeat."""
        programs, self._programs = self._programs, []
        for program in reversed(programs):
            program.stop()
        # Wait (bounded) for the window manager to drop their windows, so the next launch does
        # not mistake a reused window id for an old window.
        pids = {program.process.pid for program in programs}
        deadline = time.monotonic() + STOP_TIMEOUT
        while pids and time.monotonic() < deadline:
            if not any(window_pid(self._x, w) in pids for w in client_windows(self._x)):
                break
            time.sleep(POLL_SECONDS)

    def stop_all(self) -> None:
        """Stop the applications, then the window manager. Safe to repeat."""
        try:
            self.stop_apps()
        finally:
            wm, self._wm = self._wm, None
            if wm is not None:
                wm.stop()
