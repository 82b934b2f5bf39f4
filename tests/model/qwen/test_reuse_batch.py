"""Sharing the prompt prefix across the items of a batch gives the same greedy results.

Two policies on the tiny checkpoint, one with `reuse_prefix=false` (every item of a batch
prefills its whole left-padded prompt) and one with the default (the prefix all items share is
prefilled once at batch size 1, kept across calls, and the batch is padded after it), run the
same 2-4 episodes side by side, one predict_batch per step; every output must be identical, and
the system prompt must be prefilled at most once per policy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpilot.actions import Observation
from pixelpilot.env import FakeEnv
from pixelpilot.model import History
from pixelpilot.model.qwen.inputs import EncodedPrompt, collate
from pixelpilot.model.qwen.reuse import BatchReuse, Reuse
from pixelpilot.model.qwen.sharing import SharedPrefix, common_prefix
from pixelpilot.model.qwen.transformers_backend import Qwen25VLPolicy
from tests.model.qwen.support import load_policy
from tests.model.qwen.test_reuse import advance

pytestmark = pytest.mark.torch

GOALS = (
    "open settings and turn on wifi",
    "search for cats",
    "open mail",
    "log in as admin and change the password",
)


def _episodes(
    policy: Qwen25VLPolicy, goals: tuple[str, ...], steps: int, *, split: bool = False
) -> tuple[list[list[str]], list[BatchReuse]]:
    """Raw outputs per step (one per episode) and reuse figures of `steps` steps of the
    episodes of `goals` run side by side (actions executed): one predict_batch per step, or
    with `split` two, of 1 and n-1 items and the other way round the next step (as the
    batching front gathers whatever requests are waiting)."""
    envs = [FakeEnv() for _ in goals]
    observations: list[Observation] = [env.reset() for env in envs]
    histories = [History(goal=goal) for goal in goals]
    outputs: list[list[str]] = []
    reuses: list[BatchReuse] = []
    for step in range(steps):
        items = list(zip(observations, histories, strict=True))
        cut = (1 if step % 2 == 0 else len(items) - 1) if split else len(items)
        predictions = []
        for group in (items[:cut], items[cut:]):
            predictions += policy.predict_batch(group)
            if group:
                reuses.append(policy.last_batch_reuse)
        outputs.append([p.raw_text for p in predictions])
        for index, (env, prediction) in enumerate(zip(envs, predictions, strict=True)):
            observations[index], histories[index] = advance(
                env, observations[index], histories[index], prediction
            )
    return outputs, reuses


@pytest.mark.parametrize(
    ("episodes", "image_history", "constrained"), [(2, 0, False), (3, 2, False), (4, 0, True)]
)
def test_batched_episodes_are_identical_with_and_without_a_shared_prefix(
    tiny_checkpoint: Path, episodes: int, image_history: int, constrained: bool
) -> None:
    options = {
        "image_history": image_history,
        "constrained": constrained,
        "max_new_tokens": 160 if constrained else 32,
    }
    plain = load_policy(tiny_checkpoint, reuse_prefix=False, **options)
    sharing = load_policy(tiny_checkpoint, reuse_prefix=True, **options)
    goals = GOALS[:episodes]
    try:
        expected, unshared = _episodes(plain, goals, 4)
        outputs, shared = _episodes(sharing, goals, 4)
    finally:
        plain.close()
        sharing.close()
    assert outputs == expected
    assert all(r.computed == sum(item.total for item in r.items) for r in unshared)
    # the shared prefix is prefilled once, in the first call, and then kept
    assert shared[0].prefilled_once > 0 and all(r.prefilled_once == 0 for r in shared[1:])
    for step in shared:
        assert len({item.cached for item in step.items}) == 1 and step.items[0].cached > 0
        assert step.computed < sum(item.total for item in step.items)


def test_a_batch_of_3_first_steps_prefills_the_system_prompt_at_most_once(
    tiny_policy: Qwen25VLPolicy,
) -> None:
    env = FakeEnv()
    observation = env.reset()
    items = [(observation, History(goal=goal)) for goal in GOALS[:3]]
    system = tiny_policy._request(*items[0]).turn.messages[0]
    chunk = f"<|im_start|>{system.role}\n{system.text}<|im_end|>\n"
    system_tokens = len(tiny_policy.tokenizer(chunk, add_special_tokens=False)["input_ids"])
    for call in range(2):
        tiny_policy.predict_batch(items)
        reuse = tiny_policy.last_batch_reuse
        # system prompt tokens computed in this call: the once-for-all prefill (it starts at
        # position 0 when nothing was kept) plus what each item did not find cached
        system_computed = min(reuse.prefilled_once, system_tokens) + sum(
            max(0, system_tokens - item.cached) for item in reuse.items
        )
        assert system_computed == (system_tokens if call == 0 else 0), reuse
        assert all(item.cached >= system_tokens for item in reuse.items), reuse
        assert tiny_policy.last_reuse == reuse.overall


def test_common_prefix_stops_before_the_first_image_and_leaves_a_token_to_compute() -> None:
    image = 9
    assert common_prefix([[1, 2, 3, 4], [1, 2, 3, 5]], image) == 3
    assert common_prefix([[1, 2, image, 4], [1, 2, image, 4]], image) == 2
    assert common_prefix([[1, 2, 3], [1, 2, 3, 4]], image) == 2  # the shorter row keeps one
    assert common_prefix([[7, 2], [1, 2]], image) == 0


class _FakeCache:
    """Stands in for a batch-1 DynamicCache: the token ids it holds."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    def get_seq_length(self) -> int:
        return len(self.ids)

    def crop(self, count: int) -> None:
        del self.ids[count:]


