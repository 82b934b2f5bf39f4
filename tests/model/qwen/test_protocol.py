"""One protocol flow: both Qwen backends read the same model text into the same Prediction."""

from __future__ import annotations

import pytest

from pixelpilot.actions import Click, OpenApp, Size
from pixelpilot.model import History, HistoryEntry, Prediction, create_policy
from pixelpilot.model.qwen.prompt import GROUNDING_PREFIX
from pixelpilot.model.qwen.protocol import Turn, build_turn, prediction_from_reply
from pixelpilot.model.qwen.transformers_backend import Qwen25VLPolicy
from pixelpilot.model.qwen.vision import PixelBudget
from tests.model.qwen.chat_server import FakeServer, Reply, completion
from tests.model.qwen.support import force_output, observation, tool_call

pytestmark = pytest.mark.torch


def turn(screen: Size, resized: Size) -> Turn:
    return Turn(messages=[], tool="computer_use", screen=screen, resized=resized, pointer=None)


def test_out_of_image_and_broken_outputs_are_errors_with_their_kind() -> None:
    screen, resized = Size(1280, 800), Size(1260, 784)
    request = turn(screen, resized)
    outside = tool_call("computer_use", action="left_click", coordinate=[1260, 5])
    prediction = prediction_from_reply(outside, request)
    assert prediction.action is None and prediction.raw_text == outside
    assert prediction.error is not None and prediction.error.startswith("out_of_bounds: ")
    broken = prediction_from_reply('<tool_call>\n{"name": "computer_use", "argu', request)
    assert broken.action is None and broken.error is not None
    assert broken.error.startswith("bad_json: ")
    wrong = tool_call("mobile_use", action="click", coordinate=[1, 1])
    assert (prediction_from_reply(wrong, request).error or "").startswith("wrong_tool: ")


def test_a_prefilled_turn_puts_the_prefix_back_unless_the_reply_is_a_whole_call() -> None:
    request = Turn([], "computer_use", Size(1280, 800), Size(1260, 784), None, GROUNDING_PREFIX)
    continued = prediction_from_reply("630, 392]}}\n</tool_call>", request)
    assert continued.raw_text.startswith(GROUNDING_PREFIX)
    assert continued.action == Click(x=640, y=400)
    whole = tool_call("computer_use", action="left_click", coordinate=[630, 392])
    assert prediction_from_reply(whole, request).raw_text == whole


REPLIES = [
    # a good call after some reasoning
    "Open the app.\n" + tool_call("computer_use", action="left_click", coordinate=[100, 200]),
    # a coordinate outside the resized image
    tool_call("computer_use", action="left_click", coordinate=[99999, 5]),
    # not JSON
    '<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", \n</tool_call>',
    # the wrong tool
    tool_call("mobile_use", action="click", coordinate=[1, 1]),
    # no call at all
    "I am done here.",
    # two calls: the second is recorded as an extra action
    tool_call("computer_use", action="type", text="hi")
    + "\n"
    + tool_call("computer_use", action="key", keys=["enter"]),
]


def _same(a: Prediction, b: Prediction) -> None:
    assert (a.action, a.error, a.raw_text, a.extra_actions) == (
        b.action,
        b.error,
        b.raw_text,
        b.extra_actions,
    )


@pytest.mark.parametrize("reply", REPLIES)
def test_both_backends_turn_the_same_model_text_into_the_same_prediction(
    reply: str,
    tiny_policy: Qwen25VLPolicy,
    server: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    obs = observation(1280, 800)
    history = History(goal="open settings", steps=(HistoryEntry(action=OpenApp(name="Files")),))
    budget = PixelBudget(
        tiny_policy.settings.budget.min_pixels, tiny_policy.settings.budget.max_pixels
    )
    # The same pixel budget on both sides, so both read coordinates in the same frame.
    options = {"min_pixels": budget.min_pixels, "max_pixels": budget.max_pixels}
    remote = create_policy(f"openai:{server.url}#qwen-test", {"backoff": 0.01, **options})
    server.replies.append(Reply(body=completion(reply)))
    over_http = remote.predict(obs, history)
    unconstrained = Qwen25VLPolicy(
        tiny_policy.checkpoint, tiny_policy.config.model_copy(update={"constrained": False})
    )
    try:
        force_output(unconstrained, monkeypatch, reply)
        in_process = unconstrained.predict(obs, history)
    finally:
        unconstrained.close()
    _same(in_process, over_http)
    # And both equal the protocol function applied to the text directly.
    request = build_turn(obs, history, budget=budget)
    _same(prediction_from_reply(reply, request), over_http)
