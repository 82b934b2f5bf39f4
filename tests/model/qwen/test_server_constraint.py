"""The openai: backend's server-side constraint, against a local server that checks the body."""

from __future__ import annotations

import logging

import pytest

from pixelpilot.actions import Click
from pixelpilot.model.qwen.constrain.ebnf import tool_call_ebnf
from pixelpilot.model.qwen.tools import load_family
from tests.model.qwen.chat_server import FakeServer, Reply, completion
from tests.model.qwen.test_openai_backend import CLICK, HISTORY, _phone, _policy

ACTIONS = load_family().tools["mobile_use"].parameters["properties"]["action"]["enum"]
GRAMMAR = tool_call_ebnf("mobile_use", ACTIONS, 1092, 2408)  # the 1080x2400 phone, resized
REFUSED = Reply(400, {"error": {"message": "unknown field: structured_outputs"}})


@pytest.mark.parametrize(
    ("setting", "field"),
    [("vllm", "structured_outputs"), ("sglang", "ebnf"), ("auto", "structured_outputs")],
)
def test_each_flavour_sends_the_grammar_in_its_own_field(
    server: FakeServer, setting: str, field: str
) -> None:
    server.replies.append(Reply(body=completion(CLICK)))
    policy = _policy(server, server_constraint=setting)
    assert policy.predict(_phone(), HISTORY).action == Click(x=925, y=405)
    (body,) = server.requests
    sent = body[field]["grammar"] if field == "structured_outputs" else body[field]
    assert sent == GRAMMAR
    assert ({"structured_outputs", "ebnf"} - {field}).isdisjoint(body)
    assert policy.describe()["server_constraint"] == ("vllm" if setting == "auto" else setting)


def test_off_sends_no_constraint(server: FakeServer) -> None:
    server.replies.append(Reply(body=completion(CLICK)))
    policy = _policy(server, server_constraint="off")
    policy.predict(_phone(), HISTORY)
    assert {"structured_outputs", "ebnf"}.isdisjoint(server.requests[0])
    assert policy.describe()["server_constraint"] == "off"


def test_auto_falls_back_flavour_by_flavour_with_one_line_each(
    server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    answer = Reply(body=completion(CLICK))
    # step 1: vllm refused, the same request unconstrained answers; step 2: sglang refused,
    # unconstrained answers; step 3: nothing left to try, sent unconstrained at once
    server.replies += [REFUSED, answer, REFUSED, answer, answer]
    policy = _policy(server, server_constraint="auto")
    with caplog.at_level(logging.WARNING, logger="pixelpilot.model.qwen.openai_backend"):
        actions = [policy.predict(_phone(), HISTORY).action for _ in range(3)]
    assert actions == [Click(x=925, y=405)] * 3
    sent = [("structured_outputs" in b, "ebnf" in b) for b in server.requests]
    assert sent == [(True, False), (False, False), (False, True), (False, False), (False, False)]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "rejected the vllm constraint" in lines[0] and "trying sglang" in lines[0]
    assert "rejected the sglang constraint" in lines[1] and "unconstrained" in lines[1]
    assert policy.describe()["server_constraint"] == "off"


def test_a_prefilled_grounding_turn_is_sent_unconstrained(server: FakeServer) -> None:
    server.replies.append(Reply(body=completion("966, 546]}}\n</tool_call>")))
    policy = _policy(server, grounding=True, server_constraint="vllm")
    policy.predict(_phone(), HISTORY)
    assert "structured_outputs" not in server.requests[0]
    assert server.requests[0]["continue_final_message"] is True
