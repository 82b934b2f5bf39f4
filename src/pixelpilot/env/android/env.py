"""AndroidEnv (`--env android`): a phone or emulator driven over ADB with adb-shell.

Screenshot pixels map to `input` coordinates in one place (`_to_input`; they are the same on
almost every device, since `screencap` captures the display at the size `wm size` reports).
Actions become `input` commands: click -> `input tap`; long_press, swipe and drag -> `input
swipe` with a duration; scroll -> a swipe whose finger moves against the scroll direction
("down" shows content further down, so the finger swipes up) lengthened by the touch slop
(8 dp, the distance Android needs before it starts scrolling); on a real phone a fast swipe may
also fling the content further. type -> `input text` (see `android.text`), or the ADBKeyboard
IME for text `input text` cannot type; key -> `input keyevent` (chords: `input keycombination`,
Android 13+); button -> back/home/menu/enter key events; open_app -> `monkey` on the package
resolved from the name (see `android.apps`). A touchscreen has no hover: `move` is unsupported,
and so are right and middle clicks. After every action the screen is polled (an md5 of the
raw frame, computed on the phone) until it stops changing: `Execution.settle_seconds`.
Scrolls that would move the finger off the screen are shortened to end at the screen's edge.

Each action is delivered exactly once even when the connection drops (see `android.connection`: a
marker directory under /data/local/tmp/.pixelpilot guards every action and is removed on
close). Screenshots are raw `screencap` output unless the device's cannot be parsed, of the
first display when the device has several (see `android.capture`). With the `a11y` option each
observation is an AndroidObservation carrying the `uiautomator dump` XML (see `android.tree`).
With `allowed_apps`, open_app and a task's start app launch only those packages.
`show_calibration` needs the com.pixelpilot.calibration app, which `pixelpilot
android-testdevice` provides; a phone would need the same screen installed.
"""

from __future__ import annotations

import fnmatch
import logging
import re
import time
from collections.abc import Sequence
from typing import assert_never

from PIL import Image

from pixelpilot.actions import (
    ACTION_TYPES,
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
    Point,
    Scroll,
    Size,
    Swipe,
    Task,
    Terminate,
    Type,
    Wait,
    rescale_point,
)
from pixelpilot.env.android.apps import AppMatch, resolve_app
from pixelpilot.env.android.capture import (
    DISPLAY_QUERY,
    CaptureFormatError,
    ScreenCapture,
    choose_display,
)
from pixelpilot.env.android.config import AndroidConfig
from pixelpilot.env.android.connection import AdbConnection, DeviceSetupError
from pixelpilot.env.android.keys import BUTTONS, android_keycode, mappable_keys
from pixelpilot.env.android.text import (
    ADBKEYBOARD_HINT,
    ADBKEYBOARD_IME,
    ADBKEYBOARD_PACKAGE,
    adbkeyboard_commands,
    input_text_commands,
    is_plain_ascii,
    shell_quote,
)
from pixelpilot.env.android.tree import AndroidObservation, read_tree
from pixelpilot.env.base import EnvironmentBase, Execution, wait_until_settled
from pixelpilot.errors import (
    ActionError,
    EnvError,
    OutOfBoundsError,
    UnsupportedActionError,
    UserError,
)

log = logging.getLogger("pixelpilot.env.android")

CALIBRATION_PACKAGE = "com.pixelpilot.calibration"
CALIBRATION_ACTIVITY = f"{CALIBRATION_PACKAGE}/.CalibrationActivity"
_SIZE = re.compile(r"(Physical|Override) size: (\d+)x(\d+)")
_DENSITY = re.compile(r"(Physical|Override) density: (\d+)")
_FOCUS = re.compile(r"mCurrentFocus=Window\{\S+ \S+ ([^/\s}]+)")
# scroll direction (where the content goes) -> where the finger moves
_FINGER = {"down": (0, -1), "up": (0, 1), "right": (-1, 0), "left": (1, 0)}


