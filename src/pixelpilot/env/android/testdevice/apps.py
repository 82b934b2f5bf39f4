"""The test device's apps: the launcher, Settings, Notes, Counter, Contacts, Photos, the
calibration screen, and stand-ins for well-known apps (see `ui.py` for the building blocks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from pixelpilot.env.android.testdevice.ui import App, Screen, Widget


class Launcher(App):
    """The home screen: a grid of app icons with labels.

    Like a real launcher's icon view (a TextView with the icon drawn above its text), each
    icon widget covers the icon square and the label under it: a tap on either opens the app.
    """

    on_home = False

    def __init__(self, apps: list[App]) -> None:
        super().__init__("com.android.launcher3", "Launcher", (0, 0, 0))
        self.apps = apps

    @property
    def activity(self) -> str:
        return f"{self.package}/.Launcher"

    @staticmethod
    def icon_size(screen: Screen) -> int:
        """The side of an icon's square in pixels (the widget is taller: the label is below)."""
        return screen.px(150)

    def widgets(self, screen: Screen) -> list[Widget]:
        out = []
        columns = 4 if screen.size.width <= screen.size.height else 6
        cell_w = screen.size.width // columns
        cell_h = screen.px(300)
        icon = self.icon_size(screen)
        label_h = screen.px(80)
        top = screen.status_height + screen.px(120)
        for index, app in enumerate(a for a in self.apps if a.on_home):
            row, col = divmod(index, columns)
            x1 = col * cell_w + screen.px(10)
            y1 = top + row * cell_h
            out.append(
                Widget(
                    f"icon:{app.package}",
                    (x1, y1, x1 + cell_w - screen.px(20) - 1, y1 + icon + label_h - 1),
                    app.label,
                    "icon",
                    color=app.color,
                )
            )
        return out

    def tap(self, widget: Widget | None, x: int, y: int) -> str | None:
        if widget is not None and widget.kind == "icon":
            return widget.key.removeprefix("icon:")
        return None


class SettingsApp(App):
    """Toggles that flip on each tap."""

    NAMES = ("Wi-Fi", "Bluetooth", "Airplane mode", "Dark theme")

    def __init__(self) -> None:
        super().__init__("com.android.settings", "Settings", (96, 125, 139))
        self.toggles: dict[str, bool] = {}
        self.reset()

    @property
    def activity(self) -> str:
        return f"{self.package}/.Settings"

    def reset(self) -> None:
        super().reset()
        self.toggles = {
            "Wi-Fi": True,
            "Bluetooth": False,
            "Airplane mode": False,
            "Dark theme": False,
        }

    def widgets(self, screen: Screen) -> list[Widget]:
        row_h = screen.px(160)
        return [
            Widget(
                f"toggle:{name}",
                (
                    0,
                    screen.content_top + i * row_h,
                    screen.size.width - 1,
                    screen.content_top + (i + 1) * row_h - 1,
                ),
                name,
                "toggle",
                "on" if self.toggles[name] else "off",
            )
            for i, name in enumerate(self.NAMES)
        ]

    def tap(self, widget: Widget | None, x: int, y: int) -> str | None:
        if widget is not None and widget.kind == "toggle":
            name = widget.key.removeprefix("toggle:")
            self.toggles[name] = not self.toggles[name]
        return None


