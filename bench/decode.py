"""Decoding speed of the qwen25vl policy with and without the tool-call constraint (CPU).

    python bench/decode.py                  # builds the tiny checkpoint in a temp folder
    python bench/decode.py --model DIR      # any local checkpoint
    python bench/decode.py --threads 2      # torch CPU threads (default 1)

Each mode runs `predict` on the same FakeEnv screenshots (greedy, after one warm-up step):

- unconstrained: the model writes exactly --tokens tokens (EOS suppressed), the baseline;
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
from pathlib import Path
from typing import Any

import torch

from pixelpilot.actions import Observation
from pixelpilot.env import FakeEnv
from pixelpilot.model import History
from pixelpilot.model.qwen.tiny import build_tiny_checkpoint
from pixelpilot.model.qwen.transformers_backend import Qwen25VLConfig, Qwen25VLPolicy

GOALS = ("open settings", "open the mail app and write to bob", "search for cats")
VALID = {"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [140, 60]}}


class _Favour:
    """Adds a bonus to the next token of a fixed valid answer (a stand-in for training)."""

    def __init__(self, tokens: list[int], start: int) -> None:
        self.tokens, self.start = tokens, start

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        index = input_ids.shape[1] - self.start
        if index < len(self.tokens):
            scores = scores.clone()
            scores[:, self.tokens[index]] += 30.0
        return scores


class _Mode:
    """One policy configuration under test, with what it has produced so far."""

    def __init__(self, policy: Qwen25VLPolicy, favour: list[int] | None) -> None:
        self.policy, self.favour = policy, favour
        self.reset()
        self._generate = policy.model.generate
        policy.model.generate = self._counting_generate

    def reset(self) -> None:
        self.tokens: list[int] = []
        self.step_seconds: list[float] = []
        self.decode_seconds = 0.0
        self.scans = self.constrained_steps = 0
        self.inside = 0.0

    def _counting_generate(self, **kwargs: Any) -> Any:
        if self.favour is not None:
            extra = _Favour(self.favour, kwargs["input_ids"].shape[1])
            kwargs["logits_processor"] = [extra, *kwargs.get("logits_processor", [])]
        out = self._generate(**kwargs)
        self.tokens.append(out.shape[1] - kwargs["input_ids"].shape[1])
        return out

    def step(self, observation: Observation, goal: str, prefill: float) -> None:
        start = time.perf_counter()
        prediction = self.policy.predict(observation, History(goal=goal))
        self.step_seconds.append(time.perf_counter() - start)
        self.decode_seconds += max(prediction.timings["generate"] - prefill, 1e-9)
        if self.policy.config.constrained:
            stats = self.policy.last_constraint.stats
            self.scans += stats.full_scans
            self.constrained_steps += stats.steps
            self.inside += stats.seconds

    def row(self) -> dict[str, float]:
        decoded = sum(self.tokens) - len(self.tokens)  # the first token comes with the prefill
        return {
            "tokens_per_s": decoded / self.decode_seconds,
            "s_per_step": statistics.median(self.step_seconds),
            "tokens_per_step": sum(self.tokens) / len(self.tokens),
            "full_scan_share": self.scans / max(1, self.constrained_steps),
            "constraint_ms_per_step": 1000 * self.inside / len(self.step_seconds),
        }


def _prefill_seconds(policy: Qwen25VLPolicy, observation: Observation, goal: str) -> float:
    """generate() time for a single token: the prompt's prefill (vision encoder included)."""
    policy.generation.max_new_tokens = policy.generation.min_new_tokens = 1
    times = [policy.predict(observation, History(goal=goal)).timings["generate"] for _ in range(3)]
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="a local checkpoint (default: the tiny one)")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the goals")
    parser.add_argument("--tokens", type=int, default=64, help="tokens in the baseline")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.model or build_tiny_checkpoint(Path(scratch) / "tiny")
        base = {"device": "cpu", "cpu_threads": args.threads, "max_new_tokens": 256}
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
        baseline.generation.min_new_tokens = args.tokens  # a fixed length to time
        modes = {
            "unconstrained": _Mode(baseline, None),
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
        results = {name: mode.row() for name, mode in modes.items()}
    reference = results["unconstrained"]["tokens_per_s"]
    steps = args.rounds * len(GOALS)
    print(f"model: {folder}  threads: {args.threads}  steps per mode: {steps}")
    print(
        f"{'mode':28} {'decode tok/s':>12} {'s/step':>7} {'tok/step':>8} {'scans':>6} "
        f"{'in constraint':>14} {'ratio':>6}"
    )
    for name, row in results.items():
        print(
            f"{name:28} {row['tokens_per_s']:12.1f} {row['s_per_step']:7.3f} "
            f"{row['tokens_per_step']:8.1f} {row['full_scan_share']:6.0%} "
            f"{row['constraint_ms_per_step']:8.1f} ms/st {row['tokens_per_s'] / reference:6.2f}"
        )
    print("decode tok/s excludes the prefill (timed per prompt with one new token); ratio = decode")
    print("tok/s over the unconstrained baseline in the same run (1.00 = no slowdown)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
