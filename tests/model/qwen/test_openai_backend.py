"""OpenAICompatPolicy against a real HTTP server on 127.0.0.1 that the tests start."""

from __future__ import annotations

import base64
import functools
import io
import json
import re
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pixelpilot.actions import Click, Observation, OpenApp, Size
from pixelpilot.errors import ConfigError, PolicyError
from pixelpilot.model import History, HistoryEntry, create_policy
from pixelpilot.model.qwen.openai_backend import OpenAICompatConfig, OpenAICompatPolicy
from pixelpilot.model.qwen.prompt import (
    GROUNDING_PREFIX,
    render_grounding_prompt,
    render_prompt,
    system_text,
)
from pixelpilot.model.qwen.vision import CHECKPOINT_BUDGET, resize_for_model
from tests.model.qwen.chat_server import FakeServer, Reply, completion


def _policy(server: FakeServer, **options: Any) -> OpenAICompatPolicy:
    options.setdefault("backoff", 0.01)
    policy = create_policy(f"openai:{server.url}#qwen-test", options)
    assert isinstance(policy, OpenAICompatPolicy)
    return policy


@functools.cache
def _phone() -> Observation:
    # Gradients and a noisy patch: every pixel distinct enough to catch a wrong resize, yet
    # cheap to encode (a full-noise 1080x2400 PNG would slow every request down).
    y, x = np.mgrid[0:2400, 0:1080]
    pixels = np.stack([x % 256, y % 256, (x + y) % 256], axis=-1).astype(np.uint8)
    pixels[:200, :200] = np.random.default_rng(7).integers(0, 256, (200, 200, 3))
    return Observation(screenshot=Image.fromarray(pixels), platform="android")


GOAL = "Open the file manager app and view the au_uu_SzH3yR2.mp3 file in MUSIC Folder"
HISTORY = History(goal=GOAL, steps=(HistoryEntry(action=OpenApp(name="File Manager")),))
CLICK = (
    '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", '
    '"coordinate": [935, 406]}}\n</tool_call>'
)


def test_request_body_and_a_good_reply(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXELPILOT_TEST_KEY", "sk-test")
    server.replies.append(Reply(body=completion("Tap Music.\n" + CLICK)))
    policy = _policy(server, api_key_env="PIXELPILOT_TEST_KEY", max_tokens=128, temperature=0.2)
    observation = _phone()
    prediction = policy.predict(observation, HISTORY)

    assert prediction.error is None
    assert prediction.action == Click(x=925, y=405)
    assert prediction.raw_text == "Tap Music.\n" + CLICK
    assert set(prediction.timings) == {"preprocess", "request", "parse"}

    (body,) = server.requests
    assert server.paths == ["/v1/chat/completions"]
    assert server.headers[0]["Authorization"] == "Bearer sk-test"
    # server_constraint=auto sends vLLM's structured-outputs grammar first
    assert set(body) == {"model", "messages", "temperature", "max_tokens", "structured_outputs"}
    assert body["structured_outputs"]["grammar"].startswith("root ::= ")
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("qwen-test", 0.2, 128)
    system, user = body["messages"]
    assert system == {"role": "system", "content": system_text("mobile_use", Size(1092, 2408))}
    assert user["role"] == "user"
    text, image = user["content"]
    assert text == {
        "type": "text",
        "text": "The user query:  " + GOAL + "\nTask progress (You have done the following "
        'operation on the current device): Step 1: {"name": "mobile_use", "arguments": '
        '{"action": "open", "text": "File Manager"}}; ',
    }
    # The server's chat template turns these messages into exactly the golden prompt text.
    rendered = (
        f"<|im_start|>system\n{system['content']}<|im_end|>\n<|im_start|>user\n{text['text']}"
        "<|vision_start|><|image_pad|><|vision_end|><|im_end|>\n<|im_start|>assistant\n"
    )
    assert rendered == render_prompt(
        GOAL, HISTORY.steps, tool="mobile_use", screen=Size(1080, 2400), budget=CHECKPOINT_BUDGET
    )
    assert image["type"] == "image_url"
    prefix = "data:image/png;base64,"
    assert image["image_url"]["url"].startswith(prefix)
    png = Image.open(io.BytesIO(base64.b64decode(image["image_url"]["url"][len(prefix) :])))
    expected, size = resize_for_model(observation.screenshot, 3136, 12845056)
    assert png.size == size == (1092, 2408)
    assert np.array_equal(np.asarray(png.convert("RGB")), np.asarray(expected))


def test_no_key_no_authorization_header(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIXELPILOT_NO_SUCH_KEY", raising=False)
    server.replies.append(Reply(body=completion(CLICK)))
    _policy(server, api_key_env="PIXELPILOT_NO_SUCH_KEY").predict(_phone(), HISTORY)
    assert "Authorization" not in server.headers[0]


def test_server_side_tool_calls_are_parsed(server: FakeServer) -> None:
    call = {
        "id": "c1",
        "type": "function",
        "function": {
            "name": "mobile_use",
            "arguments": json.dumps({"action": "click", "coordinate": [935, 406]}),
        },
    }
    server.replies.append(Reply(body=completion(None, [call])))
    assert _policy(server).predict(_phone(), HISTORY).action == Click(x=925, y=405)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("I am not sure what to do.", "no <tool_call>"),
        (CLICK.replace("935", "5000"), "outside"),
        ("<tool_call>{not json", "not valid JSON"),
    ],
)
def test_malformed_replies_are_prediction_errors(
    server: FakeServer, content: str, message: str
) -> None:
    server.replies.append(Reply(body=completion(content)))
    prediction = _policy(server).predict(_phone(), HISTORY)
    assert prediction.action is None
    assert prediction.raw_text == content
    assert prediction.error is not None and message in prediction.error


