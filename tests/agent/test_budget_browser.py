"""In the browser: a long `wait` is cut at the budget, and a crash during a wait is noticed
within 2 s (the wait runs in slices that pump the browser's events)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pixelpilot.actions import Wait
from pixelpilot.agent import Recorder, load_run, run_episode
from tests.agent.support import ListPolicy
from tests.env.browser.support import open_env, page_task

pytestmark = pytest.mark.browser

PAGE = "<html><body><h1>waiting room</h1></body></html>"


def test_a_20_s_wait_under_a_3_s_budget_ends_as_timeout(tmp_path: Path) -> None:
    env = open_env()
    try:
        env.reset(task=page_task(PAGE))  # launch outside the budget: the browser is up
        recorder = Recorder(tmp_path / "run", meta={})
        started = time.monotonic()
        trajectory = run_episode(
            env, ListPolicy([Wait(seconds=20)]), page_task(PAGE), max_seconds=3, recorder=recorder
        )
        elapsed = time.monotonic() - started
    finally:
        env.close()
    assert trajectory.status == "timeout" and elapsed < 3 + 5
    run = load_run(tmp_path / "run")
    assert run.result is not None and run.result["status"] == "timeout"
    assert run.steps[-1]["action"] == {"type": "wait", "seconds": 20.0}
    assert run.steps[-1]["interrupted"] is True


def test_a_browser_crash_during_a_wait_is_noticed_within_2_s(tmp_path: Path) -> None:
    env = open_env()
    try:
        env.reset(task=page_task(PAGE))
        assert env.session is not None
        session = env.session
        killed_at: list[float] = []

        def kill_soon() -> None:
            time.sleep(1.0)
            killed_at.append(time.monotonic())
            session.kill()

        policy = ListPolicy([Wait(seconds=30)])
        threading.Thread(target=kill_soon, daemon=True).start()
        trajectory = run_episode(env, policy, page_task(PAGE), max_seconds=60)
        ended = time.monotonic()
    finally:
        env.close()
    assert trajectory.status == "env_error", trajectory.reason
    assert killed_at and ended - killed_at[0] < 2.0 + 1.0  # a slice, the call, the record
