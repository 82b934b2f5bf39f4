"""Helpers for the Qwen2.5-VL tests: loading the tiny checkpoint's policy, test screenshots, and
forcing a model to write a chosen answer, standing in for a trained model.

The fixtures (`tiny_checkpoint`, `tiny_policy`, `server`) live in the conftest.py files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from pixelpilot.actions import Observation, Platform
from pixelpilot.model.qwen.transformers_backend import Qwen25VLConfig, Qwen25VLPolicy

torch = pytest.importorskip("torch", reason="needs torch (the qwen extra)")


def load_policy(folder: Path, **options: Any) -> Qwen25VLPolicy:
    """The policy over `folder`, through the same path as `--model qwen25vl:FOLDER`.

    One CPU thread unless asked otherwise: the tiny model's operations are too small to share,
    and on a busy machine two threads spin-wait each other (several times slower).
    """
    config = Qwen25VLConfig.model_validate({"cpu_threads": 1, **options})
    return Qwen25VLPolicy.from_spec(str(folder), config)


def observation(
    width: int, height: int, *, platform: Platform = "desktop", seed: int = 0
) -> Observation:
    """A screenshot with a few coloured boxes (deterministic for a seed)."""
    image = Image.new("RGB", (width, height), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(6):
        x, y = (
            torch.randint(0, max(1, width - 40), (1,), generator=generator).item(),
            torch.randint(0, max(1, height - 40), (1,), generator=generator).item(),
        )
        colour = tuple(int(v) for v in torch.randint(0, 256, (3,), generator=generator))
        draw.rectangle((x, y, x + 39, y + 29), fill=colour)
    return Observation(screenshot=image, platform=platform)


class ForceTokens:
    """A logits processor that makes the model prefer `target` token by token (a "trained" model).

    It only adds a large bonus to the wanted token, so whatever follows in the processor list
    (the constraint) still sees ordinary scores.
    """

    def __init__(self, target: list[int], prompt_length: int) -> None:
        self.target = target
        self.prompt_length = prompt_length

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        position = input_ids.shape[1] - self.prompt_length
        if position < len(self.target):
            scores = scores.clone()
            scores[:, self.target[position]] += 1000.0
        return scores


def force_output(policy: Qwen25VLPolicy, monkeypatch: pytest.MonkeyPatch, text: str) -> list[int]:
    """Make every later generate() of `policy` prefer `text` followed by <|im_end|>.

    Returns the token ids it forces.
    """
    target = policy.tokenizer(text, add_special_tokens=False)["input_ids"]
    target.append(policy.tokenizer.convert_tokens_to_ids("<|im_end|>"))
    original = policy.model.generate

    def generate(**kwargs: Any) -> Any:
        length = kwargs["input_ids"].shape[1]
        processors = [ForceTokens(target, length), *kwargs.pop("logits_processor", [])]
        return original(**kwargs, logits_processor=processors)

    monkeypatch.setattr(policy.model, "generate", generate)
    return target


def tool_call(tool: str, **arguments: Any) -> str:
    """A call as the model writes it (json.dumps with default separators)."""
    call = json.dumps({"name": tool, "arguments": arguments}, ensure_ascii=False)
    return f"<tool_call>\n{call}\n</tool_call>"