def parse_screen(output: str) -> tuple[Size, int]:
    """The display size and density from `wm size; wm density` (overrides win).

    Raises:
        ValueError: the output reports no size or density.
    """
    sizes = {kind: Size(int(w), int(h)) for kind, w, h in _SIZE.findall(output)}
    densities = {kind: int(d) for kind, d in _DENSITY.findall(output)}
    size = sizes.get("Override") or sizes.get("Physical")
    density = densities.get("Override") or densities.get("Physical")
    if size is None or density is None:
        raise ValueError(" ".join(output.split())[:200] or "no output")
    return size, density


class AndroidEnv(EnvironmentBase):
    """A device reached over ADB. Raises DeviceSetupError (one line with the fix) when built
    for a device that is unreachable, unauthorized or has no screen."""

    name = "android"
    # everything a touchscreen can do: no hover (`move`); answer/terminate end the episode
    supported_actions = frozenset(ACTION_TYPES) - {"move", "answer", "terminate"}
    Config = AndroidConfig

    def __init__(self, config: AndroidConfig | None = None) -> None:
        self.config = config or AndroidConfig()
        self.conn = AdbConnection(self.config)
        try:
            output = self.conn.read("wm size; wm density")
            self.display, self.density = parse_screen(output)
        except (ValueError, EnvError) as exc:
            self.conn.close()
            raise DeviceSetupError(
                f"the device {self.config.device} reports no usable screen ({exc}); wake and "
                "unlock it, and check that it has finished booting"
            ) from None
        try:
            display = choose_display(self.conn.read(DISPLAY_QUERY), self.config.display_id)
        except ValueError as exc:
            self.conn.close()
            raise DeviceSetupError(f"display_id: {exc}") from None
        self.screen = ScreenCapture(
            self.conn.read_bytes, self.conn.read, mode=self.config.capture, display=display
        )
        self.task: Task | None = None
        self._packages: list[str] | None = None
        self._last_settle = 0.0
        self._closed = False

    # ----- observing ----------------------------------------------------------------------

    def reset(self, *, task: Task | None = None) -> Observation:
        self.task = task
        commands = ["input keyevent KEYCODE_HOME"] if self.config.home_on_reset else []
        if task is not None and task.start_app:
            try:
                match = self._resolve(task.start_app)
            except ActionError as exc:
                raise EnvError(f"cannot start the task's app: {exc}") from exc
            commands += [f"am force-stop {shell_quote(match.package)}", _launch(match)]
        if commands:
            self.conn.act(commands)
            self._last_settle = self._settle()
        return self.observe()

    def observe(self) -> Observation:
        """The screen (and, with the `a11y` option, its accessibility tree: an
        AndroidObservation whose `a11y` is the `uiautomator dump` XML)."""
        start = time.perf_counter()
        image = self._capture()
        app = self._foreground() if self.config.foreground_app else None
        tree = read_tree(self.conn.read, self.conn.marker_root) if self.config.a11y else None
        if self.config.a11y and tree is None:
            log.warning("uiautomator dump produced no hierarchy; this step has no tree")
        return self.remember(
            AndroidObservation(
                screenshot=image,
                platform="android",
                scale=image.width / self._input_size(image.size).width,
                app=app,
                capture_seconds=time.perf_counter() - start,
                settle_seconds=self._last_settle,
                a11y=tree,
            )
        )

    @property
    def capture_mode(self) -> str:
        """ "raw" or "png": how screenshots are taken now (auto turns to png for good)."""
        return self.screen.mode

    def _capture(self) -> Image.Image:
        try:
            return self.screen.capture()
        except CaptureFormatError as exc:
            raise EnvError(str(exc)) from exc

    def _settle(self) -> float:
        return wait_until_settled(
            self.screen.digest,
            timeout=self.config.settle_timeout,
            interval=self.config.settle_interval,
            stable_frames=self.config.settle_frames,
        )

    def _foreground(self) -> str | None:
        found = _FOCUS.search(self.conn.read("dumpsys window | grep mCurrentFocus"))
        return found.group(1) if found else None

    # ----- coordinates ----------------------------------------------------------------------

    def _input_size(self, shot: tuple[int, int]) -> Size:
        """The input frame, turned like the screenshot (`wm size` is the natural orientation)."""
        w, h = self.display
        return Size(h, w) if (shot[0] > shot[1]) != (w > h) else self.display

    def _to_input(self, x: int, y: int) -> Point:
        shot = self._last_size or self.display
        target = self._input_size(shot)
        return Point(x, y) if target == shot else rescale_point(x, y, Size(*shot), target)

    # ----- acting ---------------------------------------------------------------------------

    def execute(self, action: Action) -> Execution:
        self.validate(action)
        match action:
            case Click():
                if action.button != "left":
                    raise UnsupportedActionError(
                        f"a touchscreen has no {action.button} click; use long_press"
                    )
                x, y = self._to_input(action.x, action.y)
                commands = [f"input tap {x} {y}"] * action.count
            case LongPress():
                x, y = self._to_input(action.x, action.y)
                commands = [f"input swipe {x} {y} {x} {y} {action.duration_ms}"]
            case Swipe() | Drag():
                x, y = self._to_input(action.x, action.y)
                tx, ty = self._to_input(action.to_x, action.to_y)
                ms = action.duration_ms if isinstance(action, Swipe) else self.config.drag_ms
                commands = [f"input swipe {x} {y} {tx} {ty} {ms}"]
            case Scroll():
                commands = [self._scroll(action)]
            case Type():
                commands = self._type(action.text)
            case Key():
                commands = [self._key(action.keys)]
            case Button():
                commands = [f"input keyevent KEYCODE_{BUTTONS[action.name]}"]
            case OpenApp():
                match = self._resolve(action.name)
                commands = [_launch(match)]
            case Wait():
                time.sleep(action.seconds)
                return Execution(detail=f"sleep {action.seconds:g} s")
            case Move() | Answer() | Terminate():
                raise UnsupportedActionError(f"'{action.type}' is not executed on android")
            case _:
                assert_never(action)
        delivery = self.conn.act(commands)
        _check_output(action, delivery.output)
        settle = self._settle()
        self._last_settle = settle
        detail = " && ".join(commands) + (f"  [{delivery.note}]" if delivery.note else "")
        return Execution(detail=detail, settle_seconds=settle)

    def _scroll(self, action: Scroll) -> str:
        shot = self._last_size or self.display
        scale = shot[0] / self._input_size(shot).width
        slop = round(8 * self.density / 160 * scale)
        fx, fy = _FINGER[action.direction]
        # the finger stops at the screen's edge: a longer scroll is shortened, not refused
        reach = action.amount + slop
        if fx:
            reach = min(reach, action.x if fx < 0 else shot[0] - 1 - action.x)
        else:
            reach = min(reach, action.y if fy < 0 else shot[1] - 1 - action.y)
        if reach <= slop:
            raise OutOfBoundsError(
                f"scroll {action.direction} from ({action.x}, {action.y}) has no room: the "
                f"finger would leave the {Size(*shot)} screen within the {slop} px touch slop; "
                "start further from the edge the finger moves to"
            )
        x, y = self._to_input(action.x, action.y)
        ex, ey = self._to_input(action.x + fx * reach, action.y + fy * reach)
        return f"input swipe {x} {y} {ex} {ey} {self.config.scroll_ms}"

    def _key(self, keys: Sequence[str]) -> str:
        codes = []
        for key in keys:
            code = android_keycode(key)
            if code is None:
                raise ActionError(
                    f"Android has no key {key!r}; keys it has: " + ", ".join(mappable_keys())
                )
            codes.append(code)
        if len(codes) == 1:
            return f"input keyevent {codes[0]}"
        return "input keycombination " + " ".join(codes)

    def _type(self, text: str) -> list[str]:
        if is_plain_ascii(text):
            return input_text_commands(text)
        if ADBKEYBOARD_PACKAGE not in self._installed():
            odd = next(c for c in text if not (" " <= c <= "~" or c in "\n\r"))
            raise ActionError(
                f"typing {odd!r} needs the ADBKeyboard IME (`input text` types only ASCII): "
                + ADBKEYBOARD_HINT
            )
        current = self.conn.read("settings get secure default_input_method").strip()
        commands = []
        if current != ADBKEYBOARD_IME:
            commands += [f"ime enable {ADBKEYBOARD_IME}", f"ime set {ADBKEYBOARD_IME}"]
            if self.config.ime_switch_delay > 0:
                # the IME registers its broadcast receiver only once its service has started
                commands.append(f"sleep {self.config.ime_switch_delay:g}")
        commands += adbkeyboard_commands(text)
        if current != ADBKEYBOARD_IME and self.config.restore_ime and "/" in current:
            commands.append(f"ime set {shell_quote(current)}")
        return commands

    # ----- apps -----------------------------------------------------------------------------

    def _installed(self, *, refresh: bool = False) -> list[str]:
        if self._packages is None or refresh:
            output = self.conn.read("pm list packages")
            self._packages = [
                line.removeprefix("package:").strip()
                for line in output.splitlines()
                if line.startswith("package:")
            ]
        return self._packages

    def _resolve(self, name: str) -> AppMatch:
        """The app `name` means, refused (ActionError) when `allowed_apps` excludes it."""
        cutoff = self.config.fuzzy_cutoff
        try:
            match = resolve_app(name, self._installed(), self.config.app_names, cutoff=cutoff)
        except ActionError:
            # an app installed since the list was read may be the one meant
            packages = self._installed(refresh=True)
            match = resolve_app(name, packages, self.config.app_names, cutoff=cutoff)
        allowed = self.config.allowed_apps
        if allowed is not None and not any(fnmatch.fnmatchcase(match.package, p) for p in allowed):
            raise ActionError(
                f"open_app {name!r}: {match.package} is not in the android option allowed_apps "
                f"({', '.join(allowed) or 'empty'}); not opened"
            )
        return match

    def show_calibration(self, targets: Sequence[Point]) -> None:
        """Open the calibration app with a crosshair at each target (screenshot pixels).

        Raises:
            UserError: the device lacks the calibration app (the test device has it).
        """
        if CALIBRATION_PACKAGE not in self._installed(refresh=True):
            raise UserError(
                f"calibrating needs the {CALIBRATION_PACKAGE} app, which paints each tap; "
                "`pixelpilot android-testdevice` has it, a phone does not"
            )
        points = ";".join("{},{}".format(*self._to_input(p.x, p.y)) for p in targets)
        self.conn.act([f"am start -n {CALIBRATION_ACTIVITY} --es targets {shell_quote(points)}"])
        self._last_settle = self._settle()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.conn.close()


def _launch(match: AppMatch) -> str:
    if match.activity is not None:
        return f"am start -n {shell_quote(match.activity)}"
    return f"monkey -p {shell_quote(match.package)} -c android.intent.category.LAUNCHER 1"


def _check_output(action: Action, output: str) -> None:
    """Turn the device's complaints about an action into an ActionError."""
    if "No activities found" in output:
        raise ActionError(f"{action.type}: the app has no launcher activity to open")
    for line in output.splitlines():
        if line.startswith(("Error", "Exception")):
            hint = ""
            if isinstance(action, Key) and len(action.keys) > 1:
                hint = " (key chords use `input keycombination`, Android 13 and later)"
            raise ActionError(f"{action.type}: the device said: {line.strip()}{hint}")
