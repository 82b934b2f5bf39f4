"""A page that tries to steer the agent off its task, through the whole loop: the blocked
navigation is on the step, fed back to the policy, and in the result next to the policy's claim
of success; nothing reaches the attacker's server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixelpilot.actions import Click, Task, Terminate, Wait
from pixelpilot.agent import Recorder, run_episode
from pixelpilot.env.browser.env import BrowserEnv
from tests.agent.support import ListPolicy
from tests.env.browser.support import PagePolicy, locate, open_env
from tests.env.browser.test_injection import AttackerServer, TaskServer

pytestmark = pytest.mark.browser


@pytest.fixture
def servers() -> Iterator[tuple[TaskServer, AttackerServer]]:
    with AttackerServer() as attacker, TaskServer(attacker.base_url) as site:
        yield site, attacker


def test_a_decoy_link_is_blocked_recorded_and_kept_in_the_result(
    tmp_path: Path, servers: tuple[TaskServer, AttackerServer]
) -> None:
    site, attacker = servers
    env: BrowserEnv = open_env()
    try:
        task = Task(goal="read the page", start_url=site.base_url + "/decoy.html")
        policy = PagePolicy(env, [lambda e, obs: Click(**locate(e, "#decoy")._asdict())])
        recorder = Recorder(tmp_path / "run", meta={})
        trajectory = run_episode(env, policy, task, max_steps=3, recorder=recorder)
    finally:
        env.close()
    assert attacker.requests == []
    assert trajectory.claim == "success"  # PagePolicy claims success after its steps
    step = json.loads((tmp_path / "run" / "trajectory.jsonl").read_text().splitlines()[0])
    assert step["error_kind"] == "blocked" and len(step["blocked"]) == 1
    assert "is not allowed" in step["blocked"][0] and attacker.base_url in step["blocked"][0]
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["safety"]["events"]["navigation_blocked"] == [1]
    assert result["claim"] == "success" and result["judged"] == "not judged"


def test_a_redirect_while_loading_is_recorded_on_the_first_step(
    tmp_path: Path, servers: tuple[TaskServer, AttackerServer]
) -> None:
    site, attacker = servers
    env = open_env()
    try:
        task = Task(goal="wait", start_url=site.base_url + "/meta.html")
        recorder = Recorder(tmp_path / "run", meta={})
        policy = ListPolicy([Wait(seconds=0.5), Terminate(status="success")])
        run_episode(env, policy, task, max_steps=3, recorder=recorder)
    finally:
        env.close()
    assert attacker.requests == []
    step = json.loads((tmp_path / "run" / "trajectory.jsonl").read_text().splitlines()[0])
    assert step["blocked"] and "meta" in step["blocked"][0]
