"""The scripted policy: step k of an episode gets the script's action k, whatever else it serves."""

from __future__ import annotations

from pixelpilot.actions import Click, Terminate
from pixelpilot.env import FakeEnv
from pixelpilot.model import History, HistoryEntry, ScriptedPolicy


def test_two_episodes_interleaved_each_follow_the_script_from_the_top() -> None:
    script = [Click(x=10, y=10), Click(x=20, y=20)]
    policy = ScriptedPolicy(script)
    obs = FakeEnv().reset()
    first = History(goal="a")
    assert policy.predict(obs, first).action == script[0]
    assert policy.predict(obs, History(goal="b")).action == script[0]  # another episode
    one_step = History(goal="a", steps=(HistoryEntry(action=script[0]),))
    assert policy.predict(obs, one_step).action == script[1]
    two_steps = History(goal="a", steps=(HistoryEntry(action=script[0]),) * 2)
    assert policy.predict(obs, two_steps).action == Terminate(status="failure")  # exhausted
