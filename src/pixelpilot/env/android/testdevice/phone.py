"""The virtual phone behind the test device: app stack, focus, keys, touches and frames.

All coordinates are device pixels. Callers hold the device lock; the phone itself is not
thread-safe. Every state change bumps `version`, which keys the frame caches.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from pixelpilot.actions import Size
from pixelpilot.env.android.testdevice.apps import Launcher, default_catalog
from pixelpilot.env.android.testdevice.render import encode_png, encode_raw, render
from pixelpilot.env.android.testdevice.ui import App, Screen, Widget

DEFAULT_IME = "com.google.android.inputmethod.latin/com.android.inputmethod.latin.LatinIME"
ADB_IME = "com.android.adbkeyboard/.AdbIME"
LONG_PRESS_MS = 500
SECONDARY_SIZE = Size(1280, 720)


@dataclass(frozen=True)
class Touch:
    """A touch gesture the phone received, in device pixels."""

    kind: Literal["tap", "long_press", "scroll", "swipe"]
    start: tuple[int, int]
    end: tuple[int, int]
    duration_ms: int
    target: str | None


class VirtualPhone:
    """Screens, apps and input handling of the test device.

    Args:
        size: the display in pixels (what `wm size` reports and `screencap` captures).
        density: dots per inch (what `wm density` reports); the touch slop is 8 dp of it.
        adbkeyboard: whether the ADBKeyboard IME is installed (it starts out not enabled).
        animation_ms: how long app transitions animate (0: switches are instant).
        raw_header: 16 (newer Android: width, height, format, colorspace) or 12 bytes.
        displays: how many displays the phone has; the second (and any further) one is an
            external 1280x720 screen showing a blank presentation.

    Attributes:
        physical: the natural display size (portrait for a phone) that `wm size` reports.
        override_size, override_density: set by `wm size WxH` / `wm density D` (None: reset).
        rotation: 0-3, quarter turns counter-clockwise (`settings put system user_rotation`);
            at 1 and 3 the screen, screenshots and input coordinates are landscape.
    """

    def __init__(
        self,
        size: Size,
        density: int,
        *,
        adbkeyboard: bool = False,
        animation_ms: int = 0,
        raw_header: int = 16,
        displays: int = 1,
    ) -> None:
        self.physical = size
        self.physical_density = density
        self.override_size: Size | None = None
        self.override_density: int | None = None
        self.rotation = 0
        self.displays = displays
        self.screen = Screen(size, density)
        self.catalog = default_catalog(adbkeyboard=adbkeyboard)
        self.launcher = next(a for a in self.catalog.apps.values() if isinstance(a, Launcher))
        self.stack: list[App] = [self.launcher]
        self.focus: str | None = None
        self.volume = 7
        self.screen_on = True
        self.touches: list[Touch] = []
        self.keys: list[str] = []
        self.dropped_text: list[str] = []
        self.ime_available = [DEFAULT_IME] + ([ADB_IME] if adbkeyboard else [])
        self.ime_enabled = [DEFAULT_IME]
        self.ime = DEFAULT_IME
        self.animation_ms = animation_ms
        self.raw_header = raw_header
        self.slop = round(8 * density / 160)
        self.version = 0
        self._transition_start: float | None = None
        self._cache: dict[str, tuple[int, bytes | Image.Image]] = {}

    @property
    def size(self) -> Size:
        return self.screen.size

    @property
    def top(self) -> App:
        return self.stack[-1]

    def app(self, package: str) -> App | None:
        return self.catalog.apps.get(package)

    def apply_geometry(self) -> None:
        """Recompute the screen after a rotation or a `wm` override."""
        w, h = self.override_size or self.physical
        self.screen.size = Size(h, w) if self.rotation % 2 else Size(w, h)
        self.screen.density = self.override_density or self.physical_density
        self.slop = round(8 * self.screen.density / 160)
        self.changed()

    def rotate(self, rotation: int) -> None:
        """Turn the display to `rotation` (0-3 quarter turns)."""
        self.rotation = rotation % 4
        self.apply_geometry()

    def changed(self, *, transition: bool = False) -> None:
        self.version += 1
        if transition and self.animation_ms > 0:
            self._transition_start = time.monotonic()

    # ----- touches -----------------------------------------------------------------------

    def _hit(self, x: int, y: int) -> Widget | None:
        for widget in self.top.widgets(self.screen):
            if widget.contains(x, y):
                return widget
        return None

    def _system_area(self, x: int, y: int) -> bool:
        """Handle a touch on the status or navigation bar; True when it landed there."""
        if self.top.fullscreen:
            return False
        if y < self.screen.status_height:
            return True
        if y >= self.size.height - self.screen.nav_height:
            third = self.size.width / 3
            if x < third:
                self.back()
            elif x < 2 * third:
                self.home()
            return True
        return False

    def tap(self, x: int, y: int) -> None:
        widget = None if not self.screen_on else self._hit(x, y)
        self.touches.append(Touch("tap", (x, y), (x, y), 0, widget.key if widget else None))
        if not self.screen_on or self._system_area(x, y):
            return
        if widget is not None and widget.kind == "field":
            self.focus = widget.key
        launch = self.top.tap(widget, x, y)
        self.changed()
        if launch is not None:
            self.launch(launch)

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None:
        """A finger moving from (x1, y1) to (x2, y2) in `duration_ms` (no fling afterwards)."""
        distance = math.dist((x1, y1), (x2, y2))
        if distance < self.slop:
            if duration_ms >= LONG_PRESS_MS:
                widget = self._hit(x1, y1) if self.screen_on else None
                self.touches.append(
                    Touch(
                        "long_press",
                        (x1, y1),
                        (x2, y2),
                        duration_ms,
                        widget.key if widget else None,
                    )
                )
                if self.screen_on:
                    self.top.long_press(widget)
                    self.changed()
            else:
                self.tap(x1, y1)
            return
        widget = self._hit(x1, y1) if self.screen_on else None
        self.touches.append(
            Touch("scroll", (x1, y1), (x2, y2), duration_ms, widget.key if widget else None)
        )
        if not self.screen_on:
            return
        dy = y1 - y2
        if abs(dy) >= abs(x2 - x1):
            # the first `slop` pixels only decide that this is a drag, as on Android
            moved = int(math.copysign(max(abs(dy) - self.slop, 0), dy))
            self.top.scroll(self.screen, moved)
            self.changed()

    # ----- keys and text -----------------------------------------------------------------

    def key(self, name: str) -> None:
        """Press the key `name` (a KEYCODE_* name)."""
        self.keys.append(name)
        if name in ("KEYCODE_POWER", "KEYCODE_SLEEP", "KEYCODE_WAKEUP"):
            on = {"KEYCODE_POWER": not self.screen_on, "KEYCODE_SLEEP": False}
            self.screen_on = on.get(name, True)
            self.changed()
            return
        if name in ("KEYCODE_VOLUME_UP", "KEYCODE_VOLUME_DOWN", "KEYCODE_VOLUME_MUTE"):
            step = {"KEYCODE_VOLUME_UP": 1, "KEYCODE_VOLUME_DOWN": -1}.get(name)
            self.volume = 0 if step is None else min(max(self.volume + step, 0), 15)
            self.changed()
            return
        if not self.screen_on:
            return
        if name == "KEYCODE_HOME":
            self.home()
        elif name == "KEYCODE_BACK":
            self.back()
        elif name == "KEYCODE_DEL":
            self._edit(lambda text: text[:-1])
        elif name == "KEYCODE_ENTER":
            self._edit(lambda text: text + "\n")
        elif name == "KEYCODE_SPACE":
            self._edit(lambda text: text + " ")
        else:
            suffix = name.removeprefix("KEYCODE_")
            if len(suffix) == 1 and suffix.isalnum():
                self._edit(lambda text: text + suffix.lower())

    def _edit(self, change: Callable[[str], str]) -> bool:
        if self.focus is None:
            return False
        self.top.edit(self.focus, change(self.top.field_text(self.focus)))
        self.changed()
        return True

    def type_text(self, text: str) -> None:
        """Commit `text` to the focused field (dropped, and remembered, when none has focus)."""
        if self.screen_on and self._edit(lambda old: old + text):
            return
        self.dropped_text.append(text)

    # ----- apps ----------------------------------------------------------------------------

    def launch(self, package: str, extras: dict[str, str] | None = None) -> bool:
        """Bring `package` to the front; False when it has no activity to show."""
        app = self.app(package)
        if app is None:
            return False
        if app is self.launcher:
            self.home()
            return True
        if app in self.stack:
            self.stack.remove(app)
        self.stack.append(app)
        app.start(extras or {})
        self.focus = None
        self.changed(transition=True)
        return True

    def install(self, package: str, label: str) -> None:
        """Register an installed app: it gets a launcher icon and can be opened."""
        if package not in self.catalog.apps:
            digest = hashlib.sha256(package.encode()).digest()
            app = App(package, label, (digest[0] // 2 + 64, digest[1] // 2 + 64, digest[2] // 2))
            self.catalog.apps[package] = app
            self.catalog.installed.add(package)
            self.launcher.apps.append(app)
            self.changed()

    def uninstall(self, package: str) -> bool:
        """Remove an app `install` added (system apps stay); False when there was none."""
        app = self.catalog.apps.get(package)
        if app is None or package not in self.catalog.installed:
            return False
        self.force_stop(package)
        del self.catalog.apps[package]
        self.catalog.installed.discard(package)
        self.launcher.apps.remove(app)
        self.changed()
        return True

    def force_stop(self, package: str) -> None:
        app = self.app(package)
        if app is None or app is self.launcher:
            return
        app.reset()
        if app in self.stack:
            self.stack.remove(app)
            self.focus = None
        self.changed()

    def home(self) -> None:
        self.stack = [self.launcher]
        self.focus = None
        self.changed(transition=True)

    def back(self) -> None:
        if self.focus is not None:
            self.focus = None  # the first back only hides the keyboard
            self.changed()
        elif len(self.stack) > 1:
            self.stack.pop()
            self.changed(transition=True)

    def foreground(self) -> str:
        """The focused activity, as `package/activity`."""
        return self.top.activity

    # ----- frames ----------------------------------------------------------------------------

    @property
    def animating(self) -> bool:
        """True while an app transition is still on screen."""
        return self._animating() is not None

    def _animating(self) -> float | None:
        if self._transition_start is None:
            return None
        progress = (time.monotonic() - self._transition_start) * 1000 / self.animation_ms
        if progress >= 1:
            self._transition_start = None
            return None
        return progress

    def frame(self) -> Image.Image:
        """The screen as an RGB image; mid-transition frames slide the new screen in."""
        if not self.screen_on:
            return Image.new("RGB", self.size, (0, 0, 0))
        progress = self._animating()
        cached = self._cache.get("frame")
        if cached is not None and cached[0] == self.version and isinstance(cached[1], Image.Image):
            image = cached[1]
        else:
            image = render(self.screen, self.top, focus=self.focus, volume=self.volume)
            self._cache["frame"] = (self.version, image)
        if progress is None:
            return image
        shifted = Image.new("RGB", self.size, (60, 60, 60))
        shifted.paste(image, (round((1 - progress) * self.size.width * 0.4), 0))
        return shifted

    def _encoded(self, kind: str) -> bytes:
        # A phone re-encodes the PNG on every call but reads raw pixels straight from the
        # framebuffer, so only the raw bytes are cached (benchmarks compare the two honestly).
        animating = self._animating() is not None
        cached = self._cache.get(kind)
        if kind == "raw" and not animating and cached is not None and cached[0] == self.version:
            data = cached[1]
            assert isinstance(data, bytes)
            return data
        image = self.frame()
        data = encode_png(image) if kind == "png" else encode_raw(image, self.raw_header)
        if kind == "raw" and not animating:
            self._cache[kind] = (self.version, data)
        return data

    def secondary_frame(self) -> Image.Image:
        """The external display's picture (displays after the first)."""
        return Image.new("RGB", SECONDARY_SIZE, (24, 24, 48))

    def screencap_png(self) -> bytes:
        """What `screencap -p` prints: a PNG of the screen."""
        return self._encoded("png")

    def screencap_raw(self) -> bytes:
        """What `screencap` prints: the header, then RGBA_8888 pixels row by row."""
        return self._encoded("raw")
