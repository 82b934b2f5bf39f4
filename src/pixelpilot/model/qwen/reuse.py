"""Work kept from one step to the next: the KV cache of the prompt prefix the steps share.

Each agent step sends the model the whole prompt again: the system prompt and tool schema, the
goal, the text history, then the screenshot(s). From one step to the next the text before the
first image only grows (a new `Step k: ...;` is appended to the history), so its keys and
values are the same numbers as last step's. `PrefixCache` keeps them: after a generation it
keeps the returned cache cropped to the prompt's text before its first image token; the next
prompt that starts with those same tokens is generated with that cache, and only the rest (the
new history step, the images, the assistant header) is prefilled.

Only text before the first image is kept: its rotary positions are plain positions 0..n-1 in
every prompt, so a cached prefix means exactly what recomputing it would. Greedy results are
identical with and without reuse (`tests/model/qwen/test_reuse.py` checks whole episodes).

The cache is handed to generate() and filled further by it; the one kept is replaced after
every step by a crop of the new one, so nothing is copied.

`VisionCache` does the same for the vision tower with `image_history=N`: each screenshot in the
window is encoded once, when it first appears, and its embeddings (one row per image token) are
kept by the digest of the resized image while it stays in the window; generate() gets them as
`mm_encoder_outputs` instead of pixel values. The tower encodes each image on its own (window
attention never crosses images), so an image's embeddings do not depend on the others in the
request; the same tests check identical greedy outputs.

`pixelpilot.model.qwen.sharing` shares the prefix all the prompts of a batch start with
across its items (`SharedPrefix`) and picks, per predict_batch, which cache to start from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

__all__ = ["BatchReuse", "PrefixCache", "Reuse", "VisionCache", "image_digest"]


@dataclass(frozen=True)
class Reuse:
    """What one step reused: `cached` prompt tokens of `total` came from the kept cache."""

    cached: int
    total: int

    @property
    def computed(self) -> int:
        """Prompt tokens prefilled this step."""
        return self.total - self.cached


@dataclass(frozen=True)
class BatchReuse:
    """What one predict_batch reused, per item (in request order) and for the whole batch.

    `items[i].cached` prompt tokens of item i came from a kept cache (its step-to-step prefix
    for a single request, the batch's shared prefix otherwise); `prefilled_once` tokens of the
    shared prefix were prefilled once, at batch size 1, for all items in this call (0 when it
    was kept from an earlier call).
    """

    items: tuple[Reuse, ...]
    prefilled_once: int = 0

    @property
    def computed(self) -> int:
        """Prompt tokens run through the model in this call, all items together."""
        return self.prefilled_once + sum(item.computed for item in self.items)

    @property
    def computed_per_item(self) -> float:
        """Prompt tokens computed per item (the shared prefill split evenly)."""
        return self.computed / len(self.items) if self.items else 0.0

    @property
    def overall(self) -> Reuse:
        """All items as one `Reuse`: `total` prompt tokens, `total - computed` of them cached."""
        total = sum(item.total for item in self.items)
        return Reuse(total - self.computed, total)


class PrefixCache:
    """The KV cache of the last prompt's text before its first image, for the next step.

    Args:
        image_token_id: the `<|image_pad|>` id (the kept prefix stops before the first one).
        min_tokens: a shorter common prefix is not worth a cache (it is recomputed).
    """

    def __init__(self, image_token_id: int, *, min_tokens: int = 16) -> None:
        self.image_token_id = image_token_id
        self.min_tokens = min_tokens
        self._ids: tuple[int, ...] = ()
        self._cache: Any = None

    def take(self, input_ids: Sequence[int]) -> tuple[Any, Reuse]:
        """The cache to generate `input_ids` with (None: none fits) and what it covers.

        The kept cache is cropped to the longest common prefix, and at least the prompt's
        last token is always left to compute (generate() needs one). The kept cache is handed
        over: call `keep` after generating.
        """
        shared = 0
        limit = min(len(self._ids), len(input_ids) - 1)
        while shared < limit and self._ids[shared] == input_ids[shared]:
            shared += 1
        cache, self._cache, self._ids = self._cache, None, ()
        if cache is None or shared < self.min_tokens:
            return None, Reuse(0, len(input_ids))
        crop_to(cache, shared)
        return cache, Reuse(shared, len(input_ids))

    def keep(self, input_ids: Sequence[int], cache: Any) -> None:
        """Keep `cache` (filled by generating `input_ids` and more) cropped to the text before
        the prompt's first image token."""
        try:
            end = list(input_ids).index(self.image_token_id)
        except ValueError:
            end = len(input_ids)
        if cache is None or end < self.min_tokens:
            self._ids, self._cache = (), None
            return
        crop_to(cache, end)
        self._ids, self._cache = tuple(input_ids[:end]), cache

    def clear(self) -> None:
        """Forget the kept prefix (a new checkpoint, a closed policy)."""
        self._ids, self._cache = (), None


def crop_to(cache: Any, length: int) -> None:
    """Cut a transformers cache down to its first `length` tokens (crop takes a count to drop)."""
    excess = cache.get_seq_length() - length
    if excess > 0:
        cache.crop(-excess)


def image_digest(image: Image.Image) -> str:
    """A content digest of an image (its mode, size and pixels)."""
    digest = hashlib.blake2b(image.tobytes(), digest_size=16)
    digest.update(f"{image.mode}{image.size}".encode())
    return digest.hexdigest()


class VisionCache:
    """Vision-tower embeddings per image digest, for the images of the current window."""

    def __init__(self) -> None:
        self._embeddings: dict[str, Any] = {}
        self.encoded = 0  # images run through the vision tower in the last `embeddings` call

    def embeddings(
        self, model: Any, digests: Sequence[str], pixel_values: Any, grids: Any
    ) -> tuple[Any, ...]:
        """One embedding tensor per image, (tokens, hidden), in order; new images are encoded
        (each on its own), known ones reused; images no longer in `digests` are forgotten.

        Args:
            model: a Qwen2_5_VLForConditionalGeneration.
            digests: per image, its `image_digest`.
            pixel_values: the request's patches, (sum of t*h*w, 1176), images in order.
            grids: (images, 3) long tensor of (t, h, w).
        """
        import torch

        sizes = [int(v) for v in grids.prod(-1).tolist()]
        chunks = torch.split(pixel_values, sizes)
        self.encoded = 0
        kept: dict[str, Any] = {}
        for digest, chunk, grid in zip(digests, chunks, grids, strict=True):
            found = kept.get(digest, self._embeddings.get(digest))
            if found is None:
                output = model.model.get_image_features(chunk, grid[None], return_dict=True)
                found = output.pooler_output[0]
                self.encoded += 1
            kept[digest] = found
        self._embeddings = kept
        return tuple(kept[d] for d in digests)

    def clear(self) -> None:
        self._embeddings = {}
