"""Both Qwen backends meet the shared policy contract (check_policy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpilot.model import check_policy, create_policy
from tests.model.qwen.chat_server import FakeServer, Reply, completion
from tests.model.qwen.support import load_policy, tool_call


@pytest.mark.torch
def test_the_tiny_qwen_checkpoint_meets_the_contract(tiny_checkpoint: Path) -> None:
    policy = load_policy(tiny_checkpoint, max_new_tokens=128)
    results = check_policy(policy, deterministic=True)  # greedy: batched == one at a time
    assert all(r.passed for r in results) and len(results) == 7


def test_the_openai_backend_meets_the_contract(server: FakeServer) -> None:
    calls = [
        tool_call("computer_use", action="left_click", coordinate=[3, 4]),
        tool_call("mobile_use", action="click", coordinate=[99999, 1]),  # outside: an error
        "no call at all",
    ]
    for index in range(10):
        server.replies.append(Reply(body=completion(calls[index % len(calls)])))
    policy = create_policy(f"openai:{server.url}#qwen-test", {"backoff": 0.01})
    results = check_policy(policy)
    assert all(r.passed for r in results)
    assert len(server.requests) == 6  # blank, busy, history, then a batch of three
