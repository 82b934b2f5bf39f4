"""`run --tasks`: every line of the task file is checked before anything runs. A run
directory's name that would collide with the batch's own files or a resume's set-aside
folders, or that no file system takes, and a budget that is not a finite positive number,
are one line naming the file and line, with status 2, and leave no output folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pixelpilot.cli import main
from tests.cli.test_batch import TwoClicks, outcomes, patch_policies, write_tasks

BAD_NAMES = [
    ("summary.json", "is the batch's own file"),
    ("tasks.json", "is the batch's own file"),
    ("Summary.JSON", "is the batch's own file"),
    ("old.interrupted-3", "ends like a run a resume set aside"),
    ("n" * 300, '"name" is 300 characters long: at most 100'),
    ("é" * 101, "at most 100"),
    ("a\u0000b", "must be one folder name: no '\\x00'"),
    ("a\tb", "no '\\t'"),
    (" ", '"name" must not be blank'),
    ("", '"name" must not be blank'),
    (" a", "must not start or end with a space"),
    ("a ", "must not start or end with a space"),
    (".hidden", "must not start with a dot"),
    ("..", "must not start with a dot"),
    ("a/b", "no '/'"),
    ("a\u2028b", "no '\\u2028'"),
    ("a\u2029b", "no '\\u2029'"),
    ("a\u200bb", "no '\\u200b'"),  # Cf: invisible
    ("a\ud800", "no '\\ud800'"),  # a lone surrogate: no file system can write it
    ("€" * 100, '"name" is 300 bytes long in UTF-8: at most 200'),
    ("a.", "must not end with a dot"),
    *((f"a{c}b", f"no {c!r}") for c in '<>:"|?*'),
    *((n, "is a device name on Windows") for n in ("CON", "nul", "Aux.txt", "com1", "LPT9.a.b")),
    (5, '"name" must be a string (a folder name), got 5'),
]

BAD_NUMBERS = [
    ('"max_seconds": NaN', "NaN is not a number a task can use"),
    ('"max_seconds": Infinity', "Infinity is not a number a task can use"),
    ('"max_seconds": -Infinity', "-Infinity is not a number a task can use"),
    ('"max_seconds": 1e999', "1e999 is too large for a number"),
    ('"env_opts": {"delay": NaN}', "NaN is not a number a task can use"),
    ('"max_seconds": 0', '"max_seconds" must be a number of seconds from 0 to 2.592e+06'),
    ('"max_seconds": -1.5', "got -1.5"),
    ('"max_seconds": 1e300', "got 1e+300"),  # would overflow the budget's timer
    ('"max_seconds": true', "got True"),
    ('"max_seconds": "10"', "got '10'"),
    ('"max_steps": 0', '"max_steps" must be an integer >= 1, got 0'),
    ('"max_steps": -3', "got -3"),
    ('"max_steps": 2.0', "got 2.0"),
    ('"max_steps": true', "got True"),
    ('"max_steps": "3"', "got '3'"),
]


def refused(tmp_path: Path, second: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run a batch whose second task line is `second`; the one line it fails with."""
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"task": "fake:wifi"}\n' + second + "\n")
    out = tmp_path / "out"
    argv = ["run", "--env", "fake", "--model", "test:two", "--tasks", str(tasks), "--out",
            str(out)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert not out.exists()  # refused before anything ran or was written
    return err


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
def test_a_name_no_batch_folder_can_hold_is_refused_up_front(
    tmp_path: Path,
    policies: list[TwoClicks],
    capsys: pytest.CaptureFixture[str],
    name: Any,
    message: str,
) -> None:
    err = refused(tmp_path, json.dumps({"task": "fake:mail", "name": name}), capsys)
    assert "tasks.jsonl:2: " in err and message in err
    assert policies == []


@pytest.mark.parametrize(("fields", "message"), BAD_NUMBERS)
def test_a_budget_that_is_not_a_finite_positive_number_is_refused_up_front(
    tmp_path: Path,
    policies: list[TwoClicks],
    capsys: pytest.CaptureFixture[str],
    fields: str,
    message: str,
) -> None:
    err = refused(tmp_path, '{"task": "fake:mail", ' + fields + "}", capsys)
    assert "tasks.jsonl:2: " in err and message in err
    assert policies == []


def test_the_longest_allowed_name_runs_and_resumes(
    tmp_path: Path, policies: list[TwoClicks]
) -> None:
    name = "n" * 100
    lines = [{"task": "fake:wifi", "name": name}, {"task": "fake:mail", "max_seconds": 2592000}]
    tasks = write_tasks(tmp_path / "tasks.jsonl", lines)
    argv = ["run", "--env", "fake", "--model", "test:two", "--tasks", str(tasks), "--out",
            str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 1  # the mail task is not solved by two clicks
    clean = outcomes(tmp_path / "out")
    (tmp_path / "out" / name / "result.json").unlink()
    (tmp_path / "out" / "summary.json").unlink()
    assert main([*argv, "--resume"]) == 1
    assert outcomes(tmp_path / "out") == clean
    assert (tmp_path / "out" / f"{name}.interrupted-1" / "meta.json").is_file()


@pytest.fixture
def policies(monkeypatch: pytest.MonkeyPatch) -> list[TwoClicks]:
    return patch_policies(monkeypatch)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("A", "a"),
        ("caf\u00e9", "cafe\u0301"),
        ("Stra\u00dfe", "STRASSE"),
        ("001-fake-wifi", "001-Fake-Wifi"),
    ],
)
def test_names_one_folder_on_some_file_system_are_refused_as_used_twice(
    tmp_path: Path,
    policies: list[TwoClicks],
    capsys: pytest.CaptureFixture[str],
    first: str,
    second: str,
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        "".join(json.dumps({"task": "fake:wifi", "name": n}) + "\n" for n in (first, second))
    )
    argv = ["run", "--env", "fake", "--model", "test:two", "--tasks", str(tasks), "--out",
            str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert f"tasks.jsonl:2: the name {second!r} is used twice (as {first!r})" in err, err
    assert "\n" not in err and not (tmp_path / "out").exists() and policies == []


def test_names_other_file_systems_take_run(tmp_path: Path, policies: list[TwoClicks]) -> None:
    names = ["CONSOLE", "com0", "a.b", "caf\u00e9", "\u20ac" * 66, "x" * 100]
    tasks = write_tasks(tmp_path / "tasks.jsonl", [{"task": "fake:wifi", "name": n} for n in names])
    out = tmp_path / "out"
    argv = ["run", "--env", "fake", "--model", "test:two", "--tasks", str(tasks), "--out", str(out)]
    assert main(argv) == 0
    assert [row[0] for row in outcomes(out)] == names
