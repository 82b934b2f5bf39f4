"""An observation's accessibility tree is recorded beside the step's screenshot, redacted."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pixelpilot.actions import Click, Observation, Terminate
from pixelpilot.agent import Recorder, Secrets, run_episode
from pixelpilot.env import FakeEnv
from tests.agent.support import ListPolicy


class TreeEnv(FakeEnv):
    def observe(self) -> Observation:
        obs = super().observe()
        tree = f'<hierarchy><node text="{self.current}" pw="hunter2-xyz"/></hierarchy>'
        return dataclasses.replace(obs, a11y=tree)


def test_the_tree_is_written_beside_the_screenshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("pw", "hunter2-xyz")
    secrets = Secrets.from_config(["pw"])
    recorder = Recorder(tmp_path / "run", meta={}, redact=secrets.redact_data)
    policy = ListPolicy([Click(x=200, y=200), Terminate(status="success")])
    run_episode(TreeEnv(), policy, "x", recorder=recorder)
    steps = [json.loads(line) for line in (tmp_path / "run" / "trajectory.jsonl").open()]
    assert [s["a11y"] for s in steps] == ["step_0001.xml", "step_0002.xml"]
    first = (tmp_path / "run" / "step_0001.xml").read_text()
    second = (tmp_path / "run" / "step_0002.xml").read_text()
    assert first == '<hierarchy><node text="home" pw="<secret:pw>"/></hierarchy>'
    assert 'text="settings"' in second  # the tree of the screen that step saw


def test_no_tree_no_file(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "run", meta={})
    run_episode(FakeEnv(), ListPolicy([Terminate(status="success")]), "x", recorder=recorder)
    step = json.loads((tmp_path / "run" / "trajectory.jsonl").read_text())
    assert step["a11y"] is None and not list((tmp_path / "run").glob("*.xml"))
