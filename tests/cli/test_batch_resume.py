"""`run --tasks FILE --out DIR --resume`: a batch killed mid-way (a real child process, SIGKILL)
is completed with the summary of an uninterrupted run; finished runs are kept untouched,
unfinished ones moved aside, missing ones run; and the unsafe cases are refused in one line."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.agent.folder_lock import LOCK_NAME
from pixelpilot.cli import main
from pixelpilot.errors import ConfigError
from tests.cli.test_batch import (
    TASKS,
    TwoClicks,
    batch,
    outcomes,
    patch_policies,
    write_tasks,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[TwoClicks]:
    """The policies the command created (one per command that ran a task)."""
    return patch_policies(monkeypatch)


def files(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file under `folder`: (mtime in ns, sha256); not the folder locks, which each
    writer (also one then refused for another reason) rewrites with its process id."""
    return {
        str(path.relative_to(folder)): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != LOCK_NAME
    }


def kill_mid_batch(argv: list[str], stall_at: int) -> None:
    """Run the batch in a child process whose policy stalls at its `stall_at`-th prediction,
    and SIGKILL it there."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "STALL": str(stall_at)}
    child = subprocess.Popen([sys.executable, "-m", "tests.cli.batch_child", *argv],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=REPO, env=env)  # fmt: skip
    assert child.stdout is not None and child.stderr is not None
    try:
        for line in child.stdout:
            if line.strip() == "stalled":
                break
        else:
            pytest.fail(f"the child ended before it stalled: {child.stderr.read()}")
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stderr.close()


@pytest.mark.parametrize(("workers", "stall_at"), [(1, 5), (2, 7)])
def test_a_killed_batch_resumes_to_the_summary_of_a_clean_run(
    tmp_path: Path, made: list[TwoClicks], workers: int, stall_at: int
) -> None:
    extra = ["--workers", str(workers)]
    assert main(batch(tmp_path, "clean", *extra)) == 1  # task 3 runs out of steps
    out = tmp_path / "killed"
    kill_mid_batch(batch(tmp_path, "killed", *extra), stall_at)
    assert not (out / "summary.json").exists()
    names = [row[0] for row in outcomes(tmp_path / "clean")]
    finished = [n for n in names if (out / n / "result.json").exists()]
    unfinished = [n for n in names if (out / n).exists() and n not in finished]
    assert finished and unfinished, (finished, unfinished)
    if workers == 1:  # the first task done, the second stalled at its second prediction
        assert (finished, unfinished) == (["001-fake-wifi"], ["custom"])
    before = {name: files(out / name) for name in finished}
    partial = {name: files(out / name) for name in unfinished}

    assert main([*batch(tmp_path, "killed", *extra), "--resume"]) == 1
    assert outcomes(out) == outcomes(tmp_path / "clean")
    for name in finished:
        assert files(out / name) == before[name], f"{name} was touched"
    for name in unfinished:
        assert files(out / f"{name}.interrupted-1") == partial[name]  # moved aside, as it was
        assert json.loads((out / name / "result.json").read_text())["status"]
    summary = json.loads((out / "summary.json").read_text())
    clean = json.loads((tmp_path / "clean" / "summary.json").read_text())
    assert summary["counts"] == clean["counts"]  # `ok` of a kept run read back as it was
    assert [t["ok"] for t in summary["tasks"]] == [t["ok"] for t in clean["tasks"]]
    [resumed] = summary["resumes"]
    assert resumed["kept"] == len(finished)
    assert resumed["rerun"] == [n for n in names if n not in finished]
    assert resumed["set_aside"] == [[n, f"{n}.interrupted-1"] for n in unfinished]
    assert [t["run_dir"] for t in summary["tasks"]] == [str(out / n) for n in names]


def test_resume_keeps_finished_runs_reruns_the_rest_and_numbers_what_it_moves(
    tmp_path: Path, made: list[TwoClicks], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(batch(tmp_path, "out", "--workers", "2")) == 1
    clean = outcomes(out)
    (out / "summary.json").unlink()
    (out / "custom" / "result.json").unlink()  # unfinished
    shutil.rmtree(out / "004-fake-wifi")  # never started
    (out / "custom.interrupted-1").mkdir()  # an earlier resume's: the next number is taken
    kept = files(out / "001-fake-wifi")
    capsys.readouterr()
    assert main([*batch(tmp_path, "out", "--workers", "2"), "--resume"]) == 1
    printed = capsys.readouterr().out
    assert "resuming: 3 finished task(s) kept, 2 to run" in printed
    assert "custom moved aside to custom.interrupted-2" in printed
    assert "[5/5]" in printed and "[3/5]" not in printed  # numbered after the kept ones
    assert outcomes(out) == clean
    assert files(out / "001-fake-wifi") == kept
    assert (out / "custom.interrupted-2" / "meta.json").exists()
    # A finished batch resumed again: nothing runs, no policy is made, the same summary.
    policies = len(made)
    assert main([*batch(tmp_path, "out"), "--resume"]) == 1
    assert len(made) == policies and outcomes(out) == clean


def test_a_comment_added_to_the_task_file_does_not_stop_a_resume(
    tmp_path: Path, made: list[TwoClicks]
) -> None:
    out = tmp_path / "out"
    main(batch(tmp_path, "out"))
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("# rerun after the outage\n" + tasks.read_text())
    args = ["run", "--env", "fake", "--model", "test:two", "--tasks", str(tasks), "--out", str(out)]
    assert main([*args, "--resume"]) == 1


def changed(tasks: list[dict[str, Any]], **change: Any) -> list[dict[str, Any]]:
    return [tasks[0], tasks[1], {**tasks[2], **change}, *tasks[3:]]


@pytest.mark.parametrize(
    ("tasks", "extra", "message"),
    [
        (TASKS, [], "already holds a batch: give --resume to continue it, or another --out"),
        (changed(TASKS, max_steps=2), ["--resume"],
         "is not the task list {out} was started with (task 3 (003-open-the-wifi-screen) "
         "changed"),
        ([*TASKS, {"task": "fake:mail"}], ["--resume"], "(6 tasks now, 5 when the batch started"),
        (TASKS, ["--resume", "--model", "test:other"],
         "{out} was started with --model test:two, not test:other"),
    ],
)  # fmt: skip
def test_an_unsafe_second_run_into_a_batch_is_refused_in_one_line(
    tmp_path: Path,
    made: list[TwoClicks],
    capsys: pytest.CaptureFixture[str],
    tasks: list[dict[str, Any]],
    extra: list[str],
    message: str,
) -> None:
    out = tmp_path / "out"
    main(batch(tmp_path, "out"))
    before = files(out)
    write_tasks(tmp_path / "tasks.jsonl", tasks)
    capsys.readouterr()
    args = ["run", "--env", "fake", "--model", "test:two", "--tasks", str(tmp_path / "tasks.jsonl"),
            "--out", str(out), *extra]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message.format(out=out) in err and "\n" not in err and "Traceback" not in err
    assert files(out) == before  # nothing moved, nothing rewritten


def test_a_summary_without_a_task_record_is_still_a_batch(
    tmp_path: Path, made: list[TwoClicks], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")  # a batch from before tasks.json existed
    assert main(batch(tmp_path, "out")) == 2
    assert "already holds a batch: give --resume" in capsys.readouterr().err
    assert main([*batch(tmp_path, "out"), "--resume"]) == 2
    assert "holds no batch to continue (no tasks.json" in capsys.readouterr().err


def test_a_batch_that_never_started_a_task_starts_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(spec: str, options: Any) -> TwoClicks:
        raise ConfigError("no such model (test)")

    monkeypatch.setattr("pixelpilot.cli.batch.create_policy", broken)
    assert main(batch(tmp_path, "out")) == 2
    assert (tmp_path / "out" / "tasks.json").exists()
    made = patch_policies(monkeypatch)
    assert main(batch(tmp_path, "out")) == 1  # not refused: nothing there to keep or mix
    assert len(made) == 1 and len(outcomes(tmp_path / "out")) == len(TASKS)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "{tmp}/nowhere", "--resume"], "{tmp}/nowhere does not exist"),
        (["--out", "{tmp}/empty", "--resume"], "{tmp}/empty holds no batch to continue"),
        (["--resume"], "--resume continues the batch in --out DIR: give --out"),
    ],
)
def test_resume_needs_a_batch_to_continue(
    tmp_path: Path,
    made: list[TwoClicks],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    (tmp_path / "empty").mkdir()
    tasks = write_tasks(tmp_path / "tasks.jsonl", TASKS)
    argv = ["run", "--env", "fake", "--model", "test:two", "--tasks", str(tasks)]
    assert main([*argv, *(a.format(tmp=tmp_path) for a in args)]) == 2
    err = capsys.readouterr().err.strip()
    assert message.format(tmp=tmp_path) in err and "\n" not in err
    assert not (tmp_path / "nowhere").exists() and made == []


def test_resume_without_a_task_file_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--env", "fake", "--model", "scripted:x", "--task", "a", "--resume"]) == 2
    assert "--resume continues a task file's batch" in capsys.readouterr().err


@pytest.mark.parametrize("damage", [b'{"status": "termin', b"", b"[1, 2]", b'{"steps": 3}'])
def test_a_damaged_result_is_an_unfinished_run_named_in_a_warning(
    tmp_path: Path, made: list[TwoClicks], capsys: pytest.CaptureFixture[str], damage: bytes
) -> None:
    out = tmp_path / "out"
    assert main(batch(tmp_path, "out")) == 1
    clean = outcomes(out)
    (out / "summary.json").unlink()
    (out / "custom" / "result.json").write_bytes(damage)  # cut short by outside damage
    damaged = files(out / "custom")
    capsys.readouterr()
    assert main([*batch(tmp_path, "out"), "--resume"]) == 1
    captured = capsys.readouterr()
    [warning] = captured.err.splitlines()
    assert warning.startswith(f"pixelpilot: warning: {out / 'custom' / 'result.json'} ")
    assert warning.endswith(": the run counts as unfinished and runs again")
    assert "resuming: 4 finished task(s) kept, 1 to run" in captured.out
    assert outcomes(out) == clean
    assert files(out / "custom.interrupted-1") == damaged  # kept, moved aside


def test_a_new_batch_never_writes_into_a_folder_holding_something_else(
    tmp_path: Path, made: list[TwoClicks], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "out"  # a single run's directory
    run_dir.mkdir()
    (run_dir / "meta.json").write_text("{}")
    (run_dir / "trajectory.jsonl").write_text("")
    before = files(run_dir)
    assert main(batch(tmp_path, "out")) == 2
    err = capsys.readouterr().err.strip()
    assert f"{run_dir} is not empty and holds no batch (no tasks.json)" in err
    assert "give an empty or new --out" in err and "\n" not in err
    assert files(run_dir) == before and made == []
    (tmp_path / "empty").mkdir()  # an empty folder is a fine place for a batch
    assert main(batch(tmp_path, "empty")) == 1
