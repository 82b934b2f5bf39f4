"""Fixtures of the Qwen tests: the tiny checkpoint's policy and a scripted chat server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.model.qwen.chat_server import FakeServer, serve


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1, stopped after the test."""
    with serve() as state:
        yield state


@pytest.fixture(scope="module")
def tiny_policy(tiny_checkpoint: Path) -> Iterator[object]:
    """The tiny checkpoint's Qwen25VLPolicy (greedy, one CPU thread), closed after the module."""
    from tests.model.qwen.support import load_policy

    policy = load_policy(tiny_checkpoint)
    yield policy
    policy.close()
