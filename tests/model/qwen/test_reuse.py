"""Reuse across steps (prefix KV cache, vision embeddings) gives the same greedy results.

Two policies on the tiny checkpoint, one with `reuse_prefix`/`reuse_vision` and one without,
play the same 10-step episode on the fake environment; every step's output must be identical,
the reusing one must prefill only the new part of each prompt and, with image history, encode
only the new screenshot.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpilot.actions import Observation
from pixelpilot.env import FakeEnv
from pixelpilot.model import History, HistoryEntry, Prediction
from pixelpilot.model.qwen.reuse import PrefixCache, Reuse
from pixelpilot.model.qwen.transformers_backend import Qwen25VLPolicy
from tests.model.qwen.support import load_policy

pytestmark = pytest.mark.torch

GOAL = "open settings and turn on wifi"


def _episode(
    policy: Qwen25VLPolicy, steps: int, encoded: list[int] | None = None
) -> tuple[list[str], list[Reuse]]:
    """Raw outputs and reuse figures of a `steps`-step episode (every action executed);
    `encoded` gets the images the vision cache encoded at each step."""
    env = FakeEnv()
    observation = env.reset()
    history = History(goal=GOAL)
    outputs: list[str] = []
    reuses: list[Reuse] = []
    for _ in range(steps):
        prediction = policy.predict(observation, history)
        outputs.append(prediction.raw_text)
        reuses.append(policy.last_reuse)
        if encoded is not None and policy._vision is not None:
            encoded.append(policy._vision.encoded)
        observation, history = advance(env, observation, history, prediction)
    return outputs, reuses


def advance(
    env: FakeEnv, observation: Observation, history: History, prediction: Prediction
) -> tuple[Observation, History]:
    """The next observation, and the history with `prediction`'s step (its action executed
    when the fake environment supports it)."""
    entry = HistoryEntry(
        action=prediction.action,
        raw_text=prediction.raw_text,
        error=prediction.error,
        screenshot=observation.screenshot,
        screen_size=observation.size,
    )
    if prediction.action is not None and prediction.action.type in env.supported_actions:
        env.execute(prediction.action)
    return env.observe(), History(history.goal, (*history.steps, entry))


@pytest.mark.parametrize(("image_history", "constrained"), [(0, False), (3, False), (0, True)])
def test_a_10_step_episode_is_identical_with_and_without_prefix_reuse(
    tiny_checkpoint: Path, image_history: int, constrained: bool
) -> None:
    options = {
        "image_history": image_history,
        "constrained": constrained,
        "max_new_tokens": 160 if constrained else 48,
    }
    plain = load_policy(tiny_checkpoint, reuse_prefix=False, reuse_vision=False, **options)
    reusing = load_policy(tiny_checkpoint, reuse_prefix=True, reuse_vision=True, **options)
    encoded: list[int] = []
    try:
        expected, none = _episode(plain, 10)
        outputs, reuses = _episode(reusing, 10, encoded)
    finally:
        plain.close()
        reusing.close()
    assert outputs == expected
    assert all(r.cached == 0 for r in none)
    assert reuses[0].cached == 0 and all(r.cached > 0 for r in reuses[1:])
    if image_history == 0:
        # issue 13's target: at step 10 at most 30% of the prompt is computed
        assert reuses[9].computed <= 0.3 * reuses[9].total, reuses[9]
        assert encoded == []  # no image history: no vision cache
    else:
        # each screenshot through the vision tower once: at most the new one each step (none
        # when the fake screen did not change, its digest is known)
        assert encoded[0] == 1 and all(count <= 1 for count in encoded), encoded


class _FakeCache:
    """Stands in for a transformers DynamicCache: a length, cropped by a count to drop."""

    def __init__(self, length: int) -> None:
        self.length = length

    def get_seq_length(self) -> int:
        return self.length

    def crop(self, count: int) -> None:
        assert count < 0  # transformers takes the number of tokens to remove, negated
        self.length += count


def test_prefix_cache_keeps_text_before_the_first_image_and_crops_to_the_shared_part() -> None:
    image = 9
    cache = PrefixCache(image, min_tokens=2)
    first = [1, 2, 3, 4, image, image, 5]
    assert cache.take(first) == (None, Reuse(0, 7))
    filled = _FakeCache(len(first) + 3)  # prompt + generated tokens
    cache.keep(first, filled)
    assert filled.length == 4  # up to the first image token
    second = [1, 2, 3, 7, 8, image, 5]
    taken, reuse = cache.take(second)
    assert taken is filled and reuse == Reuse(3, 7) and filled.length == 3
    assert cache.take(second) == (None, Reuse(0, 7))  # handed over once
    cache.keep([1, image], _FakeCache(5))  # too short a prefix to keep
    assert cache.take([1, image, 2]) == (None, Reuse(0, 3))


def test_vision_cache_encodes_each_image_once_while_it_stays_in_the_window() -> None:
    torch = pytest.importorskip("torch")
    from types import SimpleNamespace

    from pixelpilot.model.qwen.reuse import VisionCache

    calls: list[int] = []

    def features(chunk: object, grid: object, return_dict: bool) -> object:
        calls.append(int(chunk.shape[0]))  # type: ignore[attr-defined]
        return SimpleNamespace(pooler_output=(chunk.sum(dim=1, keepdim=True),))  # type: ignore[attr-defined]

    model = SimpleNamespace(model=SimpleNamespace(get_image_features=features))
    cache = VisionCache()
    grids = torch.tensor([[1, 2, 2], [1, 2, 4]])
    pixels = torch.arange(12 * 3, dtype=torch.float32).reshape(12, 3)
    first = cache.embeddings(model, ["a", "b"], pixels, grids)
    assert cache.encoded == 2 and calls == [4, 8]
    again = cache.embeddings(model, ["a", "b"], pixels, grids)
    assert cache.encoded == 0 and all(x is y for x, y in zip(first, again, strict=True))
    cache.embeddings(model, ["b", "c"], torch.cat([pixels[4:], pixels[:4]]), grids[[1, 0]])
    assert cache.encoded == 1 and calls[-1] == 4  # only the new image
    cache.embeddings(model, ["a"], pixels[:4], grids[:1])
    assert cache.encoded == 1  # "a" left the window and was forgotten
