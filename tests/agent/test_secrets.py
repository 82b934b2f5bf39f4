"""Secrets: the goal and the model see a placeholder, the environment types the value at the
last moment and only where it is bound, and no file of the run holds the value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pixelpilot.actions import Click, Observation, Task, Terminate, Type
from pixelpilot.agent import Recorder, Secrets, SecretsEnv, run_episode
from pixelpilot.env import FakeEnv, FakeEnvConfig
from pixelpilot.errors import ActionError, ConfigError
from pixelpilot.model import create_policy
from tests.agent.secret_canary import NAME, VALUE, hits
from tests.agent.secret_canary import secrets as secrets
from tests.agent.support import ListPolicy
from tests.model.qwen.chat_server import Reply, completion, serve


def field_env() -> tuple[FakeEnv, Click]:
    """A fake environment that starts on a screen with a text field, and a click on it."""
    for screen in FakeEnvConfig().screens:
        for element in screen.elements:
            if element.kind == "field":
                x1, y1, x2, y2 = element.box
                env = FakeEnv(FakeEnvConfig(start=screen.name))
                return env, Click(x=(x1 + x2) // 2, y=(y1 + y2) // 2)
    raise AssertionError("no fake screen has a field")


def test_values_come_from_the_environment_and_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("nope_pw", raising=False)
    with pytest.raises(ConfigError, match="environment variable nope_pw is not set"):
        Secrets.from_config(["nope_pw"])
    monkeypatch.setenv("short_pw", "abc")
    with pytest.raises(ConfigError, match="shorter than 4"):
        Secrets.from_config(["short_pw"])
    monkeypatch.setenv("bound_pw", "long-enough")
    with pytest.raises(ConfigError, match="bind it to an origin"):
        Secrets.from_config(["bound_pw@example.com"])
    with pytest.raises(ConfigError, match="names environment variables, never values"):
        Secrets.from_config([], {"x": 5})


def test_substitution_respects_the_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("site_pw", "hunter2-hunter2")
    secrets = Secrets.from_config(["site_pw@https://bank.example"])
    image = FakeEnv().reset().screenshot
    home = Observation(screenshot=image, platform="browser", url="https://bank.example/login")
    evil = Observation(screenshot=image, platform="browser", url="https://evil.example/x")
    assert secrets.substitute("pw: <secret:site_pw>", home) == "pw: hunter2-hunter2"
    with pytest.raises(ActionError, match=r"may only be typed on https://bank\.example") as info:
        secrets.substitute("<secret:site_pw>", evil)
    assert "hunter2" not in str(info.value)
    with pytest.raises(ActionError, match="not a secret of this run"):
        secrets.substitute("<secret:other>", home)


def test_the_fake_environment_types_the_value_and_the_record_holds_none(
    tmp_path: Path, secrets: Secrets
) -> None:
    inner, field = field_env()
    env = SecretsEnv(inner, secrets)
    task = secrets.hide_in_task(Task(goal=f"log in with {VALUE}"))
    assert task.goal == f"log in with <secret:{NAME}>"
    policy = ListPolicy([field, Type(text=f"<secret:{NAME}>"), Terminate(status="success")])
    recorder = Recorder(tmp_path / "run", meta={"goal": task.goal}, redact=secrets.redact_data)
    run_episode(env, policy, task, recorder=recorder)
    assert VALUE in inner.texts.values()  # really typed
    assert [h.goal for h in policy.histories] == [task.goal] * 3  # the policy saw the placeholder
    assert hits(tmp_path / "run") == []


def test_the_model_server_never_receives_the_value(tmp_path: Path, secrets: Secrets) -> None:
    inner, field = field_env()
    env = SecretsEnv(inner, secrets)
    calls = [
        '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", '
        f'"coordinate": [{field.x}, {field.y}]}}}}\n</tool_call>',
        '<tool_call>\n{"name": "computer_use", "arguments": {"action": "type", '
        f'"text": "<secret:{NAME}>"}}}}\n</tool_call>',
        '<tool_call>\n{"name": "computer_use", "arguments": {"action": "terminate", '
        '"status": "success"}}\n</tool_call>',
    ]
    with serve() as server:
        for call in calls:
            server.replies.append(Reply(body=completion(call)))
        # The screenshot keeps its size (1280x800 fits the budget): coordinates map 1:1.
        policy = create_policy(f"openai:{server.url}#qwen", {"backoff": 0.01})
        task = secrets.hide_in_task(Task(goal=f"use {VALUE} to log in"))
        recorder = Recorder(tmp_path / "run", meta={}, redact=secrets.redact_data)
        run_episode(env, policy, task, recorder=recorder)
        sent = json.dumps(server.requests)
    assert VALUE in inner.texts.values()
    assert f"<secret:{NAME}>" in sent and hits(tmp_path / "run", sent) == []


def test_the_command_line_keeps_the_value_out_of_files_and_console(tmp_path: Path) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text(
        json.dumps({"type": "type", "text": f"<secret:{NAME}>"})
        + "\n"
        + json.dumps({"type": "type", "text": "<secret:unknown>"})
        + '\n{"type": "terminate", "status": "success"}\n'
    )
    out = tmp_path / "out"
    child = subprocess.run(
        [str(Path(sys.executable).with_name("pixelpilot")), "run", "--env", "fake", "--model",
         f"scripted:{script}", "--task", f"log in with {VALUE}", "--secret", NAME,
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, env={**os.environ, NAME: VALUE},
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    assert f"task: log in with <secret:{NAME}>" in child.stdout
    assert "is not a secret of this run" in child.stdout  # the unknown one is a step error
    assert hits(out, child.stdout, child.stderr) == []
    meta = json.loads((out / "meta.json").read_text())
    assert meta["secrets"] == {NAME: []}
    first = json.loads((out / "trajectory.jsonl").read_text().splitlines()[0])
    # A headless run types the user's own secret: rated by its binding, not as a password.
    assert first["risk"]["rule"] == "secret" and first["executed"] is not None


class Quoting(FakeEnv):
    """Refuses typed text the way adapters do: quoting the character it cannot type."""

    def execute(self, action: object) -> object:  # type: ignore[override]
        if isinstance(action, Type):
            raise ActionError(f"cannot type {action.text[2]!r} at position 2 of {action.text!r}")
        return super().execute(action)  # type: ignore[arg-type]


def test_an_adapter_error_about_a_typed_secret_quotes_none_of_it(
    tmp_path: Path, secrets: Secrets
) -> None:
    env = SecretsEnv(Quoting(), secrets)
    recorder = Recorder(tmp_path / "run", meta={}, redact=secrets.redact_data)
    trajectory = run_episode(env, ListPolicy([Type(text=f"<secret:{NAME}>")]), "x", max_steps=1,
                             recorder=recorder)  # fmt: skip
    error = trajectory.steps[0].error or ""
    assert error.startswith(f"typing <secret:{NAME}> failed (ActionError;")
    assert "cannot type" not in error and "position" not in error  # the adapter's words withheld
    assert hits(tmp_path / "run") == []


def test_a_value_written_in_the_secrets_table_is_never_repeated() -> None:
    with pytest.raises(ConfigError) as info:
        Secrets.from_config([], {"FOO": "hunter2literal"})
    assert "hunter2literal" not in str(info.value) and "never values" in str(info.value)


def test_credentials_in_the_model_url_are_refused_without_repeating_them() -> None:
    with pytest.raises(ConfigError) as info:
        create_policy("openai:http://user:pw-in-url@127.0.0.1:9/v1#m")
    assert "pw-in-url" not in str(info.value) and "$OPENAI_API_KEY" in str(info.value)
