"""Every sandbox task solved for real: headless Chromium, the agent loop, and a policy whose
actions are computed from element positions on the live page (as a model reading the screen
would), judged by the task's own check through `BrowserEnv.evaluate`."""

from __future__ import annotations

import pytest

from pixelpilot.actions import Answer, Click, Drag, Key, Move, Observation, Scroll, Type, Wait
from pixelpilot.agent import run_episode
from pixelpilot.env.browser.env import BrowserEnv
from pixelpilot.env.browser.sandbox import get_task, list_tasks
from tests.env.browser.support import (
    PagePolicy,
    Step,
    box_center,
    locate,
    module_env,
    page,
)

pytestmark = pytest.mark.browser


def click(selector: str, **options: object) -> Step:
    def step(env: BrowserEnv, obs: Observation) -> Click:
        point = locate(env, selector)
        return Click.model_validate({"x": point.x, "y": point.y, **options})

    return step


def type_(text: str) -> Step:
    return lambda env, obs: Type(text=text)


def key(*keys: str) -> Step:
    return lambda env, obs: Key(keys=keys)


def move(selector: str) -> Step:
    return lambda env, obs: Move(x=locate(env, selector).x, y=locate(env, selector).y)


def scroll_into_view(selector: str) -> Step:
    """Scroll down just far enough that the element sits 40 CSS px above the bottom edge."""

    def step(env: BrowserEnv, obs: Observation) -> Scroll:
        box = page(env).locator(selector).bounding_box()
        below = box["y"] + box["height"] + 40 - env.viewport.height
        assert below > 0, f"{selector} is already on screen"
        centre = obs.size.width // 2, obs.size.height // 2
        return Scroll(x=centre[0], y=centre[1], direction="down", amount=round(below * env.scale))

    return step


def drag_volume_to(value: int) -> Step:
    def step(env: BrowserEnv, obs: Observation) -> Drag:
        thumb = locate(env, "#thumb")
        track = page(env).locator("#track").bounding_box()
        target = box_center(env, {**track, "x": track["x"] + 5 * value, "width": 0})
        return Drag(x=thumb.x, y=thumb.y, to_x=target.x, to_y=thumb.y)

    return step


def answer_order_status(env: BrowserEnv, obs: Observation) -> Answer:
    cells = page(env).locator("tr", has_text="#4417").locator("td")
    return Answer(text=cells.nth(3).inner_text())


def answer_from_tooltip(env: BrowserEnv, obs: Observation) -> Answer:
    tip = page(env).locator("#upload .tip")
    assert tip.is_visible(), "hovering the badge should show its tooltip"
    return Answer(text=tip.inner_text().split(": ", 1)[1])


SOLUTIONS: dict[str, list[Step]] = {
    "sign-in": [
        click("#username"),
        type_("ada"),
        click("#password"),
        type_("lovelace-1843"),
        click("#submit"),
    ],
    "toggle-setting": [click("#switch-twoFactor")],
    "pick-dropdown": [
        click("#country-button"),
        click("#country-list li:text-is('Portugal')"),
        click("#save"),
    ],
    "add-item": [click("#new-item"), type_("Crème brûlée für Zoë\n")],
    "accept-terms": [scroll_into_view("#accept"), click("#accept")],
    "close-modal": [click("#close")],
    "rename-note": [click(".title:text-is('Groceries')", count=2), type_("Weekend groceries\n")],
    "delete-file": [
        click("#files li:has-text('old-draft.txt')", button="right"),
        click("#menu-delete"),
    ],
    "save-shortcut": [key("ctrl", "s")],
    "set-volume": [drag_volume_to(75)],
    "checkout": [
        click("#add-blue-mug"),
        click("#add-blue-mug"),
        click("#cart-link"),
        click("#checkout"),
        click("#name"),
        type_("Grace Hopper"),
        click("#address"),
        type_("12 Harbour Road"),
        click("input[value=standard]"),
        click("#place"),
    ],
    "order-status": [answer_order_status],
    "find-contact": [
        click("#search"),
        type_("Hamilton"),
        click("#people button:text-is('Margaret Hamilton')"),
    ],
    "upload-limit": [move("#upload"), answer_from_tooltip],
}

WRONG: dict[str, list[Step]] = {
    "sign-in": [click("#username"), type_("ada"), click("#password"), type_("lovelace\n")],
    "set-volume": [drag_volume_to(74)],
    "order-status": [lambda env, obs: Answer(text="Shipped")],
}


env_fixture = module_env("env")
env2_fixture = module_env("env2", device_scale_factor=2.0)


def test_every_task_has_a_solution() -> None:
    assert sorted(SOLUTIONS) == sorted(str(t.name).removeprefix("sandbox:") for t in list_tasks())


def solve(env: BrowserEnv, name: str, steps: list[Step]) -> None:
    task = get_task(name)

    def unsolved_at_start(env: BrowserEnv, obs: Observation) -> Wait:
        before = env.evaluate(answer="")
        assert before is not None and not before.success, f"{name} is solved before any action"
        return Wait(seconds=0)

    policy = PagePolicy(env, [unsolved_at_start, *steps])
    trajectory = run_episode(env, policy, task, max_steps=len(steps) + 2)
    errors = [step.error for step in trajectory.steps if step.error]
    assert not errors, errors
    expected = "answered" if task.expected_answer is not None else "terminated"
    assert trajectory.status == expected, trajectory.reason
    assert trajectory.outcome is not None and trajectory.outcome.success, trajectory.outcome


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_scripted_run_solves_the_task(env: BrowserEnv, name: str) -> None:
    solve(env, name, SOLUTIONS[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_scripted_run_solves_the_task_at_scale_2(env2: BrowserEnv, name: str) -> None:
    solve(env2, name, SOLUTIONS[name])


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_wrong_run_fails_the_check(env: BrowserEnv, name: str) -> None:
    task = get_task(name)
    trajectory = run_episode(env, PagePolicy(env, WRONG[name]), task, max_steps=10)
    assert trajectory.outcome is not None and not trajectory.outcome.success
