"""Work shared by the items of a batch: the KV cache of the prompt prefix they all start with.

When several episodes run at once (the batching front gathers N workers' requests into one
predict_batch), every prompt starts with the same system prompt and tool schema (~850 tokens of
a ~1,100-token first step; more when the batch also shares a goal). `SharedPrefix` prefills
that shared text once, at batch size 1, and keeps its cache from one call to the next, so after
the first call it is prefilled 0 times; `repeat_rows` copies it to the N rows and every row
prefills only its own rest.

The batch is padded in the MIDDLE (`inputs.collate(shared=...)`): row = shared prefix, padding,
the row's own tokens, with the attention mask 0 over the padding, so the cached prefix sits in
the same columns of every row. Positions stay those of the unpadded prompt: Qwen2.5-VL's
`get_rope_index` numbers only the tokens the attention mask keeps (text 0..n-1, images their
3-D grid), the text positions are the mask's cumulative sum, a generated token takes the last
position plus one, and the last column is always a real token. So every real token attends to
the same keys at the same positions as in the left-padded, unshared batch, and greedy outputs
are identical (`tests/model/qwen/test_reuse_batch.py` checks multi-step runs of 2-4 episodes,
with text and with image history, constrained and not, against `reuse_prefix=false`).
Flash-attention-2 unpads by the mask and aligns causality bottom-right, which handles the
middle padding the same way. Padding after the prefix was chosen over the alternatives: with
left padding the prefix would sit at a different column in each row (each row would need its
own copy, shifted), and grouping by length would split the batch.

Not shared: the per-episode history after the shared prefix (each item of a batch prefills its
own rest every step; a per-episode cache would keep one cache per running episode, ~100 MB
each for a 7B model at 2,000 tokens, with no memory option for it yet); a single request keeps
using `PrefixCache`, which does cover its own history. Models with sliding-window layers get no
prefix reuse at all (`full_attention_only`: a cropped sliding-window cache is not a recomputed
one). Constrained decoding and image history share like the rest: the constraint reads only
the generated tokens, and every image comes after the shared prefix. The vision cache
(`reuse_vision`) serves single requests only, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pixelpilot.model.qwen.reuse import BatchReuse, PrefixCache, Reuse, crop_to

__all__ = [
    "PromptReuse",
    "SharedPrefix",
    "common_prefix",
    "full_attention_only",
    "prefill_text",
    "repeat_rows",
]


def common_prefix(rows: Sequence[Sequence[int]], stop: int) -> int:
    """How many leading tokens all `rows` share, before the first `stop` token and leaving at
    least one token of every row (generate() must compute one)."""
    limit = min(len(row) for row in rows) - 1
    first = rows[0]
    length = 0
    while (
        length < limit
        and first[length] != stop
        and all(row[length] == first[length] for row in rows[1:])
    ):
        length += 1
    return length


Extend = Callable[[Any, Sequence[int], int], Any]
"""Prefills `ids` at positions start.. on top of a batch-1 cache (None: a new one); returns it."""


class SharedPrefix:
    """The KV cache (batch size 1) of the text a batch's prompts all start with, kept from one
    call to the next (see the module docstring).

    Args:
        image_token_id: the `<|image_pad|>` id (the shared prefix stops before the first one).
        extend: prefills tokens on top of the kept cache (the policy's language model).
        min_tokens: a shorter shared prefix is not worth a cache (the batch is not shared).
    """

    def __init__(self, image_token_id: int, extend: Extend, *, min_tokens: int = 16) -> None:
        self.image_token_id = image_token_id
        self.extend = extend
        self.min_tokens = min_tokens
        self._ids: tuple[int, ...] = ()
        self._cache: Any = None

    def take(self, rows: Sequence[Sequence[int]]) -> tuple[Any, int, int]:
        """The batch-1 cache of the rows' shared prefix (None: too short to share), its length
        in tokens, and how many of them were prefilled now (0: all kept from earlier calls).

        The kept cache is cropped to what it shares with this batch's prefix and extended by
        the rest; it stays kept (the caller repeats it to N rows, `repeat_rows`, never fills it).
        """
        length = common_prefix(rows, self.image_token_id)
        if length < self.min_tokens:
            return None, 0, 0
        ids = tuple(rows[0][:length])
        kept = 0
        limit = min(len(self._ids), length)
        while kept < limit and self._ids[kept] == ids[kept]:
            kept += 1
        # Forgotten until extended: a failed prefill (out of memory) leaves nothing half-kept.
        cache, self._cache, self._ids = self._cache, None, ()
        if cache is None or kept < self.min_tokens:
            cache, kept = None, 0
        else:
            crop_to(cache, kept)
        if kept < length:
            cache = self.extend(cache, ids[kept:], kept)
        self._ids, self._cache = ids, cache
        return cache, length, length - kept

    def clear(self) -> None:
        """Forget the kept prefix (a new checkpoint, a closed policy)."""
        self._ids, self._cache = (), None


def repeat_rows(cache: Any, rows: int, config: Any) -> Any:
    """A new DynamicCache holding `rows` copies of a batch-1 cache's tokens; `cache` is left as
    it was (generate() fills the copy).

    Args:
        cache: a transformers DynamicCache, keys/values (1, kv heads, tokens, head dim) per layer.
        rows: the batch size.
        config: the model's config (picks the cache layer types).
    """
    from transformers import DynamicCache

    return DynamicCache(
        ddp_cache_data=[
            (layer.keys.expand(rows, -1, -1, -1), layer.values.expand(rows, -1, -1, -1))
            for layer in cache.layers
        ],
        config=config,
    )


def prefill_text(model: Any, cache: Any, ids: Sequence[int], start: int) -> Any:
    """Run text tokens through the language model at positions start.., batch size 1, adding
    their keys and values to `cache` (None: a new DynamicCache); returns the cache.

    Text before the first image has the same position on all three rotary axes, so the 3-D
    positions are start.. three times, as `get_rope_index` gives them.

    Args:
        model: a Qwen2_5_VLForConditionalGeneration.
        cache: a batch-1 DynamicCache of the `start` tokens before `ids`, or None (start 0).
        ids: the token ids to prefill.
        start: the position of ids[0] (the tokens already in `cache`).
    """
    import torch
    from transformers import DynamicCache

    device = model.device
    if cache is None:
        cache = DynamicCache(config=model.config)
    tokens = torch.tensor([list(ids)], dtype=torch.long, device=device)
    positions = torch.arange(start, start + len(ids), device=device).view(1, 1, -1).expand(3, 1, -1)
    with torch.inference_mode():
        model.model.language_model(
            input_ids=tokens, position_ids=positions, cache=cache, use_cache=True
        )
    return cache


def full_attention_only(config: Any) -> bool:
    """Whether every text layer attends to the whole sequence (no sliding window): only then
    is a cropped cache the same as a recomputed one."""
    text = config.get_text_config(decoder=True)
    types = getattr(text, "layer_types", None) or ()
    return not getattr(text, "use_sliding_window", False) and all(
        kind == "full_attention" for kind in types
    )


class PromptReuse:
    """Which KV cache a predict_batch starts from, and what it covered (`last`).

    One request: its step-to-step `PrefixCache`. Several: the batch's `SharedPrefix` repeated
    to every row. `enabled=False` (`reuse_prefix=false`, or a sliding-window model): no cache.

    Args:
        model: a Qwen2_5_VLForConditionalGeneration (prefills the shared prefix).
        image_token_id: the `<|image_pad|>` id (the cached prefixes stop before the first one).
        enabled: whether to reuse at all.
    """

    def __init__(self, model: Any, image_token_id: int, *, enabled: bool) -> None:
        self.model = model
        self.prefix = PrefixCache(image_token_id) if enabled else None
        self.shared = SharedPrefix(image_token_id, self._prefill) if enabled else None
        self.last = BatchReuse(())

    def _prefill(self, cache: Any, ids: Sequence[int], start: int) -> Any:
        return prefill_text(self.model, cache, ids, start)

    def take(self, rows: Sequence[Sequence[int]]) -> tuple[Any, int]:
        """The cache to generate `rows` (token ids per request) from (None: none), and the
        length in tokens of the prefix the rows share in it: pad the batch after it (0: pad on
        the left). Sets `last`.

        Raises:
            RuntimeError, MemoryError: prefilling the shared prefix failed.
        """
        cache: Any = None
        shared = 0
        if self.prefix is not None and len(rows) == 1:
            cache, reuse = self.prefix.take(rows[0])
            self.last = BatchReuse((reuse,))
            return cache, 0
        prefilled = 0
        if self.shared is not None:
            prefix, shared, prefilled = self.shared.take(rows)
            if prefix is not None:
                cache = repeat_rows(prefix, len(rows), self.model.config)
        self.last = BatchReuse(tuple(Reuse(shared, len(row)) for row in rows), prefilled)
        return cache, shared

    def keep(self, rows: Sequence[Sequence[int]], cache: Any) -> None:
        """After generating `rows`: a single request's cache is kept for its next step."""
        if self.prefix is not None and len(rows) == 1:
            self.prefix.keep(rows[0], cache)

    def clear(self) -> None:
        """Forget every kept cache and the model (a closed policy: its memory can be freed)."""
        self.model = None
        for kept in (self.prefix, self.shared):
            if kept is not None:
                kept.clear()
