"""Decoding speed of the qwen25vl policy with and without the tool-call constraint (CPU).

    python bench/decode.py                  # builds both tiny checkpoints in a temp folder
    python bench/decode.py --vocab qwen     # only the one with Qwen's vocabulary size
    python bench/decode.py --model DIR      # any local checkpoint
    python bench/decode.py --threads 2      # torch CPU threads (default 1)

It runs at both vocabulary sizes: the tiny checkpoint's own ~1.2k-token tokenizer, and a tiny
checkpoint whose tokenizer has Qwen's size (151,643 BPE tokens, Qwen's added tokens at Qwen's
ids, 151,936 logits; `build_tiny_checkpoint(vocab=QWEN_VOCAB)`), since the constraint's slow
path scales with the vocabulary. Each mode runs `predict` on the same FakeEnv screenshots
(greedy, after one warm-up step):

- unconstrained: the model writes exactly --tokens tokens (EOS suppressed by a two-id mask,
  not by `min_new_tokens`, whose per-step `isin` over the vocabulary would slow the baseline),
  the baseline;
- constrained, random model: the tiny model's own scores, which almost never favour a valid
  token, so most steps find no allowed token in the top k and scan further (the worst case);
- constrained, "trained" model: the scores favour a valid call token by token (as a real
  checkpoint's do), so the top-k check finds an allowed token at once (the usual case).

Printed per mode: generated tokens per second, seconds per step, the share of decoding steps
that scanned beyond the top k ("scans") and the time spent inside the constraint per step; the
ratios are tokens/s of each constrained mode over the unconstrained baseline of the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pixelpilot.actions import Observation
from pixelpilot.env import FakeEnv
from pixelpilot.model import History
from pixelpilot.model.qwen.tiny import QWEN_VOCAB, build_tiny_checkpoint
from pixelpilot.model.qwen.transformers_backend import Qwen25VLConfig, Qwen25VLPolicy
from timing import machine  # bench/timing.py, beside this script

GOALS = ("open settings", "open the mail app and write to bob", "search for cats")
VALID = {"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [140, 60]}}


class _Favour:
    """Adds a bonus to the next token of a fixed valid answer (a stand-in for training)."""

    def __init__(self, tokens: list[int], start: int) -> None:
        self.tokens, self.start = tokens, start

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        index = input_ids.shape[1] - self.start
        if index < len(self.tokens):
            scores[:, self.tokens[index]] += 30.0  # in place: one write, not a copy per token
        return scores


class _NoEnd:
    """Keeps the end-of-sequence ids from being chosen, so the baseline writes a fixed length.

    Two index writes per step. (transformers' `min_new_tokens` does the same with an `isin`
    over the whole vocabulary each step, which at 151,936 logits costs more than the
    constraint being measured and would flatter it.)
    """

    def __init__(self, eos_ids: list[int]) -> None:
        self.eos_ids = eos_ids

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        scores[:, self.eos_ids] = float("-inf")
        return scores


class _Mode:
    """One policy configuration under test, with what it has produced so far."""

    def __init__(
        self,
        policy: Qwen25VLPolicy,
        favour: list[int] | None,
        *,
        fixed_length: bool = False,
        engine: Callable[[], Any] | None = None,
    ) -> None:
        """`engine`: makes another engine's constraint processor for each generate() call; its
        `seconds` attribute (time spent inside it) is added to the constraint time."""
        self.policy, self.favour, self.engine = policy, favour, engine
        self.no_end = _NoEnd(policy.eos_ids) if fixed_length else None
        self._engine_calls: list[Any] = []
        self.reset()
        self._generate = policy.model.generate
        policy.model.generate = self._counting_generate

    def reset(self) -> None:
        self.tokens: list[int] = []
        self.step_seconds: list[float] = []
        self.rates: list[float] = []  # decode tokens/s of each step
        self.scans = self.constrained_steps = self.unusable = 0
        self.inside = 0.0

    def _counting_generate(self, **kwargs: Any) -> Any:
        if self.favour is not None:
            extra = _Favour(self.favour, kwargs["input_ids"].shape[1])
            kwargs["logits_processor"] = [extra, *kwargs.get("logits_processor", [])]
        if self.no_end is not None:
            kwargs["logits_processor"] = [*kwargs.get("logits_processor", []), self.no_end]
        if self.engine is not None:
            processor = self.engine()
            self._engine_calls.append(processor)
            kwargs["logits_processor"] = [*kwargs.get("logits_processor", []), processor]
        out = self._generate(**kwargs)
        sequences = getattr(out, "sequences", out)
        self.tokens.append(sequences.shape[1] - kwargs["input_ids"].shape[1])
        return out

    def step(self, observation: Observation, goal: str, prefill: float) -> None:
        start = time.perf_counter()
        prediction = self.policy.predict(observation, History(goal=goal))
        self.step_seconds.append(time.perf_counter() - start)
        decoded = self.tokens[-1] - 1  # the first token comes with the prefill
        self.rates.append(decoded / max(prediction.timings["generate"] - prefill, 1e-9))
        self.unusable += prediction.action is None
        for processor in self._engine_calls:
            self.inside += processor.seconds
        self._engine_calls.clear()
        if self.policy.config.constrained:
            stats = self.policy.last_constraint.stats
            self.scans += stats.full_scans
            self.constrained_steps += stats.steps
            self.inside += stats.seconds

    def row(self) -> dict[str, float]:
        return {
            # per-step rates: the median ignores a load spike on a shared machine, the best
            # step is the least disturbed one
            "tokens_per_s": statistics.median(self.rates),
            "best_tokens_per_s": max(self.rates),
            "s_per_step": statistics.median(self.step_seconds),
            "tokens_per_step": sum(self.tokens) / len(self.tokens),
            "full_scan_share": self.scans / max(1, self.constrained_steps),
            "constraint_ms_per_step": 1000 * self.inside / len(self.step_seconds),
            "unusable_share": self.unusable / len(self.step_seconds),
            # time inside the constraint per generated token (ms): measured directly, so it
            # is not blurred by the machine's load the way whole-step rates are
            "constraint_ms_per_token": 1000 * self.inside / max(1, sum(self.tokens)),
        }


def _prefill_seconds(policy: Qwen25VLPolicy, observation: Observation, goal: str) -> float:
    """generate() time for a single token: the prompt's prefill (vision encoder included)."""
    policy.generation.max_new_tokens = policy.generation.min_new_tokens = 1
    times = [policy.predict(observation, History(goal=goal)).timings["generate"] for _ in range(3)]
    return min(times)


