r"""DesktopEnv: an X11 desktop, captured with mss and driven with pyautogui.

One monitor of an X display (the user's, or a private Xvfb started for the environment's
lifetime, with a window manager) is the screen. Screenshot pixels are converted to input
coordinates in one place, `ScreenGeometry.to_input`, which adds the monitor's origin and divides
by the capture scale.

Input paths, and why:
- pointer (click, move, drag, scroll): pyautogui, with its fail-safe on: moving the pointer
  into a screen corner stops the run (`Interrupted`). Its corner pixels are therefore refused
  as targets, since the agent's own pointer resting there would stop the next step;
- keys and text: XTEST through python-xlib on our own connection (see `desktop.keyboard`), which
  delivers any Unicode text exactly; what cannot be typed is refused, never dropped. One newline
  rule, as in the browser and on Android: "\n", "\r\n" and a lone "\r" each type one Enter;
- applications (`open_app`, `launch`, a `desktop:` task's apps): started by `desktop.session`,
  each waited for until its window is mapped and focused.
pyautogui keeps module-level X state, so within one process one DesktopEnv acts at a time; the
environment re-points pyautogui at its own display before each action.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import Any, ClassVar, assert_never

from pixelpilot._extras import require
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
    action_points,
    check_bounds,
)
from pixelpilot.env.base import EnvironmentBase, Execution, wait_until_settled
from pixelpilot.env.desktop.calibration import CalibrationWindow
from pixelpilot.env.desktop.capture import capture_image, keep_image_blocks
from pixelpilot.env.desktop.config import DesktopConfig
from pixelpilot.env.desktop.episode import Episode
from pixelpilot.env.desktop.geometry import ScreenGeometry, screen_geometry
from pixelpilot.env.desktop.keyboard import Keyboard
from pixelpilot.env.desktop.keys import check_keys, check_typable
from pixelpilot.env.desktop.session import Programs
from pixelpilot.env.desktop.windows import focused_window
from pixelpilot.env.desktop.x11 import (
    DesktopUnavailableError,
    connect,
    failsafe_corners,
    load_pyautogui,
    point_pyautogui_at,
    resolve_display,
    x_authority,
)
from pixelpilot.env.desktop.xvfb import VirtualDisplay
from pixelpilot.errors import (
    ConfigError,
    EnvError,
    Interrupted,
    OutOfBoundsError,
    UnsupportedActionError,
)

__all__ = ["DesktopConfig", "DesktopEnv"]

REBIND_PAUSE = 0.1
"""Seconds typing pauses, at least, before it rebinds spare keycodes (see `desktop.keyboard`)."""


class DesktopEnv(EnvironmentBase):
    """An X11 desktop monitor as an environment.

    On a private display (`virtual_display`) a window manager (`wm`) gives windows focus,
    decorations and stacking; `launch` commands start at each reset, `open_app` starts an
    installed application by name, and `desktop:` tasks (`pixelpilot.env.desktop.tasks`) start
    in a fresh home folder and are judged by `evaluate`. Everything started is stopped by the
    next reset (applications) or by close (all).

    Raises (construction):
        DesktopUnavailableError: no display to use, it is unreachable, or Xvfb or the window
            manager is missing.
        MissingExtraError: mss, pyautogui or python-xlib is not installed.
        ConfigError: the monitor does not exist.
    """

    name = "desktop"
    supported_actions = frozenset(
        {"click", "move", "drag", "scroll", "type", "key", "open_app", "wait"}
    )
    Config = DesktopConfig
    one_per_process: ClassVar[bool] = True
    """pyautogui and the X connection are process-wide: one desktop per process, never one
    per thread (`eval desktop --workers N` gives each worker a process)."""

    def __init__(self, config: DesktopConfig | None = None) -> None:
        self.config = config or DesktopConfig()
        self._stack = contextlib.ExitStack()
        self._calibration: CalibrationWindow | None = None
        self.virtual: VirtualDisplay | None = None
        mss = require("mss", "desktop")
        require("Xlib.display", "desktop", package="python-xlib")
        try:
            self._open(mss)
        except BaseException:
            self._stack.close()
            raise
        self.closed = False

    def _open(self, mss: Any) -> None:
        config = self.config
        if config.virtual_display is not None:
            self.virtual = VirtualDisplay.start(
                Size.parse(config.virtual_display), timeout=config.startup_timeout
            )
            self._stack.callback(self.virtual.stop)
            self.display_name = self.virtual.name
        else:
            self.display_name = resolve_display(config.display)
        authority = self.virtual.authority if self.virtual is not None else None
        with x_authority(authority):
            self._connect(mss, authority)

    def _connect(self, mss: Any, authority: str | None) -> None:
        config = self.config
        self._xdisplay = connect(self.display_name)
        self._stack.callback(self._xdisplay.close)
        self.programs = Programs(
            self.display_name, self._xdisplay, private=self.virtual is not None, authority=authority
        )
        self._stack.callback(self.programs.stop_all)
        self.episode = Episode(
            self.programs, private=self.virtual is not None, window_timeout=config.window_timeout
        )
        self._stack.callback(self.episode.end)
        if self.virtual is not None and config.wm != "none":
            self.programs.start_wm(config.wm, timeout=config.startup_timeout)
        self._keyboard = Keyboard(self._xdisplay)
        self._stack.callback(self._keyboard.restore)
        self._pyautogui = load_pyautogui(self.display_name)
        previous = self._pyautogui.platformModule._display
        self._stack.callback(setattr, self._pyautogui.platformModule, "_display", previous)
        screen = self._xdisplay.screen()
        self.input_size = Size(screen.width_in_pixels, screen.height_in_pixels)
        self._bind()
        # The X screen's logical size as pyautogui sees it, which input coordinates live in.
        self.input_size = Size(*self._pyautogui.size())
        factory = getattr(mss, "MSS", None) or mss.mss
        try:
            self._sct = factory(display=self.display_name)
        except mss.ScreenShotError as exc:
            raise DesktopUnavailableError(
                f"cannot capture X display {self.display_name!r}: {exc}"
            ) from None
        self._stack.callback(self._sct.close)
        monitors = self._sct.monitors
        self.geometry: ScreenGeometry = screen_geometry(monitors, config.monitor, self.input_size)
        self._monitor = dict(monitors[config.monitor])
        keep_image_blocks()
        self._corners = set(failsafe_corners(self.input_size))
        self._last_size = self.geometry.size
        self._stack.callback(self._stop_calibration)

    def _bind(self) -> None:
        point_pyautogui_at(self._pyautogui, self._xdisplay, self.input_size)

    def _check_open(self) -> None:
        if self.closed:
            raise EnvError("the desktop environment is closed")

    # -- observing -------------------------------------------------------------------------

    def reset(self, *, task: Task | None = None) -> Observation:
        """Stop the applications of the previous episode, prepare a `desktop:` task (a fresh home
        folder with its files and applications), start the `launch` commands, and observe.

        Raises:
            ConfigError: the task names a start URL or app (those need --env browser/android),
                a `desktop:` task runs without a private display or misses an application, or
                a `launch` command cannot start or shows no window.
            EnvError: a task's application did not start.
        """
        if task is not None and (task.start_url or task.start_app):
            start = task.start_url or task.start_app
            raise ConfigError(
                f"the desktop environment cannot open {start!r} to start task "
                f"{task.name or task.goal!r}; use --env browser or --env android"
            )
        self._check_open()
        self.episode.begin(task, self.config.launch)
        self._settle()
        return self.observe()

    def evaluate(self, *, answer: str | None = None) -> Outcome | None:
        """Judge the current `desktop:` task from its home folder and `answer` (None for any
        other task), once the screen has settled; see `judge_grace`."""
        if self.episode.task is None:
            return None
        self._settle()
        return self.episode.evaluate(answer, grace=self.config.judge_grace)

    def observe(self) -> Observation:
        self._check_open()
        start = time.perf_counter()
        try:
            image = capture_image(self._sct, self._monitor)
        except Exception as exc:  # mss raises ScreenShotError or ctypes/XCB errors
            raise EnvError(f"capturing display {self.display_name} failed: {exc}") from exc
        elapsed = time.perf_counter() - start
        return self.remember(
            Observation(
                screenshot=image,
                platform="desktop",
                scale=self.geometry.scale_x,
                app=self._window_label(),
                capture_seconds=elapsed,
            )
        )

    def _window_label(self) -> str | None:
        """The focused window as "TITLE (APPLICATION)", or what of it is known."""
        info = focused_window(self._xdisplay)
        if info is None:
            return None
        if info.title and info.app:
            return f"{info.title} ({info.app})"
        return info.title or info.app

    def _grab_raw(self) -> bytes:
        raw: bytes = self._sct.grab(self._monitor).raw  # a fresh bytearray per grab: no copy
        return raw

    def _idle(self) -> None:
        """Give the focused application time to handle queued input (at least REBIND_PAUSE s,
        then until the screen stops changing)."""
        time.sleep(REBIND_PAUSE)
        self._settle()

    def _settle(self) -> float:
        return wait_until_settled(
            self._grab_raw,
            timeout=self.config.settle_timeout,
            interval=self.config.settle_interval,
        )

    # -- acting ------------------------------------------------------------------------------

    def validate(self, action: Action) -> None:
        """Refuse unsupported and out-of-screen actions (EnvironmentBase), fail-safe corner
        targets (OutOfBoundsError), untypable text and keys no desktop keyboard has
        (ActionError), all before anything reaches the screen."""
        super().validate(action)
        for point in action_points(action):
            target = self.geometry.to_input(point.x, point.y)
            if target in self._corners:
                raise OutOfBoundsError(
                    f"{action.type} at ({point.x}, {point.y}) would leave the pointer in a "
                    "screen corner, which is pyautogui's fail-safe and would stop the run; "
                    "aim at least 1 px inside"
                )
        if isinstance(action, Type):
            check_typable(action.text)
        elif isinstance(action, Key):
            check_keys(action.keys)

    def execute(self, action: Action) -> Execution:
        self.validate(action)
        self._check_open()
        xlib_error = require("Xlib.error", "desktop", package="python-xlib")
        self._bind()
        try:
            detail = self._perform(action)
        except self._pyautogui.FailSafeException as exc:
            raise Interrupted(
                "pyautogui fail-safe: the pointer was moved into a screen corner; run stopped"
            ) from exc
        except (xlib_error.XError, xlib_error.ConnectionClosedError, OSError) as exc:
            raise EnvError(f"X display {self.display_name} failed: {exc}") from exc
        return Execution(detail=detail, settle_seconds=self._settle())

    def _perform(self, action: Action) -> str:
        pg = self._pyautogui
        to_input = self.geometry.to_input
        match action:
            case Click():
                x, y = to_input(action.x, action.y)
                pg.click(x, y, clicks=action.count, button=action.button, _pause=False)
                return f"pyautogui.click({x}, {y}, clicks={action.count}, button={action.button})"
            case Move():
                x, y = to_input(action.x, action.y)
                pg.moveTo(x, y, _pause=False)
                return f"pyautogui.moveTo({x}, {y})"
            case Drag():
                x, y = to_input(action.x, action.y)
                to = to_input(action.to_x, action.to_y)
                seconds = self.config.drag_seconds
                pg.moveTo(x, y, _pause=False)
                pg.dragTo(to.x, to.y, duration=seconds, button="left", _pause=False)
                return f"pyautogui drag ({x}, {y}) -> ({to.x}, {to.y}) in {seconds:g} s"
            case Scroll():
                return self._scroll(action, to_input(action.x, action.y))
            case Type():
                interval = self.config.type_interval_ms / 1000
                return self._keyboard.type_text(
                    action.text, interval=interval, pause=self._idle, check=pg.failSafeCheck
                )
            case Key():
                pg.failSafeCheck()
                return f"xtest key {'+'.join(self._keyboard.press_chord(action.keys))}"
            case Wait():
                time.sleep(action.seconds)
                return f"sleep {action.seconds:g} s"
            case OpenApp():
                config = self.config
                return self.episode.open_app(
                    action.name,
                    names=config.apps,
                    allowed=config.allowed_apps,
                    cutoff=config.fuzzy_cutoff,
                )
            case Swipe() | LongPress() | Button() | Answer() | Terminate():
                raise UnsupportedActionError(f"'{action.type}' is not supported by desktop")
            case _:
                assert_never(action)

    def _scroll(self, action: Scroll, at: Point) -> str:
        notches = max(1, round(action.amount / self.config.scroll_pixels_per_notch))
        pg = self._pyautogui
        # X wheel buttons: 4 up, 5 down, 6 left, 7 right; pyautogui counts up/right positive.
        match action.direction:
            case "up":
                pg.scroll(notches, x=at.x, y=at.y, _pause=False)
            case "down":
                pg.scroll(-notches, x=at.x, y=at.y, _pause=False)
            case "right":
                pg.hscroll(notches, x=at.x, y=at.y, _pause=False)
            case "left":
                pg.hscroll(-notches, x=at.x, y=at.y, _pause=False)
            case _:
                assert_never(action.direction)
        return f"wheel {action.direction} x{notches} at ({at.x}, {at.y})"

    # -- calibration and lifetime ----------------------------------------------------------

    def show_calibration(self, targets: Sequence[Point]) -> None:
        """Cover the monitor with a window that draws a crosshair at each target (screenshot
        pixels) and paints every press as a MARKER_RGB square; returns once it is drawn.

        Raises:
            OutOfBoundsError: a target lies outside the screenshot.
            EnvError: the window did not start.
        """
        self._check_open()
        for target in targets:
            check_bounds(Click(x=target.x, y=target.y), self.geometry.size)
        self._stop_calibration()
        box = self.geometry.input_box()
        window_targets = [
            (p.x - box[0], p.y - box[1])
            for p in (self.geometry.to_input(t.x, t.y) for t in targets)
        ]
        self._calibration = CalibrationWindow.start(
            self.display_name,
            box,
            window_targets,
            timeout=self.config.startup_timeout,
            environ=self.programs.environ(),
        )
        self._settle()

    def _stop_calibration(self) -> None:
        if self._calibration is not None:
            self._calibration.stop()
            self._calibration = None

    def close(self) -> None:
        """Close the calibration window, the X connections and the private Xvfb, if any."""
        self.closed = True
        self._stack.close()
