"""FakeEnv behaves deterministically and passes the conformance checker."""

from __future__ import annotations

import pytest
from PIL import Image

from pixelpilot.actions import Click, Key, Observation, Task, Type
from pixelpilot.env import (
    EnvCheckError,
    EnvironmentBase,
    Execution,
    FakeEnv,
    FakeEnvConfig,
    check_env,
    create_env,
)
from pixelpilot.errors import ConfigError, OutOfBoundsError, UnknownNameError


def test_fake_env_passes_check_env() -> None:
    passed = {r.name for r in check_env(FakeEnv())}
    assert "close twice" in passed and "bounds click" in passed


def test_screens_are_deterministic_and_clicks_change_them() -> None:
    env = FakeEnv()
    first = env.reset()
    again = FakeEnv().reset()
    assert first.size == (1280, 800)
    assert first.pixel_digest() == again.pixel_digest()
    env.execute(Click(x=200, y=200))  # the Settings button
    settings = env.observe()
    assert env.current == "settings" and settings.app == "settings"
    assert settings.pixel_digest() != first.pixel_digest()
    env.execute(Click(x=1279, y=799))  # empty space: nothing changes
    assert env.observe().pixel_digest() == settings.pixel_digest()
    assert env.executed == [Click(x=200, y=200), Click(x=1279, y=799)]


def test_typing_goes_into_the_focused_field_and_shows() -> None:
    env = FakeEnv()
    env.reset()
    env.execute(Click(x=500, y=200))  # Mail
    before = env.observe().pixel_digest()
    env.execute(Click(x=300, y=190))  # the To field
    env.execute(Type(text="ana@example.org"))
    env.execute(Key(keys=("enter",)))
    assert env.texts[("mail", "To")] == "ana@example.org"
    assert env.observe().pixel_digest() != before


def test_fake_tasks_are_judged_by_the_screen_showing() -> None:
    env = FakeEnv()
    env.reset(task=Task(goal="open wifi", name="fake:wifi"))
    outcome = env.evaluate()
    assert outcome is not None and not outcome.success
    env.execute(Click(x=200, y=200))
    env.execute(Click(x=200, y=200))
    outcome = env.evaluate()
    assert outcome is not None and outcome.success
    env.reset(task=Task(goal="free text"))
    assert env.evaluate() is None


def test_bounds_follow_the_configured_size() -> None:
    env = FakeEnv(FakeEnvConfig(width=400, height=300))
    env.reset()
    with pytest.raises(OutOfBoundsError, match="400x300"):
        env.execute(Click(x=400, y=10))


@pytest.mark.parametrize(("option", "value"), [("width", 100000), ("height", 99), ("width", 0)])
def test_a_screen_size_outside_the_virtual_display_limits_is_refused(
    option: str, value: int
) -> None:
    with pytest.raises(ConfigError) as info:  # not a MemoryError when the screen is drawn
        create_env("fake", {option: value})
    assert str(info.value) == (
        f"invalid 'fake' environment option: {option}: a screen side of {value} pixels is "
        "outside the limits: each side from 100 to 16384 pixels (e.g. width=1280 height=800)"
    )
    edge = FakeEnv(FakeEnvConfig(width=100, height=16384)).reset()
    assert edge.size == (100, 16384)


def test_bad_configuration_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="start screen 'nowhere'"):
        FakeEnv(FakeEnvConfig(start="nowhere"))
    with pytest.raises(ConfigError, match="width"):
        create_env("fake", {"width": -3})
    with pytest.raises(ConfigError, match="colour"):
        create_env("fake", {"colour": "red"})
    with pytest.raises(UnknownNameError, match="Did you mean 'fake'"):
        create_env("fak")


class _Broken(EnvironmentBase):
    """An adapter that forgets to check bounds: the checker must catch it."""

    name = "broken"
    supported_actions = frozenset({"click", "wait"})

    def __init__(self) -> None:
        self.inner = FakeEnv()

    def reset(self, *, task: Task | None = None):  # type: ignore[no-untyped-def]
        return self.inner.reset(task=task)

    def observe(self):  # type: ignore[no-untyped-def]
        return self.inner.observe()

    def execute(self, action):  # type: ignore[no-untyped-def]
        return Execution()


def test_check_env_reports_an_adapter_that_skips_bounds_checks() -> None:
    with pytest.raises(EnvCheckError) as info:
        check_env(_Broken())
    failures = info.value.failures
    assert any(f.startswith("bounds click: (1280, 0)") for f in failures)
    assert any(f.startswith("refuses type: did not raise") for f in failures)
    # A failed check is never listed as passed.
    results = {r.name: r.passed for r in info.value.results}
    assert results["bounds click"] is False and results["refuses type"] is False
    assert results["execute wait"] is True


class _Drifting(FakeEnv):
    """Claims determinism but draws a different screen after every reset."""

    deterministic = True

    def __init__(self) -> None:
        super().__init__()
        self.resets = 0

    def reset(self, *, task: Task | None = None) -> Observation:
        self.resets += 1
        return super().reset(task=task)

    def render(self) -> Image.Image:
        image = super().render()
        image.putpixel((5, 5), (self.resets % 256, 0, 0))
        return image


def test_check_env_runs_the_determinism_check_for_environments_that_promise_it() -> None:
    names = {r.name for r in check_env(FakeEnv())}
    assert "determinism" in names  # FakeEnv promises it and keeps it
    with pytest.raises(EnvCheckError) as info:
        check_env(_Drifting())
    assert info.value.failures == [
        "determinism: screens differ after reset; "
        + "; ".join(f"screens differ after action {i}" for i in range(1, 5))
    ]
