"""Replay: the perceptual screen difference, replays that reach the recorded outcome, replays
that stop as diverged at the right step, and a fallback policy that takes over; on the fake
environment and in real headless Chromium on the web sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from pixelpilot.actions import Action, Box, Click, Task, Terminate, Type
from pixelpilot.agent import Recorder, load_run, run_episode
from pixelpilot.agent.replay import DIFF_THRESHOLD, replay_run, screen_difference
from pixelpilot.agent.report import write_run_report
from pixelpilot.agent.safety import SafetySettings
from pixelpilot.env import FakeEnv, create_env
from pixelpilot.env.browser.env import BrowserEnv
from pixelpilot.env.browser.sandbox import get_task
from pixelpilot.env.tasks import resolve_task
from pixelpilot.errors import ConfigError
from tests.agent.report.runs import record_run
from tests.agent.support import ListPolicy
from tests.env.browser.sandbox.test_tasks import SOLUTIONS
from tests.env.browser.support import PagePolicy, module_env, page_task

WIFI: list[Action] = [Click(x=199, y=199), Click(x=199, y=199), Terminate(status="success")]


def screen() -> Image.Image:
    image = Image.new("RGB", (1280, 800), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 160, 319, 239), fill=(200, 215, 240), outline=(60, 60, 60))
    draw.text((90, 170), "Settings", fill=(0, 0, 0))
    return image


def test_screen_difference_sees_changes_not_noise() -> None:
    base = screen()
    assert screen_difference(base, base.copy()) == 0.0
    caret = base.copy()
    ImageDraw.Draw(caret).line((400, 300, 400, 318), fill=(0, 0, 0), width=1)
    assert screen_difference(caret, base) < DIFF_THRESHOLD
    moved = Image.new("RGB", base.size, (245, 245, 245))
    ImageDraw.Draw(moved).rectangle((680, 460, 919, 539), fill=(200, 215, 240))
    difference = screen_difference(moved, base)
    assert difference > DIFF_THRESHOLD
    ignored = [Box.from_xywh(60, 140, 280, 120), Box.from_xywh(660, 440, 280, 120)]
    assert screen_difference(moved, base, ignore=ignored) == 0.0
    assert screen_difference(base.resize((640, 400)), base) == 100.0


def test_replay_reaches_the_recorded_outcome(tmp_path: Path) -> None:
    source = record_run(tmp_path / "run", WIFI)
    result = replay_run(source, FakeEnv(), out=tmp_path / "again")
    assert result.status == "terminated" and result.trajectory.judged == "solved"
    assert result.replayed == 3 and result.diverged_at is None
    saved = json.loads((tmp_path / "again" / "result.json").read_text())
    assert saved["judged"] == "solved" and saved["replay"]["replayed"] == 3
    assert len(load_run(tmp_path / "again").steps) == 3


def test_replay_on_another_screen_stops_as_diverged(tmp_path: Path) -> None:
    source = record_run(tmp_path / "run", WIFI)
    env = create_env("fake", {"start": "mail"})
    result = replay_run(source, env, out=tmp_path / "again")
    assert result.status == "diverged" and result.diverged_at == 1
    assert result.difference is not None and result.difference > DIFF_THRESHOLD
    saved = json.loads((tmp_path / "again" / "result.json").read_text())
    assert saved["status"] == "diverged" and saved["claim"] is None
    assert "recorded step 1" in saved["reason"] and saved["replay"]["diverged_at"] == 1
    steps = load_run(tmp_path / "again").steps
    assert len(steps) == 1 and steps[0]["executed"] is None and "differs" in steps[0]["error"]
    page = write_run_report(tmp_path / "again").read_text()
    assert '<a href="../run/step_0001.png">recorded step 1</a>' in page


def test_a_fallback_policy_takes_over_with_the_replayed_history(tmp_path: Path) -> None:
    # recorded: home -> settings -> wifi; the replay starts on the settings screen, so the
    # first recorded screen no longer matches and the fallback decides from step 1 on
    source = record_run(tmp_path / "run", WIFI)
    fallback = ListPolicy([Terminate(status="failure")])
    env = create_env("fake", {"start": "settings"})
    result = replay_run(source, env, out=tmp_path / "again", fallback=fallback)
    assert result.diverged_at == 1 and result.handed_over_at == 1
    assert result.status == "terminated" and result.trajectory.claim == "failure"
    assert len(fallback.histories) == 1


def test_fallback_history_holds_the_replayed_steps(tmp_path: Path) -> None:
    source = record_run(tmp_path / "run", [Click(x=199, y=199), Click(x=199, y=199)])
    fallback = ListPolicy([Terminate(status="success")])
    result = replay_run(source, FakeEnv(), out=tmp_path / "again", fallback=fallback)
    # the recording ended without a terminal action: the fallback continues after it
    assert result.replayed == 2 and result.handed_over_at is not None
    assert result.trajectory.judged == "solved" and result.status == "terminated"
    history = fallback.histories[0]
    assert len(history.steps) >= 2, history


def test_secrets_are_read_again_and_never_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions: list[Action] = [Type(text="<secret:PP_TEST_PASSWORD>"), Terminate(status="success")]
    allowed = SafetySettings(allow_high=True)  # a placeholder reads as a password to the gate
    source = record_run(tmp_path / "run", actions, safety=allowed)
    assert load_run(source).steps[0]["executed"], "the recording should have typed the secret"
    monkeypatch.delenv("PP_TEST_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="PP_TEST_PASSWORD"):
        replay_run(source, FakeEnv(), out=tmp_path / "again")
    monkeypatch.setenv("PP_TEST_PASSWORD", "hunter2-canary")
    env = FakeEnv()
    typed: list[str] = []
    original = env.execute

    def spy(action: Action) -> Any:
        if isinstance(action, Type):
            typed.append(action.text)
        return original(action)

    env.execute = spy  # type: ignore[method-assign]
    assert replay_run(source, env, out=tmp_path / "again", safety=allowed).replayed == 2
    assert typed == ["hunter2-canary"]  # the environment got the value ...
    for path in (tmp_path / "again").iterdir():  # ... and no record holds it
        if path.suffix != ".png":
            assert b"hunter2-canary" not in path.read_bytes(), path.name


# --- real headless Chromium ---------------------------------------------------------------

recorder_env = module_env("browser")
replay_env = module_env("fresh_browser")

PAGE = """<!doctype html><body style="margin:0;font:20px sans-serif">
<button id="first" style="position:absolute;left:40px;top:40px;width:200px;height:60px"
  onclick="document.getElementById('next').hidden=false">First</button>
