"""`pixelpilot replay` on the fake environment: same outcome, diverged with step and amount,
and one-line errors for bad flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixelpilot.actions import Action, Click, Terminate
from pixelpilot.cli import main
from tests.agent.report.runs import record_run

WIFI: list[Action] = [Click(x=199, y=199), Click(x=199, y=199), Terminate(status="success")]


def test_replay_reaches_the_same_outcome_and_writes_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = record_run(tmp_path / "run", WIFI)
    out = tmp_path / "again"
    assert main(["replay", str(source), "--out", str(out), "--report"]) == 0
    printed = capsys.readouterr().out
    assert "replay: terminated, 3 recorded action(s) replayed" in printed
    assert "task solved (judged by the environment)" in printed
    assert (out / "report.html").exists()
    assert json.loads((out / "meta.json").read_text())["replay"]["source"] == str(source.resolve())


def test_a_changed_screen_is_reported_as_diverged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = record_run(tmp_path / "run", WIFI)
    argv = ["replay", str(source), "--out", str(tmp_path / "again"), "--env-opt", "start=mail"]
    assert main(argv) == 1
    printed = capsys.readouterr().out
    assert "replay: diverged, 0 recorded action(s) replayed" in printed
    assert "the screen diverged at recorded step 1 (" in printed and "% > 1%)" in printed


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--ignore", "1,2,3"], "--ignore expects X,Y,W,H"),
        (["--ignore", "1,2,0,4"], "positive width and height"),
        (["--threshold", "-1"], "threshold must be a percentage"),
        (["--threshold", "nan"], "threshold must be a percentage"),
        (["--threshold", "inf"], "threshold must be a percentage"),
        (["--task", "sandbox:sign-in"], "runs with --env browser, not --env fake"),
    ],
)
def test_bad_flags_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    source = record_run(tmp_path / "run", WIFI)
    assert main(["replay", str(source), "--out", str(tmp_path / "again"), *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
