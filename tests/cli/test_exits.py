"""Every exit is clean and every outcome is reported truthfully: one line, the right status
code, a finished record, and no process left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pixelpilot.actions import Click, Observation
from pixelpilot.cli import main
from pixelpilot.errors import EnvError, PolicyError
from pixelpilot.model import History, PolicyBase, Prediction

EXE = Path(sys.executable).with_name("pixelpilot")


def _script(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "script.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    child = subprocess.run(
        [str(EXE), "run", *args, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return child.returncode, child.stdout, child.stderr


def test_a_claimed_success_that_the_environment_judges_not_solved_exits_1(tmp_path: Path) -> None:
    # The policy claims success on the home screen; the task wants the wifi screen.
    script = _script(tmp_path, ['{"type": "terminate", "status": "success"}'])
    status, out, err = _run(
        tmp_path, "--env", "fake", "--model", f"scripted:{script}", "--task", "fake:wifi"
    )
    assert status == 1, err
    summary = next(line for line in out.splitlines() if line.startswith("result: "))
    assert summary.startswith("result: task NOT solved")
    assert "the policy claimed success" in summary
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["judged"] == "not solved" and result["success"] is False
    assert result["claim"] == "success" and result["status"] == "terminated"


def test_a_free_goal_is_not_judged_and_says_so(tmp_path: Path) -> None:
    script = _script(tmp_path, ['{"type": "terminate", "status": "success"}'])
    status, out, _ = _run(
        tmp_path, "--env", "fake", "--model", f"scripted:{script}", "--task", "tidy up", "--report"
    )
    assert status == 0
    report = tmp_path / "out" / "report.html"
    assert out.rstrip().endswith(f"report: {report}") and report.is_file()
    assert "result: task not judged" in out and "success" not in out.split("result:")[1][:30]
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["judged"] == "not judged" and result["success"] is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--env", "fake", "--task", "sandbox:sign-in"], "runs with --env browser, not --env fake"),
        (["--env", "browser", "--task", "fake:wifi"], "runs with --env fake, not --env browser"),
        (["--env", "fake", "--task", "fake:nowhere"], "unknown fake task 'nowhere'"),
        (["--env", "fake", "--task", " "], "--task is empty"),
        (
            ["--env", "desktop", "--virtual-display", "99999x1", "--task", "x"],
            "99999x1 is outside the limits: each side from 100 to 16384 pixels",
        ),
        (["--env", "fake", "--task", "x", "--max-seconds", "nan"], "--max-seconds must be"),
        (["--env", "fake", "--task", "x", "--max-seconds", "inf"], "--max-seconds must be"),
        (
            ["--env", "browser", "--task", "x", "--viewport", "100000x100000"],
            "viewport of 100000x100000 is outside the limits",
        ),
    ],
)
def test_task_and_environment_mismatches_are_user_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    script = _script(tmp_path, ['{"type": "wait", "seconds": 0}'])
    status = main(["run", *args, "--model", f"scripted:{script}", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # nothing started, nothing recorded


class _Buggy(PolicyBase):
    def predict(self, observation: Observation, history: History) -> Prediction:
        if history.steps:
            raise ValueError("bad state")
        return Prediction(action=Click(x=3, y=3))


def test_an_exception_in_a_step_is_a_record_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pixelpilot.cli.run.create_policy", lambda spec, options: _Buggy())
    out = tmp_path / "out"
    status = main(["run", "--env", "fake", "--model", "x", "--task", "go", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 1 and "Traceback" not in captured.out + captured.err
    assert "episode ended: error after 2 step(s) (ValueError: bad state)" in captured.out
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "error" and result["error_type"] == "ValueError"
    assert len((out / "trajectory.jsonl").read_text().splitlines()) == 2


def test_a_dead_model_server_is_one_line_before_the_first_step(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    status, out, err = _run(
        tmp_path, "--env", "fake", "--model", f"openai:http://127.0.0.1:{port}/v1#m", "--task", "x"
    )
    assert status == 1 and time.monotonic() - started < 30
    assert err.strip().startswith("pixelpilot: PolicyError: cannot reach the model server")
    assert len(err.strip().splitlines()) == 1 and "step" not in out


def _wander(tmp_path: Path) -> Path:
    return _script(tmp_path, [f'{{"type": "move", "x": {i}, "y": {i}}}' for i in range(400)])


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(EXE), "run", *args, "--max-steps", "400", "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell gives a foreground job
    )


def _wait_for_a_step(tmp_path: Path, child: subprocess.Popen[str]) -> None:
    steps = tmp_path / "out" / "trajectory.jsonl"
    deadline = time.monotonic() + 60
    while not steps.exists() or not steps.read_text():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the run never recorded a step"
        time.sleep(0.05)


def test_sigterm_finishes_the_record_and_exits_143(tmp_path: Path) -> None:
    script = _wander(tmp_path)
    child = _start(tmp_path, "--env", "fake", "--env-opt", "delay=0.05", "--model",
                   f"scripted:{script}", "--task", "wander")  # fmt: skip
    _wait_for_a_step(tmp_path, child)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 143 and "Traceback" not in err
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["status"] == "interrupted" and result["reason"] == "terminated by SIGTERM"


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


@pytest.mark.desktop
@pytest.mark.parametrize("how", ["sigterm", "ctrl-c"])
def test_a_virtual_display_run_stops_cleanly_and_stops_its_display(
    tmp_path: Path, how: str
) -> None:
    script = _wander(tmp_path)
    child = _start(tmp_path, "--env", "desktop", "--virtual-display", "640x480", "--model",
                   f"scripted:{script}", "--task", "wander")  # fmt: skip
    _wait_for_a_step(tmp_path, child)
    xvfb = [
        pid for pid in _children(child.pid) if "Xvfb" in Path(f"/proc/{pid}/cmdline").read_text()
    ]
    assert len(xvfb) == 1
    if how == "sigterm":
        child.send_signal(signal.SIGTERM)
    else:
        os.killpg(child.pid, signal.SIGINT)  # Ctrl-C at a terminal reaches the whole job
    _, err = child.communicate(timeout=60)
    assert child.returncode == (143 if how == "sigterm" else 130), err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 1
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["status"] == "interrupted"
    deadline = time.monotonic() + 10
    while _alive(xvfb[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(xvfb[0]), "the private Xvfb outlived the run"


def test_a_user_mistake_found_while_resetting_exits_2_with_a_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pixelpilot.actions import Task
    from pixelpilot.env import FakeEnv
    from pixelpilot.errors import ConfigError

    class NeedsDisplay(FakeEnv):
        def reset(self, *, task: Task | None = None) -> Observation:
            raise ConfigError("this task needs --virtual-display WxH")

    monkeypatch.setattr("pixelpilot.cli.run.create_env", lambda name, options: NeedsDisplay())
    script = _script(tmp_path, ['{"type": "wait", "seconds": 0}'])
    out = tmp_path / "out"
    status = main(
        ["run", "--env", "fake", "--model", f"scripted:{script}", "--task", "go", "--out", str(out)]
    )
    printed = capsys.readouterr().out
    assert status == 2 and "this task needs --virtual-display WxH" in printed
    assert json.loads((out / "result.json").read_text())["status"] == "error"


def test_console_lines_mark_what_did_not_run_and_clip_long_text() -> None:
    from pixelpilot.actions import Key, Type
    from pixelpilot.agent import Step
    from pixelpilot.cli.run import step_line
    from pixelpilot.env import FakeEnv

    obs = FakeEnv().reset()
    unrun = Step(index=3, observation=obs, action=Click(x=1, y=1))  # e.g. the loop stopped it
    assert "(not executed)" in step_line(unrun)
    extra = Step(index=1, observation=obs, action=Click(x=1, y=1), executed="click",
                 extra_actions=(Key(keys=("alt", "f4")),))  # fmt: skip
    assert "(+1 more call(s) in the output, not executed)" in step_line(extra)
    long = Step(index=2, observation=obs, action=Type(text="x" * 10_000), executed="typed")
    line = step_line(long)
    assert len(line) < 400 and "characters)" in line


@pytest.mark.parametrize(
    "text, message",
    [
        ("[env]\nwidth = -5\n", "'env.width' must be a [env.NAME] table"),
        ("[env.fakee]\nwidth = -5\n", "Did you mean 'fake'?"),
        ("[bogus]\nx = 1\n", "unknown top-level key(s) bogus"),
        ('max_steps = "lots"\n', "unknown top-level key(s) max_steps"),
    ],
)
def test_a_misplaced_or_misspelled_config_setting_is_a_user_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(text)
    script = _script(tmp_path, ['{"type": "wait", "seconds": 0}'])
    status = main(["run", "--env", "fake", "--model", f"scripted:{script}", "--task", "x",
                   "--config", str(config), "--out", str(tmp_path / "o")])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2 and message in err and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("where", "raised", "code", "status", "reason"),
    [
        (
            "create_env",
            KeyboardInterrupt(),
            130,
            "interrupted",
            "interrupted by the user (Ctrl-C) while starting the environment",
        ),
        ("create_policy", KeyboardInterrupt(), 130, "interrupted", "while loading the model"),
        ("create_env", EnvError("Xvfb died"), 1, "env_error", "EnvError: Xvfb died"),
        ("create_policy", PolicyError("CUDA out of memory"), 1, "error", "while loading"),
    ],
)
def test_a_start_up_interrupted_or_failed_still_leaves_a_record(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    raised: BaseException,
    code: int,
    status: str,
    reason: str,
) -> None:
    def fail(*args: object) -> None:
        raise raised

    monkeypatch.setattr(f"pixelpilot.cli.run.{where}", fail)
    script = _script(tmp_path, ['{"type": "wait", "seconds": 0}'])
    out = tmp_path / "out"
    argv = ["run", "--env", "fake", "--model", f"scripted:{script}", "--task", "go"]
    assert main([*argv, "--out", str(out)]) == code
    result = json.loads((out / "result.json").read_text())
    assert (result["status"], result["steps"]) == (status, 0) and reason in result["reason"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["env"]["name"] == "fake" and meta["model"]["spec"] == f"scripted:{script}"


def test_a_user_mistake_at_start_up_leaves_no_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pixelpilot.errors import ConfigError

    def fail(*args: object) -> None:
        raise ConfigError("unknown option")

    monkeypatch.setattr("pixelpilot.cli.run.create_env", fail)
    script = _script(tmp_path, ['{"type": "wait", "seconds": 0}'])
    out = tmp_path / "out"
    argv = ["run", "--env", "fake", "--model", f"scripted:{script}", "--task", "go"]
    assert main([*argv, "--out", str(out)]) == 2
    assert not out.exists()


def test_a_second_ctrl_c_while_stopping_is_only_reported(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pixelpilot.cli import _SecondInterrupt

    handler = _SecondInterrupt()
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGINT, None)  # the first stops the run
    handler(signal.SIGINT, None)  # the second lets the clean-up finish
    assert capsys.readouterr().err == "pixelpilot: already stopping (finishing the record)\n"


def test_main_restores_the_ctrl_c_handler(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGINT)
    script = _script(tmp_path, ['{"type": "terminate", "status": "success"}'])
    argv = ["run", "--env", "fake", "--model", f"scripted:{script}", "--task", "go"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 0
    assert signal.getsignal(signal.SIGINT) is before