def test_500_then_success_is_retried(server: FakeServer) -> None:
    server.replies += [Reply(500, {"error": {"message": "busy"}}), Reply(body=completion(CLICK))]
    prediction = _policy(server, max_retries=2).predict(_phone(), HISTORY)
    assert prediction.action == Click(x=925, y=405)
    assert len(server.requests) == 2
    assert server.requests[0] == server.requests[1]


def test_persistent_5xx_gives_up_after_max_retries(server: FakeServer) -> None:
    server.replies += [Reply(503, "overloaded") for _ in range(3)]
    with pytest.raises(PolicyError, match=r"failed 3 time.*HTTP 503: overloaded"):
        _policy(server, max_retries=2).predict(_phone(), HISTORY)
    assert len(server.requests) == 3


def test_400_is_one_clear_error_with_the_servers_message(server: FakeServer) -> None:
    missing = Reply(
        400, {"error": {"message": "The model `qwen-test` does not exist.", "code": 404}}
    )
    server.replies += [missing, missing]  # constrained, then the same without the constraint
    policy = _policy(server, max_retries=3)
    with pytest.raises(
        PolicyError, match=re.escape("HTTP 400: The model `qwen-test` does not exist.")
    ):
        policy.predict(_phone(), HISTORY)
    assert len(server.requests) == 2  # no retries of a 400
    assert (
        "structured_outputs" in server.requests[0]
        and "structured_outputs" not in server.requests[1]
    )
    assert policy.describe()["server_constraint"] == "vllm"  # not the constraint's fault: kept


def test_timeout_then_success(server: FakeServer) -> None:
    server.replies += [Reply(body=completion(CLICK), delay=1.5), Reply(body=completion(CLICK))]
    prediction = _policy(server, timeout=0.5, max_retries=1).predict(_phone(), HISTORY)
    assert prediction.action == Click(x=925, y=405)
    assert len(server.requests) == 2


def test_timeouts_exhaust_the_retries(server: FakeServer) -> None:
    server.replies += [Reply(body=completion(CLICK), delay=1.0) for _ in range(2)]
    with pytest.raises(PolicyError, match="failed 2 time"):
        _policy(server, timeout=0.3, max_retries=1).predict(_phone(), HISTORY)


def test_a_reply_without_choices_is_a_policy_error(server: FakeServer) -> None:
    server.replies.append(Reply(body={"object": "error"}))
    with pytest.raises(PolicyError, match="no choices"):
        _policy(server).predict(_phone(), HISTORY)


def test_connection_refused_is_retried_then_reported() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = create_policy(
        f"openai:http://127.0.0.1:{port}/v1#m", {"max_retries": 1, "backoff": 0.01}
    )
    with pytest.raises(PolicyError, match=r"failed 2 time.*Is the server up"):
        policy.predict(_phone(), HISTORY)


