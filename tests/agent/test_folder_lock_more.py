"""Folder locks, continued: pixelpilot never deletes, moves or replaces a folder another process
writes; a holder that cannot be seen still counts; refused commands leave no folder behind;
batch output hides secrets in folder names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixelpilot.agent import folder_lock
from pixelpilot.agent.folder_lock import LOCK_NAME, FolderLock, check_free, reserve_folder
from pixelpilot.cli import main
from pixelpilot.errors import UserError
from pixelpilot.evals.online import fresh_run_dir
from pixelpilot.evals.parallel.jobs_resume import _set_aside
from pixelpilot.evals.parallel.wire import pack_folder, unpack_folder
from tests.cli.test_batch import batch, patch_policies
from tests.evals.test_runner import planned_actions, screenspot_set, write_script

Held = tuple[Path, object]


def test_a_folder_another_process_writes_is_never_replaced_or_moved(holder: Held) -> None:
    folder, _ = holder
    (folder / "meta.json").write_text("{}")  # a run directory, as an episode's would be
    archive = pack_folder(folder)
    for attempt in (
        lambda: fresh_run_dir(str(folder.parent), folder.name),  # eval re-running an episode
        lambda: _set_aside(folder),  # run --tasks --resume moving an unfinished run aside
        lambda: unpack_folder(archive, folder),  # a Ray result written back
    ):
        with pytest.raises(UserError, match=f"cannot .*{folder}: {folder} is in use by"):
            attempt()
    assert sorted(p.name for p in folder.iterdir()) == [LOCK_NAME, "meta.json"]
    with pytest.raises(UserError, match=f"{folder} is in use by"):  # also one deeper inside
        check_free(folder.parent, doing="replace")


def test_a_holder_that_cannot_be_seen_still_counts(
    holder: Held,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, _ = holder
    # as from another PID namespace: the kernel's lock table does not show the holder
    monkeypatch.setattr(folder_lock, "lock_holder", lambda path: None)
    expected = f"{folder / 'sub'} is inside {folder}, which another pixelpilot process is writing"
    with pytest.raises(UserError, match=expected):
        FolderLock(folder / "sub").check_outer()
    with pytest.raises(UserError, match=f"{folder} is in use by another pixelpilot process"):
        FolderLock(folder).probe()


def test_refused_commands_leave_no_folder_behind(
    holder: Held,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, _ = holder
    patch_policies(monkeypatch)
    long = tmp_path / "new" / "a" / ("x" * 300)  # the last part is too long a name
    data = screenspot_set(tmp_path / "set")
    actions = write_script(tmp_path / "actions.jsonl", planned_actions(2))
    empty = tmp_path / "empty"
    empty.mkdir()
    evaluate = ["eval", "screenspot-v2", "--no-progress"]
    for argv, message in (
        (batch(tmp_path, str(folder / "x")), f"is inside {folder}"),
        (batch(tmp_path, str(long)), "File name too long"),
        ([*evaluate, "--data", str(data), "--model", f"scripted:{actions}", "--out", str(long)],
         "File name too long"),
        ([*evaluate, "--data", str(empty), "--predictions", str(actions), "--out",
          str(tmp_path / "new" / "e")], "empty"),
        (["run", "--env", "fake", "--model", f"scripted:{actions}", "--task", "fake:wifi",
          "--out", str(long)], "File name too long"),
    ):  # fmt: skip
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in folder.iterdir()) == [LOCK_NAME]
    assert not (tmp_path / "new").exists()


def test_batch_output_hides_a_secret_in_the_folder_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PP_PW", "canary-s3cr3t-771")
    patch_policies(monkeypatch)
    out = tmp_path / "bs-canary-s3cr3t-771"
    assert main(batch(tmp_path, out.name, "--secret", "PP_PW")) == 1  # ran: 2 tasks unsolved
    (out / "001-fake-wifi" / "result.json").write_text("{torn")
    (out / "summary.json").unlink()
    assert main(batch(tmp_path, out.name, "--secret", "PP_PW", "--resume")) == 1
    printed = capsys.readouterr()
    assert "summary: " in printed.out and "is not valid JSON" in printed.err
    assert "canary" not in printed.out + printed.err
    assert "<secret:PP_PW>" in printed.out and json.loads((out / "summary.json").read_text())


def test_default_names_of_runs_started_together_are_each_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    first, second = reserve_folder(Path("runs/x")), reserve_folder(Path("runs/x"))
    assert (first.folder.name, second.folder.name) == ("x", "x-2")
    assert first.held and second.held
    first.release()
    second.discard_if_unused()  # made by the reservation, holds nothing: removed
    assert not second.folder.exists() and first.folder.is_dir()
    script = write_script(tmp_path / "done.jsonl", planned_actions(0))
    monkeypatch.setattr("time.strftime", lambda fmt: "20261130-120000")  # the same second
    argv = ["run", "--env", "fake", "--model", f"scripted:{script}", "--task", "fake:wifi"]
    statuses = [main(argv) for _ in range(3)]
    assert statuses == [1, 1, 1]  # each ran (an empty script ends the episode unsolved)
    made = sorted(p.name for p in (tmp_path / "runs").iterdir() if p.name != "x")
    base = "20261130-120000-open-the-wifi-screen"
    assert made == [base, f"{base}-2", f"{base}-3"]
    assert all((tmp_path / "runs" / name / "result.json").is_file() for name in made)


def test_an_impossible_or_dotted_out_is_settled_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    started: list[str] = []
    monkeypatch.setattr("pixelpilot.cli.run.create_env", lambda name, opts: started.append(name))
    argv = ["run", "--env", "fake", "--model", "scripted:x", "--task", "fake:wifi", "--out"]
    assert main([*argv, "/proc/pixelpilot-cannot-be"]) == 2
    assert "cannot create --out /proc/pixelpilot-cannot-be" in capsys.readouterr().err
    assert started == []
    script = write_script(tmp_path / "done.jsonl", planned_actions(0))
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    run = ["run", "--env", "fake", "--model", f"scripted:{script}", "--task", "fake:wifi"]
    assert main([*run, "--out", "zz/../dotted"]) == 1
    assert (tmp_path / "dotted" / "result.json").is_file() and not (tmp_path / "zz").exists()


def test_an_eval_refused_inside_leaves_no_new_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = screenspot_set(tmp_path / "set")
    actions = write_script(tmp_path / "actions.jsonl", planned_actions(2))
    out = tmp_path / "new" / "e"
    argv = ["eval", "screenspot-v2", "--data", str(data), "--model", f"scripted:{actions}",
            "--workers", "2", "--no-progress", "--out", str(out)]  # fmt: skip
    assert main(argv) == 2
    assert "cannot serve 2 workers at once" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
