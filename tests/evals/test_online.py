"""The options every online benchmark shares: `--tasks` names tasks, and a value that names
none (empty, only commas or spaces, an empty list in a config file) is refused in one line
instead of running every task."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpilot.cli import main
from pixelpilot.errors import ConfigError
from pixelpilot.evals import create_benchmark

ONLINE = ["desktop", "miniwob"]  # every benchmark whose Options have `tasks`


@pytest.mark.parametrize("bench", ONLINE)
@pytest.mark.parametrize("value", ["", " ", ",", " , ,"])
def test_a_tasks_value_naming_no_task_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bench: str, value: str
) -> None:
    out = tmp_path / "out"
    assert main(["eval", bench, "--tasks", value, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"invalid '{bench}' benchmark option: tasks: names no task" in err, err
    assert "\n" not in err and "Traceback" not in err and not out.exists()


@pytest.mark.parametrize("bench", ONLINE)
def test_an_empty_task_list_is_refused_and_names_are_split_and_trimmed(bench: str) -> None:
    with pytest.raises(ConfigError, match="tasks: names no task"):
        create_benchmark(bench, {"tasks": []})
    options = create_benchmark(bench, {"tasks": " a , b,,"}).options
    assert getattr(options, "tasks", None) == ["a", "b"]
    assert getattr(create_benchmark(bench).options, "tasks", "unset") is None  # all tasks
