"""Helpers for the browser and sandbox tests: real headless Chromium on local pages.

Positions are read from the live page (Playwright bounding boxes, CSS pixels) and turned into
screenshot pixels the way a policy would see them: the device pixel under the box's centre.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pixelpilot.actions import Action, Observation, Point, Task, Terminate
from pixelpilot.env import create_env
from pixelpilot.env.browser.env import BrowserEnv
from pixelpilot.model import History, PolicyBase, Prediction

# Short settle and call timeouts keep the tests quick; the pages are local and static.
FAST = {"settle_timeout": 1.0, "settle_interval": 0.03}


def data_url(html: str) -> str:
    return "data:text/html;base64," + base64.b64encode(html.encode()).decode()


def page_task(html: str, goal: str = "probe") -> Task:
    """A free task whose start page is `html` (a data: URL, so no server is involved)."""
    return Task(goal=goal, start_url=data_url(html))


def open_env(**options: Any) -> BrowserEnv:
    """A browser environment built as the CLI builds it (the launch happens at reset)."""
    env = create_env("browser", {**FAST, **options})
    assert isinstance(env, BrowserEnv)
    return env


def module_env(name: str, **options: Any) -> Any:
    """A module-scoped fixture called `name`: one headless browser shared by the module's tests
    (each test resets it), closed at the end."""

    @pytest.fixture(scope="module", name=name)
    def fixture() -> Iterator[BrowserEnv]:
        environment = open_env(**options)
        yield environment
        environment.close()

    return fixture


def page(env: BrowserEnv) -> Any:
    assert env.session is not None
    return env.session.page


def js(env: BrowserEnv, expression: str) -> Any:
    return page(env).evaluate(expression)


def box_center(env: BrowserEnv, box: dict[str, float]) -> Point:
    """The screenshot pixel under the centre of a CSS-pixel box; it must be on screen."""
    x = math.floor((box["x"] + box["width"] / 2) * env.scale)
    y = math.floor((box["y"] + box["height"] / 2) * env.scale)
    size = env.viewport.width * env.scale, env.viewport.height * env.scale
    assert 0 <= x < size[0] and 0 <= y < size[1], f"({x}, {y}) is off screen"
    return Point(x, y)


def locate(env: BrowserEnv, selector: str) -> Point:
    """Screenshot-pixel centre of the first element matching a Playwright selector."""
    box = page(env).locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not visible"
    return box_center(env, box)


Step = Callable[[BrowserEnv, Observation], Action]


class PagePolicy(PolicyBase):
    """Plays `steps` in order, each computing its action from the live page; then terminates
    with success. It stands in for a model that reads positions off the screen."""

    def __init__(self, env: BrowserEnv, steps: list[Step]) -> None:
        self.env, self.steps, self.position = env, steps, 0

    def predict(self, observation: Observation, history: History) -> Prediction:
        if self.position >= len(self.steps):
            return Prediction(action=Terminate(status="success"), raw_text="done")
        action = self.steps[self.position](self.env, observation)
        self.position += 1
        return Prediction(action=action, raw_text=action.model_dump_json())
