"""One writer per output folder: a second process (or a second writer in this one) on a folder
in use is refused in one line naming the holder; a killed holder leaves nothing locked."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixelpilot.agent import Recorder
from pixelpilot.agent.folder_lock import LOCK_NAME, FolderLock
from pixelpilot.cli import main
from pixelpilot.errors import UserError
from pixelpilot.evals.parallel.wire import pack_folder
from tests.cli.test_batch import batch, outcomes, patch_policies
from tests.evals.test_runner import planned_actions, screenspot_set, write_script

HOLD = """
import sys, time
from pathlib import Path
from pixelpilot.agent.folder_lock import FolderLock
lock = FolderLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
sys.stdin.read()  # until the test closes stdin or kills it
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """Another process holding tmp_path/held's lock."""
    folder = tmp_path / "held"
    folder.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        yield folder, process
    finally:
        process.kill()
        process.wait(timeout=10)


def test_a_folder_held_by_another_process_is_refused_naming_it(
    holder: tuple[Path, subprocess.Popen[str]],
) -> None:
    folder, process = holder
    with pytest.raises(UserError) as caught:
        FolderLock(folder).acquire()
    message = str(caught.value)
    assert f"--out {folder} is in use by another pixelpilot process" in message
    assert f"pid {process.pid} on " in message and "give another --out" in message
    # SIGKILL: no clean-up ran, yet the kernel released the lock with the process
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    with FolderLock(folder) as lock:
        assert lock.held and f"pid {os.getpid()} on " in lock.owner()
    assert not lock.held


def test_two_writers_in_one_process_are_refused_too(tmp_path: Path) -> None:
    with (
        FolderLock(tmp_path, what="run directory"),
        pytest.raises(UserError, match=r"run directory .* is in use"),
    ):
        FolderLock(tmp_path, what="run directory").acquire()
    with FolderLock(tmp_path) as lock:  # released on exit
        assert lock.held


def test_a_second_recorder_on_a_run_directory_in_use_is_refused(tmp_path: Path) -> None:
    first = Recorder(tmp_path / "run", meta={})
    with pytest.raises(UserError, match="is in use by another pixelpilot process"):
        Recorder(tmp_path / "run", meta={})
    first.close()
    # once closed, the directory is free but holds a trajectory: the old refusal stands
    with pytest.raises(UserError, match="already holds a trajectory"):
        Recorder(tmp_path / "run", meta={})
    with FolderLock(tmp_path / "run") as lock:  # that refusal released its lock
        assert lock.held


def test_a_run_directory_travels_without_its_lock_file(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "run", meta={"m": 1})
    recorder.close()
    assert (tmp_path / "run" / LOCK_NAME).is_file()
    names = zipfile.ZipFile(io.BytesIO(pack_folder(tmp_path / "run"))).namelist()
    assert "meta.json" in names and LOCK_NAME not in names


def test_eval_into_a_folder_in_use_is_refused_and_writes_nothing(
    holder: tuple[Path, subprocess.Popen[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, process = holder
    data = screenspot_set(tmp_path / "set")
    script = write_script(tmp_path / "actions.jsonl", planned_actions(4))
    argv = ["eval", "screenspot-v2", "--model", f"scripted:{script}", "--data", str(data),
            "--limit", "4", "--no-progress"]  # fmt: skip
    for extra in ([], ["--resume"]):
        assert main([*argv, "--out", str(folder), *extra]) == 2
        err = capsys.readouterr().err
        assert f"is in use by another pixelpilot process (pid {process.pid} on " in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in folder.iterdir()) == [LOCK_NAME]
    # re-scoring into it is refused as well
    assert main([*argv[:2], "--predictions", str(script), "--data", str(data), "--out",
                 str(folder)]) == 2  # fmt: skip
    assert "is in use" in capsys.readouterr().err
    process.kill()
    process.wait(timeout=10)
    assert main([*argv, "--out", str(folder)]) == 0
    assert len((folder / "predictions.jsonl").read_text().splitlines()) == 4


def test_a_batch_into_a_folder_in_use_is_refused(
    holder: tuple[Path, subprocess.Popen[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, process = holder
    patch_policies(monkeypatch)
    for extra in ([], ["--resume"]):
        assert main(batch(tmp_path, "held", *extra)) == 2
        assert f"(pid {process.pid} on " in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == [LOCK_NAME]
    process.kill()
    process.wait(timeout=10)
    # the lock file a killed holder left is not "a folder that holds something else"
    assert main(batch(tmp_path, "held")) == 1  # it ran: two of TASKS are not solved
    assert len(outcomes(folder)) == 5
    assert json.loads((folder / "tasks.json").read_text())["tasks"]


def test_run_into_a_busy_or_used_directory_is_refused_before_anything_starts(
    holder: tuple[Path, subprocess.Popen[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, process = holder
    started: list[str] = []
    monkeypatch.setattr("pixelpilot.cli.run.create_env", lambda name, opts: started.append(name))
    argv = ["run", "--env", "fake", "--model", "scripted:x", "--task", "fake:wifi", "--out"]
    assert main([*argv, str(folder)]) == 2
    assert f"(pid {process.pid} on " in capsys.readouterr().err
    used = tmp_path / "used"
    (used).mkdir()
    (used / "trajectory.jsonl").write_text("")
    assert main([*argv, str(used)]) == 2
    assert "already holds a trajectory" in capsys.readouterr().err
    assert started == []  # neither started the environment


def test_a_run_refused_at_start_up_leaves_no_empty_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new"
    missing = tmp_path / "no-such-script.jsonl"
    argv = ["run", "--env", "fake", "--model", f"scripted:{missing}", "--task", "fake:wifi"]
    assert main([*argv, "--out", str(out)]) == 2
    assert "no-such-script.jsonl" in capsys.readouterr().err
    assert not out.exists()
    given = tmp_path / "given"  # a folder the user made is left where it was
    given.mkdir()
    assert main([*argv, "--out", str(given)]) == 2
    assert given.is_dir()
