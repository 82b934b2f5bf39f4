"""ScriptedPolicy: the script in order, terminate(failure) once it is exhausted, and every
episode from the top (`start_episode`), while calls without episodes go on in order."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from pixelpilot.actions import Click, Observation, Terminate, action_to_json
from pixelpilot.agent import run_episode
from pixelpilot.env import FakeEnv
from pixelpilot.model import History
from pixelpilot.model.scripted import ScriptedConfig, ScriptedPolicy

FIRST, SECOND = Click(x=200, y=200), Click(x=200, y=200)  # settings, then wifi


def observation() -> Observation:
    return Observation(screenshot=Image.new("RGB", (1280, 800)), platform="desktop")


def test_calls_go_through_the_script_and_then_terminate() -> None:
    policy = ScriptedPolicy([FIRST, Click(x=5, y=6)])
    history = History(goal="g")
    actions = [policy.predict(observation(), history).action for _ in range(3)]
    assert actions == [FIRST, Click(x=5, y=6), Terminate(status="failure")]
    assert "script exhausted after 2 actions" in policy.predict(observation(), history).raw_text


def test_every_episode_starts_the_script_from_the_top(tmp_path: Path) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text(action_to_json(FIRST) + "\n" + action_to_json(SECOND) + "\n")
    policy = ScriptedPolicy.from_spec(str(script), ScriptedConfig())
    for _ in range(3):  # one policy, three episodes: each one the whole script
        trajectory = run_episode(FakeEnv(), policy, "fake:wifi", max_steps=5)
        assert [s.action for s in trajectory.steps] == [FIRST, SECOND, Terminate(status="failure")]
        assert "script exhausted after 2 actions" in trajectory.steps[-1].raw_text
    policy.predict(observation(), History(goal="g"))
    policy.start_episode()
    assert policy.position == 0
