"""BrowserEnv: Chromium driven through Playwright's sync API.

Screenshots are in device pixels (the viewport in CSS pixels times the device scale factor); the
mouse takes CSS pixels. `_to_css` is the one place that converts, and it sends device pixel p to
its top-left corner p / scale, not to its centre (p + 0.5) / scale: Blink hit-tests an integer
CSS position as a point but a fractional one as the 1x1 CSS-pixel area starting there, where the
topmost element touching that area wins, so a centre position (always fractional at scale 1)
can land on the neighbouring element. With corners, a click on pixel p reaches the element
under p exactly at scale 1 (and on even pixels at scale 2); on odd pixels at scale 2 it reaches
p or p + 1. The page's pointer events report p / scale, i.e. pixel p, at every scale.

Each episode gets a fresh browser context (no cookies, storage or history from the last one).
JavaScript dialogs (alert, confirm) are dismissed at once, as Playwright does when nobody
listens: a headless screenshot cannot show them. A page that opens a popup on an allowed origin
hands the agent the popup. No navigation, form post or popup reaches another origin (the guard
in `browser.navigation.py`); what it blocked is in `blocked_navigations` and in the detail of
the step's Execution. Tasks whose start URL is `sandbox:/PAGE` are served by the bundled web
sandbox, which this environment starts and stops itself. The options are in `browser.config.py`,
the launch and the watchdog in `browser.launch.py`, the key table in `browser.keys.py`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import time
from collections.abc import Sequence
from typing import Any, assert_never

from PIL import Image

from pixelpilot.actions import (
    Action,
    Answer,
    Button,
    Click,
    Drag,
    Key,
    LongPress,
    Move,
    Observation,
    OpenApp,
    Outcome,
    Point,
    Scroll,
    Size,
    Swipe,
    Task,
    Terminate,
    Type,
    Wait,
    describe,
)
from pixelpilot.env.base import EnvironmentBase, Execution, sliced_wait, wait_until_settled
from pixelpilot.env.browser.calibration import calibration_page
from pixelpilot.env.browser.config import BrowserConfig, url_origin
from pixelpilot.env.browser.keys import press_keys
from pixelpilot.env.browser.launch import BrowserSession, navigate
from pixelpilot.env.browser.navigation import (
    BlockedNavigation,
    NavigationGuard,
    navigation_origin,
    resolve_open_app,
)
from pixelpilot.env.browser.sandbox import SandboxServer
from pixelpilot.errors import EnvError, UnsupportedActionError

__all__ = ["BrowserConfig", "BrowserEnv", "url_origin"]

CAPTURE_ATTEMPTS = 3
"""Captures tried before a failed screenshot ends the episode (see `BrowserEnv._screenshot`)."""
CAPTURE_RETRY_PAUSE = 0.1
"""Seconds before the first retry of a failed capture; the n-th retry waits n times this."""


class BrowserEnv(EnvironmentBase):
    """Chromium through Playwright. Episodes start at the task's `start_url`; `open_app`
    navigates to a URL on an allowed origin. Swipe, long press and device buttons are refused.

    Args:
        config: the options; nothing starts until the first `reset`.
    """

    name = "browser"
    supported_actions = frozenset(
        {"click", "move", "drag", "scroll", "type", "key", "open_app", "wait"}
    )
    Config = BrowserConfig

    def __init__(self, config: BrowserConfig | None = None) -> None:
        self.config = config or BrowserConfig()
        self.viewport = Size.parse(self.config.viewport)
        self.scale = self.config.device_scale_factor
        self.sandbox = SandboxServer()
        self.session: BrowserSession | None = None
        self.task: Task | None = None
        self.start_url = ""
        self.guard = NavigationGuard(())
        self._reported = 0
        self.relaunches = 0
        self.capture_retries = 0
        """Captures that failed and were tried again (see `_screenshot`), over this env's life."""

    # -- episode -------------------------------------------------------------------------------

    def reset(self, *, task: Task | None = None) -> Observation:
        """Open the task's start page (or `start_url`) in a fresh context and observe it.

        Raises:
            MissingExtraError: Playwright or Chromium is not installed.
            EnvError: the browser could not start or the start page could not be loaded.
        """
        self.task = task
        url = task.start_url if task is not None and task.start_url else self.config.start_url
        self.start_url = self.sandbox.resolve(url)
        start_origin = navigation_origin(self.start_url)
        allowed = [*self.config.allowed_origins, *([start_origin] if start_origin else [])]
        self.guard = NavigationGuard(allowed, mode=self.config.navigation_guard)
        self._reported = 0
        self.guard.fetch_timeout = self.config.call_timeout
        self.relaunches = 0
        self._open_start_page()
        return self.observe()

    def observe(self) -> Observation:
        """Capture the page as an RGB image in device pixels.

        Raises:
            EnvError: the page crashed or the browser is gone (unless relaunching is enabled).
        """
        start = time.perf_counter()
        try:
            png = self._screenshot(scale="device")
        except EnvError as exc:
            self._relaunch_or_raise(exc)
            start = time.perf_counter()
            png = self._screenshot(scale="device")
        image = Image.open(io.BytesIO(png)).convert("RGB")
        return self.remember(
            Observation(
                screenshot=image,
                platform="browser",
                scale=self.scale,
                url=self._session().page.url,
                capture_seconds=time.perf_counter() - start,
            )
        )

    def execute(self, action: Action) -> Execution:
        """Carry out `action` (screenshot pixels) and wait for the page to settle.

        Raises:
            UnsupportedActionError: swipe, long_press, button, or a key with no browser
                equivalent.
            OutOfBoundsError: a point outside the latest screenshot.
            ActionError: open_app with a URL whose origin is not allowed.
            EnvError: the page crashed, the browser exited or got stuck (unless relaunching).
        """
        self.validate(action)
        try:
            detail = self._perform(action)
            settle = self._settle()
        except EnvError as exc:
            self._relaunch_or_raise(exc)
            detail = f"{describe(action)} failed: {exc}; relaunched at {self.start_url}"
            return Execution(detail=detail + self._after_action())
        return Execution(detail=detail + self._after_action(), settle_seconds=settle)

    @property
    def allowed(self) -> frozenset[str]:
        """The origins navigation may reach: the start page's (and where it landed) and the
        `allowed_origins` option's."""
        return frozenset(self.guard.allowed)

    @property
    def blocked_navigations(self) -> list[BlockedNavigation]:
        """Every navigation, form post and popup the guard refused this episode, oldest first."""
        return list(self.guard.blocked)

    def _after_action(self) -> str:
        """Close refused pop-ups; what was blocked since the last report (also between
        steps), for the Execution."""
        if self.session is not None:
            self.session.close_refused()
        new, self._reported = self.guard.blocked[self._reported :], len(self.guard.blocked)
        return "".join(f"; {entry.describe()}" for entry in new)

    def evaluate(self, *, answer: str | None = None) -> Outcome | None:
        """Judge the task: its `expected_answer` against `answer` (trimmed, casefolded) and
        its `success_js` evaluated in the current page; None for a task with neither.

        Raises:
            EnvError: the success check could not run because the browser is gone.
        """
        task = self.task
        if task is None or (task.expected_answer is None and task.success_js is None):
            return None
        details, success = [], True
        if task.expected_answer is not None:
            given = (answer or "").strip().casefold()
            ok = answer is not None and given == task.expected_answer.strip().casefold()
            success &= ok
            details.append(f"answer {answer!r} {'matches' if ok else 'differs from'} the expected")
        if task.success_js is not None:
            script = (
                "() => { try { return { value: Boolean(" + task.success_js + ") }; } "
                "catch (e) { return { error: String(e) }; } }"
            )
            page = self._session().page
            result = self._session().call(
                "evaluate the success check", lambda: page.evaluate(script)
            )
            ok = result.get("value") is True
            success &= ok
            error = result.get("error")
            details.append(f"success check raised {error}" if error else f"success check is {ok}")
        return Outcome(success=success, detail="; ".join(details))

    def close(self) -> None:
        """Close the browser and stop the sandbox server. Safe to call more than once."""
        session, self.session = self.session, None
        try:
            if session is not None:
                session.close()
        finally:
            self.sandbox.stop()

    # -- calibration ---------------------------------------------------------------------------

    def show_calibration(self, targets: Sequence[Point]) -> None:
        """Show a page with a crosshair at each target (device pixels) that paints each press
        as a 9x9 MARKER_RGB square centred on the pressed device pixel."""
        html = calibration_page(targets)
        session = self._session()
        page = session.page
        timeout = self.config.call_timeout
        session.call(
            "show the calibration page", lambda: page.set_content(html, timeout=timeout * 1000)
        )
        self._settle()

    # -- internals -----------------------------------------------------------------------------

    def _to_css(self, x: int, y: int) -> tuple[float, float]:
        """The one conversion from screenshot (device) pixels to CSS pixels: pixel corners
        (see the module's docstring for why not centres)."""
        return x / self.scale, y / self.scale

    def _session(self) -> BrowserSession:
        if self.session is None:
            raise EnvError("the browser is not running; call reset() first")
        return self.session

    def _open_start_page(self) -> None:
        if self.session is not None and not self.session.alive:
            self.session.close()
            self.session = None
        if self.session is None:
            self.session = BrowserSession(
                executable_path=self.config.executable_path,
                headless=self.config.headless,
                call_timeout=self.config.call_timeout,
                launch_timeout=self.config.launch_timeout,
                extra_args=self.config.extra_args,
            )
        session, guard = self.session, self.guard
        page = session.open_page(self.viewport, self.scale, guard=guard)
        timeout = self.config.call_timeout
        with guard.opening(self.start_url):
            error = session.call(
                f"open {self.start_url}", lambda: navigate(page, self.start_url, timeout=timeout)
            )
        if error is not None:
            raise EnvError(f"cannot open the start page {self.start_url}: {error}")
        guard.landed(page.url)

    def _relaunch_or_raise(self, exc: EnvError) -> None:
        relaunch = self.config.relaunch_on_crash and self.relaunches < self.config.max_relaunches
        if not relaunch or self.session is None:
            raise exc
        self.relaunches += 1
        self._open_start_page()

    def _screenshot(self, *, scale: str) -> bytes:
        """One capture. Chromium refuses a capture now and then while a page is being replaced
        (a link or a form submit mid-navigation: "Unable to capture screenshot"); while the
        browser and the page are still alive such a failure is retried, at most
        `CAPTURE_ATTEMPTS` times in all, after waiting for the page to load. A crash, a lost
        browser or a stuck page is never retried.
        """
        session = self._session()
        for attempt in range(1, CAPTURE_ATTEMPTS):
            page = session.page
            try:
                return self._capture(session, page, scale)
            except EnvError:
                if not session.alive:
                    raise
            self.capture_retries += 1
            time.sleep(CAPTURE_RETRY_PAUSE * attempt)
            with contextlib.suppress(EnvError):
                session.call("wait for the page to load", page.wait_for_load_state)
        return self._capture(session, session.page, scale)

    def _capture(self, session: BrowserSession, page: Any, scale: str) -> bytes:
        timeout = self.config.call_timeout * 1000
        capture = functools.partial(page.screenshot, scale=scale, timeout=timeout)
        png: bytes = session.call("take a screenshot", capture)
        return png

    def _settle(self) -> float:
        # CSS-scale captures show any change and cost a fraction of device ones at scale 2.
        return wait_until_settled(
            lambda: self._screenshot(scale="css"),
            timeout=self.config.settle_timeout,
            interval=self.config.settle_interval,
        )

    def _perform(self, action: Action) -> str:
        session = self._session()
        page = session.page
        mouse, keyboard = page.mouse, page.keyboard
        match action:
            case Click():
                x, y = self._to_css(action.x, action.y)
                session.call(
                    "click",
                    lambda: mouse.click(x, y, button=action.button, click_count=action.count),
                )
                return f"mouse.click({x:.2f}, {y:.2f}, {action.button}, x{action.count}) CSS px"
            case Move():
                x, y = self._to_css(action.x, action.y)
                session.call("move the mouse", lambda: mouse.move(x, y))
                return f"mouse.move({x:.2f}, {y:.2f}) CSS px"
            case Drag():
                return self._drag(session, mouse, action)
            case Scroll():
                return self._scroll(session, mouse, action)
            case Type():
                # keyboard.type presses real keys for US-layout characters (so pages see
                # keydown/keyup; "\n" is Enter) and inserts every other character as text.
                text = action.text.replace("\r\n", "\n").replace("\r", "\n")
                timeout = self.config.call_timeout + 0.05 * len(text)
                session.call("type", lambda: keyboard.type(text), timeout=timeout)
                return f"keyboard.type({text!r})"
            case Key():
                return press_keys(keyboard, action.keys, session.call)
            case OpenApp():
                sandbox = self.sandbox.resolve if self.sandbox.running else None
                url = resolve_open_app(
                    action.name, start_url=self.start_url, guard=self.guard, sandbox=sandbox
                )
                timeout = self.config.call_timeout
                error = session.call(f"open {url}", lambda: navigate(page, url, timeout=timeout))
                return f"page.goto({url!r})" + (f" failed: {error}" if error else "")
            case Wait():
                sliced_wait(
                    action.seconds,
                    lambda s: session.call("wait", lambda: page.wait_for_timeout(s * 1000)),
                )
                return f"waited {action.seconds:g} s"
            case Swipe() | LongPress() | Button() | Answer() | Terminate():
                raise UnsupportedActionError(f"'{action.type}' is not supported by the browser")
            case _:
                assert_never(action)

    def _drag(self, session: BrowserSession, mouse: Any, action: Drag) -> str:
        x, y = self._to_css(action.x, action.y)
        to_x, to_y = self._to_css(action.to_x, action.to_y)
        steps = self.config.drag_steps

        def drag() -> None:
            mouse.move(x, y)
            mouse.down()
            mouse.move(to_x, to_y, steps=steps)
            mouse.up()

        session.call("drag", drag)
        return f"mouse drag ({x:.2f}, {y:.2f}) -> ({to_x:.2f}, {to_y:.2f}) CSS px"

    def _scroll(self, session: BrowserSession, mouse: Any, action: Scroll) -> str:
        x, y = self._to_css(action.x, action.y)
        amount = action.amount / self.scale
        dx, dy = {
            "down": (0.0, amount),
            "up": (0.0, -amount),
            "right": (amount, 0.0),
            "left": (-amount, 0.0),
        }[action.direction]

        def scroll() -> None:
            mouse.move(x, y)
            mouse.wheel(dx, dy)

        session.call("scroll", scroll)
        return f"mouse.wheel({dx:g}, {dy:g}) at ({x:.2f}, {y:.2f}) CSS px"
