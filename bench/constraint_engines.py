"""pixelpilot's tool-call constraint against xgrammar on the same grammar, at Qwen's vocabulary.

    python bench/constraint_engines.py [--model DIR] [--rounds 3] [--samples 400]

1. Same language? Both engines judge the same strings: valid calls, calls cut short, and
   single-byte corruptions of them (a coordinate one past the edge, an unknown action, a
   missing argument, broken JSON). Prints how many verdicts differ.
2. Same speed? The tiny checkpoint with a Qwen-sized tokenizer (151,643 BPE tokens + Qwen's
   added tokens, 151,936 logits) decodes greedily on CPU, interleaved: unconstrained (a fixed
   64 tokens), pixelpilot's constraint and xgrammar's transformers logits processor
   (`xgrammar.contrib.hf.LogitsProcessor`, compiled once per grammar), each with a random
   model and a "trained" one (see bench/decode.py). Prints decode tokens/s and the ratio to
   the unconstrained baseline, the time inside each constraint per step, and how many
   outputs were unusable.

xgrammar's grammar is `bench/tool_call_ebnf.py`: the same actions, arguments and bounds.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from decode import GOALS, VALID, _Mode, _prefill_seconds, implied  # bench/decode.py
from pixelpilot.env import FakeEnv
from pixelpilot.model.qwen.constrain.grammar import ToolCallGrammar
from pixelpilot.model.qwen.tiny import QWEN_VOCAB, build_tiny_checkpoint
from pixelpilot.model.qwen.tools import load_family, tool_for_platform
from pixelpilot.model.qwen.transformers_backend import Qwen25VLConfig, Qwen25VLPolicy
from timing import machine  # bench/timing.py
from tool_call_ebnf import tool_call_ebnf  # bench/tool_call_ebnf.py


class _Timed:
    """xgrammar's HF logits processor, timed (it is single-use: one per generate call)."""

    def __init__(self, compiled: Any) -> None:
        import xgrammar as xgr

        self.inner = xgr.contrib.hf.LogitsProcessor(compiled)
        self.seconds = 0.0

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        start = time.perf_counter()
        out = self.inner(input_ids, scores)
        self.seconds += time.perf_counter() - start
        return out


def _samples(grammar: ToolCallGrammar, width: int, height: int, count: int) -> list[str]:
    rng = random.Random(0)
    tool = grammar.tool
    click = "click" if tool == "mobile_use" else "left_click"
    valid = []
    for _ in range(count):
        x, y = rng.randrange(width), rng.randrange(height)
        args = rng.choice(
            [
                {"action": click, "coordinate": [x, y]},
                {"action": "type", "text": rng.choice(["hi", 'a "q" \\ é 你好', "x" * 40])},
                {"action": "wait", "time": rng.choice([1, 2.5, 0.125])},
                {"action": "terminate", "status": rng.choice(["success", "failure"])},
            ]
        )
        call = json.dumps({"name": tool, "arguments": args}, ensure_ascii=False)
        valid.append(f"<tool_call>\n{call}\n</tool_call>")
    broken = []
    for text in valid:
        cut = rng.randrange(1, len(text))
        broken.append(text[:cut])  # cut short: a prefix, not a call
        broken.append(text[:cut] + rng.choice(['"', "}", "]", ",", "9", "\x01"]) + text[cut:])
    edges = [
        f'<tool_call>\n{{"name": "{tool}", "arguments": {{"action": "{click}", '
        f'"coordinate": [{width}, 0]}}}}\n</tool_call>',
        f'<tool_call>\n{{"name": "{tool}", "arguments": {{"action": "fly"}}}}\n</tool_call>',
        f'<tool_call>\n{{"name": "{tool}", "arguments": {{"action": "{click}"}}}}\n</tool_call>',
    ]
    return valid + broken + edges