@pytest.mark.parametrize(
    "spec",
    [
        "openai:",
        "openai:http://127.0.0.1:8000/v1",
        "openai:127.0.0.1:8000#m",
        "openai:http://h/v1#",
    ],
)
def test_bad_specs_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError):
        create_policy(spec)


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="timeout"):
        create_policy("openai:http://h/v1#m", {"timeout": 0})
    with pytest.raises(ConfigError, match="min_pixels"):
        create_policy("openai:http://h/v1#m", {"min_pixels": 10**9})
    with pytest.raises(ConfigError, match="nope"):
        create_policy("openai:http://h/v1#m", {"nope": 1})


def test_describe_records_the_pixel_budget() -> None:
    policy = OpenAICompatPolicy("http://h/v1", "m", OpenAICompatConfig(max_pixels=1003520))
    info = policy.describe()
    assert info["backend"] == "openai" and info["max_pixels"] == 1003520
    assert info["min_pixels"] == 3136 and info["model"] == "m"
    assert (info["grounding"], info["grounding_prefill"]) == (False, False)


CONTINUATION = "935, 406]}}\n</tool_call>"


def test_grounding_request_body_with_the_prefill(server: FakeServer) -> None:
    server.replies.append(Reply(body=completion(CONTINUATION)))
    policy = _policy(server, grounding=True, max_tokens=32)
    prediction = policy.predict(_phone(), HISTORY)  # the history is not part of grounding

    assert prediction.error is None
    assert prediction.raw_text == GROUNDING_PREFIX + CONTINUATION
    assert prediction.action == Click(x=925, y=405)
    (body,) = server.requests
    assert set(body) == {
        "model",
        "messages",
        "temperature",
        "max_tokens",
        "continue_final_message",
        "add_generation_prompt",
    }
    assert (body["continue_final_message"], body["add_generation_prompt"]) == (True, False)
    assert body["max_tokens"] == 32
    system, user, prefill = body["messages"]
    # computer_use at the resized size, although the screenshot is a phone's.
    assert system == {"role": "system", "content": system_text("computer_use", Size(1092, 2408))}
    text, image = user["content"]
    assert user["role"] == "user" and text == {"type": "text", "text": GOAL}
    png = base64.b64decode(image["image_url"]["url"].removeprefix("data:image/png;base64,"))
    expected, _ = resize_for_model(_phone().screenshot, 3136, 12845056)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")), expected)
    assert prefill == {"role": "assistant", "content": GROUNDING_PREFIX}
    rendered = (
        f"<|im_start|>system\n{system['content']}<|im_end|>\n<|im_start|>user\n{text['text']}"
        "<|vision_start|><|image_pad|><|vision_end|><|im_end|>\n<|im_start|>assistant\n"
        + prefill["content"]
    )
    assert rendered == render_grounding_prompt(GOAL, resized=Size(1092, 2408), prefill=True)
    info = policy.describe()
    assert (info["grounding"], info["grounding_prefill"]) == (True, True)


@pytest.mark.parametrize(
    "content",
    [
        GROUNDING_PREFIX + CONTINUATION,  # a server that echoes the prefix
        '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", '
        '"coordinate": [935, 406]}}\n</tool_call>',  # one that ignored the prefill
    ],
)
def test_grounding_replies_with_the_whole_call(server: FakeServer, content: str) -> None:
    server.replies.append(Reply(body=completion(content)))
    prediction = _policy(server, grounding=True).predict(_phone(), HISTORY)
    assert prediction.raw_text == content
    assert prediction.action == Click(x=925, y=405)


def test_grounding_without_prefill_sends_no_assistant_turn(server: FakeServer) -> None:
    server.replies.append(Reply(body=completion("I see it.\n" + CONTINUATION)))
    policy = _policy(server, grounding=True, grounding_prefill=False)
    prediction = policy.predict(_phone(), HISTORY)
    (body,) = server.requests
    # server_constraint=auto sends vLLM's structured-outputs grammar first
    assert set(body) == {"model", "messages", "temperature", "max_tokens", "structured_outputs"}
    assert body["structured_outputs"]["grammar"].startswith("root ::= ")
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    # Without the prefill a continuation-only reply is the model's mistake, not completed.
    assert prediction.action is None and prediction.raw_text == "I see it.\n" + CONTINUATION