class NotesApp(App):
    """A text field with Save and Clear buttons; saved notes are listed below."""

    def __init__(self) -> None:
        super().__init__("com.pixelpilot.notes", "Notes", (251, 188, 4))
        self.text = ""
        self.saved: list[str] = []

    def reset(self) -> None:
        super().reset()
        self.text = ""
        self.saved = []

    def widgets(self, screen: Screen) -> list[Widget]:
        left, right = screen.px(60), screen.size.width - screen.px(60)
        top = screen.content_top
        field_bottom = top + screen.px(420)
        button_top = field_bottom + screen.px(40)
        button_bottom = button_top + screen.px(130)
        middle = screen.size.width // 2
        out = [
            Widget(
                "field:note", (left, top, right, field_bottom), "Type a note", "field", self.text
            ),
            Widget(
                "button:save",
                (left, button_top, middle - screen.px(20), button_bottom),
                "Save",
                "button",
            ),
            Widget(
                "button:clear",
                (middle + screen.px(20), button_top, right, button_bottom),
                "Clear",
                "button",
                color=(120, 120, 120),
            ),
        ]
        y = button_bottom + screen.px(60)
        for index, note in enumerate(self.saved[-8:]):
            first = note.splitlines()[0] if note else ""
            out.append(
                Widget(
                    f"text:saved{index}", (left, y, right, y + screen.px(70)), f"- {first}", "text"
                )
            )
            y += screen.px(90)
        return out

    def tap(self, widget: Widget | None, x: int, y: int) -> str | None:
        if widget is None:
            return None
        if widget.key == "button:save" and self.text:
            self.saved.append(self.text)
            self.text = ""
        elif widget.key == "button:clear":
            self.text = ""
        return None

    def text_field(self) -> str | None:
        return "field:note"

    def edit(self, field_key: str, text: str) -> None:
        self.text = text

    def field_text(self, field_key: str) -> str:
        return self.text


class CounterApp(App):
    """A +1 button and the count it has reached: double deliveries are impossible to hide."""

    def __init__(self) -> None:
        super().__init__("com.pixelpilot.counter", "Counter", (52, 168, 83))
        self.count = 0

    def reset(self) -> None:
        super().reset()
        self.count = 0

    def widgets(self, screen: Screen) -> list[Widget]:
        left, right = screen.px(140), screen.size.width - screen.px(140)
        top = screen.content_top
        return [
            Widget(
                "text:count",
                (left, top, right, top + screen.px(120)),
                f"Count: {self.count}",
                "text",
            ),
            Widget(
                "button:plus",
                (left, top + screen.px(200), right, top + screen.px(520)),
                "+1",
                "button",
                color=(52, 168, 83),
            ),
            Widget(
                "button:reset",
                (left, top + screen.px(600), right, top + screen.px(740)),
                "Reset",
                "button",
                color=(120, 120, 120),
            ),
        ]

    def tap(self, widget: Widget | None, x: int, y: int) -> str | None:
        if widget is not None and widget.key == "button:plus":
            self.count += 1
        elif widget is not None and widget.key == "button:reset":
            self.count = 0
        return None


class ContactsApp(App):
    """A long list that scrolls with the finger (no fling); tapping a row selects it."""

    NAMES = tuple(
        f"{first} {last}"
        for last in ("Abbott", "Baker", "Chen", "Diaz", "Evans", "Fischer")
        for first in ("Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun")
    )

    def __init__(self) -> None:
        super().__init__("com.android.contacts", "Contacts", (234, 67, 53))
        self.offset = 0
        self.selected: str | None = None

    def reset(self) -> None:
        super().reset()
        self.offset = 0
        self.selected = None

    def row_height(self, screen: Screen) -> int:
        return screen.px(150)

    def max_offset(self, screen: Screen) -> int:
        visible = screen.content_bottom - screen.content_top + 1
        return max(0, len(self.NAMES) * self.row_height(screen) - visible)

    def widgets(self, screen: Screen) -> list[Widget]:
        out = []
        h = self.row_height(screen)
        for index, name in enumerate(self.NAMES):
            y1 = screen.content_top + index * h - self.offset
            if y1 + h - 1 < screen.content_top or y1 > screen.content_bottom:
                continue
            box = (
                0,
                max(y1, screen.content_top),
                screen.size.width - 1,
                min(y1 + h - 1, screen.content_bottom),
            )
            value = "selected" if name == self.selected else ""
            out.append(Widget(f"row:{name}", box, name, "row", value))
        return out

    def tap(self, widget: Widget | None, x: int, y: int) -> str | None:
        if widget is not None and widget.kind == "row":
            self.selected = widget.label
        return None

    def scroll(self, screen: Screen, dy: int) -> None:
        self.offset = min(max(self.offset + dy, 0), self.max_offset(screen))


