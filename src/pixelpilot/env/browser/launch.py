"""Starting Chromium through Playwright, and keeping every call to it bounded in time.

Playwright's mouse, keyboard and evaluate calls take no timeout: on a page whose main thread is
stuck in a script they wait forever. Every call therefore runs under a watchdog that, past its
deadline, kills the browser process; the blocked call then fails at once and is reported as an
EnvError. Playwright's Python API does not expose the browser's process id, so the browser is
launched with a unique marker switch and found by its command line.

Only one sync Playwright driver may run per thread, so sessions of one thread share it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pixelpilot._extras import require
from pixelpilot.actions import Size
from pixelpilot.env.browser.navigation import NavigationGuard
from pixelpilot.errors import ConfigError, EnvError, MissingExtraError

T = TypeVar("T")

CHROMIUM_FLAGS: tuple[str, ...] = (
    # We often run as root in containers, where Chromium's own sandbox cannot start.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
SYSTEM_CHROMIUM: tuple[str, ...] = ("/usr/bin/chromium",)
MARKER_SWITCH = "--pixelpilot-browser"
# Native Playwright timeouts fire first (with the clearer message); the watchdog is the backstop.
WATCHDOG_GRACE = 2.0


def find_executable(
    configured: str | None, *, bundled: str | None, system: Sequence[str] = SYSTEM_CHROMIUM
) -> str:
    """The Chromium binary to launch: `configured`, else the system's, else Playwright's own.

    Raises:
        ConfigError: `configured` names a file that does not exist.
        MissingExtraError: no Chromium is installed; the message says how to get one.
    """
    if configured is not None:
        if not Path(configured).is_file():
            raise ConfigError(f"browser executable_path {configured!r} is not a file")
        return configured
    for candidate in (*system, bundled):
        if candidate and Path(candidate).is_file():
            return candidate
    raise MissingExtraError(
        "no Chromium found for the browser environment; install one with "
        "`apt-get install chromium` or `playwright install chromium`, "
        "or pass executable_path=/path/to/chromium"
    )


def find_browser_pids(marker: str) -> list[int]:
    """Ids of the browser processes (not their renderers) launched with `marker` as a switch."""
    proc = Path("/proc")
    pids: list[int] = []
    if proc.is_dir():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker.encode() in argv and not any(a.startswith(b"--type=") for a in argv):
                pids.append(int(entry.name))
        return pids
    # Systems without /proc (macOS): ps prints full command lines with -ww.
    try:
        listing = subprocess.run(
            ["ps", "-axww", "-o", "pid=,command="], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return pids
    for line in listing.splitlines():
        pid, _, command = line.strip().partition(" ")
        words = command.split()
        if marker in words and not any(w.startswith("--type=") for w in words):
            pids.append(int(pid))
    return pids


@dataclass
class _Driver:
    playwright: Any
    users: int = 0


_local = threading.local()


def _acquire_driver() -> Any:
    driver: _Driver | None = getattr(_local, "driver", None)
    if driver is None:
        sync_api = require("playwright.sync_api", "browser")
        driver = _Driver(sync_api.sync_playwright().start())
        _local.driver = driver
    driver.users += 1
    return driver.playwright


def _release_driver() -> None:
    driver: _Driver | None = getattr(_local, "driver", None)
    if driver is None:
        return
    driver.users -= 1
    if driver.users <= 0:
        _local.driver = None
        driver.playwright.stop()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _launch_failure(exc: BaseException) -> str:
    """Playwright's first line, plus Chromium's own first error from the browser logs."""
    said = [
        line.rsplit("] ", 1)[-1].strip()
        for line in str(exc).splitlines()
        if ":ERROR:" in line and "] " in line
    ]
    return _first_line(exc) + (f"; Chromium said: {said[0]}" if said else "")


def check_display(headless: bool) -> None:
    """Raise ConfigError when a headed browser is asked for on Linux without a display."""
    if headless or not sys.platform.startswith("linux"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise ConfigError(
            "a headed browser needs a display: set DISPLAY (e.g. run under xvfb-run) "
            "or leave headless on"
        )


def playwright_errors() -> tuple[type[Exception], type[Exception]]:
    """Playwright's (Error, TimeoutError) classes, imported lazily."""
    sync_api = require("playwright.sync_api", "browser")
    return sync_api.Error, sync_api.TimeoutError


