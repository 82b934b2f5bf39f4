"""Model inputs without Qwen2_5_VLProcessor (it needs torchvision): token ids and pixel patches.

The prompt text (from `pixelpilot.model.qwen.prompt`) holds one `<|image_pad|>` per image; each is
expanded here to grid_t * grid_h * grid_w / merge_size**2 image tokens, exactly as the processor
does. Rows of a batch are padded on the LEFT (generation appends on the right), or right after
a prefix they all share when its KV cache is shared (`pixelpilot.model.qwen.sharing`),
with an attention mask of zeros over the padding; `mm_token_type_ids` marks image tokens (1) so
transformers can compute the 3-D rotary positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from pixelpilot.model.qwen.loading import ImageSettings
from pixelpilot.model.qwen.vision import preprocess

IMAGE_PAD = "<|image_pad|>"


@dataclass(frozen=True)
class EncodedPrompt:
    """One request's inputs: token ids (images expanded), patches and grids (one per image)."""

    input_ids: list[int]
    pixel_values: np.ndarray | None
    grids: list[tuple[int, int, int]]


def encode_prompt(
    text: str,
    images: Sequence[Image.Image],
    *,
    tokenizer: Any,
    image_token_id: int,
    settings: ImageSettings,
) -> EncodedPrompt:
    """Tokenise `text`, replacing its i-th `<|image_pad|>` by the i-th image's tokens.

    Raises:
        ValueError: the number of placeholders differs from the number of images.
    """
    pieces = text.split(IMAGE_PAD)
    if len(pieces) - 1 != len(images):
        raise ValueError(f"the prompt has {len(pieces) - 1} image placeholders for {len(images)}")
    ids: list[int] = []
    patches: list[np.ndarray] = []
    grids: list[tuple[int, int, int]] = []
    merge = settings.merge_size**2
    for index, piece in enumerate(pieces):
        ids.extend(tokenizer(piece, add_special_tokens=False)["input_ids"])
        if index < len(images):
            values, grid = preprocess(
                images[index],
                min_pixels=settings.budget.min_pixels,
                max_pixels=settings.budget.max_pixels,
                patch_size=settings.patch_size,
                merge_size=settings.merge_size,
                temporal_patch_size=settings.temporal_patch_size,
                image_mean=settings.image_mean,
                image_std=settings.image_std,
            )
            patches.append(values)
            grids.append(grid)
            ids.extend([image_token_id] * (grid[0] * grid[1] * grid[2] // merge))
    pixel_values = np.concatenate(patches) if patches else None
    return EncodedPrompt(ids, pixel_values, grids)


def collate(
    prompts: Sequence[EncodedPrompt],
    *,
    pad_token_id: int,
    image_token_id: int,
    device: Any,
    shared: int = 0,
) -> dict[str, Any]:
    """Pad a batch into generate() keyword arguments (tensors on `device`), input_ids and
    attention_mask (rows, longest prompt) and the images' patches and grids.

    Each row is its first `shared` tokens, the padding, then the rest of its tokens: with
    shared=0 the batch is left-padded; with the length of a prefix all rows share (its KV cache
    shared, repeated to every row) the prefix stays in columns 0..shared-1 of every row.
    """
    import torch

    length = max(len(p.input_ids) for p in prompts)
    input_ids = torch.full((len(prompts), length), pad_token_id, dtype=torch.long)
    attention = torch.zeros((len(prompts), length), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        ids = torch.tensor(prompt.input_ids, dtype=torch.long)
        start = length - len(prompt.input_ids) + shared
        input_ids[row, :shared], input_ids[row, start:] = ids[:shared], ids[shared:]
        attention[row, :shared], attention[row, start:] = 1, 1
    inputs: dict[str, Any] = {
        "input_ids": input_ids.to(device),
        "attention_mask": attention.to(device),
        "mm_token_type_ids": ((input_ids == image_token_id) & (attention == 1)).int().to(device),
    }
    arrays = [p.pixel_values for p in prompts if p.pixel_values is not None]
    if arrays:
        inputs["pixel_values"] = torch.from_numpy(np.concatenate(arrays)).to(device)
        grids = [grid for p in prompts for grid in p.grids]
        inputs["image_grid_thw"] = torch.tensor(grids, dtype=torch.long, device=device)
    return inputs
