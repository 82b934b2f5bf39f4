"""Qwen25VLPolicy in ScreenSpot grounding mode on the tiny checkpoint: prompt tokens, the
prefilled answer, the constraint resuming after the prefix, batching, provenance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pixelpilot.actions import Click, Observation, check_bounds, rescale_point
from pixelpilot.model import History
from pixelpilot.model.qwen.constrain.grammar import ToolCallGrammar
from pixelpilot.model.qwen.constrain.processor import TokenTable, ToolCallConstraint
from pixelpilot.model.qwen.grounding import full_reply
from pixelpilot.model.qwen.prompt import GROUNDING_PREFIX, render_grounding_prompt
from pixelpilot.model.qwen.transformers_backend import Qwen25VLPolicy
from tests.model.qwen.support import force_output, load_policy, observation

torch = pytest.importorskip("torch", reason="needs torch (the qwen extra)")

pytestmark = pytest.mark.torch

INSTRUCTION = History(goal="the search box")


@pytest.fixture(scope="module")
def grounding_policy(tiny_checkpoint: Path) -> Iterator[Qwen25VLPolicy]:
    policy = load_policy(tiny_checkpoint, grounding=True)
    yield policy
    policy.close()


def _expected_ids(policy: Qwen25VLPolicy, obs: Observation, *, prefill: bool) -> list[int]:
    """The tokenizer's encoding of the whole grounding prompt, image placeholder expanded."""
    resized = policy.settings.budget.resize(obs.size)
    text = render_grounding_prompt(INSTRUCTION.goal, resized=resized, prefill=prefill)
    unit = policy.settings.patch_size * policy.settings.merge_size
    count = (resized.width // unit) * (resized.height // unit)
    expanded = text.replace("<|image_pad|>", "<|image_pad|>" * count)
    ids: list[int] = policy.tokenizer(expanded, add_special_tokens=False)["input_ids"]
    return ids


def test_prompt_tokens_are_the_grounding_prompt_plus_the_prefix(
    grounding_policy: Qwen25VLPolicy,
) -> None:
    # A phone screenshot still gets computer_use at the resized size (the reference protocol).
    obs = observation(1080, 2400, platform="android")
    request = grounding_policy._request(obs, INSTRUCTION)
    turn = request.turn
    assert turn.tool == "computer_use" and turn.pointer is None
    assert turn.resized == grounding_policy.settings.budget.resize(obs.size) != obs.size
    assert request.prompt.input_ids == _expected_ids(grounding_policy, obs, prefill=True)
    prefix_ids = grounding_policy.tokenizer(GROUNDING_PREFIX, add_special_tokens=False)
    assert request.prompt.input_ids[-len(prefix_ids["input_ids"]) :] == prefix_ids["input_ids"]
    text = grounding_policy.tokenizer.decode(request.prompt.input_ids)
    assert "mobile_use" not in text and "Task progress" not in text
    assert f"resolution is {turn.resized.width}x{turn.resized.height}" in text


def test_a_forced_continuation_is_a_click_in_screenshot_pixels(
    grounding_policy: Qwen25VLPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    obs = observation(1280, 800)
    resized = grounding_policy.settings.budget.resize(obs.size)
    continuation = f"{resized.width - 1}, 7]}}}}\n</tool_call>"
    force_output(grounding_policy, monkeypatch, continuation)
    prediction = grounding_policy.predict(obs, INSTRUCTION)
    assert prediction.raw_text == GROUNDING_PREFIX + continuation
    x, y = rescale_point(resized.width - 1, 7, resized, obs.size)
    assert prediction.action == Click(x=x, y=y)
    assert grounding_policy.last_constraint.completed() == [True]


def test_batched_grounding_equals_one_at_a_time(grounding_policy: Qwen25VLPolicy) -> None:
    items = [
        (observation(1280, 800, seed=1), INSTRUCTION),
        (observation(1080, 2400, platform="android", seed=2), History(goal="the mail icon")),
        (observation(640, 480, platform="browser", seed=3), History(goal="the cat picture")),
    ]
    single = [grounding_policy.predict(obs, hist) for obs, hist in items]
    batched = grounding_policy.predict_batch(items)
    assert [p.raw_text for p in batched] == [p.raw_text for p in single]
    assert [p.action for p in batched] == [p.action for p in single]
    for prediction, (obs, _) in zip(batched, items, strict=True):
        assert prediction.raw_text.startswith(GROUNDING_PREFIX)
        assert isinstance(prediction.action, Click)
        check_bounds(prediction.action, obs.size)


def test_a_random_model_gives_an_in_bounds_click_on_10_of_10_seeds(
    tiny_checkpoint: Path,
) -> None:
    policy = load_policy(tiny_checkpoint, grounding=True, greedy=False, max_new_tokens=64)
    sizes = [(1280, 800, "desktop"), (1080, 2400, "android"), (777, 333, "browser")]
    for seed in range(10):
        width, height, platform = sizes[seed % len(sizes)]
        obs = observation(width, height, platform=platform, seed=seed)  # type: ignore[arg-type]
        torch.manual_seed(seed)
        prediction = policy.predict(obs, INSTRUCTION)
        assert isinstance(prediction.action, Click), (seed, prediction.raw_text, prediction.error)
        check_bounds(prediction.action, obs.size)
        resized = policy.settings.budget.resize(obs.size)
        grammar = policy._grammars["computer_use", resized, False]
        assert grammar.accepts(prediction.raw_text), (seed, prediction.raw_text)
    policy.close()


def test_without_prefill_the_model_writes_the_whole_call(tiny_checkpoint: Path) -> None:
    policy = load_policy(tiny_checkpoint, grounding=True, grounding_prefill=False)
    obs = observation(1280, 800, platform="android")
    request = policy._request(obs, INSTRUCTION)
    turn = request.turn
    assert turn.prefix == ""
    assert request.prompt.input_ids == _expected_ids(policy, obs, prefill=False)
    prediction = policy.predict(obs, INSTRUCTION)
    assert prediction.action is not None and prediction.raw_text.startswith("<tool_call>\n{")
    check_bounds(prediction.action, obs.size)
    info = policy.describe()
    assert (info["grounding"], info["grounding_prefill"]) == (True, False)
    policy.close()


def test_describe_records_grounding(
    grounding_policy: Qwen25VLPolicy, tiny_checkpoint: Path
) -> None:
    info = grounding_policy.describe()
    assert (info["grounding"], info["grounding_prefill"]) == (True, True)
    agent = load_policy(tiny_checkpoint)
    assert (agent.describe()["grounding"], agent.describe()["grounding_prefill"]) == (False, False)
    agent.close()


def test_the_constraint_starts_after_the_prefix(grounding_policy: Qwen25VLPolicy) -> None:
    grammar = ToolCallGrammar("computer_use", ["left_click", "type"], 100, 50)
    table = TokenTable.from_tokenizer(grounding_policy.tokenizer, 200, [0])
    prefix = GROUNDING_PREFIX.encode()
    constraint = ToolCallConstraint(
        table, [grammar], prompt_length=1, max_new_tokens=20, prefixes=[prefix]
    )
    (start,) = constraint.states
    assert start == grammar.advance(grammar.initial, prefix)
    assert start is not None
    assert grammar.advance(start, b"<tool_call>") is None  # only the coordinate may follow
    assert grammar.advance(start, b"100, 1]") is None  # outside the 100x50 frame
    end = grammar.advance(start, b"99, 49]}}\n</tool_call>")
    assert end is not None and grammar.is_complete(end)
    with pytest.raises(ValueError, match="no valid tool call starts with"):
        ToolCallConstraint(
            table, [grammar], prompt_length=1, max_new_tokens=20, prefixes=[b"<tool_call>\nhi"]
        )


@pytest.mark.parametrize(
    ("reply", "text"),
    [
        ("5, 6]}}\n</tool_call>", GROUNDING_PREFIX + "5, 6]}}\n</tool_call>"),
        (GROUNDING_PREFIX + "5, 6]}}", GROUNDING_PREFIX + "5, 6]}}"),  # an echoing server
        ("\n<tool_call>\n{}", "\n<tool_call>\n{}"),  # a server that ignored the prefill
        ("", GROUNDING_PREFIX),
    ],
)
def test_full_reply(reply: str, text: str) -> None:
    assert full_reply(reply, GROUNDING_PREFIX) == text
    assert full_reply(reply, "") == reply
