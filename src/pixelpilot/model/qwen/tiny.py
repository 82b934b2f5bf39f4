"""A tiny random-weight Qwen2.5-VL checkpoint for tests and demos.

Build one with `python -m pixelpilot.model.tiny OUT`.

The folder it writes has the same files as a hub checkpoint (config.json, model.safetensors,
generation_config.json, tokenizer.json, tokenizer_config.json, preprocessor_config.json) and is
loaded by the same code path (`qwen25vl:OUT`). What differs from a real checkpoint, and why:

- The architecture is the real `Qwen2_5_VLForConditionalGeneration` with a few layers and tiny
  widths (text: 2 layers, hidden 64; vision: 2 blocks, hidden 32), random weights from a fixed
  seed. The vision geometry is the real one (patch 14, spatial merge 2, temporal patch 2), so the
  28-pixel factor, `smart_resize` and the number of image tokens are exactly as for 7B.
- The tokenizer is a byte-level BPE with Qwen's pre-tokenizer, trained here on a small fixed
  corpus (tool calls, UI words, the tool descriptions), ~1,200 tokens instead of ~151,000. The
  special tokens follow Qwen's order (`<|endoftext|>`, `<|im_start|>`, `<|im_end|>`, ...,
  `<tool_call>`, `</tool_call>`) right after the trained vocabulary, and the config's token ids
  point at them. As in Qwen, the model's vocabulary is padded past the tokenizer's (ids no token
  decodes to exist).
- `preprocessor_config.json` keeps the checkpoint default min_pixels (3136) but sets max_pixels to
  `TINY_MAX_PIXELS` (256 * 28 * 28: at most 256 image tokens) so a 1280x800 screenshot costs a few
  hundred tokens and one prediction takes about a second on a laptop CPU. Real checkpoints use
  12845056; pass `max_pixels` to the policy to override either.

Everything is deterministic: the same code and library versions give byte-identical files.
On a busy CPU the tiny model runs several times faster single-threaded:
`--model-opt cpu_threads=1`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

# Qwen2.5's added tokens in their original order (ids 151643..151664 there); `special` is what
# the real tokenizer marks as special (tool-call and FIM tokens are not, so they survive decode).
QWEN_ADDED_TOKENS: tuple[tuple[str, bool], ...] = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
)

# Qwen's pre-tokenizer: digits are split one by one, words keep a leading space or punctuation.
PRETOKENIZE_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

TRAINED_VOCAB = 1200  # byte alphabet (256) + merges
# Any seed builds a valid checkpoint; with this one the first greedy step on FakeEnv's home
# screen happens to be a left_click, so the demo shows a coordinate mapped out of the model frame.
SEED = 20
CHECKPOINT_MIN_PIXELS = 4 * 28 * 28
TINY_MAX_PIXELS = 256 * 28 * 28

_WORDS_TEXT = (
    "open settings mail search files back home menu enter send message wifi display click the "
    "button on screen type text into field scroll down up wait for page to load task done "
    "success failure terminate app browser window tab address bar login password username ok "
    "cancel save delete next previous submit close icon link menu item list view select"
)


def _corpus(seed: int) -> list[str]:
    """A fixed training corpus: tool calls as the model writes them, plus UI phrases."""
    rng = random.Random(seed)
    words = _WORDS_TEXT.split()
    lines: list[str] = []
    from pixelpilot.actions.keys import CANONICAL_KEYS

    keys = sorted(CANONICAL_KEYS)
    for _ in range(400):
        tool = rng.choice(("computer_use", "mobile_use"))
        args: dict[str, Any] = {"action": rng.choice(("left_click", "click", "type", "key"))}
        args["coordinate"] = [rng.randrange(0, 2000), rng.randrange(0, 2000)]
        if rng.random() < 0.3:
            args["text"] = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 5)))
        if rng.random() < 0.2:
            args["keys"] = [rng.choice(keys)]
        call = json.dumps({"name": tool, "arguments": args}, ensure_ascii=False)
        lines.append(f"<tool_call>\n{call}\n</tool_call>")
    for _ in range(300):
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randrange(3, 12))))
    lines.extend(_tool_descriptions())
    return lines


def _tool_descriptions() -> list[str]:
    """The system prompts of both tools, so the prompt costs few tokens."""
    from pixelpilot.actions import Size
    from pixelpilot.model.qwen.prompt import system_text

    return [
        system_text(tool, Size(width, height))
        for tool in ("computer_use", "mobile_use")
        for width, height in ((1260, 784), (1092, 2408))
    ]


QWEN_VOCAB = 151643  # Qwen2.5's byte-level BPE tokens before its added tokens
QWEN_LOGITS = 151936  # Qwen2.5's output size (the vocabulary padded)
_SYNTHETIC_MAX_CHARS = 16


def _widen(tokenizer: Any, vocab: int, seed: int) -> Any:
    """`tokenizer` (a trained BPE, no added tokens yet) grown to `vocab` tokens by extra merges.

    Each new token joins two existing ones (a valid BPE merge, so the tokenizer stays
    consistent), at most 16 characters, drawn with a fixed seed; the trained merges keep their
    priority. The extra tokens give the vocabulary Qwen's size and a spread of first bytes like a
    real one, which is what constrained decoding scans. Text still decodes to itself; it may
    encode to fewer tokens where an extra merge applies.
    """
    from tokenizers import Tokenizer

    data = json.loads(tokenizer.to_str())
    table: dict[str, int] = data["model"]["vocab"]
    merges: list[list[str]] = data["model"]["merges"]
    pieces = sorted(table, key=table.__getitem__)
    rng = random.Random(seed)
    while len(table) < vocab:
        left, right = rng.choice(pieces), rng.choice(pieces)
        token = left + right
        if len(token) > _SYNTHETIC_MAX_CHARS or token in table:
            continue
        table[token] = len(table)
        merges.append([left, right])
        pieces.append(token)
    return Tokenizer.from_str(json.dumps(data))


def build_tokenizer(seed: int = SEED, *, vocab: int | None = None) -> Any:
    """Train the byte-level BPE and append Qwen's added tokens; returns a `tokenizers.Tokenizer`.

    Args:
        seed: seeds the training corpus (and the extra merges).
        vocab: BPE tokens before the added ones; None keeps what training gives (~1,150).
            `QWEN_VOCAB` (151,643) makes a Qwen-sized vocabulary (for benchmarks).
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        trainers,
    )

    tokenizer = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=TRAINED_VOCAB,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(_corpus(seed), trainer=trainer)
    if vocab is not None and vocab > tokenizer.get_vocab_size():
        tokenizer = _widen(tokenizer, vocab, seed)
    for content, special in QWEN_ADDED_TOKENS:
        token = AddedToken(content, special=special, normalized=False)
        if special:
            tokenizer.add_special_tokens([token])
        else:
            tokenizer.add_tokens([token])
    return tokenizer


