"""`pixelpilot run --tasks FILE --workers N` on the fake environment: a run directory per task,
summary.json and a table, the same outcomes as one worker, one shared policy, an environment
crash kept to its own task, and one-line errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.actions import Action, Click, Observation, Terminate
from pixelpilot.cli import main
from pixelpilot.env.fake import FakeEnv
from pixelpilot.errors import EnvError
from pixelpilot.model import History, PolicyBase, Prediction

TASKS: list[dict[str, Any]] = [
    {"task": "fake:wifi"},
    {"task": "fake:settings", "name": "custom"},
    {"task": "open the wifi screen", "max_steps": 1},
    {"task": "fake:wifi", "env_opts": {"start": "settings"}},
    {"task": "fake:wifi", "env_opts": {"delay": 0.05}},
]


class TwoClicks(PolicyBase):
    """Per episode: click (200, 200) twice, then terminate(success); counts calls and
    the largest batch."""

    spec = "test:two"

    def __init__(self) -> None:
        self.largest = 0
        self.instances = 1
        self.closed = False
        self.lock = threading.Lock()

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        with self.lock:
            self.largest = max(self.largest, len(items))
        out = []
        for _, hist in items:
            action: Action = (
                Click(x=200, y=200) if len(hist.steps) < 2 else Terminate(status="success")
            )
            out.append(Prediction(action, raw_text=action.type))
        return out

    def close(self) -> None:
        self.closed = True


def patch_policies(monkeypatch: pytest.MonkeyPatch) -> list[TwoClicks]:
    """Make the command create TwoClicks policies; the list of those it created."""
    made: list[TwoClicks] = []

    def create(spec: str, options: Any) -> TwoClicks:
        made.append(TwoClicks())
        return made[-1]

    monkeypatch.setattr("pixelpilot.cli.batch.create_policy", create)
    return made


@pytest.fixture
def policies(monkeypatch: pytest.MonkeyPatch) -> list[TwoClicks]:
    return patch_policies(monkeypatch)


def write_tasks(path: Path, tasks: list[dict[str, Any]]) -> Path:
    path.write_text("# a comment\n\n" + "".join(json.dumps(t) + "\n" for t in tasks))
    return path


def batch(tmp_path: Path, out: str, *extra: str) -> list[str]:
    tasks = write_tasks(tmp_path / "tasks.jsonl", TASKS)
    return ["run", "--env", "fake", "--model", "test:two", "--tasks", str(tasks),
            "--out", str(tmp_path / out), *extra]  # fmt: skip


def outcomes(out: Path) -> list[tuple[Any, ...]]:
    summary = json.loads((out / "summary.json").read_text())
    return [(t["name"], t["status"], t["steps"], t["success"]) for t in summary["tasks"]]


def test_tasks_run_in_parallel_with_the_outcomes_of_one_worker(
    tmp_path: Path, policies: list[TwoClicks], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(batch(tmp_path, "one")) == 1  # task 3 runs out of steps
    assert main(batch(tmp_path, "four", "--workers", "4")) == 1
    assert outcomes(tmp_path / "four") == outcomes(tmp_path / "one")
    rows = outcomes(tmp_path / "four")
    assert [row[0] for row in rows] == [
        "001-fake-wifi", "custom", "003-open-the-wifi-screen", "004-fake-wifi", "005-fake-wifi"
    ]  # fmt: skip
    assert rows[0][1:] == ("terminated", 3, True)
    assert rows[1][3] is False  # two clicks go past settings to wifi
    assert rows[2][1] == "max_steps"
    summary = json.loads((tmp_path / "four" / "summary.json").read_text())
    assert summary["workers"] == 4 and summary["counts"]["tasks"] == 5
    for row in summary["tasks"]:
        run_dir = Path(row["run_dir"])
        assert json.loads((run_dir / "result.json").read_text())["status"] == row["status"]
        meta = json.loads((run_dir / "meta.json").read_text())
        assert meta["task"]["index"] == row["index"]
    meta = json.loads((tmp_path / "four/004-fake-wifi/meta.json").read_text())
    assert meta["env"]["options"] == {"start": "settings"}
    # One policy per command, shared by the workers, closed at the end.
    assert len(policies) == 2 and all(p.closed for p in policies)
    assert policies[1].largest > 1
    printed = capsys.readouterr().out
    assert "[5/5]" in printed and "summary.json" in printed and "max_steps" in printed


def test_an_environment_crash_ends_only_its_task(
    tmp_path: Path, policies: list[TwoClicks], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = FakeEnv.execute

    def crashing(self: FakeEnv, action: Action) -> Any:
        if self.config.start == "settings":
            raise EnvError("the device went away (test)")
        return real(self, action)

    monkeypatch.setattr(FakeEnv, "execute", crashing)
    assert main(batch(tmp_path, "out", "--workers", "3")) == 1
    rows = outcomes(tmp_path / "out")
    assert rows[3][1] == "env_error"
    assert [row[1] for row in rows[:3]] == ["terminated", "terminated", "max_steps"]
    assert rows[4][1] == "terminated"


@pytest.mark.parametrize(
    ("lines", "extra", "message"),
    [
        ('{"task": "a"}\n{"task": ""}\n', [], 'tasks.jsonl:2: "task" must be a non-empty string'),
        ('{"task": "a", "bogus": 1}\n', [], "tasks.jsonl:1: unknown key(s) bogus"),
        ("not json\n", [], "tasks.jsonl:1: not JSON"),
        ("# nothing\n", [], "no task in the file"),
        ('{"task": "a", "env_opts": {"width": -1}}\n', [], "task 1's environment"),
        ('{"task": "a"}\n', ["--workers", "0"], "--workers must be at least 1, got 0"),
        ('{"task": "a"}\n', ["--task", "b"], "either --task or --tasks"),
        ('{"task": "a"}\n', ["--confirm"], "--confirm asks on the terminal"),
    ],
)
def test_task_file_mistakes_are_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    lines: str,
    extra: list[str],
    message: str,
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(lines)
    args = ["run", "--env", "fake", "--model", "scripted:x", "--tasks", str(tasks), *extra]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_workers_need_a_task_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--env", "fake", "--model", "scripted:x", "--task", "a",
                 "--workers", "2"]) == 2  # fmt: skip
    assert "give --tasks FILE.jsonl" in capsys.readouterr().err
    assert main(["run", "--env", "fake", "--model", "scripted:x"]) == 2
    assert "give --task TEXT" in capsys.readouterr().err


def test_safety_allowed_origins_widen_each_tasks_browser_guard(
    tmp_path: Path, policies: list[TwoClicks], monkeypatch: pytest.MonkeyPatch
) -> None:
    # as for a single run, [safety] allowed_origins reach the browser's navigation guard
    opened: list[dict[str, Any]] = []

    def create(name: str, options: dict[str, Any]) -> FakeEnv:
        opened.append({"name": name, **options})
        return FakeEnv()

    monkeypatch.setattr("pixelpilot.cli.batch.create_env", create)
    config = tmp_path / "pixelpilot.toml"
    config.write_text('[safety]\nallowed_origins = ["https://docs.example.com"]\n')
    tasks = write_tasks(tmp_path / "t.jsonl", [{"task": "read the docs"}])
    argv = ["run", "--env", "browser", "--model", "test:two", "--tasks", str(tasks),
            "--config", str(config), "--out", str(tmp_path / "out")]  # fmt: skip
    main(argv)
    assert [o["allowed_origins"] for o in opened] == [["https://docs.example.com"]]


def test_desktop_tasks_are_refused_more_than_one_worker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # pyautogui drives one display per process: threads would share (and race for) it
    tasks = write_tasks(tmp_path / "t.jsonl", [{"task": "desktop:calc-multiply"}] * 2)
    argv = ["run", "--env", "desktop", "--model", "ocr", "--tasks", str(tasks),
            "--workers", "2", "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--env desktop runs one task at a time" in err and "eval desktop --workers N" in err
    assert not (tmp_path / "out").exists()
