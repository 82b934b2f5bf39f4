"""The secret canary: a value that must never appear in any file a run leaves behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpilot.agent import Secrets

NAME = "canary_pw"
VALUE = "s3cr3t-CANARY-9137"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Secrets:
    monkeypatch.setenv(NAME, VALUE)
    return Secrets.from_config([NAME])


def hits(folder: Path, *extra: str) -> list[str]:
    """Every file under `folder` (and every extra text) that holds the value, raw or escaped."""
    needles = [VALUE.encode(), VALUE.encode("utf-16-le")]
    found = [
        str(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and any(n in path.read_bytes() for n in needles)
    ]
    return found + [f"extra[{i}]" for i, text in enumerate(extra) if VALUE in text]