def _agreement(policy: Qwen25VLPolicy, compiled: Any, grammar: ToolCallGrammar, count: int) -> str:
    import xgrammar as xgr

    width, height = grammar.size
    stop = policy.tokenizer.convert_tokens_to_ids("<|im_end|>")
    differ = []
    texts = _samples(grammar, width, height, count)
    for text in texts:
        matcher = xgr.GrammarMatcher(compiled)
        theirs = matcher.accept_string(text) and matcher.accept_token(stop)
        if bool(theirs) != grammar.accepts(text):
            differ.append(text)
    shown = "; first: " + repr(differ[0][-60:]) if differ else ""
    return f"{len(texts)} strings judged, {len(differ)} verdicts differ{shown}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="a checkpoint (default: a Qwen-sized tiny one)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the goals")
    parser.add_argument("--samples", type=int, default=400, help="valid calls in the check")
    parser.add_argument("--tokens", type=int, default=64, help="tokens in the baseline")
    args = parser.parse_args(argv)
    import xgrammar as xgr

    print(machine())
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.model or build_tiny_checkpoint(Path(scratch) / "tiny", vocab=QWEN_VOCAB)
        base = {"device": "cpu", "cpu_threads": 1, "max_new_tokens": 256, "reuse_prefix": False}

        def policy(constrained: bool) -> Qwen25VLPolicy:
            return Qwen25VLPolicy.from_spec(
                str(folder), Qwen25VLConfig(**{**base, "constrained": constrained})
            )

        baseline, ours, ours_trained, xg, xg_trained = (
            policy(c) for c in (False, True, True, False, False)
        )
        observation = FakeEnv().reset()
        tool = tool_for_platform(observation.platform)
        resized = ours.settings.budget.resize(observation.size)
        actions = load_family().tools[tool].parameters["properties"]["action"]["enum"]
        grammar = ToolCallGrammar(tool, actions, resized.width, resized.height)
        vocab = int(ours.model.config.text_config.vocab_size)
        start = time.perf_counter()
        info = xgr.TokenizerInfo.from_huggingface(
            ours.tokenizer, vocab_size=vocab, stop_token_ids=ours.eos_ids
        )
        compiled = xgr.GrammarCompiler(info).compile_grammar(
            tool_call_ebnf(tool, actions, resized.width, resized.height)
        )
        compile_seconds = time.perf_counter() - start
        print(f"model: {folder}  logits: {vocab}  {tool} at {resized}")
        print(f"xgrammar: tokenizer info + compile {compile_seconds:.2f} s (once per grammar)")
        print("language: " + _agreement(ours, compiled, grammar, args.samples))
        call = "<tool_call>\n" + json.dumps(VALID) + "\n</tool_call>"
        favour = ours.tokenizer(call, add_special_tokens=False)["input_ids"]
        favour.append(ours.tokenizer.convert_tokens_to_ids("<|im_end|>"))
        prefill = {goal: _prefill_seconds(baseline, observation, goal) for goal in GOALS}
        baseline.generation.max_new_tokens = args.tokens
        baseline.generation.min_new_tokens = None
        modes = {
            "unconstrained": _Mode(baseline, None, fixed_length=True),
            "pixelpilot, random model": _Mode(ours, None),
            "pixelpilot, trained model": _Mode(ours_trained, favour),
            "xgrammar, random model": _Mode(xg, None, engine=lambda: _Timed(compiled)),
            "xgrammar, trained model": _Mode(xg_trained, favour, engine=lambda: _Timed(compiled)),
        }
        for mode in modes.values():
            mode.step(observation, "warm up", 0.0)
            mode.reset()
        for _ in range(args.rounds):
            for goal in GOALS:
                for mode in modes.values():
                    mode.step(observation, goal, prefill[goal])
        rows = {name: mode.row() for name, mode in modes.items()}
    reference = rows["unconstrained"]["tokens_per_s"]
    best = rows["unconstrained"]["best_tokens_per_s"]
    header = f"{'mode':28} {'tok/s':>7} {'ratio':>6} {'best':>5} {'tok/step':>8}"
    print(header + f" {'in constraint':>15} {'ms/token':>8} {'implied':>7} {'unusable':>9}")
    for name, row in rows.items():
        print(
            f"{name:28} {row['tokens_per_s']:7.1f} {row['tokens_per_s'] / reference:6.2f} "
            f"{row['best_tokens_per_s'] / best:5.2f} "
            f"{row['tokens_per_step']:8.1f} {row['constraint_ms_per_step']:9.1f} ms/st "
            f"{row['constraint_ms_per_token']:8.2f} {implied(row, reference):7.2f} "
            f"{row['unusable_share']:8.0%}"
        )
    print(f"{args.rounds * len(GOALS)} steps per mode, interleaved; 1 CPU thread; greedy")
    print("tok/s: median per-step decode rate; ratio: median / baseline median; best: best step")
    print("/ baseline best step; ms/token: time inside the constraint per generated token;")
    print("implied: 1 / (1 + that / the baseline's ms per token)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