def test_shared_prefix_is_prefilled_once_and_cropped_or_extended_to_the_next_batch() -> None:
    prefilled: list[tuple[int, ...]] = []

    def extend(cache: _FakeCache | None, ids: list[int], start: int) -> _FakeCache:
        cache = cache or _FakeCache()
        assert cache.get_seq_length() == start
        cache.ids.extend(ids)
        prefilled.append(tuple(ids))
        return cache

    image = 9
    shared = SharedPrefix(image, extend, min_tokens=2)  # type: ignore[arg-type]
    first = [[1, 2, 3, 4, image, 5], [1, 2, 3, 6, image, 5]]
    cache, length, fresh = shared.take(first)
    assert (cache.ids, length, fresh) == ([1, 2, 3], 3, 3)
    again, length, fresh = shared.take(first)
    assert again is cache and (length, fresh) == (3, 0) and prefilled == [(1, 2, 3)]
    longer = [[1, 2, 3, 4, 8, image], [1, 2, 3, 4, 7, image]]
    assert shared.take(longer)[1:] == (4, 1) and prefilled[-1] == (4,)
    shorter = [[1, 2, 5, image], [1, 2, 6, image]]
    cache, length, fresh = shared.take(shorter)
    assert (cache.ids, length, fresh) == ([1, 2], 2, 0)  # cropped, nothing new to prefill
    assert shared.take([[5, 6, image], [1, 6, image]]) == (None, 0, 0)  # too short to share


def test_collate_pads_after_the_shared_prefix() -> None:
    torch = pytest.importorskip("torch")
    prompts = [EncodedPrompt([1, 2, 3, 4, 5], None, []), EncodedPrompt([1, 2, 6], None, [])]
    left = collate(prompts, pad_token_id=0, image_token_id=9, device="cpu")
    assert left["input_ids"].tolist() == [[1, 2, 3, 4, 5], [0, 0, 1, 2, 6]]
    middle = collate(prompts, pad_token_id=0, image_token_id=9, device="cpu", shared=2)
    assert middle["input_ids"].tolist() == [[1, 2, 3, 4, 5], [1, 2, 0, 0, 6]]
    assert torch.equal(middle["attention_mask"], (middle["input_ids"] != 0).long())


def test_batch_reuse_adds_the_shared_prefill_to_the_items() -> None:
    reuse = BatchReuse((Reuse(10, 30), Reuse(10, 40)), prefilled_once=10)
    assert reuse.computed == 10 + 20 + 30 and reuse.computed_per_item == 30
    assert reuse.overall == Reuse(10, 70)


def test_batches_of_changing_sizes_mix_step_and_shared_prefixes_with_the_same_results(
    tiny_checkpoint: Path,
) -> None:
    options = {"constrained": False, "max_new_tokens": 32}
    plain = load_policy(tiny_checkpoint, reuse_prefix=False, **options)
    sharing = load_policy(tiny_checkpoint, reuse_prefix=True, **options)
    try:
        expected, _ = _episodes(plain, GOALS[:4], 4, split=True)
        outputs, reuses = _episodes(sharing, GOALS[:4], 4, split=True)
    finally:
        plain.close()
        sharing.close()
    assert outputs == expected
    singles = [r.items[0] for r in reuses if len(r.items) == 1]
    # a lone request reuses its step-to-step prefix (another episode's: the system prompt)
    assert all(single.cached > 0 for single in singles[1:]), singles
    assert all(r.items[0].cached > 0 for r in reuses if len(r.items) > 1)
