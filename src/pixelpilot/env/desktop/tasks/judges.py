"""Judges for desktop tasks: each reads what a user would check (a file's contents, the file
system, a saved setting, the answer given) and returns an Outcome; none trusts the policy's own
claim of success. All paths are relative to the task's home folder.
"""

from __future__ import annotations

import configparser
import csv
import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from pixelpilot.actions import Outcome

Judge = Callable[[Path, str | None], Outcome]
"""A judge: (the task's home folder, the policy's answer or None) -> the verdict."""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def file_text(relative: str, expected: str) -> Judge:
    """The file holds exactly `expected` (one trailing newline, as editors add, is ignored)."""

    def judge(home: Path, answer: str | None) -> Outcome:
        text = _read(home / relative)
        if text is None:
            return Outcome(False, detail=f"~/{relative} does not exist or is not UTF-8 text")
        if text.removesuffix("\n") == expected:
            return Outcome(True, detail=f"~/{relative} holds the expected text")
        return Outcome(False, detail=f"~/{relative} holds {text[:80]!r}, not {expected!r}")

    return judge


def file_lines(relative: str, expected: Sequence[str]) -> Judge:
    """The file's non-empty lines, stripped, are exactly `expected`."""

    def judge(home: Path, answer: str | None) -> Outcome:
        text = _read(home / relative)
        if text is None:
            return Outcome(False, detail=f"~/{relative} does not exist or is not UTF-8 text")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines == list(expected):
            return Outcome(True, detail=f"~/{relative} has the expected lines")
        return Outcome(False, detail=f"~/{relative} has lines {lines[:6]!r}")

    return judge


def paths(present: Sequence[str] = (), absent: Sequence[str] = (), folders: bool = False) -> Judge:
    """Every `present` path exists (as a folder when `folders`), and no `absent` one does."""

    def judge(home: Path, answer: str | None) -> Outcome:
        for relative in present:
            path = home / relative
            if not (path.is_dir() if folders else path.is_file()):
                kind = "folder" if folders else "file"
                return Outcome(False, detail=f"~/{relative} is not an existing {kind}")
        for relative in absent:
            if (home / relative).exists():
                return Outcome(False, detail=f"~/{relative} still exists")
        return Outcome(True, detail="the files are as asked")

    return judge


def csv_rows(relative: str, expected: Sequence[Sequence[str]]) -> Judge:
    """The file is CSV whose rows (cells stripped, empty rows skipped) are `expected`."""

    def judge(home: Path, answer: str | None) -> Outcome:
        text = _read(home / relative)
        if text is None:
            return Outcome(False, detail=f"~/{relative} does not exist or is not UTF-8 text")
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
        rows = [row for row in rows if any(row)]
        if rows == [list(row) for row in expected]:
            return Outcome(True, detail=f"~/{relative} has the expected rows")
        return Outcome(False, detail=f"~/{relative} has rows {rows[:4]!r}")

    return judge


def answer_number(expected: float) -> Judge:
    """The answer is the number `expected` (spaces, thousands separators and a trailing '.0'
    ignored)."""

    def judge(home: Path, answer: str | None) -> Outcome:
        if answer is None:
            return Outcome(False, detail="no answer was given")
        text = re.sub(r"[\s,'_]", "", answer)
        try:
            value = float(text)
        except ValueError:
            return Outcome(False, detail=f"the answer {answer!r} is not a number")
        if abs(value - expected) <= 1e-9 * max(1.0, abs(expected)):
            return Outcome(True, detail=f"answered {answer!r}")
        return Outcome(False, detail=f"answered {answer!r}, expected {expected:g}")

    return judge


def gsetting(schema_path: str, key: str, expected: str) -> Judge:
    """The application saved GSettings key `key` of `schema_path` ("org/xfce/mousepad/...") as
    `expected` in the task's key-file settings (~/.config/glib-2.0/settings/keyfile)."""

    def judge(home: Path, answer: str | None) -> Outcome:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        text = _read(home / ".config/glib-2.0/settings/keyfile") or ""
        try:
            parser.read_string(text)
        except configparser.Error:
            return Outcome(False, detail="the settings file is not readable")
        value = parser.get(schema_path, key, fallback=None)
        if value == expected:
            return Outcome(True, detail=f"{key} = {value}")
        return Outcome(False, detail=f"{key} is {value or 'unset (the default)'}")

    return judge


def all_of(*judges: Judge) -> Judge:
    """Every judge passes; the first failure is the verdict."""

    def judge(home: Path, answer: str | None) -> Outcome:
        outcome = Outcome(True)
        for one in judges:
            outcome = one(home, answer)
            if not outcome.success:
                return outcome
        return outcome

    return judge
