"""run_episode's stop_when: the environment ends the episode (status `done`)."""

from __future__ import annotations

from pixelpilot.actions import Action, Click, Move, Task
from pixelpilot.agent import run_episode
from pixelpilot.env import FakeEnv
from pixelpilot.model import Prediction
from tests.agent.support import ListPolicy

SETTINGS = Click(x=200, y=200)  # the Settings button on the fake home screen


def test_the_episode_ends_once_stop_when_gives_a_reason() -> None:
    env = FakeEnv()
    asked: list[int] = []

    def stop_when() -> str | None:
        asked.append(len(env.executed))
        return "the settings screen is showing" if env.current == "settings" else None

    moves: list[Action | Prediction | Exception] = [Move(x=5, y=5), SETTINGS, Move(x=9, y=9)]
    traj = run_episode(
        env,
        ListPolicy(moves),
        Task(goal="open settings", name="fake:settings"),
        max_steps=10,
        stop_when=stop_when,
    )
    assert traj.status == "done"
    assert traj.reason == "the settings screen is showing"
    assert len(traj.steps) == 2 and env.executed == [Move(x=5, y=5), SETTINGS]
    assert asked == [1, 2]  # asked after every step, not before the first
    # The environment still judges the task once the episode is over.
    assert traj.outcome is not None and traj.outcome.success


def test_without_a_reason_the_episode_runs_on() -> None:
    moves: list[Action | Prediction | Exception] = [Move(x=i, y=i) for i in range(3)]
    traj = run_episode(FakeEnv(), ListPolicy(moves), "wander", max_steps=3, stop_when=lambda: None)
    assert traj.status == "max_steps" and len(traj.steps) == 3