<div id="next" hidden style="position:absolute;left:40px;top:160px">
  <button id="second" style="width:200px;height:60px%s">%s</button></div></body>"""


def record_browser_run(env: BrowserEnv, task: Task, steps: list, out: Path) -> Path:  # type: ignore[type-arg]
    meta = {
        "task": {"goal": task.goal, "name": task.name, "start_url": task.start_url},
        "env": {"name": "browser", "options": {}},
    }
    trajectory = run_episode(env, PagePolicy(env, steps), task, recorder=Recorder(out, meta=meta))
    assert not [s.error for s in trajectory.steps if s.error]
    return out


@pytest.mark.browser
def test_a_sandbox_run_replays_to_the_same_judged_success(
    browser: BrowserEnv, fresh_browser: BrowserEnv, tmp_path: Path
) -> None:
    task = get_task("sign-in")
    source = record_browser_run(browser, task, SOLUTIONS["sign-in"], tmp_path / "run")
    assert json.loads((source / "result.json").read_text())["judged"] == "solved"
    result = replay_run(
        source, fresh_browser, out=tmp_path / "again", task=resolve_task(str(task.name))[0]
    )
    assert result.status == "terminated" and result.trajectory.judged == "solved"
    assert result.replayed == len(SOLUTIONS["sign-in"]) + 1 and result.diverged_at is None


@pytest.mark.browser
def test_a_changed_page_stops_as_diverged_then_a_fallback_continues(
    browser: BrowserEnv, fresh_browser: BrowserEnv, tmp_path: Path
) -> None:
    from tests.env.browser.sandbox.test_tasks import click

    original = page_task(PAGE % ("", "Second"), goal="press both buttons")
    source = record_browser_run(
        browser, original, [click("#first"), click("#second")], tmp_path / "run"
    )
    changed = page_task(PAGE % (";background:#c00;color:#fff;height:240px", "Delete all"))
    result = replay_run(source, fresh_browser, out=tmp_path / "diverged", task=changed)
    assert result.status == "diverged" and result.diverged_at == 2, result
    assert result.replayed == 1 and result.difference is not None
    fallback = ListPolicy([Terminate(status="failure")])
    taken = replay_run(
        source, fresh_browser, out=tmp_path / "fallback", task=changed, fallback=fallback
    )
    assert taken.handed_over_at == 2 and taken.status == "terminated"
    assert taken.trajectory.claim == "failure" and len(fallback.histories[0].steps) == 1
