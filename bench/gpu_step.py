"""One Qwen2.5-VL agent step at 1920x1080, phase by phase, with the real 3B/7B shapes.

    python bench/gpu_step.py                          # on a GPU: 3b and 7b; on CPU: tiny
    python bench/gpu_step.py --config 7b --steps 10
    python bench/gpu_step.py --config tiny --device cpu --steps 2 --answer-tokens 8   # the test

Builds each model from its configuration with random weights (nothing is downloaded): `3b` and
`7b` are the published Qwen2.5-VL-3B/7B-Instruct shapes, `tiny` is the tests' checkpoint shape.
On a GPU: bf16, flash-attention 2 when installed (else SDPA); on CPU: fp32, SDPA.

The prompt is token ids laid out like an agent step's (random ids: weights are random too):
the system prompt and tool schema (--prefix-tokens), the goal, the text history (grows by
--history-tokens per step), the screenshot's image tokens (smart_resize of the screen under the
checkpoint's pixel budget: 2,691 tokens at 1920x1080), the assistant header. The screenshot is a
synthetic 1920x1080 screen preprocessed by pixelpilot each step. The answer is a fixed number
of tokens (--answer-tokens, 40; end-of-sequence disabled).

Per configuration, rows for:
  plain     generate() on the whole prompt every step
  reuse     the same with pixelpilot's PrefixCache (the text before the image is cached)
  compiled  a static cache, which transformers' generate() compiles with torch.compile on a
            GPU (the compile lands in the warm-up column); on CPU (--compile) transformers
            does not compile, so the row is the static cache alone
Columns: vision encoder, prefill (text + image tokens, vision excluded), decode of the answer
(after the first token), the whole step (preprocess + generate), a --steps episode's total,
peak memory, and the warm-up step (compilation included). The phases are timed inside the same
generate() call (hooks on the vision tower, the first logits-processor call marks the end of
the prefill), so they add up to the step. Times are medians over the episode's steps.

The physical floor on an H100 for 7B (from the issue): about 0.24 s per step (vision 16 ms,
prefill 41 ms, decode 184 ms for 40 tokens).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pixelpilot.actions import Size
from pixelpilot.model.qwen.reuse import PrefixCache
from pixelpilot.model.qwen.vision import CHECKPOINT_BUDGET, PixelBudget, preprocess
from timing import machine  # bench/timing.py, beside this script

IDS = {"bos": 151643, "eos": 151645, "start": 151652, "end": 151653, "image": 151655}
VISION = {
    "depth": 32,
    "hidden_size": 1280,
    "intermediate_size": 3420,
    "num_heads": 16,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "window_size": 112,
    "fullatt_block_indexes": [7, 15, 23, 31],
    "tokens_per_second": 2,
}
# The published configurations' text shapes (hidden, intermediate, layers, heads, kv heads,
# vocabulary, tied embeddings).
TEXT = {
    "3b": (2048, 11008, 36, 16, 2, 151936, True),
    "7b": (3584, 18944, 28, 28, 4, 152064, False),
}


def model_config(name: str) -> tuple[Any, PixelBudget]:
    """The Qwen2_5_VLConfig of `name` and the pixel budget its checkpoint uses."""
    from transformers import Qwen2_5_VLConfig

    from pixelpilot.model.qwen.tiny import TINY_MAX_PIXELS, build_tokenizer, tiny_config

    if name == "tiny":
        config = tiny_config(build_tokenizer())
        return config, PixelBudget(CHECKPOINT_BUDGET.min_pixels, TINY_MAX_PIXELS)
    hidden, inter, layers, heads, kv, vocab, tied = TEXT[name]
    text = {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": inter,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "max_position_embeddings": 128000,
        "rms_norm_eps": 1e-6,
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": 1e6,
            "mrope_section": [16, 24, 24],
        },
        "bos_token_id": IDS["bos"],
        "eos_token_id": IDS["eos"],
        "use_sliding_window": False,
    }
    config = Qwen2_5_VLConfig(
        text_config=text,
        vision_config={**VISION, "out_hidden_size": hidden},
        image_token_id=IDS["image"],
        video_token_id=IDS["image"] + 1,
        vision_start_token_id=IDS["start"],
        vision_end_token_id=IDS["end"],
        tie_word_embeddings=tied,
    )
    return config, CHECKPOINT_BUDGET


def build_model(config: Any, device: torch.device) -> Any:
    from transformers import Qwen2_5_VLForConditionalGeneration

    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    flash = device.type == "cuda" and importlib.util.find_spec("flash_attn") is not None
    attention = "flash_attention_2" if flash else "sdpa"
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2_5_VLForConditionalGeneration._from_config(  # type: ignore[no-untyped-call]
            config, dtype=dtype, attn_implementation=attention
        )
    return model.eval()


def screen(step: int, size: Size) -> Any:
    from PIL import Image

    rng = np.random.default_rng(step)
    pixels = np.full((size.height, size.width, 3), 245, dtype=np.uint8)
    pixels[:60] = (40, 44, 52)
    text = rng.random((size.height // 2, size.width // 2)) < 0.08
    pixels[100 : 100 + size.height // 2, 200 : 200 + size.width // 2][text] = (20, 20, 20)
    return Image.fromarray(pixels)


class Prompts:
    """Token-id prompts laid out like agent steps, with a fixed random text stream."""

    def __init__(self, args: argparse.Namespace, config: Any, budget: PixelBudget) -> None:
        vocab = int(config.text_config.bos_token_id)  # the first added token: text ids below
        self.stream = np.random.default_rng(1).integers(0, vocab, 1_000_000).tolist()
        self.args, self.budget, self.config = args, budget, config
        self.size = Size.parse(args.screen)

    def inputs(self, step: int, device: torch.device) -> dict[str, Any]:
        args, cfg = self.args, self.config
        values, grid = preprocess(
            screen(step, self.size),
            min_pixels=self.budget.min_pixels,
            max_pixels=self.budget.max_pixels,
        )
        image_tokens = grid[0] * grid[1] * grid[2] // 4
        text = args.prefix_tokens + args.goal_tokens + args.history_tokens * step
        ids = [
            *self.stream[:text],
            cfg.vision_start_token_id,
            *[cfg.image_token_id] * image_tokens,
            cfg.vision_end_token_id,
            *self.stream[text : text + 5],
        ]
        input_ids = torch.tensor([ids], device=device)
        return {
            "input_ids": input_ids,
            "attention_mask": torch.ones_like(input_ids),
            "mm_token_type_ids": (input_ids == cfg.image_token_id).int(),
            "pixel_values": torch.from_numpy(values).to(device),
            "image_grid_thw": torch.tensor([grid], device=device),
        }


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def clock(device: torch.device) -> float:
    sync(device)
    return time.perf_counter()


class Probe:
    """Times the phases inside one generate() call.

    The vision encoder by hooks around `model.model.visual`; the end of the prefill by the
    first call of the logits processors (the first token's scores exist then); on a GPU each
    mark synchronises first, so the times are the device's."""

    def __init__(self, model: Any, device: torch.device) -> None:
        self.device = device
        self.vision = 0.0
        self.first: float | None = None
        self._opened = 0.0
        visual = model.model.visual
        self._hooks = [
            visual.register_forward_pre_hook(self._open),
            visual.register_forward_hook(self._close),
        ]

    def _open(self, *_: Any) -> None:
        self._opened = clock(self.device)

    def _close(self, *_: Any) -> None:
        self.vision += clock(self.device) - self._opened

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.first is None:
            self.first = clock(self.device)
        return scores

    def remove(self) -> None:
        for hook in self._hooks:
            hook.remove()


def run_variant(
    model: Any, prompts: Prompts, args: argparse.Namespace, device: torch.device, variant: str
) -> dict[str, float]:
    """Per-phase medians (seconds) over `args.steps` steps after a warm-up, and the total."""
    generation = copy.deepcopy(model.generation_config)
    generation.max_new_tokens = args.answer_tokens
    generation.eos_token_id = None
    generation.do_sample = False
    generation.return_dict_in_generate = True
    if variant == "compiled":
        generation.cache_implementation = "static"
    prefix = PrefixCache(model.config.image_token_id) if variant == "reuse" else None
    phases: dict[str, list[float]] = {"vision": [], "prefill": [], "decode": [], "step": []}
    warmup = total = 0.0
    for step in range(args.steps + 1):  # step 0 warms up (and compiles)
        started = clock(device)
        inputs = prompts.inputs(step, device)
        inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        probe = Probe(model, device)
        ready = clock(device)
        with torch.inference_mode():
            model.model.rope_deltas = None
            extra: dict[str, Any] = {}
            if prefix is not None:
                cache, _ = prefix.take(inputs["input_ids"][0].tolist())
                extra = {} if cache is None else {"cache": cache}
            out = model.generate(
                **inputs, **extra, generation_config=generation, logits_processor=[probe]
            )
            done = clock(device)
            if prefix is not None:
                prefix.keep(inputs["input_ids"][0].tolist(), out.cache)
        probe.remove()
        if step == 0:
            warmup = done - started
            continue
        first = probe.first if probe.first is not None else done
        total += done - started
        phases["vision"].append(probe.vision)
        phases["prefill"].append(first - ready - probe.vision)
        phases["decode"].append(done - first)
        phases["step"].append(done - started)
    row = {name: statistics.median(values) for name, values in phases.items()}
    row["episode"] = total
    row["warmup"] = warmup
    return row


def peak_memory(device: torch.device) -> float:
    """GiB: the GPU's peak allocation, or this process's peak resident set on CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=("tiny", "3b", "7b", "auto"), default="auto")
    parser.add_argument("--device", default="auto", help="cuda, cpu or auto")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per variant")
    parser.add_argument("--answer-tokens", type=int, default=40)
    parser.add_argument("--screen", default="1920x1080")
    parser.add_argument("--prefix-tokens", type=int, default=850, help="system prompt + tools")
    parser.add_argument("--goal-tokens", type=int, default=20)
    parser.add_argument("--history-tokens", type=int, default=32, help="added per step")
    parser.add_argument("--compile", action="store_true", help="the compiled row on CPU too")
    args = parser.parse_args(argv)
    auto = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto if args.device == "auto" else args.device)
    names = (
        [args.config]
        if args.config != "auto"
        else (["3b", "7b"] if device.type == "cuda" else ["tiny"])
    )
    variants = ["plain", "reuse"] + (["compiled"] if device.type == "cuda" or args.compile else [])
    print(machine())
    print(
        f"device {device}" + (f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else "")
    )
    print(
        f"{'config':6} {'variant':9} {'vision ms':>9} {'prefill ms':>10} {'decode ms':>9} "
        f"{'step ms':>8} {f'{args.steps}-step s':>9} {'peak GiB':>8} {'warm-up s':>9}"
    )
    for name in names:
        config, budget = model_config(name)
        model = build_model(config, device)
        prompts = Prompts(args, config, budget)
        for variant in variants:
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            try:
                row = run_variant(model, prompts, args, device, variant)
            except (RuntimeError, ValueError, NotImplementedError) as exc:  # one row, not a crash
                print(f"{name:6} {variant:9} failed: {type(exc).__name__}: {str(exc)[:150]}")
                continue
            print(
                f"{name:6} {variant:9} {row['vision'] * 1000:9.1f} {row['prefill'] * 1000:10.1f} "
                f"{row['decode'] * 1000:9.1f} {row['step'] * 1000:8.1f} {row['episode']:9.2f} "
                f"{peak_memory(device):8.2f} {row['warmup']:9.2f}"
            )
        del model
        if device.type == "cuda":
            torch.cuda.empty_cache()
    print(f"{args.answer_tokens}-token answers; medians over {args.steps} steps after a warm-up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
