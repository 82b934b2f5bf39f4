"""Work reused across agent steps: prompt tokens computed and time to first token, per step.

    python bench/step_reuse.py [--steps 15] [--image-history 0] [--model DIR]

Two policies on the same checkpoint (default: the tiny one, built here; CPU, 1 thread, greedy)
play the same episode on the fake environment (a step counter drawn on each screenshot, so
every screen differs), step by step in turn: one with
`reuse_prefix=false, reuse_vision=false` (every step prefills the whole prompt and encodes
every screenshot in the window), one with the defaults (prefix KV cache and vision embeddings
reused). Per step: prompt tokens, tokens computed (prefilled), and the time to the first token
(from the policy's predict call to the first logits: prompt, preprocessing, vision encoder and
prefill). The outputs of the two are checked to be identical at every step. The issue's
targets: at step 10 with text history at most 30% of the prompt is computed; with
image_history=3 one image through the vision encoder per step (the column "images encoded"
counts the images the vision tower ran on).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from PIL import ImageDraw

from pixelpilot.actions import Observation
from pixelpilot.env import FakeEnv
from pixelpilot.model import History, HistoryEntry
from pixelpilot.model.qwen.tiny import build_tiny_checkpoint
from pixelpilot.model.qwen.transformers_backend import Qwen25VLConfig, Qwen25VLPolicy
from timing import machine  # bench/timing.py, beside this script


def stamped(observation: Observation, step: int) -> Observation:
    """The observation with a step counter drawn in a corner, so every step's screen differs
    (as a real screen's clock or content does; the tiny model's random clicks rarely change the
    fake environment's screen)."""
    image = observation.screenshot.copy()
    ImageDraw.Draw(image).text((4, 4), f"step {step}", fill=(255, 0, 0))
    return dataclasses.replace(observation, screenshot=image)


class _FirstToken:
    """A logits processor that notes when the first token's scores exist."""

    def __init__(self) -> None:
        self.at: float | None = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.at is None:
            self.at = time.perf_counter()
        return scores


class _Timed:
    """Wraps a policy's generate() to time the first token and count the images encoded."""

    def __init__(self, policy: Qwen25VLPolicy) -> None:
        self.policy = policy
        self.first_token: list[float] = []
        self.images_encoded = 0
        self._generate = policy.model.generate
        policy.model.generate = self._call
        self._predict_batch = policy.predict_batch
        policy.predict_batch = self._predict  # type: ignore[method-assign]
        self._started = 0.0
        policy.model.model.visual.register_forward_hook(self._count, with_kwargs=True)

    def _count(self, module: Any, args: Any, kwargs: Any, output: Any) -> None:
        grids = kwargs.get("grid_thw", args[1] if len(args) > 1 else None)
        self.images_encoded += 1 if grids is None else len(grids)

    def _predict(self, items: Any) -> Any:
        self._started = time.perf_counter()
        return self._predict_batch(items)

    def _call(self, **kwargs: Any) -> Any:
        probe = _FirstToken()
        kwargs["logits_processor"] = [*kwargs.get("logits_processor", []), probe]
        out = self._generate(**kwargs)
        self.first_token.append((probe.at or time.perf_counter()) - self._started)
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="a local checkpoint (default: the tiny one)")
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--image-history", type=int, default=0)
    args = parser.parse_args(argv)
    print(machine())
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.model or build_tiny_checkpoint(Path(scratch) / "tiny")
        options = {"cpu_threads": 1, "image_history": args.image_history, "max_new_tokens": 160}
        runs = {
            name: _Timed(
                Qwen25VLPolicy.from_spec(
                    str(folder),
                    Qwen25VLConfig(
                        **options, reuse_prefix=name == "reuse", reuse_vision=name == "reuse"
                    ),
                )
            )
            for name in ("plain", "reuse")
        }
        envs = {name: FakeEnv() for name in runs}
        observations = {name: env.reset() for name, env in envs.items()}
        histories = {name: History(goal="open settings and turn on wifi") for name in runs}
        print(f"model: {folder}  image_history: {args.image_history}  steps: {args.steps}")
        print(
            f"{'step':>4} {'prompt':>7} {'computed (reuse)':>17} {'share':>6} "
            f"{'ttft plain ms':>13} {'ttft reuse ms':>13} {'images encoded':>14}"
        )
        shares = []
        for step in range(1, args.steps + 1):
            texts = {}
            for name, timed in runs.items():
                encoded = timed.images_encoded
                prediction = timed.policy.predict(observations[name], histories[name])
                texts[name] = prediction.raw_text
                timed.encoded_step = timed.images_encoded - encoded  # type: ignore[attr-defined]
                entry = HistoryEntry(
                    action=prediction.action,
                    raw_text=prediction.raw_text,
                    error=prediction.error,
                    screenshot=observations[name].screenshot,
                    screen_size=observations[name].size,
                )
                histories[name] = History(histories[name].goal, (*histories[name].steps, entry))
                action = prediction.action
                if action is not None and action.type in envs[name].supported_actions:
                    envs[name].execute(action)
                observations[name] = stamped(envs[name].observe(), step)
            if texts["plain"] != texts["reuse"]:
                print(f"step {step}: outputs differ", file=sys.stderr)
                return 1
            reuse = runs["reuse"].policy.last_reuse
            shares.append(reuse.computed / reuse.total)
            print(
                f"{step:4} {reuse.total:7} {reuse.computed:17} {shares[-1]:6.0%} "
                f"{runs['plain'].first_token[-1] * 1000:13.1f} "
                f"{runs['reuse'].first_token[-1] * 1000:13.1f} "
                f"{runs['reuse'].encoded_step:14}"  # type: ignore[attr-defined]
            )
        plain, reused = runs["plain"].first_token, runs["reuse"].first_token
        print(
            f"time to first token, median over steps 2-{args.steps}: plain "
            f"{statistics.median(plain[1:]) * 1000:.1f} ms, reuse "
            f"{statistics.median(reused[1:]) * 1000:.1f} ms; outputs identical at every step"
        )
        if len(shares) >= 10:
            print(f"computed share at step 10: {shares[9]:.0%} (target <= 30% with text history)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
