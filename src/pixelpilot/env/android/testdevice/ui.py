"""The building blocks of the test device's screens: widgets, screen geometry, the App base.

Every app describes its screen as a list of Widgets (boxes in device pixels) that the renderer
draws and the phone hit-tests. Layouts scale with the screen width (unit `u` = width / 1080).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pixelpilot.actions import Size

WidgetKind = Literal["icon", "button", "toggle", "field", "row", "text"]


@dataclass(frozen=True)
class Widget:
    """One thing on screen. `box` is (x1, y1, x2, y2) in device pixels, edges inclusive."""

    key: str
    box: tuple[int, int, int, int]
    label: str
    kind: WidgetKind
    value: str = ""
    color: tuple[int, int, int] = (66, 133, 244)

    def contains(self, x: float, y: float) -> bool:
        x1, y1, x2, y2 = self.box
        return x1 <= x <= x2 and y1 <= y <= y2


@dataclass
class Screen:
    """Geometry shared by all apps: the screen, the system bars and the content area."""

    size: Size
    density: int

    @property
    def u(self) -> float:
        """Layout unit: the short side / 1080, so a turned screen keeps its proportions."""
        return min(self.size) / 1080

    @property
    def status_height(self) -> int:
        return round(80 * self.u)

    @property
    def nav_height(self) -> int:
        return round(126 * self.u)

    @property
    def content_top(self) -> int:
        return self.status_height + round(150 * self.u)

    @property
    def content_bottom(self) -> int:
        return self.size.height - self.nav_height - 1

    def px(self, value: float) -> int:
        return round(value * self.u)


class App:
    """An app with a launcher icon. Subclasses override `widgets`, `tap` and friends."""

    fullscreen = False
    on_home = True

    def __init__(self, package: str, label: str, color: tuple[int, int, int]) -> None:
        self.package = package
        self.label = label
        self.color = color
        self.long_pressed: str | None = None

    @property
    def activity(self) -> str:
        return f"{self.package}/.MainActivity"

    def reset(self) -> None:
        """Forget all state (am force-stop)."""
        self.long_pressed = None

    def start(self, extras: dict[str, str]) -> None:
        """Called when an intent brings the app to the front, with its string extras."""

    def widgets(self, screen: Screen) -> list[Widget]:
        return [
            Widget(
                "text:about",
                (
                    screen.px(60),
                    screen.content_top,
                    screen.size.width - screen.px(60),
                    screen.content_top + screen.px(80),
                ),
                f"{self.label}: a stand-in app on the pixelpilot test device",
                "text",
            )
        ]

    def tap(self, widget: Widget | None, x: int, y: int) -> str | None:
        """React to a tap; may return a package to launch."""
        return None

    def long_press(self, widget: Widget | None) -> None:
        self.long_pressed = widget.key if widget is not None else None

    def scroll(self, screen: Screen, dy: int) -> None:
        """Content moved up by `dy` pixels (negative: down)."""

    def text_field(self) -> str | None:
        """The key of the app's text field, if it has one."""
        return None

    def edit(self, field_key: str, text: str) -> None:
        """Replace the content of a text field."""

    def field_text(self, field_key: str) -> str:
        return ""
