"""One writer per output folder: a second process (or a second writer in this one) on a folder
in use is refused in one line naming the holder; a killed holder leaves nothing locked."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import zipfile
from pathlib import Path

import pytest

from pixelpilot.agent import Recorder
from pixelpilot.agent.folder_lock import LOCK_NAME, FolderLock, lock_holder
from pixelpilot.cli import main
from pixelpilot.errors import UserError
from pixelpilot.evals.parallel.wire import pack_folder
from tests.cli.test_batch import batch, outcomes, patch_policies
from tests.evals.test_runner import planned_actions, screenspot_set, write_script


def test_a_folder_held_by_another_process_is_refused_naming_it(
    holder: tuple[Path, subprocess.Popen[str]],
) -> None:
    folder, process = holder
    with pytest.raises(UserError) as caught:
        FolderLock(folder).acquire()
    message = str(caught.value)
    assert message == (
        f"--out {folder} is in use by pixelpilot process {process.pid}: wait for it to end, "
        "or give another --out"
    )
    assert lock_holder(folder / LOCK_NAME) == process.pid
    # SIGKILL: no clean-up ran, yet the kernel released the lock with the process
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert lock_holder(folder / LOCK_NAME) is None
    with FolderLock(folder) as lock:
        assert lock.held and lock_holder(folder / LOCK_NAME) == os.getpid()
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
    with pytest.raises(UserError, match=f"is in use by pixelpilot process {os.getpid()}:"):
        Recorder(tmp_path / "run", meta={})
    first.close()
    with pytest.raises(UserError, match="already holds a trajectory"):
        Recorder(tmp_path / "run", meta={})
    with FolderLock(tmp_path / "run") as lock:  # that refusal held nothing
        assert lock.held
    assert not (tmp_path / "run" / "result.json").exists()


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
        assert f"is in use by pixelpilot process {process.pid}: " in err
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
        assert f"in use by pixelpilot process {process.pid}: " in capsys.readouterr().err
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
    assert f"in use by pixelpilot process {process.pid}: " in capsys.readouterr().err
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
    assert main([*argv, "--out", str(out / "a" / "b")]) == 2
    assert "no-such-script.jsonl" in capsys.readouterr().err
    assert not out.exists()
    given = tmp_path / "given"  # a folder the user made is left where it was
    given.mkdir()
    assert main([*argv, "--out", str(given)]) == 2
    assert given.is_dir()


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under `folder`, the lock file included: (mtime in ns, mode, content)."""
    return {
        str(path.relative_to(folder)): (path.stat().st_mtime_ns, path.stat().st_mode,
                                        path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }  # fmt: skip


def test_a_writer_refused_as_the_folder_is_used_changes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "done.jsonl"
    script.write_text('{"type": "terminate", "status": "success"}\n')
    run = ["run", "--env", "fake", "--model", f"scripted:{script}", "--task", "fake:wifi"]
    assert main([*run, "--out", str(tmp_path / "r")]) == 1  # ran: fake:wifi is not solved
    patch_policies(monkeypatch)
    assert main(batch(tmp_path, "b")) == 1
    data = screenspot_set(tmp_path / "set")
    actions = write_script(tmp_path / "actions.jsonl", planned_actions(2))
    evaluate = ["eval", "screenspot-v2", "--model", f"scripted:{actions}", "--data", str(data),
                "--limit", "2", "--no-progress", "--out", str(tmp_path / "e")]  # fmt: skip
    assert main(evaluate) == 0
    before = {name: snapshot(tmp_path / name) for name in ("r", "b", "e")}
    assert all(LOCK_NAME in files for files in before.values())
    capsys.readouterr()
    for argv, message in (
        ([*run, "--out", str(tmp_path / "r")], "already holds a trajectory"),
        (batch(tmp_path, "b"), "already holds a batch"),
        (evaluate, "already exists: pass --resume"),
    ):
        assert main(argv) == 2
        assert message in capsys.readouterr().err
    assert {name: snapshot(tmp_path / name) for name in ("r", "b", "e")} == before


def test_a_folder_inside_one_another_process_writes_is_refused(
    holder: tuple[Path, subprocess.Popen[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, process = holder
    inner = folder / "004-task"  # e.g. a task folder of a running batch
    argv = ["run", "--env", "fake", "--model", "scripted:x", "--task", "fake:wifi", "--out"]
    for out in (inner, inner / "new"):
        assert main([*argv, str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err == (
            f"pixelpilot: error: --out {out} is inside {folder}, which pixelpilot process "
            f"{process.pid} is writing: give a folder outside it, or wait for it to end"
        )
    assert sorted(p.name for p in folder.iterdir()) == [LOCK_NAME]
    with pytest.raises(UserError, match="is inside"):
        Recorder(inner, meta={})
    # this process's own folder: its episodes' run directories go inside it
    with FolderLock(tmp_path / "mine"):
        Recorder(tmp_path / "mine" / "trajectories" / "0", meta={}).close()


def test_an_out_that_is_a_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine")
    data = screenspot_set(tmp_path / "set")
    actions = write_script(tmp_path / "actions.jsonl", planned_actions(2))
    evaluate = ["eval", "screenspot-v2", "--data", str(data), "--no-progress", "--out"]
    patch_policies(monkeypatch)
    for argv in (
        [*evaluate, str(afile), "--model", f"scripted:{actions}"],
        [*evaluate, str(afile), "--predictions", str(actions)],
        [*evaluate, str(afile / "sub"), "--model", f"scripted:{actions}"],
        ["run", "--env", "fake", "--model", "scripted:x", "--task", "fake:wifi", "--out",
         str(afile)],
        [*batch(tmp_path, "afile")],
        [*batch(tmp_path, "afile"), "--resume"],
    ):  # fmt: skip
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "Traceback" not in err and "unexpected" not in err, err
        assert f"{afile} is a file, not a folder" in err, err
    assert afile.read_text() == "mine"


def test_a_refusal_hides_a_secret_in_the_folder_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PP_PW", "canary-s3cr3t-771")
    folder = tmp_path / "sx-canary-s3cr3t-771"
    folder.mkdir()
    argv = ["run", "--env", "fake", "--model", "scripted:x", "--task", "fake:wifi",
            "--secret", "PP_PW", "--out", str(folder)]  # fmt: skip
    patch_policies(monkeypatch)
    with FolderLock(folder):
        assert main(argv) == 2
        assert main(batch(tmp_path, folder.name, "--secret", "PP_PW")) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all("is in use by pixelpilot process" in line for line in err)
    assert all("sx-<secret:PP_PW>" in line and "canary" not in line for line in err)
