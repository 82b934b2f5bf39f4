"""The tiny checkpoint: deterministic, the real architecture and token layout, loadable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixelpilot.model.qwen.tiny import QWEN_ADDED_TOKENS, TINY_MAX_PIXELS, main

transformers = pytest.importorskip("transformers", reason="needs transformers")
AutoTokenizer = transformers.AutoTokenizer
Qwen2_5_VLConfig = transformers.Qwen2_5_VLConfig

pytestmark = pytest.mark.torch

FILES = {
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
}


def test_the_command_writes_the_same_bytes_as_the_fixture(
    tiny_checkpoint: Path, tmp_path: Path, capsys: object
) -> None:
    assert main([str(tmp_path / "again")]) == 0
    again = tmp_path / "again"
    assert {p.name for p in again.iterdir()} == FILES
    for name in FILES:
        assert (again / name).read_bytes() == (tiny_checkpoint / name).read_bytes(), name


def test_a_different_seed_gives_different_weights(tiny_checkpoint: Path, tmp_path: Path) -> None:
    assert main([str(tmp_path / "other"), "--seed", "3"]) == 0
    other = (tmp_path / "other" / "model.safetensors").read_bytes()
    assert other != (tiny_checkpoint / "model.safetensors").read_bytes()


def test_token_ids_follow_qwen_and_match_the_config(tiny_checkpoint: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_checkpoint))
    config = Qwen2_5_VLConfig.from_pretrained(str(tiny_checkpoint))
    ids = [tokenizer.convert_tokens_to_ids(content) for content, _ in QWEN_ADDED_TOKENS]
    assert ids == list(range(ids[0], ids[0] + len(QWEN_ADDED_TOKENS)))  # Qwen's order
    assert config.image_token_id == tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert config.video_token_id == tokenizer.convert_tokens_to_ids("<|video_pad|>")
    assert config.vision_start_token_id == tokenizer.convert_tokens_to_ids("<|vision_start|>")
    assert config.vision_end_token_id == tokenizer.convert_tokens_to_ids("<|vision_end|>")
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
    assert config.text_config.vocab_size > len(tokenizer)  # padded, as Qwen's is
    text = '<|im_start|>x<|im_end|><tool_call>\n{"a": [1, 2]}\n</tool_call>'
    encoded = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(encoded) == text
    # like Qwen's, the tool-call tags are not special: they survive skip_special_tokens
    assert tokenizer.decode(encoded, skip_special_tokens=True) == text.replace(
        "<|im_start|>x<|im_end|>", "x"
    )
    assert tokenizer("123", add_special_tokens=False)["input_ids"] == [
        tokenizer.convert_tokens_to_ids(d) for d in "123"
    ]  # Qwen's pre-tokenizer splits digits


def test_vision_geometry_and_pixel_budget(tiny_checkpoint: Path) -> None:
    config = Qwen2_5_VLConfig.from_pretrained(str(tiny_checkpoint))
    vision = config.vision_config
    assert (vision.patch_size, vision.spatial_merge_size, vision.temporal_patch_size) == (14, 2, 2)
    assert vision.out_hidden_size == config.text_config.hidden_size
    preprocessor = json.loads((tiny_checkpoint / "preprocessor_config.json").read_text())
    assert preprocessor["min_pixels"] == 4 * 28 * 28
    assert preprocessor["max_pixels"] == TINY_MAX_PIXELS
    generation = json.loads((tiny_checkpoint / "generation_config.json").read_text())
    assert set(generation["eos_token_id"]) == {
        config.text_config.eos_token_id,
        config.text_config.bos_token_id,
    }
