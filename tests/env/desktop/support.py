"""Support for the desktop tests: the probe window as a subprocess, the module fixtures that
start a display, a probe and an environment on it, and xdotool helpers.

`Probe` starts `probe.py` on a display and collects the JSON events it prints on a
reader thread; tests mark a position in the event list, act, and read what arrived after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.actions import Size
from pixelpilot.env.desktop.env import DesktopConfig, DesktopEnv
from pixelpilot.env.desktop.xvfb import VirtualDisplay

PROBE_SCRIPT = Path(__file__).with_name("probe.py")

Event = dict[str, Any]


class Probe:
    """The probe window process and the events it has reported so far."""

    def __init__(self, display_name: str, *, timeout: float = 15.0) -> None:
        self.display_name = display_name
        self.process = subprocess.Popen(
            [sys.executable, str(PROBE_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "DISPLAY": display_name},
        )
        self._events: list[Event] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._command_lock = threading.Lock()
        ready = self.wait_for(lambda e: e["type"] == "ready", since=0, timeout=timeout)
        self.size = (ready["width"], ready["height"])

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            with self._cond:
                self._events.append(event)
                self._cond.notify_all()

    def mark(self) -> int:
        """The current end of the event list, for `since`."""
        with self._cond:
            return len(self._events)

    def since(self, mark: int, kind: str | None = None) -> list[Event]:
        """The events after `mark` (of type `kind` when given)."""
        with self._cond:
            events = self._events[mark:]
        return [e for e in events if kind is None or e["type"] == kind]

    def wait_for(
        self, predicate: Callable[[Event], bool], *, since: int, timeout: float = 5.0
    ) -> Event:
        """The first event after `since` matching `predicate`; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self._events[since:]:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    break
                self._cond.wait(remaining)
        stderr = ""
        if self.process.poll() is not None and self.process.stderr is not None:
            stderr = self.process.stderr.read().decode("utf-8", "replace")
        raise AssertionError(f"probe: no matching event within {timeout} s {stderr}")

    def request(self, command: str, *, timeout: float = 5.0) -> Any:
        """Send a command and return the value of the reply."""
        with self._command_lock:
            mark = self.mark()
            assert self.process.stdin is not None
            self.process.stdin.write(command.encode("utf-8") + b"\n")
            self.process.stdin.flush()
            reply = self.wait_for(lambda e: e["type"] == "reply", since=mark, timeout=timeout)
        assert "error" not in reply, reply["error"]
        return reply["value"]

    def wait_text(self, command: str, expected: str, *, timeout: float = 5.0) -> str:
        """Poll `command` ("text" or "entry") until it returns `expected` or time runs out;
        returns the last value read."""
        deadline = time.monotonic() + timeout
        value: str = self.request(command)
        while value != expected and time.monotonic() < deadline:
            time.sleep(0.05)
            value = self.request(command)
        return value

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def xdotool(display_name: str, *args: str) -> str:
    """Run xdotool on `display_name` (as the user would act on the screen); returns stdout."""
    result = subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display_name},
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    return result.stdout


def pointer_position(display_name: str) -> tuple[int, int]:
    """The pointer's position in X root pixels, read with xdotool."""
    fields = dict(part.split(":") for part in xdotool(display_name, "getmouselocation").split()[:2])
    return int(fields["x"]), int(fields["y"])


def desktop_fixtures(size: Size, **options: Any) -> tuple[Any, Any, Any]:
    """Module-scoped fixtures `display` (a private Xvfb of `size`), `probe` (the probe window
    on it) and `env` (a DesktopEnv on it with `options`, reset once); each closed at the end."""

    @pytest.fixture(scope="module", name="display")
    def display() -> Iterator[VirtualDisplay]:
        virtual = VirtualDisplay.start(size)
        yield virtual
        virtual.stop()

    @pytest.fixture(scope="module", name="probe")
    def probe(display: VirtualDisplay) -> Iterator[Probe]:
        window = Probe(display.name)
        yield window
        window.close()

    @pytest.fixture(scope="module", name="env")
    def env(display: VirtualDisplay, probe: Probe) -> Iterator[DesktopEnv]:
        environment = DesktopEnv(DesktopConfig(display=display.name, **options))
        environment.reset()
        yield environment
        environment.close()

    return display, probe, env