class PhotosApp(App):
    """Shows one photo-like picture (smooth colour fields and sensor noise, seeded): the kind
    of screen that PNG compresses badly, unlike flat UI."""

    def __init__(self) -> None:
        super().__init__("com.google.android.apps.photos", "Photos", (251, 140, 0))
        self._picture: tuple[tuple[int, int], Image.Image] | None = None

    def picture(self, screen: Screen) -> Image.Image:
        width = screen.size.width
        height = screen.content_bottom - screen.content_top + 1
        if self._picture is None or self._picture[0] != (width, height):
            rng = np.random.default_rng(7)
            ys, xs = np.mgrid[0 : height // 4 + 1, 0 : width // 4 + 1].astype(np.float32)
            channels = [
                110
                + 60 * np.sin(xs / (25 + 5 * c)) * np.cos(ys / (40 - 6 * c))
                + 30 * np.sin((xs + ys) / 70 + c)
                for c in range(3)
            ]
            small = Image.fromarray(np.stack(channels, axis=-1).astype(np.uint8), "RGB")
            smooth = np.asarray(small.resize((width, height), Image.Resampling.BICUBIC))
            grain = rng.integers(-6, 7, size=smooth.shape, dtype=np.int16)
            pixels = np.clip(smooth.astype(np.int16) + grain, 0, 255).astype(np.uint8)
            self._picture = ((width, height), Image.fromarray(pixels, "RGB"))
        return self._picture[1]

    def widgets(self, screen: Screen) -> list[Widget]:
        return []


class CalibrationApp(App):
    """A full-screen surface with crosshairs at the targets that paints every tap as a marker."""

    fullscreen = True
    on_home = False
    MARKER_HALF = 4  # markers are 9x9 squares centred on the tap

    def __init__(self) -> None:
        super().__init__("com.pixelpilot.calibration", "Calibration", (156, 39, 176))
        self.targets: list[tuple[int, int]] = []
        self.taps: list[tuple[int, int]] = []

    @property
    def activity(self) -> str:
        return f"{self.package}/.CalibrationActivity"

    def reset(self) -> None:
        super().reset()
        self.targets = []
        self.taps = []

    def start(self, extras: dict[str, str]) -> None:
        self.taps = []
        self.targets = []
        for pair in filter(None, extras.get("targets", "").split(";")):
            x, _, y = pair.partition(",")
            if x.strip().isdigit() and y.strip().isdigit():
                self.targets.append((int(x), int(y)))

    def widgets(self, screen: Screen) -> list[Widget]:
        return []

    def tap(self, widget: Widget | None, x: int, y: int) -> str | None:
        self.taps.append((x, y))
        return None


@dataclass
class Catalog:
    """The packages installed on the test device, with the app behind each launchable one."""

    apps: dict[str, App] = field(default_factory=dict)
    services: tuple[str, ...] = ()
    installed: set[str] = field(default_factory=set)
    """Packages installed over ADB (`pm install`), which `pm uninstall` may remove."""

    @property
    def packages(self) -> list[str]:
        return sorted([*self.apps, *self.services])


GENERIC_APPS = (
    ("com.android.chrome", "Chrome", (219, 68, 55)),
    ("com.google.android.gm", "Gmail", (234, 67, 53)),
    ("com.google.android.apps.maps", "Maps", (15, 157, 88)),
    ("com.google.android.deskclock", "Clock", (63, 81, 181)),
    ("com.android.camera2", "Camera", (33, 33, 33)),
)


def default_catalog(*, adbkeyboard: bool) -> Catalog:
    """Settings, Contacts, Notes, Counter, the stand-ins, the calibration app and the launcher."""
    apps: list[App] = [SettingsApp(), ContactsApp(), NotesApp(), CounterApp(), PhotosApp()]
    apps += [App(package, label, color) for package, label, color in GENERIC_APPS]
    apps.append(CalibrationApp())
    launcher = Launcher(apps)
    services = ["com.android.systemui", "com.android.shell", "com.google.android.inputmethod.latin"]
    if adbkeyboard:
        services.append("com.android.adbkeyboard")
    catalog = Catalog({app.package: app for app in [launcher, *apps]}, tuple(services))
    return catalog
