"""The secret canary on the real environments: the browser (the sandbox's sign-in page), the
desktop (a Tk window on a private Xvfb) and the Android test device each get the value typed,
and no file of the run directory holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpilot.actions import Click, Observation, Task, Terminate, Type
from pixelpilot.agent import Recorder, Secrets, SecretsEnv, run_episode
from pixelpilot.env.browser.env import BrowserEnv
from pixelpilot.env.browser.sandbox import get_task
from pixelpilot.model import History, PolicyBase, Prediction
from tests.agent.secret_canary import NAME, VALUE, hits
from tests.agent.secret_canary import secrets as secrets
from tests.agent.support import ListPolicy
from tests.env.browser.support import locate, open_env

TYPED = Type(text=f"<secret:{NAME}>")


class SignIn(PolicyBase):
    """Fills the sandbox's sign-in form from the live page, the password as the placeholder."""

    def __init__(self, env: BrowserEnv) -> None:
        self.env, self.step = env, 0

    def predict(self, observation: Observation, history: History) -> Prediction:
        plan = [
            lambda: Click(**locate(self.env, "#username")._asdict()),
            lambda: Type(text="ada"),
            lambda: Click(**locate(self.env, "#password")._asdict()),
            lambda: TYPED,
            lambda: Click(**locate(self.env, "#submit")._asdict()),
        ]
        self.step += 1
        action = plan[self.step - 1]() if self.step <= len(plan) else Terminate(status="success")
        return Prediction(action=action, raw_text=action.model_dump_json())


@pytest.mark.browser
@pytest.mark.parametrize("bound", [None, "http://127.0.0.1", "https://bank.example"])
def test_the_browser_types_the_secret_only_on_its_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bound: str | None
) -> None:
    monkeypatch.setenv(NAME, "lovelace-1843")  # the sandbox account's real password
    spec = NAME if bound is None else f"{NAME}@{bound}"
    secrets = Secrets.from_config([spec])
    inner = open_env()
    env = SecretsEnv(inner, secrets)
    try:
        task = secrets.hide_in_task(get_task("sign-in"))
        assert "lovelace-1843" not in task.goal
        recorder = Recorder(tmp_path / "run", meta={}, redact=secrets.redact_data)
        trajectory = run_episode(env, SignIn(inner), task, max_steps=8, recorder=recorder)
    finally:
        env.close()
    assert trajectory.outcome is not None
    if bound == "https://bank.example":  # bound elsewhere: never typed on the sandbox page
        assert not trajectory.outcome.success
        refused = [s for s in trajectory.steps if s.action == TYPED]
        assert refused and refused[0].error is not None
        assert "may only be typed on https://bank.example" in refused[0].error
    else:  # the origin of a sandbox URL is http://127.0.0.1:PORT; a bare host matches no port
        solved = bound is None
        assert trajectory.outcome.success is solved, trajectory.outcome
    value = "lovelace-1843"
    found = [
        p for p in (tmp_path / "run").rglob("*") if p.is_file() and value.encode() in p.read_bytes()
    ]
    assert found == []


@pytest.mark.desktop
def test_the_desktop_types_the_secret_and_records_none(tmp_path: Path, secrets: Secrets) -> None:
    from pixelpilot.actions import Size
    from pixelpilot.env.desktop.env import DesktopConfig, DesktopEnv
    from pixelpilot.env.desktop.xvfb import VirtualDisplay
    from tests.env.desktop.probe import ENTRY_BOX
    from tests.env.desktop.support import Probe

    display = VirtualDisplay.start(Size(1024, 768))
    try:
        probe = Probe(display.name)
        try:
            inner = DesktopEnv(DesktopConfig(display=display.name, settle_timeout=0.2))
            env = SecretsEnv(inner, secrets)
            x1, y1, x2, y2 = ENTRY_BOX
            click = Click(x=(x1 + x2) // 2, y=(y1 + y2) // 2)
            recorder = Recorder(tmp_path / "run", meta={}, redact=secrets.redact_data)
            policy = ListPolicy([click, TYPED, Terminate(status="success")])
            run_episode(env, policy, "type the password", recorder=recorder)
            assert probe.wait_text("entry", VALUE) == VALUE
            env.close()
        finally:
            probe.close()
    finally:
        display.stop()
    assert hits(tmp_path / "run") == []


def test_the_android_test_device_types_the_secret_and_records_none(
    tmp_path: Path, secrets: Secrets
) -> None:
    from tests.env.android.support import android_env, make_key, running_device, widget_center

    (tmp_path / "key").mkdir()
    key = make_key(tmp_path / "key")
    with running_device() as device:
        inner = android_env(device, key)
        env = SecretsEnv(inner, secrets)
        try:
            x, y = widget_center(device, "com.pixelpilot.notes", "field:note")
            recorder = Recorder(tmp_path / "run", meta={}, redact=secrets.redact_data)
            policy = ListPolicy([Click(x=x, y=y), TYPED, Terminate(status="success")])
            task = Task(goal="note the password", start_app="com.pixelpilot.notes")
            run_episode(env, policy, task, recorder=recorder)
            app = device.phone.app("com.pixelpilot.notes")
            assert app is not None and app.field_text("field:note") == VALUE
        finally:
            env.close()
    assert hits(tmp_path / "run") == []
