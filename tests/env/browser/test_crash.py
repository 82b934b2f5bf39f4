"""BrowserEnv when the browser fails for real: a crashed page, a killed browser process, a page
stuck in a script, and a missing Chromium. Each ends in a clear error, never a hang."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pixelpilot.actions import Click, Size, Terminate, Wait
from pixelpilot.agent import run_episode
from pixelpilot.env.browser.env import BrowserEnv
from pixelpilot.env.browser.launch import find_executable
from pixelpilot.env.browser.sandbox import get_task
from pixelpilot.env.calibrate import calibrate
from pixelpilot.env.desktop.xvfb import VirtualDisplay
from pixelpilot.errors import ConfigError, EnvError, MissingExtraError
from pixelpilot.model import ScriptedPolicy
from tests.env.browser.support import module_env, open_env, page, page_task

pytestmark = [pytest.mark.desktop, pytest.mark.browser]

STUCK = """<!doctype html><button id="b" style="width:200px;height:100px"
onclick="while (true) {}">freeze</button>"""


env_fixture = module_env("env", call_timeout=2.0)


def crash_page(env: BrowserEnv) -> None:
    with pytest.raises(Exception, match=r"ERR_ABORTED|crash"):
        page(env).goto("chrome://crash", timeout=5000)


def test_a_crashed_page_is_an_env_error_and_reset_recovers(env: BrowserEnv) -> None:
    env.reset(task=get_task("sign-in"))
    crash_page(env)
    with pytest.raises(EnvError, match="the page crashed"):
        env.execute(Click(x=10, y=10))
    with pytest.raises(EnvError, match="the page crashed"):
        env.observe()
    obs = env.reset(task=get_task("sign-in"))
    assert obs.url is not None and obs.url.endswith("/login.html")


def test_a_killed_browser_is_an_env_error_and_reset_relaunches(env: BrowserEnv) -> None:
    env.reset(task=get_task("sign-in"))
    assert env.session is not None
    old = env.session.pids()
    assert len(old) == 1
    os.kill(old[0], signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(EnvError, match="the browser process exited"):
        env.execute(Click(x=10, y=10))
    assert time.monotonic() - started < 10
    env.reset(task=get_task("sign-in"))
    assert env.session.pids() not in ([], old)


def test_a_stuck_page_is_stopped_by_the_watchdog(env: BrowserEnv) -> None:
    env.reset(task=page_task(STUCK))
    started = time.monotonic()
    with pytest.raises(EnvError, match=r"did not finish 'click' within 2 s"):
        env.execute(Click(x=100, y=50))
    # call_timeout (2 s) plus the watchdog's grace, with room for a loaded machine
    assert time.monotonic() - started < 12
    assert env.session is not None and env.session.pids() == []
    env.reset(task=get_task("sign-in"))


def refuse_captures(env: BrowserEnv, times: int) -> list[int]:
    """Make the page's next `times` screenshots fail as Chromium does mid-navigation."""
    from playwright.sync_api import Error

    target = page(env)
    real = target.screenshot
    calls: list[int] = []

    def flaky(**kwargs: object) -> bytes:
        calls.append(1)
        if len(calls) <= times:
            raise Error("Protocol error (Page.captureScreenshot): Unable to capture screenshot")
        return real(**kwargs)  # type: ignore[no-any-return]

    target.screenshot = flaky
    return calls


def test_a_refused_capture_is_tried_again(env: BrowserEnv) -> None:
    env.reset(task=get_task("sign-in"))
    before = env.capture_retries
    calls = refuse_captures(env, times=2)
    obs = env.observe()
    assert obs.screenshot.size == (env.viewport.width, env.viewport.height)
    assert len(calls) == 3 and env.capture_retries == before + 2