def navigate(page: Any, url: str, *, timeout: float) -> str | None:
    """Go to `url` and wait for its load event; returns None, or the network error's text
    (the page then shows Chromium's error page, which is what the agent should see)."""
    error, _ = playwright_errors()
    try:
        page.goto(url, wait_until="load", timeout=timeout * 1000)
    except error as exc:
        if "net::ERR_" not in str(exc):
            raise
        return _first_line(exc).split(": ", 1)[-1]
    return None


class BrowserSession:
    """One Chromium process, one browser context at a time, and the page the agent sees.

    Args:
        executable_path: the Chromium binary (see `find_executable`).
        headless: run without a window.
        call_timeout: seconds any one call may take before the browser is declared stuck.
        launch_timeout: seconds the launch may take.
        extra_args: more Chromium switches.
    """

    def __init__(
        self,
        *,
        executable_path: str | None,
        headless: bool,
        call_timeout: float,
        launch_timeout: float,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.call_timeout, self.launch_timeout = call_timeout, launch_timeout
        self.marker = f"{MARKER_SWITCH}={uuid.uuid4().hex}"
        self.crashed = self.disconnected = False
        self._overrun: tuple[str, float] | None = None
        self._context: Any = None
        self._page: Any = None
        self.guard: NavigationGuard | None = None
        self._refused: list[Any] = []
        check_display(headless)
        playwright = _acquire_driver()
        try:
            executable = find_executable(
                executable_path,
                bundled=playwright.chromium.executable_path,
                system=SYSTEM_CHROMIUM,
            )
            self.executable = executable
            error, _ = playwright_errors()
            try:
                self.browser = playwright.chromium.launch(
                    executable_path=executable,
                    headless=headless,
                    args=[*CHROMIUM_FLAGS, self.marker, *extra_args],
                    timeout=launch_timeout * 1000,
                )
            except error as exc:
                raise EnvError(
                    f"could not start Chromium ({executable}): {_launch_failure(exc)}"
                ) from exc
        except BaseException:
            _release_driver()
            raise
        self.browser.on("disconnected", self._on_disconnected)

    @property
    def alive(self) -> bool:
        """False once the page crashed, the browser went away or the session was closed."""
        stopped = self.crashed or self.disconnected or self._overrun is not None
        return not stopped and self.browser is not None

    @property
    def page(self) -> Any:
        """The Playwright page the agent sees (the newest open one, so popups are followed)."""
        if self._page is None:
            raise EnvError("no page is open in the browser (the last one was closed)")
        return self._page

    def pids(self) -> list[int]:
        """The browser's process ids (usually one)."""
        return find_browser_pids(self.marker)

    def open_page(
        self, viewport: Size, scale: float, *, guard: NavigationGuard | None = None
    ) -> Any:
        """Replace the browser context with a fresh one (empty storage, no history) holding
        one blank page of `viewport` CSS pixels at `scale` device pixels per CSS pixel.
        With a `guard`, every request of the context passes through it first and a pop-up
        it refuses is closed instead of adopted."""
        old, self._context, self._page = self._context, None, None
        self.guard = guard
        if old is not None:
            self.call("close the previous context", old.close)
        options = {
            "viewport": {"width": viewport.width, "height": viewport.height},
            "device_scale_factor": scale,
            "locale": "en-US",
            "timezone_id": "UTC",
            "color_scheme": "light",
            "reduced_motion": "reduce",
            "accept_downloads": False,
        }
        self._context = self.call(
            "open a browser context", lambda: self.browser.new_context(**options)
        )
        if guard is not None:
            guard.refuse_page = self._refuse
            self.call("route the context's requests", lambda: guard.install(self._context))
        self._context.on("page", self._adopt)
        page = self.call("open a page", self._context.new_page)
        if guard is not None:
            guard.home = page
        self._adopt(page)
        return self.page

    def call(self, label: str, fn: Callable[[], T], *, timeout: float | None = None) -> T:
        """Run `fn` (a Playwright call) with a deadline of `timeout` seconds (default
        `call_timeout`), past which the browser is killed.

        Raises:
            EnvError: the page crashed, the browser exited or was stopped, or the call failed;
                the message says which, and during what.
        """
        if not self.alive:
            raise self._failure(label, None)
        seconds = self.call_timeout if timeout is None else timeout
        timer = threading.Timer(seconds + WATCHDOG_GRACE, self._on_overrun, args=(label, seconds))
        timer.daemon = True
        error, _ = playwright_errors()
        timer.start()
        try:
            result = fn()
        except error as exc:
            raise self._failure(label, exc) from exc
        finally:
            timer.cancel()
        if self._overrun is not None:
            raise self._failure(label, None)
        return result

    def kill(self) -> None:
        """Kill the browser process at once (what the watchdog does to a stuck browser)."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Close the browser (killing it if it does not close in time). Safe to call twice."""
        if self.browser is None:
            return
        browser, self.browser = self.browser, None
        self._context = self._page = None
        watchdog = threading.Timer(self.call_timeout + WATCHDOG_GRACE, self.kill)
        watchdog.daemon = True
        watchdog.start()
        try:
            browser.close()
        except Exception:  # the process is going away whatever went wrong; make sure of it
            self.kill()
        finally:
            watchdog.cancel()
            _release_driver()

    def _adopt(self, page: Any) -> None:
        guard = self.guard
        if guard is not None and page is not guard.home and not guard.admits(page):
            with contextlib.suppress(Exception):  # a refused pop-up may be closing already
                page.close()
            return
        page.set_default_timeout(self.call_timeout * 1000)
        page.on("crash", self._on_crash)
        page.on("close", self._on_close)
        self._page = page

    def close_refused(self) -> None:
        """Close the pop-ups the guard refused (after the action that was using one ended)."""
        refused, self._refused = self._refused, []
        for page in refused:
            with contextlib.suppress(Exception):  # it may be gone already
                page.close()

    def _refuse(self, page: Any) -> None:
        # Runs inside a route handler: the page may be in use by the current call, so it is
        # only hidden now and closed by close_refused.
        self._refused.append(page)
        self._on_close(page)

    def _on_close(self, page: Any) -> None:
        if page is self._page:
            pages = [p for p in self._context.pages if not p.is_closed()] if self._context else []
            pages = [p for p in pages if all(p is not r for r in self._refused)]
            self._page = pages[-1] if pages else None

    def _on_crash(self, page: Any) -> None:
        if page is self._page:
            self.crashed = True

    def _on_disconnected(self, browser: Any) -> None:
        self.disconnected = True

    def _on_overrun(self, label: str, seconds: float) -> None:
        # Runs on the timer's thread: only record and kill, never touch Playwright here.
        self._overrun = (label, seconds)
        self.kill()

    def _failure(self, label: str, exc: BaseException | None) -> EnvError:
        message = _first_line(exc) if exc is not None else ""
        if self._overrun is not None:
            stuck, seconds = self._overrun
            return EnvError(
                f"the browser did not finish '{stuck}' within {seconds:g} s (the page may be "
                "stuck in a script), so it was stopped"
            )
        if self.crashed or "Target crashed" in message:
            self.crashed = True
            return EnvError(f"the page crashed (during '{label}')")
        if self.browser is None:
            return EnvError(f"the browser is closed (during '{label}')")
        if self.disconnected or not self.browser.is_connected():
            self.disconnected = True
            return EnvError(f"the browser process exited (during '{label}')")
        _, timeout_error = playwright_errors()
        if isinstance(exc, timeout_error):
            return EnvError(f"'{label}' timed out: {message}")
        return EnvError(f"'{label}' failed: {message}")
