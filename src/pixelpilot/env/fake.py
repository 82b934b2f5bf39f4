"""FakeEnv: a deterministic, in-memory environment of generated screens for tests and demos.

Each screen is a set of labelled rectangles drawn on a plain background. A click inside an element
with `goto` switches to that screen; a click on a `field` focuses it and `type` appends to its
text. Every executed action is kept in `executed`. No display, browser or device is involved.
"""

from __future__ import annotations

import time
from typing import Literal

from PIL import Image, ImageDraw, ImageFont
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pixelpilot.actions import (
    ACTION_TYPES,
    Action,
    Box,
    Click,
    Observation,
    Outcome,
    Platform,
    Size,
    Task,
    Type,
    describe,
)
from pixelpilot.env.base import EnvironmentBase, Execution
from pixelpilot.errors import ConfigError


class FakeElement(BaseModel):
    """A labelled rectangle; `box` is [x1, y1, x2, y2] in screen pixels, edges inclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    box: tuple[int, int, int, int]
    kind: Literal["button", "field", "text"] = "button"
    goto: str | None = Field(None, description="screen shown after a click inside the box")


class FakeScreen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    elements: tuple[FakeElement, ...] = ()


def _default_screens() -> tuple[FakeScreen, ...]:
    def button(label: str, x: int, y: int, goto: str | None = None) -> FakeElement:
        return FakeElement(label=label, box=(x, y, x + 239, y + 79), goto=goto)

    return (
        FakeScreen(
            name="home",
            title="Home",
            elements=(
                button("Settings", 80, 160, "settings"),
                button("Mail", 380, 160, "mail"),
                button("Search", 680, 160, "search"),
                button("Files", 980, 160),
            ),
        ),
        FakeScreen(
            name="settings",
            title="Settings",
            elements=(
                button("Wi-Fi", 80, 160, "wifi"),
                button("Display", 380, 160),
                button("Back", 80, 640, "home"),
            ),
        ),
        FakeScreen(
            name="wifi",
            title="Wi-Fi",
            elements=(
                FakeElement(label="Wi-Fi is on", box=(80, 160, 619, 239), kind="text"),
                button("Back", 80, 640, "settings"),
            ),
        ),
        FakeScreen(
            name="mail",
            title="Mail",
            elements=(
                FakeElement(label="To", box=(80, 160, 879, 219), kind="field"),
                FakeElement(label="Message", box=(80, 260, 879, 459), kind="field"),
                button("Send", 80, 500, "sent"),
                button("Back", 80, 640, "home"),
            ),
        ),
        FakeScreen(
            name="sent",
            title="Message sent",
            elements=(button("Back", 80, 640, "home"),),
        ),
        FakeScreen(
            name="search",
            title="Search",
            elements=(
                FakeElement(label="Query", box=(80, 160, 879, 219), kind="field"),
                button("Back", 80, 640, "home"),
            ),
        ),
    )


SCREEN_LIMITS = (100, 16384)
"""Pixels per side of a fake screen: the limits of the desktop's virtual display
(`pixelpilot.env.desktop.config.VIRTUAL_DISPLAY_LIMITS`), so that a size that works here works
there; a larger one would only allocate an image too large to draw (100000 px: MemoryError)."""


class FakeEnvConfig(BaseModel):
    """Options of the fake environment."""

    model_config = ConfigDict(extra="forbid")

    width: int = Field(1280, description="screen width in pixels (100 to 16384)")
    height: int = Field(800, description="screen height in pixels (100 to 16384)")
    platform: Platform = Field(
        "desktop",
        description="the interface the generated screens stand in for, which picks the "
        "policy's tool set: desktop or browser (mouse and keyboard) or android (touch); "
        "nothing real runs whatever it says",
    )
    screens: tuple[FakeScreen, ...] = Field(
        default_factory=_default_screens,
        description="the screens: each {name, title, elements}, an element {label, box = "
        "[x1, y1, x2, y2] in pixels, kind = button|field|text, goto = a screen's name}; "
        "default: home, settings, wifi, mail, sent, search",
    )
    start: str = Field("home", description="the screen shown after reset")
    delay: float = Field(0.0, ge=0, description="seconds each action takes (for timeout tests)")

    @field_validator("width", "height")
    @classmethod
    def _check_side(cls, value: int) -> int:
        low, high = SCREEN_LIMITS
        if not low <= value <= high:
            raise ValueError(
                f"a screen side of {value} pixels is outside the limits: "
                f"each side from {low} to {high} pixels (e.g. width=1280 height=800)"
            )
        return value


class FakeEnv(EnvironmentBase):
    """A scripted screen world. Task names `fake:SCREEN` succeed when SCREEN is showing."""

    name = "fake"
    supported_actions = frozenset(ACTION_TYPES) - {"answer", "terminate"}
    Config = FakeEnvConfig
    deterministic = True  # the same actions from a reset draw the same screens (check_env)

    def __init__(self, config: FakeEnvConfig | None = None) -> None:
        self.config = config or FakeEnvConfig()
        self._screens = {s.name: s for s in self.config.screens}
        if self.config.start not in self._screens:
            raise ConfigError(
                f"fake env: start screen {self.config.start!r} is not one of "
                + ", ".join(sorted(self._screens))
            )
        for screen in self.config.screens:
            for el in screen.elements:
                if el.goto is not None and el.goto not in self._screens:
                    raise ConfigError(
                        f"fake env: element {el.label!r} on {screen.name!r} goes to unknown "
                        f"screen {el.goto!r}"
                    )
        self.size = Size(self.config.width, self.config.height)
        self.executed: list[Action] = []
        self.current = self.config.start
        self.texts: dict[tuple[str, str], str] = {}
        self.focus: str | None = None
        self.task: Task | None = None
        self.closed = False
        self._font = ImageFont.load_default()

    def reset(self, *, task: Task | None = None) -> Observation:
        self.task = task
        self.current = self.config.start
        self.texts.clear()
        self.focus = None
        self.executed.clear()
        return self.observe()

    def observe(self) -> Observation:
        start = time.perf_counter()
        image = self.render()
        return self.remember(
            Observation(
                screenshot=image,
                platform=self.config.platform,
                app=self.current,
                capture_seconds=time.perf_counter() - start,
            )
        )

    def render(self) -> Image.Image:
        """Draw the current screen: title bar, then each element as an outlined box."""
        screen = self._screens[self.current]
        image = Image.new("RGB", self.size, (245, 245, 245))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, self.size.width - 1, 59), fill=(40, 60, 120))
        draw.text((20, 20), screen.title, fill=(255, 255, 255), font=self._font)
        for el in screen.elements:
            fill = {"button": (200, 215, 240), "field": (255, 255, 255), "text": (245, 245, 245)}
            outline = (30, 30, 30) if el.label == self.focus else (120, 120, 120)
            draw.rectangle(el.box, fill=fill[el.kind], outline=outline, width=2)
            text = el.label
            if el.kind == "field":
                typed = self.texts.get((self.current, el.label), "")
                text = f"{el.label}: {typed}" if typed else el.label
            draw.text((el.box[0] + 12, el.box[1] + 12), text, fill=(0, 0, 0), font=self._font)
        return image

    def element_at(self, x: int, y: int) -> FakeElement | None:
        for el in self._screens[self.current].elements:
            if Box(*el.box).contains(x, y):
                return el
        return None

    def execute(self, action: Action) -> Execution:
        self.validate(action)
        if self.config.delay:
            time.sleep(self.config.delay)
        self.executed.append(action)
        if isinstance(action, Click) and action.button == "left":
            el = self.element_at(action.x, action.y)
            if el is not None and el.kind == "field":
                self.focus = el.label
            elif el is not None and el.goto is not None:
                self.current = el.goto
                self.focus = None
        elif isinstance(action, Type) and self.focus is not None:
            key = (self.current, self.focus)
            self.texts[key] = self.texts.get(key, "") + action.text
        return Execution(detail=describe(action))

    def evaluate(self, *, answer: str | None = None) -> Outcome | None:
        if self.task is None or not (self.task.name or "").startswith("fake:"):
            return None
        target = (self.task.name or "").removeprefix("fake:")
        ok = self.current == target
        return Outcome(success=ok, detail=f"showing {self.current!r}, wanted {target!r}")

    def close(self) -> None:
        self.closed = True


class FakeTaskSuite:
    """`fake:SCREEN`: open that screen of the fake environment's default screens.

    Judged by the environment (the task succeeds when SCREEN is showing at the end).
    """

    name = "fake"
    environments = ("fake",)
    description = "the fake environment's screens"

    def _screens(self) -> list[str]:
        return [screen.name for screen in _default_screens()]

    def tasks(self) -> list[Task]:
        return [self._task(name) for name in self._screens()]

    def _task(self, name: str) -> Task:
        return Task(goal=f"open the {name} screen", name=f"fake:{name}")

    def get(self, name: str) -> Task:
        from pixelpilot.env.tasks import unknown_task

        short = name.removeprefix("fake:")
        if short not in self._screens():
            raise unknown_task("fake", short, self._screens())
        return self._task(short)


FAKE_TASKS = FakeTaskSuite()