def test_a_capture_refused_every_time_is_an_env_error(env: BrowserEnv) -> None:
    env.reset(task=get_task("sign-in"))
    calls = refuse_captures(env, times=100)
    with pytest.raises(EnvError, match="Unable to capture screenshot"):
        env.observe()
    assert len(calls) == 3  # CAPTURE_ATTEMPTS, then the error ends the episode


def test_a_crashed_page_is_not_captured_again(env: BrowserEnv) -> None:
    env.reset(task=get_task("sign-in"))
    before = env.capture_retries
    crash_page(env)
    with pytest.raises(EnvError, match="the page crashed"):
        env.observe()
    assert env.capture_retries == before
    env.reset(task=get_task("sign-in"))


def test_the_loop_ends_with_env_error_on_a_crash(env: BrowserEnv) -> None:
    env.reset(task=get_task("sign-in"))

    class CrashingPolicy(ScriptedPolicy):
        def predict(self, observation, history):  # type: ignore[no-untyped-def]
            if self.position == 1:
                crash_page(env)
            return super().predict(observation, history)

    policy = CrashingPolicy([Wait(seconds=0), Click(x=5, y=5), Terminate(status="success")])
    trajectory = run_episode(env, policy, get_task("sign-in"), max_steps=5)
    assert trajectory.status == "env_error"
    assert "crashed" in trajectory.reason


def test_relaunch_on_crash_goes_on_at_the_start_page() -> None:
    env = open_env(relaunch_on_crash=True, max_relaunches=1)
    try:
        env.reset(task=get_task("toggle-setting"))
        crash_page(env)
        execution = env.execute(Click(x=10, y=10))
        assert "relaunched" in execution.detail and "crashed" in execution.detail
        assert env.observe().url.endswith("/settings.html")  # type: ignore[union-attr]
        assert env.session is not None
        os.kill(env.session.pids()[0], signal.SIGKILL)
        with pytest.raises(EnvError, match="exited"):  # the one relaunch is used up
            env.observe()
    finally:
        env.close()


def test_missing_chromium_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(MissingExtraError) as caught:
        find_executable(None, bundled=str(tmp_path / "chrome"), system=())
    message = str(caught.value)
    assert "apt-get install chromium" in message and "playwright install chromium" in message
    assert "\n" not in message
    with pytest.raises(ConfigError, match="is not a file"):
        find_executable(str(tmp_path / "nope"), bundled=None)


def test_missing_chromium_through_the_cli(tmp_path: Path) -> None:
    """The whole path: `pixelpilot run --env browser` on a machine without Chromium exits 2
    with one line. The system browser is hidden by emptying the search list, and Playwright's
    own by pointing it at an empty folder."""
    script = tmp_path / "actions.jsonl"
    script.write_text('{"type": "wait", "seconds": 0}\n')
    code = textwrap.dedent(
        f"""
        import sys
        import pixelpilot.env.browser.launch as launch
        launch.SYSTEM_CHROMIUM = ()
        from pixelpilot.cli import main
        sys.exit(main(["run", "--env", "browser", "--model", "scripted:{script}",
                       "--task", "sandbox:sign-in", "--out", "{tmp_path / "run"}"]))
        """
    )
    environ = {**os.environ, "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "browsers")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "apt-get install chromium" in lines[0], result.stderr


def test_headed_without_a_display_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    env = open_env(headless=False)
    try:
        with pytest.raises(ConfigError, match="needs a display"):
            env.reset(task=get_task("sign-in"))
    finally:
        env.close()


@pytest.mark.slow
def test_headed_on_a_virtual_display(monkeypatch: pytest.MonkeyPatch) -> None:
    display = VirtualDisplay.start(Size(1600, 1000))
    try:
        monkeypatch.setenv("DISPLAY", display.name)
        env = open_env(headless=False)
        try:
            obs = env.reset(task=get_task("toggle-setting"))
            assert obs.size == (1280, 800)
            assert calibrate(env, count=9).max_error <= 1.0
        finally:
            env.close()
    finally:
        display.stop()
