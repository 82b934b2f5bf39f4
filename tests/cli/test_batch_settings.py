"""`run --tasks --resume` continues a batch only with the settings it started with: OUT/tasks.json
records every one that shapes a run (environment and model options, budgets, safety, secrets
by name, the config file's digest, --report) and a resume with any other is refused in one
line naming each difference, before anything is moved or run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pixelpilot.cli import main
from tests.cli.test_batch import TwoClicks, batch, outcomes, patch_policies
from tests.cli.test_batch_resume import files

SECRET = "PIXELPILOT_TEST_BATCH_SECRET"
VALUE = "hunter2-batch-value"
FIRST = ["--env-opt", "width=800", "--allow-risk"]


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[TwoClicks]:
    monkeypatch.setenv(SECRET, VALUE)
    return patch_policies(monkeypatch)


def interrupted(tmp_path: Path, *extra: str) -> Path:
    """A batch run with `extra`, then cut short: its last two tasks unfinished."""
    out = tmp_path / "out"
    assert main(batch(tmp_path, "out", *extra)) == 1
    (out / "summary.json").unlink()
    (out / "004-fake-wifi" / "result.json").unlink()
    shutil.rmtree(out / "005-fake-wifi")
    return out


@pytest.mark.parametrize(
    ("now", "message"),
    [
        (["--env-opt", "width=1600", "--allow-risk"], "env option width was 800, now 1600"),
        (["--env-opt", "width=800"], "--allow-risk was on, now off"),
        (["--env-opt", "width=1600"],
         "env option width was 800, now 1600; --allow-risk was on, now off"),
        ([*FIRST, "--max-steps", "5"], "--max-steps was 30, now 5"),
        ([*FIRST, "--max-seconds", "60"], "--max-seconds was 600.0, now 60.0"),
        ([*FIRST, "--model-opt", "temperature=0.5"], "model option temperature was unset, now 0.5"),
        ([*FIRST, "--secret", SECRET], f"--secret {SECRET} was unset, now typed anywhere"),
        ([*FIRST, "--report"], "--report was off, now on"),
        ([*FIRST, "--config", "{tmp}/c.toml"], "--config was none, now sha256:"),
    ],
)  # fmt: skip
def test_a_resume_with_other_settings_is_refused_naming_what_differs(
    tmp_path: Path,
    made: list[TwoClicks],
    capsys: pytest.CaptureFixture[str],
    now: list[str],
    message: str,
) -> None:
    (tmp_path / "c.toml").write_text("[env.fake]\nwidth = 800\n")
    out = interrupted(tmp_path, *FIRST)
    before = files(out)
    capsys.readouterr()
    resume = [*batch(tmp_path, "out"), *(a.format(tmp=tmp_path) for a in now), "--resume"]
    assert main(resume) == 2
    err = capsys.readouterr().err.strip()
    assert f"--resume: {out} was started with other settings ({message}" in err
    assert "give the same settings (see" in err and "\n" not in err and "Traceback" not in err
    assert files(out) == before and len(made) == 1  # nothing moved, rewritten or run


def test_the_same_settings_resume_and_a_secret_is_recorded_by_name_only(
    tmp_path: Path, made: list[TwoClicks]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[env.fake]\ndelay = 0.001\n")
    same = [*FIRST, "--secret", SECRET, "--config", str(config), "--max-steps", "6"]
    assert main(batch(tmp_path, "clean", *same)) == 1
    out = interrupted(tmp_path, *same)
    record = (out / "tasks.json").read_text()
    assert VALUE not in record and SECRET in record
    settings = json.loads(record)["settings"]
    assert settings["env option"]["delay"] == 0.001 and settings["env option"]["width"] == 800
    assert settings["--config"].startswith("sha256:") and settings["--max-steps"] == 6
    assert main([*batch(tmp_path, "out", *same), "--resume"]) == 1
    assert outcomes(out) == outcomes(tmp_path / "clean")
    # The config file's content is part of the batch, even where no option tells it.
    config.write_text("[env.fake]\ndelay = 0.001\n# edited\n")
    (out / "summary.json").unlink()
    (out / "custom" / "result.json").unlink()
    assert main([*batch(tmp_path, "out", *same), "--resume"]) == 2


@pytest.mark.parametrize(
    ("first", "now"),
    [
        ([], ["--env-opt", "width=1280"]),  # the fake's default width
        (["--env-opt", "width=1280", "--env-opt", "height=800"], []),
        (["--model", "ocr"], ["--model", "ocr", "--model-opt", "threshold=0.8"]),
        (["--model", "ocr", "--model-opt", "max_side=1600"], ["--model", "ocr"]),
    ],
)
def test_an_option_given_at_its_default_resumes_like_one_left_out(
    tmp_path: Path, made: list[TwoClicks], first: list[str], now: list[str]
) -> None:
    assert main(batch(tmp_path, "clean", *first)) == 1
    out = interrupted(tmp_path, *first)
    assert main([*batch(tmp_path, "out", *now), "--resume"]) == 1
    assert outcomes(out) == outcomes(tmp_path / "clean")


def test_an_effective_option_that_differs_is_still_refused_by_name(
    tmp_path: Path, made: list[TwoClicks], capsys: pytest.CaptureFixture[str]
) -> None:
    out = interrupted(tmp_path, "--model", "ocr")
    capsys.readouterr()
    now = ["--model", "ocr", "--env-opt", "width=1600", "--model-opt", "threshold=0.5"]
    assert main([*batch(tmp_path, "out", *now), "--resume"]) == 2
    err = capsys.readouterr().err
    assert (
        f"--resume: {out} was started with other settings (env option width was 1280, now "
        "1600; model option threshold was 0.8, now 0.5)" in err
    ), err


def test_a_record_without_settings_is_not_resumed_blindly(
    tmp_path: Path, made: list[TwoClicks], capsys: pytest.CaptureFixture[str]
) -> None:
    out = interrupted(tmp_path)
    record = json.loads((out / "tasks.json").read_text())
    del record["settings"]
    (out / "tasks.json").write_text(json.dumps({**record, "format": 1}))
    capsys.readouterr()
    assert main([*batch(tmp_path, "out"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "does not record the batch's settings (written by an older pixelpilot)" in err