def measure(folder: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The three modes on the checkpoint in `folder`, interleaved; one row of figures each."""
    # no prefix reuse: the prefill is timed once per prompt and left out of the decode rate
    base = {
        "device": "cpu",
        "cpu_threads": args.threads,
        "max_new_tokens": 256,
        "reuse_prefix": False,
    }
    free = {**base, "constrained": False, "max_new_tokens": args.tokens}
    baseline = Qwen25VLPolicy.from_spec(str(folder), Qwen25VLConfig(**free))
    # one policy per mode: each mode wraps its own model's generate()
    constrained = Qwen25VLPolicy.from_spec(str(folder), Qwen25VLConfig(**base))
    trained = Qwen25VLPolicy.from_spec(str(folder), Qwen25VLConfig(**base))
    call = "<tool_call>\n" + json.dumps(VALID) + "\n</tool_call>"
    favour = constrained.tokenizer(call, add_special_tokens=False)["input_ids"]
    favour.append(constrained.tokenizer.convert_tokens_to_ids("<|im_end|>"))
    observation = FakeEnv().reset()
    prefill = {goal: _prefill_seconds(baseline, observation, goal) for goal in GOALS}
    baseline.generation.max_new_tokens = args.tokens
    baseline.generation.min_new_tokens = None
    modes = {
        "unconstrained": _Mode(baseline, None, fixed_length=True),  # exactly --tokens tokens
        "constrained, random model": _Mode(constrained, None),
        "constrained, trained model": _Mode(trained, favour),
    }
    for mode in modes.values():  # warm-up, not counted
        mode.step(observation, "warm up", 0.0)
        mode.reset()
    # interleaved, so that a change in machine load hits every mode alike
    for _ in range(args.rounds):
        for goal in GOALS:
            for mode in modes.values():
                mode.step(observation, goal, prefill[goal])
    return {name: mode.row() for name, mode in modes.items()}


def implied(row: dict[str, float], reference_tokens_per_s: float) -> float:
    """tokens/s ratio implied by the constraint's own time per token over the baseline's
    time per token: 1 / (1 + constraint_ms / baseline_ms)."""
    baseline_ms = 1000 / reference_tokens_per_s
    return 1 / (1 + row["constraint_ms_per_token"] / baseline_ms)


def report(folder: Path, vocab: int, results: dict[str, dict[str, float]], steps: int) -> None:
    reference = results["unconstrained"]["tokens_per_s"]
    print(f"model: {folder}  logits (vocabulary): {vocab}  steps per mode: {steps}")
    best = results["unconstrained"]["best_tokens_per_s"]
    print(
        f"{'mode':28} {'tok/s median':>12} {'best':>6} {'s/step':>7} {'tok/step':>8} "
        f"{'scans':>6} {'in constraint':>14} {'ratio':>6} {'best':>5} {'implied':>7}"
    )
    for name, row in results.items():
        print(
            f"{name:28} {row['tokens_per_s']:12.1f} {row['best_tokens_per_s']:6.1f} "
            f"{row['s_per_step']:7.3f} {row['tokens_per_step']:8.1f} "
            f"{row['full_scan_share']:6.0%} {row['constraint_ms_per_step']:8.1f} ms/st "
            f"{row['tokens_per_s'] / reference:6.2f} {row['best_tokens_per_s'] / best:5.2f} "
            f"{implied(row, reference):7.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="a local checkpoint (default: the tiny ones)")
    parser.add_argument(
        "--vocab",
        choices=("tiny", "qwen", "both"),
        default="both",
        help="tiny checkpoints to build: the trained ~1.2k-token tokenizer, a Qwen-sized one "
        "(151,643 BPE tokens + Qwen's added tokens, 151,936 logits), or both (default)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="passes over the goals")
    parser.add_argument("--tokens", type=int, default=64, help="tokens in the baseline")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    print(machine())
    with tempfile.TemporaryDirectory() as scratch:
        if args.model is not None:
            folders = [args.model]
        else:
            sizes: dict[str, list[int | None]] = {
                "tiny": [None],
                "qwen": [QWEN_VOCAB],
                "both": [None, QWEN_VOCAB],
            }
            folders = [
                build_tiny_checkpoint(Path(scratch) / f"tiny-{vocab}", vocab=vocab)
                for vocab in sizes[args.vocab]
            ]
        for folder in folders:
            config: dict[str, Any] = json.loads((folder / "config.json").read_text())
            vocab = int((config.get("text_config") or config).get("vocab_size", 0))
            report(folder, vocab, measure(folder, args), args.rounds * len(GOALS))
    print(f"threads: {args.threads}")
    print("tok/s: per-step decode rates (the prefill, timed per prompt with one new token, left")
    print("out): median and best step; ratio: over the unconstrained baseline of the same run")
    print("(median / median, best / best; 1.00 = no slowdown); implied: 1 / (1 + constraint ms")
    print("per token / baseline ms per token), from the time measured inside the constraint")
    return 0


if __name__ == "__main__":
    sys.exit(main())
