"""The `pixelpilot` command: run, ls, --version, and one-line errors for user mistakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pixelpilot import __version__
from pixelpilot.cli import main

SCRIPT = "\n".join(
    [
        '{"type": "click", "x": 200, "y": 200}',
        "# comments and blank lines are skipped",
        "",
        '{"type": "click", "x": 200, "y": 200}',
        '{"type": "terminate", "status": "success"}',
    ]
)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "actions.jsonl"
    path.write_text(SCRIPT)
    return path


def test_run_executes_the_script_and_writes_the_run_directory(
    tmp_path: Path, script: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    status = main(
        [
            "run",
            "--env",
            "fake",
            "--model",
            f"scripted:{script}",
            "--task",
            "demo",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0
    assert (
        "step   1  click(200, 200)" in printed
        and "episode ended: terminated after 3 step(s)" in printed
    )
    assert f"run directory: {out}" in printed
    meta = json.loads((out / "meta.json").read_text())
    assert meta["model"]["spec"] == f"scripted:{script}" and meta["env"]["name"] == "fake"
    assert meta["versions"]["pixelpilot"] == __version__
    lines = (out / "trajectory.jsonl").read_text().splitlines()
    assert len(lines) == 3
    assert sorted(p.name for p in out.glob("step_*.png")) == [
        "step_0001.png",
        "step_0002.png",
        "step_0003.png",
    ]
    assert json.loads((out / "result.json").read_text())["claim"] == "success"


def test_config_file_and_flags(tmp_path: Path, script: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[run]\nmax_steps = 1\n[env.fake]\nwidth = 640\nheight = 480\n")
    out = tmp_path / "out"
    status = main(
        [
            "run",
            "--env",
            "fake",
            "--model",
            f"scripted:{script}",
            "--task",
            "fake:wifi",
            "--config",
            str(config),
            "--out",
            str(out),
        ]
    )
    result = json.loads((out / "result.json").read_text())
    assert status == 1 and result["status"] == "max_steps" and result["success"] is False
    record = json.loads((out / "trajectory.jsonl").read_text().splitlines()[0])
    assert record["screen"] == [640, 480]


CONFIGS = {
    "BAD_TOML": "[run\n",
    "BAD_RUN": '[run]\nmax_steps = "many"\n',
    "UNKNOWN_RUN": "[run]\nspeed = 3\n",
}


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"--env": "fak"}, "unknown environment 'fak'. Did you mean 'fake'?"),
        ({"--model": "scriptd:x"}, "unknown model 'scriptd'. Did you mean 'scripted'?"),
        ({"--model": "scripted:/nonexistent.jsonl"}, "cannot read action script"),
        ({"--model": "scripted"}, "needs a file: --model scripted:actions.jsonl"),
        ({"--max-steps": "0"}, "--max-steps must be at least 1"),
        ({"--max-seconds": "-1"}, "--max-seconds must be a number of seconds from 0 to"),
        ({"--env-opt": "width=-5"}, "invalid 'fake' environment option: width"),
        ({"--env-opt": "colour=red"}, "colour: Extra inputs are not permitted"),
        ({"--env-opt": "nonsense"}, "--env-opt expects KEY=VALUE"),
        ({"--config": "/nonexistent.toml"}, "cannot read config file"),
        ({"--config": "BAD_TOML"}, "is not valid TOML"),
        ({"--config": "BAD_RUN"}, "[run] max_steps must be an integer"),
        ({"--config": "UNKNOWN_RUN"}, "unknown [run] key(s) speed"),
        ({"--task": "sandbox:"}, "names no task"),
    ],
)
def test_user_mistakes_are_one_line_with_exit_status_2(
    tmp_path: Path,
    script: Path,
    capsys: pytest.CaptureFixture[str],
    overrides: dict[str, str],
    message: str,
) -> None:
    options = {"--env": "fake", "--model": f"scripted:{script}", "--task": "demo"}
    options["--out"] = str(tmp_path / "out")
    options.update(overrides)
    if options.get("--config") in CONFIGS:
        path = tmp_path / "bad.toml"
        path.write_text(CONFIGS[options["--config"]])
        options["--config"] = str(path)
    status = main(["run", *[part for pair in options.items() for part in pair]])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_script_line_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"type": "click", "x": 1, "y": 1}\n{"type": "clik", "x": 1}\n')
    assert main(["run", "--env", "fake", "--model", f"scripted:{path}", "--task", "t"]) == 2
    assert f"{path}:2: invalid action" in capsys.readouterr().err


def test_ls_lists_envs_and_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", "envs"]) == 0
    envs = capsys.readouterr().out
    for name in ("fake", "desktop", "browser", "android"):
        assert f"{name} " in envs
    assert main(["ls", "models"]) == 0
    models = capsys.readouterr().out
    for name in ("scripted", "qwen25vl", "openai", "ocr"):
        assert f"{name} " in models


def test_version_and_console_script_without_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("pixelpilot")
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"pixelpilot {__version__}"
    bad = subprocess.run(
        [str(exe), "run", "--env", "nope", "--model", "scripted:x", "--task", "t"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("pixelpilot: error: unknown environment")
    assert "Traceback" not in bad.stderr


def test_importing_pixelpilot_pulls_in_no_heavy_dependency() -> None:
    code = (
        "import sys, pixelpilot, pixelpilot.actions, pixelpilot.env, pixelpilot.model, "
        "pixelpilot.agent, pixelpilot.cli; "
        "heavy = [m for m in ('torch', 'transformers', 'playwright', 'Xlib', 'mss', 'pyautogui', "
        "'adb_shell', 'rapidocr_onnxruntime') if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_ctrl_c_finishes_the_record_and_exits_cleanly(tmp_path: Path) -> None:
    import signal
    import time

    script = tmp_path / "moves.jsonl"
    script.write_text("\n".join(f'{{"type": "move", "x": {i}, "y": {i}}}' for i in range(500)))
    out = tmp_path / "out"
    exe = Path(sys.executable).with_name("pixelpilot")
    child = subprocess.Popen(
        [
            str(exe),
            "run",
            "--env",
            "fake",
            "--env-opt",
            "delay=0.05",
            "--model",
            f"scripted:{script}",
            "--task",
            "wander",
            "--max-steps",
            "500",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not (out / "trajectory.jsonl").exists() or not (out / "trajectory.jsonl").read_text():
        assert time.monotonic() < deadline, "the run never recorded a step"
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=30)
    assert child.returncode == 130
    assert "Traceback" not in stderr
    assert "episode ended: interrupted" in stdout
    result = json.loads((out / "result.json").read_text())
    lines = (out / "trajectory.jsonl").read_text().splitlines()
    assert result["status"] == "interrupted" and result["steps"] == len(lines) >= 1


def test_an_infrastructure_failure_outside_an_episode_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pixelpilot.cli import ls
    from pixelpilot.errors import EnvError

    def broken(args: object) -> int:
        raise EnvError("the browser crashed while starting")

    monkeypatch.setattr(ls, "handle", broken)
    assert main(["ls", "envs"]) == 1
    err = capsys.readouterr().err
    assert err == "pixelpilot: EnvError: the browser crashed while starting\n"


def test_a_missing_extra_names_the_pip_command_instead_of_a_policy_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # as if not installed
    out = str(tmp_path / "run")
    status = main(["run", "--env", "fake", "--model", "ocr", "--task", "settings", "--out", out])
    err = capsys.readouterr().err
    assert status == 2
    assert "pip install 'pixelpilot[ocr]'" in err and "PolicyError" not in err