def _tokenizer_config(tokenizer: Any) -> dict[str, Any]:
    decoder = {
        str(tokenizer.token_to_id(content)): {
            "content": content,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": special,
        }
        for content, special in QWEN_ADDED_TOKENS
    }
    return {
        "tokenizer_class": "Qwen2Tokenizer",
        "added_tokens_decoder": decoder,
        "additional_special_tokens": [c for c, s in QWEN_ADDED_TOKENS[1:14] if s],
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "errors": "replace",
        "model_max_length": 32768,
        "split_special_tokens": False,
        "clean_up_tokenization_spaces": False,
    }


def tiny_config(tokenizer: Any) -> Any:
    """The Qwen2_5_VLConfig of the tiny model, with token ids taken from `tokenizer`."""
    from transformers import Qwen2_5_VLConfig

    ids = {content: tokenizer.token_to_id(content) for content, _ in QWEN_ADDED_TOKENS}
    size = tokenizer.get_vocab_size(with_added_tokens=True)
    # Padded past the tokenizer, as Qwen's is (its 151,665 tokens have 151,936 logits).
    vocab_size = -(-size // 64) * 64 + 64
    if size > 100_000:
        vocab_size = max(vocab_size, QWEN_LOGITS)
    text = {
        "vocab_size": vocab_size,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 32768,
        "rms_norm_eps": 1e-6,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]},
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        "use_sliding_window": False,
    }
    vision = {
        "depth": 2,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 2,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "window_size": 112,
        "out_hidden_size": 64,
        "fullatt_block_indexes": [1],
        "tokens_per_second": 2,
    }
    return Qwen2_5_VLConfig(
        text_config=text,
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )


def build_tiny_checkpoint(
    out_dir: Path | str,
    *,
    seed: int = SEED,
    max_pixels: int = TINY_MAX_PIXELS,
    vocab: int | None = None,
) -> Path:
    """Write the tiny checkpoint into `out_dir` (created if missing) and return its path.

    Args:
        out_dir: the folder to write; existing files of the same names are replaced.
        seed: seeds the tokenizer corpus and the weights.
        max_pixels: the image budget recorded in preprocessor_config.json (pixels).
        vocab: BPE tokens of the tokenizer (see `build_tokenizer`); QWEN_VOCAB gives a model
            with Qwen's output size (151,936 logits), for measuring per-token costs.
    """
    import torch
    from transformers import GenerationConfig, Qwen2_5_VLForConditionalGeneration

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(seed, vocab=vocab)
    config = tiny_config(tokenizer)
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config)  # float32, torch's default
    model.generation_config = GenerationConfig(  # type: ignore[no-untyped-call]
        bos_token_id=config.text_config.bos_token_id,
        pad_token_id=config.text_config.pad_token_id,
        eos_token_id=[config.text_config.eos_token_id, config.text_config.bos_token_id],
        do_sample=False,
    )
    model.save_pretrained(out)
    tokenizer.save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", _tokenizer_config(tokenizer))
    _write_json(
        out / "preprocessor_config.json",
        {
            "image_processor_type": "Qwen2VLImageProcessor",
            "processor_class": "Qwen2_5_VLProcessor",
            "min_pixels": CHECKPOINT_MIN_PIXELS,
            "max_pixels": max_pixels,
            "patch_size": 14,
            "temporal_patch_size": 2,
            "merge_size": 2,
            "image_mean": [0.48145466, 0.4578275, 0.40821073],
            "image_std": [0.26862954, 0.26130258, 0.27577711],
            "do_rescale": True,
            "rescale_factor": 1 / 255,
            "do_normalize": True,
            "do_convert_rgb": True,
            "resample": 3,
        },
    )
    return out


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pixelpilot.model.tiny",
        description="Write a tiny random-weight Qwen2.5-VL checkpoint (for tests and demos).",
    )
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--seed", type=int, default=SEED, help="weights and corpus seed")
    parser.add_argument(
        "--max-pixels", type=int, default=TINY_MAX_PIXELS, help="image budget in pixels"
    )
    parser.add_argument(
        "--vocab",
        type=int,
        default=None,
        help=f"BPE tokens (default: as trained, ~1,150; {QWEN_VOCAB} for a Qwen-sized one)",
    )
    args = parser.parse_args(argv)
    path = build_tiny_checkpoint(
        args.out, seed=args.seed, max_pixels=args.max_pixels, vocab=args.vocab
    )
    print(f"wrote a tiny Qwen2.5-VL checkpoint to {path} (use --model qwen25vl:{path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
